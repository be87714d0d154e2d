"""Accounts: password login, bearer tokens, the principal behind a token, officer lists."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from engine import audit
from engine.core import Core, Principal, Unit
from engine.errors import Forbidden, Unauthenticated
from engine.models import AccessToken, Agency, User

ROLES = ("officer", "legal_reviewer", "agency_head", "supervisor", "process_designer", "admin")
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class OfficerView:
    id: int
    username: str
    name: str
    certificate_no: str | None
    certificate_valid_until: date | None


def issue_token(unit: Unit, username: str, password: str) -> IssuedToken:
    user = unit.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not _password_matches(user.password_hash, password):
        raise Unauthenticated("wrong username or password")
    token = secrets.token_urlsafe(32)
    ttl = unit.core.settings.token_ttl_seconds
    unit.session.add(
        AccessToken(
            token_hash=_digest(token), user_id=user.id, created_at=unit.now, expires_at=unit.now + timedelta(seconds=ttl)
        )
    )
    audit.record(unit, "auth.login", {"username": user.username}, agency_id=user.agency_id, actor_id=user.id)
    return IssuedToken(token, ttl)


def log_in(core: Core, username: str, password: str, *, via: str) -> IssuedToken:
    """Issue a token in one transaction. A refused attempt changes nothing, but is recorded in a transaction
    of its own (`auth.refused`, in the system chain, with the account's agency when the name is known), so that
    guessing at passwords leaves a trace supervisors and admins can read. The password is never recorded."""
    try:
        with core.unit() as u:
            return issue_token(u, username, password)
    except Unauthenticated:
        with core.unit() as u:
            user = u.session.scalar(select(User).where(User.username == username))
            audit.record(u, "auth.refused", {"username": username[:150], "known": user is not None, "via": via},
                         agency_id=user.agency_id if user is not None else None)
        raise


def principal_for_token(unit: Unit, token: str) -> Principal:
    row = unit.session.execute(
        select(AccessToken, User, Agency)
        .join(User, User.id == AccessToken.user_id)
        .join(Agency, Agency.id == User.agency_id)
        .where(AccessToken.token_hash == _digest(token))
    ).first()
    if row is None:
        raise Unauthenticated("unknown token")
    access, user, agency = row
    if access.expires_at <= unit.now:
        raise Unauthenticated("the token has expired; log in again")
    if not user.active:
        raise Unauthenticated("the account is disabled")
    return principal_of(user, agency)


def principal_of(user: User, agency: Agency) -> Principal:
    return Principal(user.id, user.username, user.name, agency.id, agency.path, frozenset(user.roles), scope_path(agency))


def scope_path(agency: Agency) -> str:
    """A supervision body (司法局/司法厅) oversees the whole government level it belongs to."""
    if agency.kind == "supervision" and agency.path.count("/") > 2:
        return agency.path[: agency.path.rstrip("/").rfind("/") + 1]
    return agency.path


def principal_for_username(unit: Unit, username: str) -> Principal:
    row = unit.session.execute(
        select(User, Agency).join(Agency, Agency.id == User.agency_id).where(User.username == username)
    ).first()
    if row is None:
        raise Unauthenticated(f"no user {username}")
    return principal_of(*row)


def certified_officers(unit: Unit, agency_id: int) -> list[OfficerView]:
    """Officers of the agency whose enforcement certificate is valid today."""
    today = unit.now.date()
    users = unit.session.scalars(
        select(User).where(User.agency_id == agency_id, User.active.is_(True)).order_by(User.username)
    )
    return [
        OfficerView(u.id, u.username, u.name, u.certificate_no, u.certificate_valid_until)
        for u in users
        if "officer" in u.roles and has_valid_certificate(u, today)
    ]


def has_valid_certificate(user: User, today: date) -> bool:
    return bool(user.certificate_no) and user.certificate_valid_until is not None and user.certificate_valid_until >= today


def require_role(actor: Principal, *roles: str) -> None:
    if not actor.has_role(*roles):
        raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")


def _password_matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke_token(unit: Unit, token: str) -> None:
    """Logout: the token stops working at once (unknown tokens are ignored)."""
    from sqlalchemy import delete

    unit.session.execute(delete(AccessToken).where(AccessToken.token_hash == _digest(token)))

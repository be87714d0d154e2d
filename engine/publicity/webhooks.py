"""Webhooks for enterprises: publication events matching a subscription are POSTed to its URL with an
HMAC-SHA256 signature, retried with backoff, and every try is logged.

Signature: header `X-Zhifa-Signature: sha256=<hex HMAC of "<timestamp>.<body>" with the secret>` and
`X-Zhifa-Timestamp: <unix seconds>`; the receiver recomputes it and rejects stale timestamps.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from engine.accounts import require_role
from engine.core import Core, Unit
from engine.errors import InvalidInput, NotFound, Problem
from engine.parties import valid_credit_code
from engine.publicity.models import (
    Publication,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from engine.publicity.public import public_item

log = logging.getLogger("zhifa.webhooks")
BACKOFF_MINUTES = (1, 5, 30, 120, 720)  # after the 1st, 2nd, ... failed try; then the delivery fails
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    name: str
    url: str
    credit_code: str | None
    region: str | None
    matter_code: str | None
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: SubscriptionView
    secret: str  # shown once, at creation


@dataclass(frozen=True)
class DeliveryView:
    id: int
    subscription_id: int
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    log: list[dict[str, Any]]


def subscribe(unit: Unit, name: Any, url: Any, *, credit_code: Any = None, region: Any = None, matter_code: Any = None) -> CreatedSubscription:
    """Register an enterprise's webhook (by an administrator)."""
    require_role(unit.actor, "admin")
    problems = []
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        problems.append(Problem("1 to 200 characters", field="name"))
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 1000:
        problems.append(Problem("an http(s) URL", field="url"))
    if credit_code is not None and not (isinstance(credit_code, str) and valid_credit_code(credit_code)):
        problems.append(Problem("not a valid unified social credit code", field="credit_code"))
    for field, value in (("region", region), ("matter_code", matter_code)):
        if value is not None and not (isinstance(value, str) and 1 <= len(value) <= 40):
            problems.append(Problem("1 to 40 characters", field=field))
    if problems:
        raise InvalidInput("the subscription is not valid", problems)
    secret = secrets.token_hex(32)
    row = WebhookSubscription(
        name=name.strip(), url=url, secret=secret, credit_code=credit_code, region=region, matter_code=matter_code,
        active=True, created_at=unit.now, created_by=unit.actor.user_id or None,
    )
    unit.session.add(row)
    unit.session.flush()
    return CreatedSubscription(_view(row), secret)


def enqueue(unit: Unit, publication: Publication, event: str) -> int:
    """One pending delivery per active subscription whose filters match the publication."""
    made = 0
    for sub in unit.session.scalars(select(WebhookSubscription).where(WebhookSubscription.active.is_(True))):
        if _matches(sub, publication):
            unit.session.add(WebhookDelivery(
                subscription_id=sub.id, event=event, payload={"event": event, "decision": public_item(publication)},
                status="pending", attempts=0, next_attempt_at=unit.now, created_at=unit.now,
            ))
            made += 1
    return made


def _matches(sub: WebhookSubscription, row: Publication) -> bool:
    return (
        (sub.credit_code is None or sub.credit_code == row.credit_code)
        and (sub.matter_code is None or sub.matter_code == row.matter_code)
        and (sub.region is None or f"/{sub.region}/" in row.region_path)
    )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def deliver_due(core: Core, *, limit: int = 100) -> int:
    """Try every pending delivery whose time has come, each in its own transaction; returns delivered."""
    with core.unit() as unit:
        ids = list(unit.session.scalars(
            select(WebhookDelivery.id).where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= unit.now)
            .order_by(WebhookDelivery.next_attempt_at).limit(limit)
        ))
    delivered = 0
    for delivery_id in ids:
        with core.unit() as unit:
            delivered += _attempt(unit, delivery_id)
    return delivered


def _attempt(unit: Unit, delivery_id: int) -> int:
    delivery = unit.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update(skip_locked=True)
    )
    if delivery is None or delivery.status != "pending":
        return 0
    sub = unit.session.get(WebhookSubscription, delivery.subscription_id)
    body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()
    timestamp = int(unit.now.timestamp())
    refused = None if unit.core.settings.webhook_allow_private else _private_address(sub.url)
    if refused:  # no requests into the platform's own network (SSRF); not worth retrying
        unit.session.add(WebhookAttempt(delivery_id=delivery.id, at=unit.now, status_code=None, error=refused))
        delivery.attempts += 1
        delivery.status, delivery.next_attempt_at = "failed", None
        return 0
    status_code, error = _post(sub.url, body, {
        "Content-Type": "application/json; charset=utf-8", "X-Zhifa-Event": delivery.event,
        "X-Zhifa-Delivery": str(delivery.id), "X-Zhifa-Timestamp": str(timestamp),
        "X-Zhifa-Signature": sign(sub.secret, timestamp, body),
    })
    delivery.attempts += 1
    unit.session.add(WebhookAttempt(delivery_id=delivery.id, at=unit.now, status_code=status_code, error=error))
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", unit.now, None
        return 1
    if delivery.attempts > len(BACKOFF_MINUTES):
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = unit.now + timedelta(minutes=BACKOFF_MINUTES[delivery.attempts - 1])
    return 0


def _private_address(url: str) -> str | None:
    """Why the URL's host must not be called (a loopback, private, link-local or reserved address), or None."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"[:500]
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return f"refused: {host} resolves to the non-public address {address}"
    return None


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def list_deliveries(unit: Unit, subscription_id: int) -> list[DeliveryView]:
    require_role(unit.actor, "admin")
    if unit.session.get(WebhookSubscription, subscription_id) is None:
        raise NotFound(f"subscription {subscription_id} does not exist")
    rows = unit.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id).order_by(WebhookDelivery.id)
    ).all()
    attempts: dict[int, list[dict[str, Any]]] = {}
    if rows:
        for a in unit.session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_([r.id for r in rows])).order_by(WebhookAttempt.id)
        ):
            attempts.setdefault(a.delivery_id, []).append({"at": a.at, "status_code": a.status_code, "error": a.error})
    return [
        DeliveryView(r.id, r.subscription_id, r.event, r.status, r.attempts, r.next_attempt_at, r.delivered_at,
                     attempts.get(r.id, []))
        for r in rows
    ]


def _view(row: WebhookSubscription) -> SubscriptionView:
    return SubscriptionView(row.id, row.name, row.url, row.credit_code, row.region, row.matter_code, row.active, row.created_at)

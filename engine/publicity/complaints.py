"""Complaints and reports (投诉举报) from the public.

A complaint about a violation becomes a clue (案源) in the competent agency's inbox, with the
15-working-day verification limit (P2, SAMR-Proc Art. 18) counted from its receipt; opening a case
from it starts the case's filing clock at that receipt (`clue_received_at`). A complaint about how an
officer or agency enforced the law goes to the supervision body over that agency. The complainant's
identity is shown only to the handling agency; the public status page shows the status alone.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from sqlalchemy import func, select

from engine import audit, cases
from engine.accounts import require_role
from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.models import Agency, AgencyMatter, Matter
from engine.publicity.models import Complaint, ComplaintAttachment

KINDS = ("violation", "conduct")
P2_LIMIT = (15, "working_days", "市场监督管理行政处罚程序规定第十八条（核查线索、决定是否立案：十五个工作日）")
MAX_FILES = 5
MAX_FILE_BYTES = 5 * 1024 * 1024
MEDIA_TYPES = {  # allowed attachments, recognised by their first bytes (the declared type must agree)
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CLOSING = {"not_filed": "不予立案", "closed": "已办结"}


@dataclass(frozen=True)
class Upload:
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Lodged:
    tracking_code: str
    status: str
    received_at: datetime
    handled_by: str


@dataclass(frozen=True)
class PublicStatus:
    """The public status page: no complainant, no content, no subject."""

    tracking_code: str
    kind: str
    status: str
    agency: str
    received_at: datetime
    verify_due_at: datetime | None
    reply: str | None
    updated_at: datetime


@dataclass(frozen=True)
class ComplaintView:
    """What the handling agency sees, the complainant's identity included."""

    id: int
    tracking_code: str
    kind: str
    status: str
    about_agency: str
    matter_code: str | None
    subject: str
    content: str
    complainant: dict[str, Any]
    received_at: datetime
    verify_due_at: datetime | None
    legal_basis: str | None
    case_id: int | None
    reply: str | None
    attachments: list[dict[str, Any]]
    about_agency_id: int | None = None  # the agency the complaint is about (a supervision matter is opened against it)


def lodge(unit: Unit, fields: dict[str, Any], uploads: list[Upload]) -> Lodged:
    """Check everything first (nothing is stored for a rejected complaint), then store it."""
    problems: list[Problem] = []
    kind = fields.get("kind")
    if kind not in KINDS:
        problems.append(Problem("'violation' (违法行为) or 'conduct' (执法行为)", field="kind"))
    subject = _text(fields.get("subject"), "subject", 1, 300, problems)
    content = _text(fields.get("content"), "content", 10, 5000, problems)
    complainant = {k: _text(fields.get(f"complainant_{k}"), f"complainant_{k}", 0, 100, problems) for k in ("name", "phone", "email")}
    about = _agency(unit, fields.get("agency"), problems)
    matter = _matter(unit, fields.get("matter"), about, problems)
    files = _checked_files(uploads, problems)
    if problems:
        raise InvalidInput("the complaint is not acceptable; nothing was stored", problems)
    handler = about if kind == "violation" else _supervisor_of(unit, about)
    now = unit.now
    verify_due = unit.core.calendar.due(now, P2_LIMIT[0], P2_LIMIT[1]).at if kind == "violation" else None
    row = Complaint(
        tracking_code=_tracking_code(), kind=kind, agency_id=handler.id, about_agency_id=about.id,
        matter_code=matter.code if matter else None, subject=subject, content=content,
        complainant={k: v for k, v in complainant.items() if v}, status="received", received_at=now,
        verify_due_at=verify_due, legal_basis=P2_LIMIT[2] if verify_due else None, updated_at=now,
    )
    unit.session.add(row)
    unit.session.flush()
    for f in files:
        unit.session.add(ComplaintAttachment(
            complaint_id=row.id, filename=f.filename, media_type=f.media_type, size=len(f.content),
            sha256=hashlib.sha256(f.content).hexdigest(), content=f.content,
        ))
    audit.record(unit, "complaint.received", {"complaint_id": row.id, "kind": kind, "attachments": len(files)}, agency_id=handler.id)
    return Lodged(row.tracking_code, row.status, now, handler.name)


def public_status(unit: Unit, tracking_code: str) -> PublicStatus:
    code = tracking_code.strip().upper() if isinstance(tracking_code, str) else ""
    row = unit.session.scalar(select(Complaint).where(Complaint.tracking_code == code)) if len(code) == 16 else None
    if row is None:
        raise NotFound("no complaint with this tracking code")
    agency = unit.session.get(Agency, row.agency_id)
    return PublicStatus(row.tracking_code, row.kind, row.status, agency.name, row.received_at, row.verify_due_at,
                        row.reply, row.updated_at)


def inbox(unit: Unit, *, status: str | None = None, page: int = 1, per_page: int = 50) -> tuple[list[ComplaintView], int]:
    """The complaints my agency handles (clues for an enforcement agency; conduct complaints for supervisors)."""
    require_role(unit.actor, "officer", "agency_head", "supervisor")
    query = select(Complaint).where(Complaint.agency_id == unit.actor.agency_id)
    if status:
        query = query.where(Complaint.status == status)
    total = unit.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = unit.session.scalars(query.order_by(Complaint.verify_due_at.is_(None), Complaint.verify_due_at, Complaint.id)
                                .offset((page - 1) * per_page).limit(per_page)).all()
    return [_view(unit, r) for r in rows], total


def get(unit: Unit, complaint_id: int) -> ComplaintView:
    return _view(unit, _handled(unit, complaint_id))


def attachment(unit: Unit, complaint_id: int, attachment_id: int) -> Upload:
    """An attachment of a complaint, for its handlers."""
    row = _handled(unit, complaint_id)
    found = unit.session.get(ComplaintAttachment, attachment_id)
    if found is None or found.complaint_id != row.id:
        raise NotFound(f"complaint {complaint_id} has no attachment {attachment_id}")
    return Upload(found.filename, found.media_type, found.content)


def open_case(unit: Unit, complaint_id: int, party: Any, officer_ids: Any, summary: Any = None, matter_code: Any = None) -> cases.Opened:
    """Open a case from a violation complaint; its filing clock starts at the complaint's receipt."""
    row = _handled(unit, complaint_id)
    if row.kind != "violation":
        raise Conflict("a complaint about enforcement conduct is handled by supervision, not by a case")
    if row.status != "received":
        raise Conflict(f"the complaint is {row.status}")
    matter = matter_code or row.matter_code
    if not matter:
        raise InvalidInput("which matter?", [Problem("required: the complaint names no matter", field="matter_code")])
    received = row.received_at.astimezone(CHINA_TZ).isoformat(timespec="seconds")
    opened = cases.open_case(unit, matter, party, officer_ids, summary or f"投诉举报：{row.subject}", clue_received_at=received)
    row.status, row.case_id, row.handled_by, row.updated_at = "case_opened", opened.id, unit.actor.user_id, unit.now
    row.reply = "已受理，正在依法核查处理。"
    audit.record(unit, "complaint.case_opened", {"complaint_id": row.id, "case_id": opened.id}, agency_id=row.agency_id)
    return opened


def close(unit: Unit, complaint_id: int, outcome: Any, reply: Any) -> ComplaintView:
    """Record the outcome (不予立案 / 已办结) with the reply the complainant reads on the status page."""
    row = _handled(unit, complaint_id)
    problems: list[Problem] = []
    if outcome not in CLOSING:
        problems.append(Problem(f"one of {', '.join(CLOSING)}", field="outcome"))
    text = _text(reply, "reply", 1, 2000, problems)
    if problems:
        raise InvalidInput("the outcome is not acceptable", problems)
    if row.status in CLOSING:
        raise Conflict(f"the complaint is already {row.status}")
    row.status, row.reply, row.handled_by, row.updated_at = outcome, text, unit.actor.user_id, unit.now
    audit.record(unit, "complaint.closed", {"complaint_id": row.id, "outcome": outcome}, agency_id=row.agency_id)
    return _view(unit, row)


def _handled(unit: Unit, complaint_id: Any) -> Complaint:
    require_role(unit.actor, "officer", "agency_head", "supervisor")
    row = unit.session.get(Complaint, complaint_id) if type(complaint_id) is int else None
    if row is None:
        raise NotFound(f"complaint {complaint_id} does not exist")
    if row.agency_id != unit.actor.agency_id:
        raise Forbidden("only the agency handling a complaint sees it")
    return row


def _view(unit: Unit, row: Complaint) -> ComplaintView:
    about = unit.session.get(Agency, row.about_agency_id)
    files = unit.session.execute(
        select(ComplaintAttachment.id, ComplaintAttachment.filename, ComplaintAttachment.media_type,
               ComplaintAttachment.size, ComplaintAttachment.sha256).where(ComplaintAttachment.complaint_id == row.id)
    ).all()
    return ComplaintView(
        row.id, row.tracking_code, row.kind, row.status, about.name, row.matter_code, row.subject, row.content,
        dict(row.complainant), row.received_at, row.verify_due_at, row.legal_basis, row.case_id, row.reply,
        [{"id": i, "filename": n, "media_type": t, "size": s, "sha256": h} for i, n, t, s, h in files], row.about_agency_id,
    )


def _text(value: Any, name: str, low: int, high: int, problems: list[Problem]) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(Problem("must be text", field=name))
        return ""
    value = value.strip()
    if not low <= len(value) <= high:
        problems.append(Problem(f"{low} to {high} characters" if low else f"at most {high} characters", field=name))
    return value


def _agency(unit: Unit, code: Any, problems: list[Problem]) -> Agency:
    agency = unit.session.scalar(select(Agency).where(Agency.code == code)) if isinstance(code, str) else None
    if agency is None or agency.kind != "enforcement":
        problems.append(Problem("the code of an enforcement agency (GET /api/v1/public/subjects)", field="agency"))
    return agency  # type: ignore[return-value]  # only used when no problem was found


def _matter(unit: Unit, code: Any, agency: Agency | None, problems: list[Problem]) -> Matter | None:
    if code in (None, ""):
        return None
    matter = unit.session.get(Matter, code) if isinstance(code, str) else None
    if matter is None:
        problems.append(Problem("not in the enforcement catalogue", field="matter"))
    elif agency is not None and unit.session.get(AgencyMatter, (agency.id, matter.code)) is None:
        problems.append(Problem(f"{agency.name} is not competent for this matter", field="matter"))
    return matter


def _checked_files(uploads: list[Upload], problems: list[Problem]) -> list[Upload]:
    if len(uploads) > MAX_FILES:
        problems.append(Problem(f"at most {MAX_FILES} attachments", field="attachments"))
        return []
    cleaned = []
    for up in uploads:
        name = PureWindowsPath(PurePosixPath(up.filename or "").name).name.strip()[:200] or "attachment"
        magic = MEDIA_TYPES.get(up.media_type)
        if not up.content:
            problems.append(Problem("empty file", file=name, field="attachments"))
        elif len(up.content) > MAX_FILE_BYTES:
            problems.append(Problem(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", file=name, field="attachments"))
        elif magic is None:
            problems.append(Problem(f"type {up.media_type!r} not allowed; PDF, JPEG or PNG", file=name, field="attachments"))
        elif not up.content.startswith(magic):
            problems.append(Problem(f"the content is not {up.media_type}", file=name, field="attachments"))
        cleaned.append(Upload(name, up.media_type, up.content))
    return cleaned


def _supervisor_of(unit: Unit, agency: Agency) -> Agency:
    """The nearest supervision body (司法局/司法厅) whose government level contains the agency."""
    ancestors = [int(i) for i in agency.path.strip("/").split("/") if i][:-1]
    bodies = unit.session.scalars(select(Agency).where(Agency.kind == "supervision", Agency.parent_id.in_(ancestors))).all()
    by_parent = {b.parent_id: b for b in bodies}
    for ancestor in reversed(ancestors):
        if ancestor in by_parent:
            return by_parent[ancestor]
    raise NotFound(f"no supervision body above {agency.name}")


def _tracking_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))

"""Publication of punishment decisions (D3), their withdrawal (D7) and the end of publicity (D5).

The general procedure's decision task is the trigger: when a task completes with a punishment decision
that stands (no new prior notice is required), `after_task_completed` writes a frozen, masked
publication row due within the sector's period (a timer-like row with its legal basis). The sweep
(`run_due`) publishes scheduled rows and ends expired ones. The contract is in docs/publicity.md, so a
BPMN timer of the procedure can later call `schedule_decision` and `publish` instead.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from engine import audit, instances
from engine.accounts import require_role
from engine.clock import CHINA_TZ, parse_instant
from engine.core import Core, Unit
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.models import Agency, Case, Matter
from engine.publicity import webhooks
from engine.publicity.masking import public_party, public_text, scrub
from engine.publicity.models import Publication
from engine.publicity.rules import rules_for
from engine.spiff import Instance

log = logging.getLogger("zhifa.publicity")

STATUSES = ("scheduled", "published", "not_published", "withdrawn", "cancelled", "expired", "overdue")
PENALTY_LABELS = {
    "warning": "警告", "circulate_criticism": "通报批评", "fine": "罚款", "confiscate": "没收违法所得、没收非法财物",
    "suspend_permit": "暂扣许可证件", "lower_qualification": "降低资质等级", "revoke_permit": "吊销许可证件",
    "restrict_business": "限制开展生产经营活动", "order_suspension": "责令停产停业", "order_closure": "责令关闭",
    "restrict_practice": "限制从业", "other": "其他行政处罚",
}


@dataclass(frozen=True)
class PublicationView:
    """What the case's agency and supervisors see of a publication (internal: status and due dates)."""

    id: int
    case_id: int
    number: str
    agency_name: str
    party_name: str
    credit_code: str | None
    matter_code: str
    decision: str
    status: str
    status_basis: str | None
    decided_at: datetime
    due_at: datetime
    legal_basis: str
    published_at: datetime | None
    expires_at: datetime | None
    withdrawal_due_at: datetime | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
    late: bool


def after_task_completed(unit: Unit, case: Case, data: dict[str, Any], instance: Instance) -> None:
    """Hook of `tasks.complete` (after the save): a punishment decision that stands is scheduled for
    publication. One heavier than notified sends the case back to a new prior notice (APL Art. 45(2), 62):
    the procedure's `renotice_required` is then set in the data of the tasks it made ready."""
    if data.get("decision") != "punish" or not data.get("decision_document_number") or not data.get("decided_at"):
        return
    if any(task.data.get("renotice_required") for task in instance.ready_tasks()):
        return
    schedule_decision(unit, case, data)


def after_document_issued(unit: Unit, case: Case, task_data: dict[str, Any], doc_type: str, number: str) -> None:
    """Hook of `documents.issue`: a punishment decision that gave no document number of its own is
    scheduled for publication when its 行政处罚决定书 is issued, under that document's number (Zhifa numbers
    documents gaplessly as it issues them; a number typed into the decision form is for a decision numbered
    outside Zhifa, and is published from the completed step as before)."""
    if (doc_type != "punishment_decision" or task_data.get("decision") != "punish"
            or task_data.get("decision_document_number") or not task_data.get("decided_at")):
        return
    if any(task.data.get("renotice_required") for task in instances.load(unit, case).ready_tasks()):
        return  # heavier than notified: the case goes back to a new prior notice (APL Art. 45(2), 62)
    schedule_decision(unit, case, {**task_data, "decision_document_number": number})


def schedule_decision(unit: Unit, case: Case, decision: dict[str, Any]) -> Publication | None:
    """Write the frozen, masked record of a punishment decision, due by the sector's D3 period."""
    number = str(decision["decision_document_number"]).strip()
    existing = unit.session.scalar(
        select(Publication).where(Publication.case_id == case.id, Publication.number == number)
    )
    if existing is not None:
        return None
    matter = unit.session.get(Matter, case.matter_code)
    agency = unit.session.get(Agency, case.agency_id)
    rules = rules_for(matter.domain)
    decided_at = _instant(decision["decided_at"], "decided_at")
    penalties = [p for p in decision.get("penalties") or [] if isinstance(p, str)]
    fine = Decimal(str(decision.get("fine_amount") or 0))
    kind, party_name, credit_code = public_party(case.party)
    summary = decision_summary(penalties, fine, Decimal(str(decision.get("confiscation_value") or 0)), matter)
    exempt = rules.exempt(penalties)
    row = Publication(
        case_id=case.id, agency_id=agency.id, number=number, agency_name=agency.name,
        region_path=_region_path(unit, agency), party_kind=kind, party_name=party_name, credit_code=credit_code,
        matter_code=matter.code, matter_name=matter.name, decision=summary, penalties=penalties, fine_amount=fine,
        sector=rules.sector, decided_at=decided_at, due_at=rules.publish_within.due(unit.core.calendar, decided_at),
        legal_basis=rules.publish_within.legal_basis,
        search_text=" ".join(filter(None, [party_name, credit_code, number, agency.name, matter.name, summary])),
        status="not_published" if exempt else "scheduled", status_basis=rules.not_published_basis if exempt else None,
        created_at=unit.now,
    )
    unit.session.add(row)
    unit.session.flush()
    action = "publication.not_published" if exempt else "publication.scheduled"
    audit.record(unit, action, {"publication_id": row.id, "number": number, "due_at": row.due_at.isoformat(),
                                "legal_basis": row.status_basis or row.legal_basis}, case=case)
    return row


def decision_summary(penalties: list[str], fine: Decimal, confiscated: Decimal, matter: Matter) -> str:
    parts = []
    for p in penalties:
        label = PENALTY_LABELS.get(p, "其他行政处罚")
        if p == "fine" and fine > 0:
            label = f"罚款人民币{fine:,.2f}元"
        elif p == "confiscate" and confiscated > 0:
            label = f"没收违法所得、非法财物（价值人民币{confiscated:,.2f}元）"
        parts.append(label)
    basis = scrub(matter.penalty_basis or matter.legal_basis)
    return f"依据{basis}，给予{'、'.join(parts) or '行政处罚'}。"


def run_due(core: Core, *, limit: int = 200) -> int:
    """Publish every scheduled record and end every expired one, each in its own transaction."""
    with core.unit() as unit:
        now = unit.now
        ids = list(unit.session.scalars(
            select(Publication.id).where(
                (Publication.status == "scheduled") | ((Publication.status == "published") & (Publication.expires_at <= now))
            ).order_by(Publication.due_at).limit(limit)
        ))
    changed = 0
    for publication_id in ids:
        with core.unit() as unit:
            changed += _advance(unit, publication_id)
    return changed


def _advance(unit: Unit, publication_id: int) -> int:
    row = unit.session.get(Publication, publication_id)
    case = instances.try_lock_case(unit, row.case_id) if row is not None else None
    if row is None or case is None:  # the case is busy: the next sweep takes it
        return 0
    unit.session.refresh(row)
    if row.status == "scheduled":
        publish(unit, row, case)
        return 1
    if row.status == "published" and row.expires_at is not None and row.expires_at <= unit.now:
        row.status, row.ended_at = "expired", unit.now
        audit.record(unit, "publication.expired", {"publication_id": row.id, "number": row.number}, case=case)
        webhooks.enqueue(unit, row, "decision.expired")
        return 1
    return 0


def publish(unit: Unit, row: Publication, case: Case) -> None:
    rules = rules_for(row.sector)
    period = rules.public_for(list(row.penalties), float(row.fine_amount))
    row.status, row.published_at = "published", unit.now
    row.expires_at = period.due(unit.core.calendar, unit.now)
    audit.record(unit, "publication.published", {
        "publication_id": row.id, "number": row.number, "due_at": row.due_at.isoformat(),
        "late": unit.now > row.due_at, "expires_at": row.expires_at.isoformat(), "duration_basis": period.legal_basis,
        "threshold_unverified": rules.threshold_unverified(list(row.penalties)),
    }, case=case)
    webhooks.enqueue(unit, row, "decision.published")


def withdraw(unit: Unit, publication_id: int, reason: Any, changed_at: Any = None) -> PublicationView:
    """Withdraw a publication because its decision was changed, revoked, or held illegal or void (D7):
    at once, recording the 3-working-day due date counted from the change and whether it was met."""
    require_role(unit.actor, "agency_head", "admin")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        raise InvalidInput("a reason is required", [Problem("1 to 2000 characters", field="reason")])
    changed = _instant(changed_at, "changed_at") if changed_at is not None else unit.now
    if changed > unit.now:
        raise InvalidInput("changed_at is in the future", [Problem("not in the future", field="changed_at")])
    row = _visible(unit, publication_id)
    if unit.actor.agency_id != row.agency_id and not unit.actor.has_role("admin"):
        raise Forbidden("only the deciding agency withdraws its publications")
    case = instances.lock_case(unit, row.case_id)
    unit.session.refresh(row)
    if row.status not in ("scheduled", "published"):
        raise Conflict(f"publication {row.number} is {row.status}; nothing to withdraw")
    notice = f"该行政处罚决定信息已撤回。理由：{public_text(reason.strip(), case.party)}"
    withdraw_row(unit, row, case, reason.strip(), notice, changed)
    return view(row)


def withdraw_row(unit: Unit, row: Publication, case: Case, reason: str, notice: str, changed: datetime,
                 change_id: int | None = None) -> None:
    """Withdraw one publication (the case is locked): `withdrawal_due_at` is the D7 limit counted from the
    change, `notice` the masked public explanation (APL Art. 48(2): 公开说明理由)."""
    rules = rules_for(row.sector)
    row.withdrawal_due_at = rules.withdraw_within.due(unit.core.calendar, changed)
    was_public = row.status == "published"
    row.status = "withdrawn" if was_public else "cancelled"
    row.withdrawn_at, row.withdrawal_reason, row.withdrawal_notice = unit.now, reason, notice
    audit.record(unit, "publication.withdrawn", {
        "publication_id": row.id, "number": row.number, "reason": row.withdrawal_reason,
        "due_at": row.withdrawal_due_at.isoformat(), "legal_basis": rules.withdraw_within.legal_basis,
        "late": unit.now > row.withdrawal_due_at, "decision_change_id": change_id,
    }, case=case)
    if was_public:
        webhooks.enqueue(unit, row, "decision.withdrawn")


def list_publications(
    unit: Unit, *, status: str | None = None, case_id: int | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[PublicationView], int]:
    """The agency's publications (a supervisor's: the subtree's); `overdue` = scheduled past its due date."""
    from engine.cases import scope_filter

    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}", [Problem(f"one of {', '.join(STATUSES)}", field="status")])
    query = select(Publication).join(Agency, Agency.id == Publication.agency_id).where(*scope_filter(unit))
    if status == "overdue":
        query = query.where(Publication.status == "scheduled", Publication.due_at < unit.now)
    elif status:
        query = query.where(Publication.status == status)
    if case_id is not None:
        query = query.where(Publication.case_id == case_id)
    total = unit.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = unit.session.scalars(query.order_by(Publication.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return [view(r) for r in rows], total


def view(row: Publication) -> PublicationView:
    published_late = row.published_at is not None and row.published_at > row.due_at
    withdrawn_late = row.withdrawn_at is not None and row.withdrawal_due_at is not None and row.withdrawn_at > row.withdrawal_due_at
    return PublicationView(
        id=row.id, case_id=row.case_id, number=row.number, agency_name=row.agency_name, party_name=row.party_name,
        credit_code=row.credit_code, matter_code=row.matter_code, decision=row.decision, status=row.status,
        status_basis=row.status_basis, decided_at=row.decided_at, due_at=row.due_at, legal_basis=row.legal_basis,
        published_at=row.published_at, expires_at=row.expires_at, withdrawal_due_at=row.withdrawal_due_at,
        withdrawn_at=row.withdrawn_at, withdrawal_reason=row.withdrawal_reason, late=published_late or withdrawn_late,
    )


def _visible(unit: Unit, publication_id: Any) -> Publication:
    from engine.cases import check_visible

    row = unit.session.get(Publication, publication_id) if type(publication_id) is int else None
    if row is None:
        raise NotFound(f"publication {publication_id} does not exist")
    check_visible(unit, row.agency_id)
    return row


def _region_path(unit: Unit, agency: Agency) -> str:
    ids = [int(i) for i in agency.path.strip("/").split("/") if i]
    codes = dict(unit.session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(ids))).all())
    return "/" + "".join(f"{codes[i]}/" for i in ids)


def _instant(value: Any, name: str) -> datetime:
    try:
        at = parse_instant(value) if isinstance(value, str) else value
    except ValueError:
        at = None
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise InvalidInput(f"{name} is not an instant", [Problem("ISO 8601 with a UTC offset", field=name)])
    return at.astimezone(CHINA_TZ)

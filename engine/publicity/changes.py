"""A published decision changed or revoked → its publication withdrawn with the reason (D7).

When a decision is altered, revoked, or held illegal or void — by the deciding agency itself, by a
reconsideration body or by a court (APL Art. 48(2); SAMR Order 45 Art. 11) — `record` writes a timer-like
row (`decision_changes`: kind, result, `due_at` = the change + the sector's `withdraw_within`, 3 working
days, with its `legal_basis`, both data in engine/data/publicity.json) and the case's audit event:
`review.outcome {"kind", "result"}` for a reconsideration or litigation outcome (the supervision
indicators count it as a correction, docs/supervision.md), `decision.changed` for the agency's own change.

The publicity sweep (`run_due`, beside the D3 publication) then withdraws every publication of the case
that is scheduled or published, each change in its own transaction under the case lock, with the change's
masked public notice. A sweep after `due_at` still withdraws and marks the withdrawal late.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import audit, instances
from engine.accounts import require_role
from engine.core import Core, Unit
from engine.errors import Forbidden, InvalidInput, NotFound, Problem
from engine.models import Matter
from engine.publicity.masking import public_text
from engine.publicity.models import DecisionChange, Publication
from engine.publicity.publications import _instant, withdraw_row
from engine.publicity.rules import rules_for

KINDS = {"self": "作出决定的行政机关", "reconsideration": "行政复议机关", "litigation": "人民法院"}
RESULTS = {"altered": "变更", "revoked": "撤销", "confirmed_illegal": "确认违法", "confirmed_void": "确认无效"}


@dataclass(frozen=True)
class ChangeView:
    id: int
    case_id: int
    kind: str
    result: str
    changed_at: datetime
    reason: str
    notice: str
    due_at: datetime
    legal_basis: str
    status: str
    done_at: datetime | None


def record(unit: Unit, case_id: Any, fields: dict[str, Any]) -> ChangeView:
    """Record that the case's decision was changed: `{kind, result, changed_at?, reason}`."""
    from engine.cases import check_visible

    require_role(unit.actor, "agency_head", "legal_reviewer", "admin")
    problems: list[Problem] = []
    kind, result = fields.get("kind"), fields.get("result")
    if not isinstance(kind, str) or kind not in KINDS:
        problems.append(Problem(f"one of {', '.join(KINDS)}", field="kind"))
    if not isinstance(result, str) or result not in RESULTS:
        problems.append(Problem(f"one of {', '.join(RESULTS)}", field="result"))
    reason = fields.get("reason")
    if not isinstance(reason, str) or not 1 <= len(reason.strip()) <= 2000:
        problems.append(Problem("1 to 2000 characters", field="reason"))
    changed = unit.now
    if fields.get("changed_at") is not None:
        try:
            changed = _instant(fields["changed_at"], "changed_at")
        except InvalidInput as exc:
            problems.extend(exc.problems)
    if changed > unit.now:
        problems.append(Problem("not in the future", field="changed_at"))
    if problems:
        raise InvalidInput("the change of the decision is not acceptable", problems)
    case = instances.lock_case(unit, case_id) if type(case_id) is int else None
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    check_visible(unit, case.agency_id)
    if unit.actor.agency_id != case.agency_id and not unit.actor.has_role("admin"):
        raise Forbidden("only the deciding agency records a change of its decision")
    period = rules_for(unit.session.get(Matter, case.matter_code).domain).withdraw_within
    notice = (f"该行政处罚决定已由{KINDS[kind]}依法{RESULTS[result]}，决定信息依法撤回。"
              f"说明：{public_text(reason.strip(), case.party)}")
    row = DecisionChange(
        case_id=case.id, kind=kind, result=result, changed_at=changed, reason=reason.strip(), notice=notice,
        limit_amount=period.amount, limit_unit=period.unit, legal_basis=period.legal_basis,
        due_at=period.due(unit.core.calendar, changed), status="pending", recorded_by=unit.actor.user_id,
        created_at=unit.now,
    )
    unit.session.add(row)
    unit.session.flush()
    action = "decision.changed" if kind == "self" else "review.outcome"
    audit.record(unit, action, {"kind": kind, "result": result, "changed_at": changed.isoformat(),
                                "decision_change_id": row.id, "withdraw_due_at": row.due_at.isoformat(),
                                "legal_basis": row.legal_basis}, case=case)
    return view(row)


def list_changes(unit: Unit, case_id: int) -> list[ChangeView]:
    """The recorded changes of a case's decision (in the case's scope)."""
    from engine.cases import check_visible
    from engine.models import Case

    case = unit.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    check_visible(unit, case.agency_id)
    rows = unit.session.scalars(select(DecisionChange).where(DecisionChange.case_id == case_id).order_by(DecisionChange.id))
    return [view(r) for r in rows]


def run_due(core: Core, *, limit: int = 200) -> int:
    """Withdraw the publications of every pending change; returns how many publications were withdrawn."""
    with core.unit() as unit:
        ids = list(unit.session.scalars(
            select(DecisionChange.id).where(DecisionChange.status == "pending").order_by(DecisionChange.due_at).limit(limit)
        ))
    withdrawn = 0
    for change_id in ids:
        with core.unit() as unit:
            withdrawn += _apply(unit, change_id)
    return withdrawn


def _apply(unit: Unit, change_id: int) -> int:
    change = unit.session.get(DecisionChange, change_id)
    case = instances.try_lock_case(unit, change.case_id) if change is not None else None
    if change is None or case is None:  # the case is busy: the next sweep takes it
        return 0
    unit.session.refresh(change)
    if change.status != "pending":
        return 0
    rows = unit.session.scalars(select(Publication).where(
        Publication.case_id == case.id, Publication.status.in_(("scheduled", "published"))
    ).order_by(Publication.id)).all()
    for row in rows:
        reason = f"{KINDS[change.kind]}{RESULTS[change.result]}：{change.reason}"
        withdraw_row(unit, row, case, reason, change.notice, change.changed_at, change.id)
    change.status, change.done_at = "done", unit.now
    return len(rows)


def view(row: DecisionChange) -> ChangeView:
    return ChangeView(row.id, row.case_id, row.kind, row.result, row.changed_at, row.reason, row.notice, row.due_at,
                      row.legal_basis, row.status, row.done_at)

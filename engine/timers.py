"""Statutory timers: supervision queries over the projection, and the sweep that fires due timers.

A timer row is `waiting` while armed in the workflow; whether it is pending or overdue depends on
the moment asked about (`as_of`), so it is decided in the query, not stored.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from engine import audit, instances
from engine.core import Core, Unit
from engine.errors import InvalidInput, Problem, ZhifaError
from engine.models import Agency, Case, TimerRow

log = logging.getLogger("zhifa.timers")
STATUSES = ("pending", "overdue", "fired", "met", "breached", "suspended")


@dataclass(frozen=True)
class TimerView:
    id: str
    case_id: int
    case_number: str
    agency_id: int
    name: str
    bpmn_id: str
    task_name: str | None
    kind: str | None
    due_at: datetime | None
    started_at: str | None
    legal_basis: str | None
    limit: dict[str, Any]
    status: str
    provisional: bool


def timer_view(row: TimerRow, case_number: str, as_of: datetime) -> TimerView:
    return TimerView(
        id=row.id, case_id=row.case_id, case_number=case_number, agency_id=row.agency_id, name=row.name,
        bpmn_id=row.bpmn_id, task_name=row.task_name, kind=row.kind, due_at=row.due_at, started_at=row.started_at,
        legal_basis=row.legal_basis, limit={"amount": row.limit_amount, "unit": row.limit_unit},
        status=_status(row, as_of), provisional=row.provisional,
    )


def _status(row: TimerRow, as_of: datetime) -> str:
    if row.status == "waiting":
        if row.due_at is None:
            return "suspended"  # its case clock is stopped (engine.case_clock): it cannot run out
        return "overdue" if row.due_at <= as_of else "pending"
    return row.status


def _status_filter(status: str, as_of: datetime) -> Any:
    if status == "suspended":
        return and_(TimerRow.status == "waiting", TimerRow.due_at.is_(None))
    if status == "pending":
        return and_(TimerRow.status == "waiting", TimerRow.due_at > as_of)
    if status == "overdue":
        return or_(and_(TimerRow.status == "waiting", TimerRow.due_at <= as_of), TimerRow.status == "overdue")
    return TimerRow.status == status


def list_timers(
    unit: Unit, *, status: str | None = None, as_of: datetime | None = None, agency_id: int | None = None,
    case_id: int | None = None, page: int = 1, per_page: int = 50,
) -> tuple[list[TimerView], int]:
    from engine.cases import check_visible, scope_filter

    as_of = as_of or unit.now
    query = select(TimerRow, Case.number).join(Case, Case.id == TimerRow.case_id).join(Agency, Agency.id == TimerRow.agency_id)
    query = query.where(*scope_filter(unit))
    if status:
        if status not in STATUSES:
            raise InvalidInput(f"unknown status {status!r}", [Problem(f"one of {', '.join(STATUSES)}", field="status")])
        query = query.where(_status_filter(status, as_of))
    if agency_id is not None:
        check_visible(unit, agency_id)
        query = query.where(TimerRow.agency_id == agency_id)
    if case_id is not None:
        query = query.where(TimerRow.case_id == case_id)
    total = unit.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = unit.session.execute(
        query.order_by(TimerRow.due_at, TimerRow.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return [timer_view(row, number, as_of) for row, number in rows], total


def run_due(core: Core, *, limit: int = 500) -> int:
    """Fire every timer due as of the clock, each case in its own transaction. Returns cases advanced."""
    advanced = 0
    for case_id in _due_case_ids(core, limit):
        try:
            with core.unit() as unit:
                if _advance_case(unit, case_id):
                    advanced += 1
        except ZhifaError as exc:  # one broken case must not stop the others
            log.error("timers of case %s could not fire: %s", case_id, exc.detail)
    return advanced


def _due_case_ids(core: Core, limit: int) -> list[int]:
    with core.unit() as unit:
        query = (
            select(TimerRow.case_id)
            .where(TimerRow.status == "waiting", TimerRow.due_at <= unit.now)
            .order_by(TimerRow.due_at)
            .limit(limit)
        )
        return list(dict.fromkeys(unit.session.scalars(query)))


def _advance_case(unit: Unit, case_id: int) -> bool:
    case = instances.try_lock_case(unit, case_id)
    if case is None:  # another sweep or a request holds the case; what is still due fires next sweep
        return False
    due = unit.session.scalars(
        select(TimerRow).where(TimerRow.case_id == case_id, TimerRow.status == "waiting", TimerRow.due_at <= unit.now)
    ).all()
    if not due:  # another worker fired them while we waited for the lock
        return False
    names = {t.bpmn_id: t for t in due}
    instance = instances.load(unit, case)
    fired = instance.fire_due_timers()
    instances.save(unit, case, instance)
    for bpmn_id in fired:
        row = names.get(bpmn_id)
        audit.record(
            unit, "timer.fired",
            {"bpmn_id": bpmn_id, "legal_basis": row.legal_basis if row else None,
             "due_at": row.due_at.isoformat() if row and row.due_at else None},
            case=case,
        )
    return bool(fired)

"""Statutory timers: supervision queries over the projection, and the sweep that fires due timers.

A timer row is `waiting` while armed in the workflow; whether it is pending or overdue depends on
the moment asked about (`as_of`), so it is decided in the query, not stored.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, union_all

from engine import audit, instances
from engine import calendar as legal_calendar
from engine.clock import CHINA_TZ
from engine.core import Core, Unit
from engine.errors import InvalidInput, Problem, ZhifaError
from engine.models import Agency, Case, TimerRow
from engine.supervision import monitoring, overdue

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
    colour: str | None = None  # green | yellow | red while waiting (engine.supervision.monitoring)
    # fired on a provisional count, then recounted under the official notice (engine.fired_limits)
    recounted_due_at: datetime | None = None


def timer_view(row: TimerRow, case_number: str, as_of: datetime, cutoffs: dict[str | None, datetime] | None = None) -> TimerView:
    status = _status(row, as_of)
    colour = monitoring.colour_of(status, row.due_at, row.kind, cutoffs) if cutoffs else None
    return TimerView(
        id=row.id, case_id=row.case_id, case_number=case_number, agency_id=row.agency_id, name=row.name,
        bpmn_id=row.bpmn_id, task_name=row.task_name, kind=row.kind, due_at=row.due_at, started_at=row.started_at,
        legal_basis=row.legal_basis, limit={"amount": row.limit_amount, "unit": row.limit_unit},
        status=status, provisional=row.provisional, colour=colour, recounted_due_at=row.recounted_due_at,
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
    if status == "overdue":  # written so that the partial index on open timers' due_at serves it
        return and_(TimerRow.status.in_(("waiting", "overdue")), or_(TimerRow.status == "overdue", TimerRow.due_at <= as_of))
    return TimerRow.status == status


def list_timers(
    unit: Unit, *, status: str | None = None, as_of: datetime | None = None, agency_id: int | None = None,
    case_id: int | None = None, page: int = 1, per_page: int = 50, level: str | None = None,
    matter_code: str | None = None, officer_id: int | None = None, due_within: int | None = None,
    colour: str | None = None,
) -> tuple[list[TimerView], int]:
    """Timers in the actor's scope as of a moment; `agency_id` means that agency's subtree, `due_within`
    waiting timers due within that many working days, `colour` the yellow/red warning state."""
    from engine.cases import scope_filter

    as_of = as_of or unit.now
    on_agency = list(scope_filter(unit))  # conditions on the agency alone: scope, subtree, level
    state = []  # status and colour
    if status:
        if status not in STATUSES:
            raise InvalidInput(f"unknown status {status!r}", [Problem(f"one of {', '.join(STATUSES)}", field="status")])
        state.append(_status_filter(status, as_of))
    if agency_id is not None:
        on_agency.append(Agency.path.startswith(monitoring.subtree_path(unit, agency_id)))
    if level:
        on_agency.append(Agency.level == monitoring.level_arg(level))
    others = list(on_agency)
    if case_id is not None:
        others.append(TimerRow.case_id == case_id)
    if matter_code:
        others.append(TimerRow.case_id.in_(select(Case.id).where(Case.matter_code == matter_code)))
    if officer_id is not None:
        others.append(monitoring.officer_filter(officer_id))
    if due_within is not None:
        others += [TimerRow.status == "waiting", TimerRow.due_at > as_of,
                   TimerRow.due_at <= monitoring.within_working_days(unit, as_of, due_within)]
    if colour:
        state.append(monitoring.colour_condition(unit, colour, as_of))
    filters = state + others
    red = _is_red(status, colour)
    if red and len(others) == len(on_agency):
        # Red by agency alone: the per-agency counts answer exactly (engine.supervision.overdue), in the
        # page's own statement (one round trip, one snapshot); on its own when the page is empty.
        counted = overdue.statement(on_agency, as_of).scalar_subquery()
        found = _overdue_page(unit, others, as_of, page, per_page, counted)
        rows = [(row, number) for row, number, _ in found]
        total = found[0][2] if found else overdue.total(unit, on_agency, as_of)
    else:  # the count needs no case row: only the page joins the cases, for their numbers
        total = unit.session.scalar(
            select(func.count()).select_from(TimerRow).join(Agency, Agency.id == TimerRow.agency_id).where(*filters)
        ) or 0
        rows = _overdue_page(unit, others, as_of, page, per_page) if red else unit.session.execute(
            select(TimerRow, Case.number).join(Case, Case.id == TimerRow.case_id).join(Agency, Agency.id == TimerRow.agency_id)
            .where(*filters).order_by(TimerRow.due_at, TimerRow.id).offset((page - 1) * per_page).limit(per_page)
        ).all()
    cutoffs = monitoring.cutoffs(unit, as_of)
    return [timer_view(row, number, as_of, cutoffs) for row, number in rows], total


def _overdue_page(unit: Unit, filters: list[Any], as_of: datetime, page: int, per_page: int, *also: Any) -> list[Any]:
    """The page of overdue timers as two ordered index walks merged: status `overdue` (the many: by agency,
    status and due_at) and `waiting` due by the as-of instant (the few: by status and due_at); only the
    page's timers are then read whole and joined with their cases. One query over both would read every
    open timer of the scope from the table to sort them (70 ms for a county at 1,000,000 cases)."""
    k = page * per_page
    branches = [
        select(TimerRow.id, TimerRow.due_at).join(Agency, Agency.id == TimerRow.agency_id)
        .where(*filters, condition).order_by(TimerRow.due_at, TimerRow.id).limit(k).subquery()
        for condition in (TimerRow.status == "overdue", and_(TimerRow.status == "waiting", TimerRow.due_at <= as_of))
    ]
    both = union_all(*(select(b.c.id, b.c.due_at) for b in branches)).subquery()
    ids = select(both.c.id).order_by(both.c.due_at, both.c.id).offset(k - per_page).limit(per_page)
    return unit.session.execute(
        select(TimerRow, Case.number, *also).join(Case, Case.id == TimerRow.case_id)
        .where(TimerRow.id.in_(ids)).order_by(TimerRow.due_at, TimerRow.id)
    ).all()


def _is_red(status: str | None, colour: str | None) -> bool:
    """Whether status and colour ask exactly for the overdue timers (red is the same set)."""
    return (status, colour) in (("overdue", None), ("overdue", "red"), (None, "red"))


def run_due(core: Core, *, limit: int = 500, worker: str | None = None) -> int:
    """Fire every timer due as of the clock, each case in its own transaction. Returns cases advanced.

    A case that fails is rolled back, retried later with backoff and, once its attempts run out,
    surfaced as an incident (engine.supervision.incidents); the other cases go on.
    """
    return _sweep_batch(core, limit, worker)[1]


def catch_up(core: Core, *, limit: int = 500, worker: str | None = None, max_batches: int = 1000) -> int:
    """Fire everything due, batch after batch (also what fell due while no sweep ran, at start-up)."""
    total = 0
    for _ in range(max_batches):
        selected, advanced = _sweep_batch(core, limit, worker)
        total += advanced
        if selected < limit or advanced == 0:  # all done, or the rest is locked elsewhere or backing off
            break
    return total


def _sweep_batch(core: Core, limit: int, worker: str | None) -> tuple[int, int]:
    from engine.supervision import incidents

    worker = worker or incidents.worker_name()
    advanced = 0
    case_ids = _due_case_ids(core, limit)
    for case_id in case_ids:
        try:
            with core.unit() as unit:
                if _advance_case(unit, case_id, worker):
                    advanced += 1
        except Exception as exc:  # noqa: BLE001 - one broken case, whatever broke it, must not stop the others
            detail = exc.detail if isinstance(exc, ZhifaError) else f"{type(exc).__name__}: {exc}"
            log.error("timers of case %s could not fire: %s", case_id, detail)
            incidents.record_failure(core, case_id, detail)
    return len(case_ids), advanced


def _backing_off(now: datetime) -> Any:
    """The timer's case failed and waits for its next attempt (engine.supervision.incidents)."""
    from engine.supervision.models import TimerIncident

    return exists().where(
        TimerIncident.case_id == TimerRow.case_id, TimerIncident.status != "resolved", TimerIncident.next_attempt_at > now,
    )


def _due_case_ids(core: Core, limit: int) -> list[int]:
    with core.unit() as unit:
        query = (
            select(TimerRow.case_id)
            .where(TimerRow.status == "waiting", TimerRow.due_at <= unit.now, ~_backing_off(unit.now))
            .order_by(TimerRow.due_at)
            .limit(limit)
        )
        return list(dict.fromkeys(unit.session.scalars(query)))


# -- firing on time ---------------------------------------------------------------------------------------
MIN_WAIT_SECONDS = 0.05  # something is due but another process holds it: look again shortly, do not spin


def seconds_until_due(core: Core, *, poll_seconds: float) -> float:
    """How long the timer process may sleep: until the earliest waiting timer falls due (or a failed case's
    next attempt), at most `poll_seconds` (a timer armed meanwhile, by a request or another process, is
    found by the next look); MIN_WAIT_SECONDS when something due is still there (another process holds
    it). Two index reads (ix_timers_status_due)."""
    from engine.supervision.models import TimerIncident

    with core.unit() as unit:
        now = unit.now
        next_due = unit.session.scalar(
            select(TimerRow.due_at).where(TimerRow.status == "waiting", TimerRow.due_at.is_not(None), ~_backing_off(now))
            .order_by(TimerRow.due_at).limit(1)
        )
        next_retry = unit.session.scalar(
            select(func.min(TimerIncident.next_attempt_at)).where(TimerIncident.status != "resolved", TimerIncident.next_attempt_at > now)
        )
    soonest = min((t for t in (next_due, next_retry) if t is not None), default=None)
    if soonest is None:
        return poll_seconds
    delay = (soonest - now).total_seconds()
    return min(poll_seconds, delay) if delay > 0 else MIN_WAIT_SECONDS


def fire_on_time(core: Core, *, poll_seconds: float, wait: Callable[[float], bool], worker: str | None = None) -> None:
    """The timer process's loop: fire what is due, sleep until the next timer falls due, again, until
    `wait(seconds)` returns true (a `threading.Event.wait`: set to stop). Several processes share the work:
    each case is claimed with FOR UPDATE SKIP LOCKED (`catch_up`)."""
    while True:
        try:
            catch_up(core, worker=worker)
        except Exception:  # the database went away, say: log, wait, try again
            log.exception("timer sweep failed")
        try:
            delay = seconds_until_due(core, poll_seconds=poll_seconds)
        except Exception:
            log.exception("could not read the next due timer")
            delay = poll_seconds
        if wait(delay):
            return


def _due_of_case() -> Any:
    """A case's due waiting timers with its incident's status, if any (built once: see `_advance_case`)."""
    from engine.supervision.models import TimerIncident

    return (
        select(TimerRow, TimerIncident.status)
        .outerjoin(TimerIncident, TimerIncident.case_id == TimerRow.case_id)
        .where(TimerRow.case_id == bindparam("case_id"), TimerRow.status == "waiting", TimerRow.due_at <= bindparam("now"))
        .with_for_update(of=TimerRow, skip_locked=True)
    )


_DUE_OF_CASE = _due_of_case()


def _advance_case(unit: Unit, case_id: int, worker: str) -> bool:
    from engine.supervision import incidents

    case = instances.try_lock_due(unit, case_id)
    if case is None:  # another sweep or a request holds the case (what is still due fires next sweep), or it fired
        return False
    found = unit.session.execute(_DUE_OF_CASE, {"case_id": case_id, "now": unit.now}).all()
    if not found:  # another worker fired them while we waited for the lock
        return False
    due = [row for row, _ in found]
    failing = any(status not in (None, "resolved") for _, status in found)
    names = {t.bpmn_id: t for t in due}
    instance = instances.load(unit, case)
    fired = instance.fire_due_timers()
    instances.save(unit, case, instance)
    for bpmn_id in fired:
        row = names.get(bpmn_id)
        lateness = incidents.record_firing(unit, row, worker) if row is not None else None
        audit.record(
            unit, "timer.fired",
            {"bpmn_id": bpmn_id, "legal_basis": row.legal_basis if row else None,
             "due_at": row.due_at.isoformat() if row and row.due_at else None, "lateness_ms": lateness},
            case=case,
        )
    if failing:
        incidents.resolve(unit, case_id)
    return bool(fired)


def through_year(unit: Unit, year: int, *where: Any) -> dict[int, list[TimerRow]]:
    """The statutory timer rows (also matching `where`) whose period can touch `year`, by case, in case
    and id order: due from 1 December of the year before, clock started by 31 January of the year after,
    with a clock start and a limit to count again. What a holiday year's import recounts
    (engine/calendar_admin.py, engine/fired_limits.py)."""
    rows = unit.session.scalars(
        select(TimerRow).where(*where, TimerRow.due_at.is_not(None), TimerRow.due_at >= datetime(year - 1, 12, 1, tzinfo=CHINA_TZ))
        .order_by(TimerRow.case_id, TimerRow.id)
    ).all()
    high = date(year + 1, 1, 31)
    by_case: dict[int, list[TimerRow]] = {}
    for row in rows:
        if row.started_at and row.limit_amount and row.limit_unit and legal_calendar.legal_date(row.started_at) <= high:
            by_case.setdefault(row.case_id, []).append(row)
    return by_case


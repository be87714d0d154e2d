"""What the timer sweep leaves behind: one firing row per timer (with its lateness), and the cases
that could not fire (retried with exponential backoff, then an incident for supervisors and admins)."""
from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from engine import audit
from engine.accounts import require_role
from engine.core import Core, Unit
from engine.models import Agency, Case, TimerRow
from engine.supervision.models import TimerFiring, TimerIncident

log = logging.getLogger("zhifa.timers")

FIRST_RETRY = timedelta(minutes=1)  # then 2, 4, 8 ... minutes
MAX_RETRY = timedelta(hours=1)
ATTEMPTS_BEFORE_INCIDENT = 5


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def record_firing(unit: Unit, row: TimerRow, worker: str) -> int | None:
    """The timer fired now; returns its lateness in milliseconds (unique per timer: exactly once)."""
    if row.due_at is None:
        return None
    now = unit.now
    lateness = int((now - row.due_at) / timedelta(milliseconds=1))
    unit.writes.insert(TimerFiring.__table__, [{  # sent with the case's other writes: no round trip of its own
        "timer_id": row.id, "case_id": row.case_id, "agency_id": row.agency_id, "bpmn_id": row.bpmn_id,
        "due_at": row.due_at, "fired_at": now, "lateness_ms": lateness, "worker": worker,
    }])
    return lateness


def backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), MAX_RETRY)


def record_failure(core: Core, case_id: int, error: str) -> None:
    """In its own transaction (the case's was rolled back): count the attempt, schedule the next."""
    try:
        with core.unit() as unit:
            row = unit.session.scalar(select(TimerIncident).where(TimerIncident.case_id == case_id).with_for_update())
            now = unit.now
            if row is None or row.status == "resolved":
                agency_id = unit.session.scalar(select(Case.agency_id).where(Case.id == case_id))
                if agency_id is None:
                    return
                if row is None:
                    row = TimerIncident(case_id=case_id, agency_id=agency_id, first_failed_at=now)
                    unit.session.add(row)
                row.attempts, row.first_failed_at, row.resolved_at = 0, now, None
            row.attempts += 1
            row.last_failed_at = now
            row.last_error = error[:4000]
            row.next_attempt_at = now + backoff(row.attempts)
            became_incident = row.attempts >= ATTEMPTS_BEFORE_INCIDENT and row.status != "incident"
            row.status = "incident" if row.attempts >= ATTEMPTS_BEFORE_INCIDENT else "retrying"
            if became_incident:
                log.error("case %s: timers failed %d times; incident opened", case_id, row.attempts)
                audit.record(unit, "timer.incident", {"case_id": case_id, "attempts": row.attempts, "error": row.last_error},
                             agency_id=row.agency_id)
    except Exception:  # recording must never stop the sweep; the next sweep counts again
        log.exception("could not record the timer failure of case %s", case_id)


def resolve(unit: Unit, case_id: int) -> None:
    """The case's timers fired: a retrying case or an incident is resolved."""
    unit.session.execute(
        update(TimerIncident).where(TimerIncident.case_id == case_id, TimerIncident.status != "resolved")
        .values(status="resolved", resolved_at=unit.now)
    )


@dataclass(frozen=True)
class IncidentView:
    case_id: int
    case_number: str
    agency_id: int
    attempts: int
    status: str
    first_failed_at: datetime
    last_failed_at: datetime
    next_attempt_at: datetime
    last_error: str
    resolved_at: datetime | None


def list_incidents(unit: Unit, *, status: str | None = None) -> list[IncidentView]:
    """Cases whose timers fail, in the supervisor's or admin's subtree (default: not resolved)."""
    from engine.cases import scope_filter

    require_role(unit.actor, "supervisor", "admin")
    query = (
        select(TimerIncident, Case.number).join(Case, Case.id == TimerIncident.case_id)
        .join(Agency, Agency.id == TimerIncident.agency_id).where(*scope_filter(unit))
    )
    query = query.where(TimerIncident.status == status) if status else query.where(TimerIncident.status != "resolved")
    rows = unit.session.execute(query.order_by(TimerIncident.first_failed_at, TimerIncident.case_id)).all()
    return [
        IncidentView(i.case_id, number, i.agency_id, i.attempts, i.status, i.first_failed_at, i.last_failed_at,
                     i.next_attempt_at, i.last_error, i.resolved_at)
        for i, number in rows
    ]


def lateness_report(unit: Unit, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """Count, mean, p50/p95/p99 and maximum lateness (fired - due, ms) of the timers fired in a window."""
    from engine.cases import scope_filter

    require_role(unit.actor, "supervisor", "admin")
    query = select(TimerFiring.lateness_ms).join(Agency, Agency.id == TimerFiring.agency_id).where(*scope_filter(unit))
    if since is not None:
        query = query.where(TimerFiring.fired_at >= since)
    if until is not None:
        query = query.where(TimerFiring.fired_at < until)
    values = sorted(unit.session.scalars(query))
    count = len(values)
    if not count:
        return {"count": 0, "mean_ms": None, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "count": count, "mean_ms": round(sum(values) / count), "p50_ms": _percentile(values, 50),
        "p95_ms": _percentile(values, 95), "p99_ms": _percentile(values, 99), "max_ms": values[-1],
    }


def _percentile(ordered: list[int], pct: int) -> int:
    """Nearest-rank percentile."""
    rank = max(1, -(-pct * len(ordered) // 100))
    return ordered[rank - 1]



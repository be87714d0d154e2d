"""Statutory limits that already ran out on a provisional count, recounted when the year's notice is imported.

Until the State Council publishes a year's holidays, periods through it are counted on a provisional
calendar (放假办法 Art. 2, `engine.calendar`); the timer row says so (`TimerRow.provisional`). Importing
the year moves the timers still waiting (`calendar_admin.reschedule_open_timers`). A timer that already
fired cannot be moved: the workflow acted on it (the statement period P7 ran out and the case went on as
if the party waived), and a workflow cannot be un-fired. So it is recounted and reported instead, in the
importing transaction:

* every fired deadline (projection status `fired`: an interrupting limit whose path was taken; `overdue`
  / `breached`: a non-interrupting limit that ran out, its work still open / done late) whose due was
  provisional and whose period can touch the year is counted again with `case_clock.timer_due` (the same
  count the rescheduling uses, with the case-clock record: extensions, excluded periods);
* where the official last day differs from the one it fired on: one `timer.recounted` audit event on the
  case (fired early: the party lost days the law gave; fired late), the projection row keeps `due_at`
  (the instant the workflow acted on) and gets `recounted_due_at` (the official last day), and the
  compliance rule `limit_recounted` (engine/supervision/compliance.py) raises an alert from the event
  for the agency head and the supervisors; the case page shows the note on the timer;
* where it does not differ: the row only stops claiming provisional (no event, no alert).

A closed case is reported the same way; nothing of its workflow changes (nothing of any workflow does).
A `met` timer never fired (its work was done before the provisional due) and is not recounted.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from engine import audit, instances, timers
from engine.case_clock import timer_due
from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.models import AuditEvent, Case, TimerRow
from engine.supervision import compliance

FIRED = ("fired", "overdue", "breached")  # projection statuses of a deadline that ran out (engine/spiff/runtime.py)


@dataclass(frozen=True)
class Recounted:
    case_id: int
    case_number: str
    timer_id: str
    bpmn_id: str
    name: str
    legal_basis: str | None
    fired_due: datetime  # the last day it ran out on (provisional count)
    official_due: datetime  # the last day under the imported notice
    fired: str  # "early" (before the official last day: days lost) | "late" | "on_time" (a later recount confirmed it)
    provisional: bool  # the recount still runs through a year without a notice
    case_closed: bool


def recount_fired_timers(unit: Unit, year: int, *, reason: str) -> list[Recounted]:
    """Recount every fired provisional deadline whose period can touch ``year``; report those that differ."""
    by_case = timers.through_year(
        unit, year, TimerRow.status.in_(FIRED), TimerRow.provisional.is_(True),
        or_(TimerRow.kind.is_(None), TimerRow.kind == "deadline"),
    )
    found: list[Recounted] = []
    for case_id, timer_rows in by_case.items():
        found.extend(_recount_case(unit, instances.lock_case(unit, case_id), timer_rows, reason))
    return found


def _recount_case(unit: Unit, case: Case, rows: list[TimerRow], reason: str) -> list[Recounted]:
    clocks = clocks_from_trail(unit, case.id, {row.id for row in rows})
    found = []
    for row in rows:
        due = timer_due(unit.calendar, row.started_at, row.limit_amount, row.limit_unit, clocks.get(row.id))
        last_count = row.recounted_due_at or row.due_at
        row.provisional = due.provisional
        if due.at == last_count:
            continue  # the official calendar confirms the day it ran out on (or the last recount): nothing to report
        row.recounted_due_at = None if due.at == row.due_at else due.at
        fired = "early" if due.at > row.due_at else "late" if due.at < row.due_at else "on_time"
        closed = case.status == "closed"
        audit.record(unit, "timer.recounted", {
            "timer_id": row.id, "bpmn_id": row.bpmn_id, "name": row.name, "legal_basis": row.legal_basis,
            "status": row.status, "reason": reason, "fired_due": row.due_at.astimezone(CHINA_TZ).isoformat(),
            "official_due": due.at.isoformat(), "fired": fired, "provisional": due.provisional, "case_closed": closed,
        }, case=case)
        found.append(Recounted(case.id, case.number, row.id, row.bpmn_id, row.name, row.legal_basis,
                               row.due_at.astimezone(CHINA_TZ), due.at.astimezone(CHINA_TZ), fired, due.provisional, closed))
    if found:
        compliance.after_save(unit, case, tasks_changed=False)  # the rule limit_recounted raises the alert before commit
    return found


def clocks_from_trail(unit: Unit, case_id: int, timer_ids: set[str]) -> dict[str, Mapping[str, Any]]:
    """The case-clock record of each timer, from the audit trail: every clock change is a `clock.changed`
    event (with the whole record) followed by the `timer.rescheduled` of the timer it moved
    (`clock_changes._record`). Read from the trail, not the workflow state: a fired timer may already be
    compacted out of the state (`Instance.compact`), while the trail keeps every change."""
    events = unit.session.execute(
        select(AuditEvent.action, AuditEvent.detail)
        .where(AuditEvent.case_id == case_id, AuditEvent.action.in_(("clock.changed", "timer.rescheduled")))
        .order_by(AuditEvent.id)
    ).all()
    clocks: dict[str, Mapping[str, Any]] = {}
    pending: Mapping[str, Any] | None = None
    for action, detail in events:
        if action == "clock.changed":
            pending = (detail or {}).get("clock")
            continue
        timer_id = (detail or {}).get("timer_id")
        if pending is not None and timer_id in timer_ids:
            clocks[timer_id] = pending
        pending = None
    return clocks

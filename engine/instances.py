"""Case workflow state: lock, load, save, and the task and timer projections rewritten on every save."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, select

from engine import definitions, prepared
from engine.core import Unit
from engine.errors import NotFound, ZhifaError
from engine.models import Case, ProcessDefinition, ProcessInstance, TaskRow, TimerRow
from engine.spiff import Instance, TaskView, TimerView
from engine.supervision import compliance

CLOSED_STATES = ("completed", "cancelled")
_STATE = ProcessInstance.__table__


def lock_case(unit: Unit, case_id: int) -> Case:
    """The per-case lock: SELECT ... FOR UPDATE (SQLite serialises writers at BEGIN IMMEDIATE)."""
    case = unit.session.scalar(select(Case).where(Case.id == case_id).with_for_update())
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


def try_lock_case(unit: Unit, case_id: int) -> Case | None:
    """The per-case lock, or None at once if another transaction holds it (FOR UPDATE SKIP LOCKED)."""
    return unit.session.scalar(select(Case).where(Case.id == case_id).with_for_update(skip_locked=True))


def try_lock_due(unit: Unit, case_id: int) -> Case | None:
    """The timer sweep's first statement per case: `try_lock_case` if the case still has a waiting timer
    due by the unit's clock, reading (and locking) its workflow state in the same statement, held for
    `load`. None when another transaction holds the case or nothing of it is due any more (another
    process fired it): then nothing is locked and no state is read."""
    found = unit.first(_LOCKED_DUE, {"case_id": case_id, "now": unit.now})
    if found is None:
        return None
    case, rest = prepared.adopt_leading(unit.session, Case, found)
    hold(unit, case.id, *rest)
    return case


@dataclass
class Stored:
    """A case's stored workflow state (the process_instances row), held by the unit that read it."""

    case_id: int
    definition_id: int
    serializer_version: str
    state: dict[str, Any]
    projected: dict[str, Any]  # what the projections last got for the tasks still in the tree
    is_new: bool = False


def start(unit: Unit, case: Case, row: ProcessDefinition, data: dict[str, Any]) -> Instance:
    instance = unit.core.runtime.start(definitions.deployed(unit, row.id).runnable, data)
    unit.held[("instance", case.id)] = Stored(case.id, row.id, "", {}, {}, is_new=True)
    save(unit, case, instance)
    return instance


def load(unit: Unit, case: Case) -> Instance:
    return restore(unit, _stored(unit, case))


def restore(unit: Unit, stored: Stored) -> Instance:
    return unit.core.runtime.restore(
        definitions.deployed(unit, stored.definition_id).runnable,
        {"serializer_version": stored.serializer_version, "workflow": stored.state},
    )


def hold(unit: Unit, case_id: int, definition_id: int, serializer_version: str, state: Any, projected: Any) -> Stored:
    """Keep a state row read by a caller's own query (e.g. joined with the task being completed)."""
    stored = Stored(case_id, definition_id, serializer_version, state, projected or {})
    unit.held[("instance", case_id)] = stored
    return stored


def _stored(unit: Unit, case: Case) -> Stored:
    stored = unit.held.get(("instance", case.id))
    if stored is None:
        table = ProcessInstance.__table__
        found = unit.session.execute(
            select(table.c.definition_id, table.c.serializer_version, table.c.state, table.c.projected)
            .where(table.c.case_id == case.id)
        ).first()
        if found is None:
            raise NotFound(f"case {case.number} has no workflow")
        stored = hold(unit, case.id, *found)
    return stored


def save(unit: Unit, case: Case, instance: Instance, *, completed_by: int | None = None) -> None:
    """Project tasks and timers (writing only what changed since the last save), then store the state.

    Every write is queued on the unit (`unit.writes`) and goes to the database with the others."""
    stored = _stored(unit, case)
    timers = instance.timers()
    # Copies: the stored dicts are not changed in place (a unit may save the same case twice).
    written = {kind: dict(rows) for kind, rows in stored.projected.items()}
    written["timers"] = _sync_timers(unit, case, instance, timers, written.get("timers", {}))
    written["tasks"] = _sync_tasks(unit, case, instance.user_tasks(), timers, completed_by, written.get("tasks", {}))
    # whether a task appeared or changed state (a due date the step moved changes no rule's outcome)
    tasks_changed = _states(written["tasks"]) != _states(stored.projected.get("tasks", {}))
    instance.compact()  # after projecting: the projections and the audit trail keep the history
    live = instance.task_ids()
    stored.projected = {kind: {k: v for k, v in rows.items() if k in live} for kind, rows in written.items()}
    dumped = instance.dump()
    stored.state, stored.serializer_version = dumped["workflow"], dumped["serializer_version"]
    row = {"state": stored.state, "serializer_version": stored.serializer_version,
           "completed": instance.completed, "projected": stored.projected}
    table = ProcessInstance.__table__
    if stored.is_new:
        unit.writes.insert(table, [{"case_id": case.id, "definition_id": stored.definition_id, **row}])
        stored.is_new = False
    else:
        unit.writes.update(table, {"case_id": case.id}, row)
    changes: dict[str, Any] = {"revision": case.revision + 1, "updated_at": unit.now}
    if instance.completed and case.status != "closed":
        changes.update(status="closed", closed_at=unit.now, outcome=str(instance.data.get("outcome") or "") or None)
    unit.writes.update_loaded(case, changes)
    compliance.after_save(unit, case, tasks_changed=tasks_changed)


_LOCKED_DUE = prepared.Query(  # built once, prepared on PostgreSQL
    select(*Case.__table__.c, _STATE.c.definition_id, _STATE.c.serializer_version, _STATE.c.state, _STATE.c.projected)
    .select_from(Case)
    .join(_STATE, _STATE.c.case_id == Case.id)
    .where(Case.id == bindparam("case_id"), exists().where(
        TimerRow.case_id == Case.id, TimerRow.status == "waiting", TimerRow.due_at <= bindparam("now"),
    ))
    .with_for_update(of=[Case.__table__, _STATE], skip_locked=True),
)


def _states(marks: dict[str, list[Any]]) -> dict[str, Any]:
    return {task_id: mark[0] for task_id, mark in marks.items()}


def _sync_tasks(
    unit: Unit, case: Case, views: list[TaskView], timers: list[TimerView], completed_by: int | None,
    written: dict[str, list[Any]],
) -> dict[str, list[Any]]:
    due = _task_deadlines(timers)
    inserts, updates, now = [], [], unit.now
    for view in views:
        due_at = due.get(view.bpmn_id) if view.state == "ready" else None
        mark = [view.state, due_at.isoformat() if due_at else None]
        before = written.get(view.id)
        if before == mark or (before is None and view.state == "cancelled"):
            continue  # unchanged, or cancelled before anyone saw it
        written[view.id] = mark
        if before is None:
            inserts.append({
                "id": view.id, "case_id": case.id, "agency_id": case.agency_id, "bpmn_id": view.bpmn_id,
                "name": view.name, "lane": view.lane, "state": view.state, "created_at": now, "due_at": due_at,
                "form": view.properties.get("formJsonSchemaFilename"),
                "completed_at": now if view.state == "completed" else None,
                "completed_by": completed_by if view.state == "completed" else None,
            })
            continue
        change: dict[str, Any] = {"id": view.id, "state": view.state}
        if view.state == "ready":
            change["due_at"] = due_at
        if view.state == "completed" and before[0] != "completed":
            change.update(completed_at=now, completed_by=completed_by)
        updates.append(change)
    _write(unit, TaskRow, inserts, updates)
    return written


def _task_deadlines(timers: list[TimerView]) -> dict[str, datetime]:
    """The earliest armed statutory deadline guarding each task."""
    due: dict[str, datetime] = {}
    for timer in timers:
        if (timer.armed and timer.attached_to and timer.due_at is not None
                and timer.properties.get("kind", "deadline") in ("deadline", "supervision")):
            current = due.get(timer.attached_to)
            due[timer.attached_to] = timer.due_at if current is None else min(current, timer.due_at)
    return due


def _sync_timers(
    unit: Unit, case: Case, instance: Instance, timers: list[TimerView], written: dict[str, list[Any]]
) -> dict[str, list[Any]]:
    inserts, updates = [], []
    for view in timers:
        status = "waiting" if view.armed else view.status
        mark = [status, view.due_at.isoformat() if view.due_at else None]
        before = written.get(view.id)
        if before == mark:
            continue
        written[view.id] = mark
        if before is not None:
            updates.append({"id": view.id, "status": status, "due_at": view.due_at})
            continue
        amount, unit_name = _limit(view.properties.get("limit"))
        inserts.append({
            "id": view.id, "case_id": case.id, "agency_id": case.agency_id, "bpmn_id": view.bpmn_id,
            "name": view.name, "task_name": _task_name(instance, view.attached_to), "kind": view.properties.get("kind"),
            "legal_basis": view.properties.get("legal_basis"), "limit_amount": amount, "limit_unit": unit_name,
            "started_at": view.started_at, "due_at": view.due_at, "status": status, "interrupting": view.interrupting,
            "provisional": _provisional(unit, view.started_at, amount, unit_name),
        })
    _write(unit, TimerRow, inserts, updates)
    return written


def _write(unit: Unit, model: Any, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]) -> None:
    table = model.__table__
    unit.writes.insert(table, inserts)
    for change in updates:  # few per step; each row has its own columns to change
        row_id = change.pop("id")
        unit.writes.update(table, {"id": row_id}, change)


def _task_name(instance: Instance, bpmn_id: str | None) -> str | None:
    if not bpmn_id:
        return None
    spec = instance.definition.task_spec(bpmn_id)
    return (getattr(spec, "bpmn_name", None) or bpmn_id) if spec is not None else bpmn_id


def _provisional(unit: Unit, started_at: str | None, amount: int | None, unit_name: str | None) -> bool:
    """Whether the statutory period runs through a year the State Council has not published yet."""
    if not (started_at and amount and unit_name):
        return False
    try:
        return unit.calendar.due(started_at, amount, unit_name).provisional
    except (ValueError, TypeError, ZhifaError):
        return False


def _limit(text: str | None) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    parts = text.split()
    try:
        return int(parts[0]), parts[1] if len(parts) > 1 else None
    except (ValueError, IndexError):
        return None, None

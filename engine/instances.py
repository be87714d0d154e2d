"""Case workflow state: lock, load, save, and the task and timer projections rewritten on every save."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import definitions
from engine.core import Unit
from engine.errors import NotFound
from engine.models import Case, ProcessDefinition, ProcessInstance, TaskRow, TimerRow
from engine.spiff import Instance, TaskView, TimerView

CLOSED_STATES = ("completed", "cancelled")


def lock_case(unit: Unit, case_id: int) -> Case:
    """The per-case lock: SELECT ... FOR UPDATE (SQLite serialises writers at BEGIN IMMEDIATE)."""
    case = unit.session.scalar(select(Case).where(Case.id == case_id).with_for_update())
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


def start(unit: Unit, case: Case, row: ProcessDefinition, data: dict[str, Any]) -> Instance:
    instance = unit.core.runtime.start(definitions.deployed(unit, row.id).runnable, data)
    unit.session.add(
        ProcessInstance(
            case_id=case.id, definition_id=row.id, serializer_version="", state={}, completed=False
        )
    )
    save(unit, case, instance)
    return instance


def load(unit: Unit, case: Case) -> Instance:
    stored = unit.session.get(ProcessInstance, case.id)
    if stored is None:
        raise NotFound(f"case {case.number} has no workflow")
    return unit.core.runtime.restore(
        definitions.deployed(unit, stored.definition_id).runnable,
        {"serializer_version": stored.serializer_version, "workflow": stored.state},
    )


def save(unit: Unit, case: Case, instance: Instance, *, completed_by: int | None = None) -> None:
    stored = unit.session.get(ProcessInstance, case.id)
    stored.completed = instance.completed
    timers = instance.timers()
    _sync_timers(unit, case, instance, timers)
    _sync_tasks(unit, case, instance.user_tasks(), timers, completed_by)
    instance.compact()  # after projecting: the projections and the audit trail keep the history
    dumped = instance.dump()
    stored.state = dumped["workflow"]
    stored.serializer_version = dumped["serializer_version"]
    case.revision += 1
    case.updated_at = unit.now
    if instance.completed and case.status != "closed":
        case.status = "closed"
        case.closed_at = unit.now
        case.outcome = str(instance.data.get("outcome") or "") or None


def _sync_tasks(
    unit: Unit, case: Case, views: list[TaskView], timers: list[TimerView], completed_by: int | None
) -> None:
    existing = _rows(unit, TaskRow, [v.id for v in views])
    due = _task_deadlines(timers)
    for view in views:
        row = existing.pop(view.id, None)
        if row is None and view.state == "cancelled":
            continue  # never was a task anyone saw
        if row is None:
            row = TaskRow(
                id=view.id, case_id=case.id, agency_id=case.agency_id, bpmn_id=view.bpmn_id, name=view.name,
                lane=view.lane, state=view.state, form=view.properties.get("formJsonSchemaFilename"),
                created_at=unit.now,
            )
            unit.session.add(row)
        elif row.state == view.state and row.due_at == due.get(view.bpmn_id if view.state == "ready" else ""):
            continue
        if view.state == "completed" and row.completed_at is None:
            row.completed_at = unit.now
            row.completed_by = completed_by
        row.state = view.state
        row.due_at = due.get(view.bpmn_id) if view.state == "ready" else row.due_at


def _task_deadlines(timers: list[TimerView]) -> dict[str, datetime]:
    """The earliest armed statutory deadline guarding each task."""
    due: dict[str, datetime] = {}
    for timer in timers:
        if timer.armed and timer.attached_to and timer.due_at is not None:
            if timer.properties.get("kind", "deadline") == "deadline":
                current = due.get(timer.attached_to)
                due[timer.attached_to] = timer.due_at if current is None else min(current, timer.due_at)
    return due


def _sync_timers(unit: Unit, case: Case, instance: Instance, timers: list[TimerView]) -> None:
    existing = _rows(unit, TimerRow, [v.id for v in timers])
    for view in timers:
        status = "waiting" if view.armed else view.status
        row = existing.pop(view.id, None)
        if row is None:
            amount, unit_name = _limit(view.properties.get("limit"))
            row = TimerRow(
                id=view.id, case_id=case.id, agency_id=case.agency_id, bpmn_id=view.bpmn_id, name=view.name,
                task_name=_task_name(instance, view.attached_to), kind=view.properties.get("kind"),
                legal_basis=view.properties.get("legal_basis"), limit_amount=amount, limit_unit=unit_name,
                started_at=view.started_at, due_at=view.due_at, status=status, interrupting=view.interrupting,
            )
            unit.session.add(row)
        elif row.status != status or row.due_at != view.due_at:
            row.status = status
            row.due_at = view.due_at


def _rows(unit: Unit, model: Any, ids: list[str]) -> dict[str, Any]:
    """Projection rows of the tasks still in the workflow; rows of compacted history stay as they are."""
    if not ids:
        return {}
    return {r.id: r for r in unit.session.scalars(select(model).where(model.id.in_(ids)))}


def _task_name(instance: Instance, bpmn_id: str | None) -> str | None:
    if not bpmn_id:
        return None
    spec = instance.definition.task_spec(bpmn_id)
    return (getattr(spec, "bpmn_name", None) or bpmn_id) if spec is not None else bpmn_id


def _limit(text: str | None) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    parts = text.split()
    try:
        return int(parts[0]), parts[1] if len(parts) > 1 else None
    except (ValueError, IndexError):
        return None, None

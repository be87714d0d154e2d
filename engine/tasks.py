"""User tasks: list, read with their form, claim, complete.

Who may do a task: the BPMN lane names the role; officer tasks also need the user to be one of the
case's assigned officers; everything within the case's own agency. Completion locks the case, so of
two concurrent completions of one task exactly one succeeds and the other gets a conflict.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from jsonschema import Draft202012Validator
from sqlalchemy import and_, bindparam, exists, func, or_, select

from engine import (
    audit,
    clock_changes,
    definitions,
    discretion,
    instances,
    prepared,
    task_rules,
)
from engine.cases import check_visible, scope_filter
from engine.core import Unit
from engine.errors import (
    Conflict,
    Forbidden,
    FormDataInvalid,
    InvalidInput,
    NotFound,
    Problem,
)
from engine.models import Agency, Case, CaseOfficer, ProcessInstance, TaskRow
from engine.publicity import publications
from engine.supervision import matter_access
from engine.supervision.kinds import is_supervision

OFFICER_LANE = "officer"
ASSIGNED_LANES = (OFFICER_LANE, matter_access.SUPERVISOR_LANE)  # tasks for the case's (matter's) assigned staff


@dataclass(frozen=True)
class TaskSummary:
    id: str
    case_id: int
    case_number: str
    name: str
    bpmn_id: str
    lane: str | None
    state: str
    due_at: datetime | None
    created_at: datetime
    claimed_by: int | None


@dataclass(frozen=True)
class TaskDetail:
    summary: TaskSummary
    form: dict[str, Any]
    document_template: str | None
    data: dict[str, Any]


def list_tasks(
    unit: Unit, *, case_id: int | None = None, state: str | None = None, mine: bool = False,
    page: int = 1, per_page: int = 50,
) -> tuple[list[TaskSummary], int]:
    query = select(TaskRow, Case.number).join(Case, Case.id == TaskRow.case_id).join(Agency, Agency.id == TaskRow.agency_id)
    query = query.where(or_(and_(*scope_filter(unit)), matter_access.granted_tasks(unit)))
    if case_id is not None:
        query = query.where(TaskRow.case_id == case_id)
    if state:
        query = query.where(TaskRow.state == state)
    if mine:
        query = query.where(*_mine_filter(unit))
    total = unit.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = unit.session.execute(
        query.order_by(TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.created_at)
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return [_summary(t, n) for t, n in rows], total


def _mine_filter(unit: Unit) -> list[Any]:
    actor = unit.actor
    assigned = exists().where(CaseOfficer.case_id == TaskRow.case_id, CaseOfficer.user_id == actor.user_id)
    lanes = [r for r in actor.roles if r not in ASSIGNED_LANES]
    lane_ok = or_(TaskRow.lane.in_(lanes), *(and_(TaskRow.lane == lane, assigned) for lane in ASSIGNED_LANES if actor.has_role(lane)))
    return [
        TaskRow.state == "ready",
        or_(TaskRow.agency_id == actor.agency_id, matter_access.granted_tasks(unit)),
        lane_ok,
        or_(TaskRow.claimed_by.is_(None), TaskRow.claimed_by == actor.user_id),
    ]


def get_task(unit: Unit, task_id: str) -> TaskDetail:
    row, case = _visible_task(unit, task_id)
    found = definitions.deployed(unit, case.definition_id)
    form = definitions.task_form(unit, case.definition_id, row.bpmn_id)
    data = {}
    if row.state == "ready":
        instance = instances.load(unit, case)
        data = next((t.data for t in instance.ready_tasks() if t.id == row.id), {})
    return TaskDetail(
        summary=_summary(row, case.number), form={"schema": form.schema, "ui_schema": form.ui_schema},
        document_template=found.tasks_meta.get(row.bpmn_id, {}).get("template"), data=data,
    )


def claim(unit: Unit, task_id: str) -> TaskSummary:
    case, row = _locked(unit, task_id)
    _check_may_do(unit, row, case)
    unit.writes.update(TaskRow.__table__, {"id": row.id}, {"claimed_by": unit.actor.user_id})
    audit.record(unit, "task.claimed", {"task_id": row.id, "bpmn_id": row.bpmn_id}, case=case)
    return _summary(row._replace(claimed_by=unit.actor.user_id), case.number)


@dataclass(frozen=True)
class Completed:
    case_id: int
    case_status: str
    ready_task_ids: list[str]


def complete(unit: Unit, task_id: str, data: Any) -> Completed:
    if not isinstance(data, dict):
        raise InvalidInput("data must be an object", [Problem("must be an object", field="data")])
    case, row = _locked(unit, task_id)
    _check_may_do(unit, row, case)
    validate_form_data(definitions.task_form(unit, case.definition_id, row.bpmn_id).validator, data)
    instance = instances.load(unit, case)
    _check_rules(unit, case, instance, row, data)
    done = instance.complete_task(task_id, data)
    clock_changes.after_completion(unit, case, instance, done)
    clock_changes.after_excluded_step(unit, case, instance, done)
    instances.save(unit, case, instance, completed_by=unit.actor.user_id)
    audit.record(unit, "task.completed", {"task_id": row.id, "bpmn_id": row.bpmn_id, "name": row.name, "data": data}, case=case)
    publications.after_task_completed(unit, case, data, instance)
    if case.status == "closed":
        audit.record(unit, "case.closed", {"outcome": case.outcome}, case=case)
    return Completed(case.id, case.status, [t.id for t in instance.ready_tasks()])


def _check_rules(unit: Unit, case: Case, instance: Any, row: _Task, data: dict[str, Any]) -> None:
    """Rules of law beyond the form (task_rules: limits, dates) and the discretion benchmark."""
    view = next((t for t in instance.ready_tasks() if t.id == row.id), None)
    if view is not None:
        task_rules.check(view.properties, view.data, data, unit.now, row.bpmn_id, unit.core.calendar)
        discretion.check_decision(
            unit, case, instance.definition.process_id, row.id, row.bpmn_id, view.properties, view.data, data
        )


def validate_form_data(validator: Draft202012Validator | None, data: dict[str, Any]) -> None:
    if validator is None:
        return
    problems = [
        Problem(error.message, field=".".join(str(p) for p in error.absolute_path) or _missing_field(error))
        for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems:
        raise FormDataInvalid("the data does not match the task's form", problems)


def _missing_field(error: Any) -> str:
    if error.validator == "required":
        return str(error.message).split("'")[1] if "'" in error.message else "data"
    if error.validator == "additionalProperties":
        return str(error.message).split("'")[1] if "'" in error.message else "data"
    return "data"


def _visible_task(unit: Unit, task_id: str) -> tuple[TaskRow, Case]:
    row = unit.session.get(TaskRow, task_id)
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    if not matter_access.may_see_task(unit, row):
        check_visible(unit, row.agency_id)
    return row, unit.session.get(Case, row.case_id)


class _Task(NamedTuple):
    """A task row read for a change, with whether the acting user is one of the case's officers."""

    id: str
    case_id: int
    name: str
    bpmn_id: str
    lane: str | None
    state: str
    due_at: datetime | None
    created_at: datetime
    claimed_by: int | None
    assigned: bool


_TASK_COLUMNS = tuple(getattr(TaskRow, name) for name in _Task._fields[:-1])


def _locked(unit: Unit, task_id: str) -> tuple[Case, _Task]:
    """Take the per-case lock and read, in the same statement, the task, the case's workflow state (held
    for `instances.load`) and whether the user is an assigned officer.

    The case row is locked first (FOR UPDATE OF names it first), as every writer of a case does, so
    there is no lock-order deadlock; the task and state rows are locked too, so that after waiting for
    a concurrent completion PostgreSQL re-reads their newest versions, not the ones it saw before."""
    found = unit.first(_LOCKED_TASK, {"task_id": task_id, "user_id": unit.actor.user_id})
    if found is None:
        raise NotFound(f"task {task_id} does not exist")
    case, rest = prepared.adopt_leading(unit.session, Case, found)
    row = _Task(*rest[:len(_Task._fields)])
    instances.hold(unit, case.id, *rest[len(_Task._fields):])
    if row.state != "ready":
        check_visible(unit, case.agency_id)
        raise Conflict(f"task {row.name} is {row.state}, not ready")
    if row.claimed_by not in (None, unit.actor.user_id):
        raise Conflict(f"task {row.name} is claimed by another user")
    return case, row


_STATE = ProcessInstance.__table__
_CASE = Case.__table__
_LOCKED_TASK = prepared.Query(  # built once, prepared on PostgreSQL; a row, the case adopted from it
    select(
        *_CASE.c, *_TASK_COLUMNS,
        exists().where(CaseOfficer.case_id == Case.id, CaseOfficer.user_id == bindparam("user_id")),
        _STATE.c.definition_id, _STATE.c.serializer_version, _STATE.c.state, _STATE.c.projected,
    )
    .select_from(Case)
    .join(TaskRow, TaskRow.case_id == Case.id)
    .join(_STATE, _STATE.c.case_id == Case.id)
    .where(TaskRow.id == bindparam("task_id"))
    .with_for_update(of=[Case.__table__, TaskRow.__table__, _STATE]),
)


def _check_may_do(unit: Unit, row: _Task, case: Case) -> None:
    if is_supervision(case):  # a supervision matter: its supervisors, and the supervised agency's head
        matter_access.check_may_do(unit, row, case)
        return
    actor = unit.actor
    if actor.agency_id != case.agency_id:
        check_visible(unit, case.agency_id)
        raise Forbidden("only the case's own agency can work on its tasks")
    if row.lane and not actor.has_role(row.lane):
        raise Forbidden(f"task {row.name} is for the role {row.lane}")
    if row.lane == OFFICER_LANE and not row.assigned:
        raise Forbidden(f"task {row.name} is for the case's assigned officers")


def _summary(row: Any, case_number: str) -> TaskSummary:
    return TaskSummary(
        row.id, row.case_id, case_number, row.name, row.bpmn_id, row.lane, row.state, row.due_at, row.created_at,
        row.claimed_by,
    )

"""Case-data variables that mirror a timer's due date (`due_variable`, `due_variable_format`).

A timer that guards a statutory limit may declare the task-data variable later steps decide with:

    <spiffworkflow:property name="due_variable" value="statement_due_on"/>
    <spiffworkflow:property name="due_variable_format" value="date"/>

`date` is the China (+08:00) calendar date of the due, ``YYYY-MM-DD`` (what `due_date()` gives);
`instant` is the ISO 8601 instant with its +08:00 offset (what `deadline()` gives, e.g.
``2026-04-01T23:59:59+08:00``). Whenever the timer is armed or moved (holiday year imported,
suspension, resumption, exclusion, extension: `Instance.reschedule_timer`), the engine writes the
timer's current due into that variable of the task data the following steps inherit:

* the guarded activity (a boundary timer's task; for a sub-process or call activity, also every
  unfinished task inside it): the normal path reads it from there;
* the timer itself, just before it runs: the timer's own path reads it from there.

While the timer is stopped (a suspended case) the variable is None: there is no due date, and
the period cannot have run out. After the timer fired or was cancelled the variable keeps its
last value. Only this module and `runtime` touch SpiffWorkflow tasks for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState

from engine.clock import CHINA_TZ

DUE_VARIABLE = "due_variable"
DUE_VARIABLE_FORMAT = "due_variable_format"
DUE_FORMATS = ("date", "instant")


@dataclass(frozen=True)
class DueVariableChange:
    """What one move of a timer did to its due variable (for the `timer.rescheduled` audit event)."""

    name: str
    format: str
    before: str | None
    after: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "format": self.format, "before": self.before, "after": self.after}


def declared(task_spec: Any) -> tuple[str, str] | None:
    """(variable, format) of a timer spec that declares a due variable, else None."""
    props = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
    name = props.get(DUE_VARIABLE)
    if not name:
        return None
    return name, props.get(DUE_VARIABLE_FORMAT) or "date"


def formatted(due: datetime | None, fmt: str) -> str | None:
    """The due as the variable holds it (None: a stopped timer has no due date)."""
    if due is None:
        return None
    local = due.astimezone(CHINA_TZ)
    return local.date().isoformat() if fmt == "date" else local.isoformat()


def write(task: Any, due: datetime | None, subworkflows: dict[Any, Any]) -> DueVariableChange | None:
    """Write the due of timer ``task`` where the steps after it read it; the change seen by the guarded
    activity (or the timer, if it guards none), None when nothing changed."""
    found = declared(task.task_spec)
    if found is None:
        return None
    name, fmt = found
    value = formatted(due, fmt)
    activity = guarded(task)
    seen = activity if activity is not None else task
    before = seen.data.get(name)
    targets = [task]
    if activity is not None and not activity.has_state(TaskState.FINISHED_MASK):
        targets.append(activity)
        targets.extend(_inside(activity, subworkflows))
    for target in targets:
        if target.data.get(name, _MISSING) != value:
            target.data[name] = value
    return DueVariableChange(name, fmt, before, value) if before != value else None


_MISSING = object()


def guarded(task: Any) -> Any:
    """The activity a boundary event sits on (its sibling under the boundary-event split), else None."""
    if not isinstance(task.task_spec, BoundaryEvent) or task.parent is None:
        return None
    for sibling in task.parent.children:
        if sibling is not task and not isinstance(sibling.task_spec, BoundaryEvent):
            return sibling
    return None


def _inside(activity: Any, subworkflows: dict[Any, Any]) -> list[Any]:
    """Every unfinished task of a running sub-process or call activity (nested ones included): its
    data is copied in when it starts and copied back out when it ends."""
    found: list[Any] = []
    pending = [activity.id]
    while pending:
        sub = subworkflows.get(pending.pop())
        if sub is None:
            continue
        for inner in sub.tasks.values():
            if not inner.has_state(TaskState.FINISHED_MASK):
                found.append(inner)
                pending.append(inner.id)
    return found

"""Running workflows: start, complete, fire timers, save and restore.

This module and its siblings in `engine.spiff` are the only code that imports SpiffWorkflow.

State is stored without the spec: a definition's spec objects are restored once and cached in
memory, and an instance's state holds only its task tree and data (about half the size, and no
spec conversion on every step). The clock is ours: SpiffWorkflow's timer module asks
`datetime.now()`, which we route to the `Clock` active in the current context.
"""
from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from SpiffWorkflow import task as _task_module
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default import workflow as _task_converters
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.clock import Clock
from engine.errors import Conflict, NotFound, WorkflowError

from . import due_variables
from .due_variables import DueVariableChange
from .due_variables import guarded as _attached_task
from .scripts import make_script_engine

_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
_SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)
SERIALIZER_VERSION = _SERIALIZER.VERSION

# --------------------------------------------------------------------------------------------
# The clock SpiffWorkflow's timers see
# --------------------------------------------------------------------------------------------
_active_clock: contextvars.ContextVar[Clock | None] = contextvars.ContextVar("zhifa_clock", default=None)


class _ClockedDatetime(datetime):
    """`datetime` whose now() answers from the Zhifa clock active in this context."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        clock = _active_clock.get()
        if clock is None:
            return datetime.now(tz)
        now = clock.now()
        return now.astimezone(tz) if tz is not None else now.astimezone().replace(tzinfo=None)


_timer_module.datetime = _ClockedDatetime  # type: ignore[attr-defined]

# --------------------------------------------------------------------------------------------
# Task ids are strings
# --------------------------------------------------------------------------------------------
# SpiffWorkflow keys its task dicts by `uuid.UUID` objects and walks the tree through them (a task's
# parent and children are ids looked up in `workflow.tasks`). `UUID.__hash__` and `__eq__` are Python
# functions, called several hundred times per completed task: about a tenth of a completion's CPU. The
# same ids as `str` hash in C (and cache their hash). Stored states are unchanged (ids are stored as
# their string form either way); Zhifa uses ids only as strings (projections, API). Two names make the
# ids: `uuid4` where a task is created, `UUID` where a task is restored.
_task_module.uuid4 = lambda: str(uuid4())  # type: ignore[attr-defined]
_task_converters.UUID = str  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# A task's state change builds its log record only when the log is on
# --------------------------------------------------------------------------------------------
# `Task._set_state` formats its message and collects the task's log extras (a dict of eight fields, the
# parent looked up) for `logger.info` / `logger.debug` on every state change, ~30 per completed task, and
# the logger then drops them: Zhifa does not log SpiffWorkflow's task states. This is the same method with
# the record built only when its level is enabled (so `logging.getLogger("spiff.task").setLevel(INFO)`
# still gives SpiffWorkflow's records unchanged).
_task_logger = _task_module.logger


def _set_state(self: Any, value: int) -> None:
    if value != self._state:
        now = time.time()
        elapsed = now - self.last_state_change
        self.last_state_change = now
        self._state = value
        if _task_logger.isEnabledFor(logging.INFO):
            _task_logger.info(f"State changed to {TaskState.get_name(value)}",
                              extra=self.collect_log_extras({"elapsed": elapsed}))
    elif _task_logger.isEnabledFor(logging.DEBUG):
        _task_logger.debug(f"State set to {TaskState.get_name(value)}", extra=self.collect_log_extras())


_task_module.Task._set_state = _set_state  # type: ignore[method-assign]


@contextmanager
def _clock_in_force(clock: Clock) -> Iterator[None]:
    token = _active_clock.set(clock)
    try:
        yield
    finally:
        _active_clock.reset(token)


# --------------------------------------------------------------------------------------------
# Views handed to the rest of the engine
# --------------------------------------------------------------------------------------------
TASK_STATE_NAMES = {
    TaskState.READY: "ready",
    TaskState.WAITING: "waiting",
    TaskState.STARTED: "started",
    TaskState.COMPLETED: "completed",
    TaskState.ERROR: "error",
    TaskState.CANCELLED: "cancelled",
}


@dataclass(frozen=True)
class TaskView:
    id: str
    bpmn_id: str
    name: str
    lane: str | None
    state: str
    properties: dict[str, str]
    data: dict[str, Any]
    documentation: str | None = None


@dataclass(frozen=True)
class TimerView:
    id: str
    bpmn_id: str
    name: str
    status: str  # pending | overdue | fired | met | breached
    due_at: datetime | None
    started_at: str | None
    properties: dict[str, str]
    attached_to: str | None
    interrupting: bool
    armed: bool = False  # still waiting in the workflow (pending, or overdue but not yet fired)
    clock: dict[str, Any] = field(default_factory=dict)  # case-clock changes (engine.case_clock); {} if none


@dataclass
class Definition:
    """A runnable process definition: the parsed spec objects and their stored form."""

    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    _task_specs: dict[str, Any] = field(default_factory=dict, repr=False)
    _has_due_variables: bool | None = field(default=None, repr=False)

    def to_state(self) -> dict[str, Any]:
        """The spec as JSON-able data, stored once per deployed version."""
        return {
            "serializer_version": SERIALIZER_VERSION,
            "spec": _REGISTRY.convert(self.spec),
            "subprocess_specs": {k: _REGISTRY.convert(v) for k, v in self.subprocess_specs.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Definition:
        spec = _REGISTRY.restore(state["spec"])
        subs = {k: _REGISTRY.restore(v) for k, v in state.get("subprocess_specs", {}).items()}
        return cls(process_id=spec.name, spec=spec, subprocess_specs=subs)

    def task_spec(self, bpmn_id: str) -> Any:
        if not self._task_specs:
            for spec in [self.spec, *self.subprocess_specs.values()]:
                for task_spec in spec.task_specs.values():
                    self._task_specs.setdefault(task_spec.bpmn_id or task_spec.name, task_spec)
        return self._task_specs.get(bpmn_id)

    @property
    def has_due_variables(self) -> bool:
        """Whether any timer declares a `due_variable` (engine.spiff.due_variables)."""
        if self._has_due_variables is None:
            self._has_due_variables = any(
                due_variables.declared(task_spec) is not None
                for spec in [self.spec, *self.subprocess_specs.values()]
                for task_spec in spec.task_specs.values()
                if _is_timer(task_spec)
            )
        return self._has_due_variables


def load_definition(files: dict[str, bytes], **kwargs: Any) -> Definition:
    """Parse and validate a bundle of BPMN/DMN files into a runnable definition (tests, CLI)."""
    from .parsing import parse_bundle

    bundle = parse_bundle(files, **kwargs)
    return Definition(process_id=bundle.process_id, spec=bundle.spec, subprocess_specs=bundle.subprocess_specs)


# --------------------------------------------------------------------------------------------
# The runtime
# --------------------------------------------------------------------------------------------
class Runtime:
    """Starts and restores instances with our clock and our script functions."""

    def __init__(self, clock: Clock, functions: dict[str, Callable[..., Any]]):
        self.clock = clock
        self.script_engine = make_script_engine(functions)

    def start(self, definition: Definition, data: dict[str, Any]) -> Instance:
        wf = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=self.script_engine)
        wf.task_tree.data = json.loads(json.dumps(data))
        for child in wf.task_tree.children:
            child.data = dict(wf.task_tree.data)
        instance = Instance(self, definition, wf)
        instance.advance()
        return instance

    def restore(self, definition: Definition, state: dict[str, Any]) -> Instance:
        version = state.get("serializer_version")
        if version != SERIALIZER_VERSION:
            return Instance(self, definition, self._restore_migrated(definition, state))
        wf = BpmnWorkflow(definition.spec, definition.subprocess_specs, deserializing=True)
        converter = _converter_for(BpmnWorkflow)
        dct = _tasks_as_mappings(state["workflow"])
        wf.tasks = converter.mapping_from_dict(dct["tasks"], str, workflow=wf)
        wf.task_tree = wf.tasks.get(dct["root"])
        converter.set_default_attributes(wf, dct)
        converter.subprocesses_from_dict(dict(dct["subprocesses"]), wf)
        wf.bpmn_events = _REGISTRY.restore(dct.get("bpmn_events", []))
        wf.script_engine = self.script_engine
        return Instance(self, definition, wf)

    def _restore_migrated(self, definition: Definition, state: dict[str, Any]) -> BpmnWorkflow:
        """Older serializer versions: let SpiffWorkflow's migrations upgrade the full document."""
        full = _tasks_as_mappings(state["workflow"])
        full.update(definition.to_state())
        full["serializer_version"] = state.get("serializer_version")
        _SERIALIZER.migrate(full)
        wf = _SERIALIZER.from_dict(full)
        wf.script_engine = self.script_engine
        return wf


def _tasks_as_lists(dct: dict[str, Any]) -> dict[str, Any]:
    """Task dicts become lists: restoring depends on task order, and PostgreSQL's JSONB does not
    keep the order of object keys (every task would silently come back with empty data)."""
    out = dict(dct, tasks=list(dct["tasks"].values()))
    out["subprocesses"] = {k: dict(v, tasks=list(v["tasks"].values())) for k, v in dct["subprocesses"].items()}
    return out


def _tasks_as_mappings(dct: dict[str, Any]) -> dict[str, Any]:
    out = dict(dct, tasks={t["id"]: t for t in dct["tasks"]})
    out["subprocesses"] = {k: dict(v, tasks={t["id"]: t for t in v["tasks"]}) for k, v in dct["subprocesses"].items()}
    return out


def _converter_for(cls: type) -> Any:
    typename = _REGISTRY.typenames[cls]
    to_dict = _REGISTRY.convert_to_dict[typename].args[1]  # partial(_obj_to_dict, typename, converter.to_dict)
    return to_dict.__self__


_MAX_ADVANCE_ROUNDS = 100  # timers firing timers: a bound, not a loop that could spin


class Instance:
    """One running workflow. Not thread-safe: build one per request from storage."""

    def __init__(self, runtime: Runtime, definition: Definition, workflow: BpmnWorkflow):
        self.runtime = runtime
        self.definition = definition
        self.wf = workflow

    # -- reading -------------------------------------------------------------------------
    @property
    def completed(self) -> bool:
        return bool(self.wf.completed)

    @property
    def data(self) -> dict[str, Any]:
        if self.wf.completed:
            return dict(self.wf.data or self.wf.last_task.data if self.wf.last_task else self.wf.data)
        last = self.wf.last_task
        return dict(last.data) if last is not None else dict(self.wf.task_tree.data)

    def all_tasks(self) -> list[Any]:
        tasks = list(self.wf.tasks.values())
        for sub in self.wf.subprocesses.values():
            tasks.extend(sub.tasks.values())
        return tasks

    def task_ids(self) -> set[str]:
        return {str(t.id) for t in self.all_tasks()}

    def user_tasks(self) -> list[TaskView]:
        """Every user task that is ready or finished, oldest first.

        Cancelled ones are included whether or not they were ever ready (SpiffWorkflow cancels
        predicted tasks too); the projection only updates rows it already has for those.
        """
        shown = TaskState.READY | TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR
        return [_task_view(t) for t in self.all_tasks() if t.task_spec.manual and t.state & shown]

    def ready_tasks(self) -> list[TaskView]:
        return [_task_view(t) for t in self.all_tasks() if t.task_spec.manual and t.state == TaskState.READY]

    def timers(self) -> list[TimerView]:
        now = self.runtime.clock.now()
        views = []
        for task in self.all_tasks():
            view = _timer_view(task, now)
            if view is not None:
                views.append(view)
        return views

    # -- changing ------------------------------------------------------------------------
    def complete_task(self, task_id: str, data: dict[str, Any]) -> TaskView:
        task = self._task(task_id)
        if not task.task_spec.manual:
            raise Conflict(f"task {task_id} is not a user task")
        if task.state != TaskState.READY:
            raise Conflict(
                f"task {task.task_spec.bpmn_id} is {TASK_STATE_NAMES.get(task.state, 'not ready')}, not ready"
            )
        merged = dict(task.data)
        merged.update(json.loads(json.dumps(data)))
        task.data = merged
        with _clock_in_force(self.runtime.clock), _as_workflow_error(task.task_spec.bpmn_id):
            task.run()
        self.advance()
        return _task_view(task)

    def advance(self) -> None:
        """Run engine steps (scripts, gateways) and fire every timer due as of the clock."""
        before_run = self._before_run if self.definition.has_due_variables else None
        with _clock_in_force(self.runtime.clock), _as_workflow_error(None):
            self.wf.do_engine_steps(before_run)  # ends by refreshing timers: one that came due is now READY
            for _ in range(_MAX_ADVANCE_ROUNDS):
                if not any(t.state == TaskState.READY and not t.task_spec.manual for t in self.all_tasks()):
                    break
                self.wf.do_engine_steps(before_run)
        if before_run is not None:
            self._write_due_variables()

    def _before_run(self, task: Any) -> None:
        """A timer about to run (it fired) hands its due to the steps after it."""
        if _is_timer(task.task_spec):
            due_variables.write(task, _parse_due(task.internal_data.get("event_value")), self.wf.subprocesses)

    def _write_due_variables(self) -> None:
        """Every armed timer's due into its due variable (first armed, or re-armed by a loop)."""
        for task in list(self.wf.event_manager.tasks.values()):
            if task.state == TaskState.WAITING and _is_timer(task.task_spec):
                due_variables.write(task, _parse_due(task.internal_data.get("event_value")), self.wf.subprocesses)

    def waiting_for_message(self, name: str) -> bool:
        return any(e.name == name and e.event_type == "MessageEventDefinition" for e in self.wf.waiting_events())

    def send_message(self, name: str, payload: dict[str, Any]) -> None:
        """Deliver a BPMN message (its payload goes to the catching event's messageVariable)."""
        if not self.waiting_for_message(name):
            raise Conflict(f"the procedure is not waiting for the message {name!r} now")
        event = BpmnEvent(MessageEventDefinition(name), payload=json.loads(json.dumps(payload)))
        with _clock_in_force(self.runtime.clock), _as_workflow_error(None):
            try:
                self.wf.send_event(event)
            except WorkflowException as exc:
                raise Conflict(f"the procedure is not waiting for the message {name!r} now") from exc
        self.advance()

    def reschedule_timer(
        self, task_id: str, due: str | None, clock: dict[str, Any] | None = None
    ) -> DueVariableChange | None:
        """Move a waiting timer to ``due`` (ISO with offset), or stop it (None: it cannot fire).

        ``clock`` (the case-clock record of `engine.case_clock`) is kept with the timer's state.
        A timer with a `due_variable` writes its new due there (None while stopped); returns what
        that variable held before and holds now, or None if the timer has none or it did not change.
        """
        task = self._task(task_id)
        if not _is_timer(task.task_spec) or task.state != TaskState.WAITING:
            raise Conflict(f"timer {task.task_spec.bpmn_id} is not waiting")
        task._set_internal_data(event_value=due or STOPPED_TIMER_VALUE)
        if clock is not None:
            task._set_internal_data(zhifa_clock=json.loads(json.dumps(clock)))
        return due_variables.write(task, _parse_due(task.internal_data["event_value"]), self.wf.subprocesses)

    def fire_due_timers(self) -> list[str]:
        before = {t.id for t in self.all_tasks() if t.state == TaskState.WAITING}
        self.advance()
        return [
            t.task_spec.bpmn_id
            for t in self.all_tasks()
            if t.id in before and t.state == TaskState.COMPLETED and _is_timer(t.task_spec)
        ]

    # -- compacting ----------------------------------------------------------------------
    def compact(self) -> int:
        """Drop finished history the workflow no longer needs to run; returns tasks dropped.

        SpiffWorkflow keeps every task ever run, so a case's state (and the cost of every step)
        grows with its history. History is kept by Zhifa's projections and audit trail, so the
        tree is cut at the lowest point that still holds every unfinished task and every open
        boundary-event split (their joins look the split up as an ancestor).
        """
        dropped = 0
        for workflow in [self.wf, *self.wf.subprocesses.values()]:
            dropped += _compact(workflow)
        live = set(self.wf.tasks)
        for sub in self.wf.subprocesses.values():
            live.update(sub.tasks)
        for task_id in [k for k in self.wf.subprocesses if k not in live]:
            del self.wf.subprocesses[task_id]
        return dropped

    # -- storing -------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        """The instance state without the spec, JSON-able, with the serializer version."""
        converter = _converter_for(BpmnWorkflow)
        wf = self.wf
        # The registry's full (recursive) conversion, not its encoder mode: that mode is a flag on the
        # shared registry, which concurrent requests would flip under each other.
        dct = {
            "data": _REGISTRY.convert(_REGISTRY.clean(wf.data)),
            "correlations": wf.correlations,
            "last_task": str(wf.last_task.id) if wf.last_task is not None else None,
            "success": wf.success,
            "completed": wf.completed,
            "tasks": converter.mapping_to_dict(wf.tasks),
            "root": str(wf.task_tree.id),
            "subprocesses": converter.mapping_to_dict(wf.subprocesses),
            "bpmn_events": _REGISTRY.convert(wf.bpmn_events),
        }
        return {"serializer_version": SERIALIZER_VERSION, "workflow": _tasks_as_lists(dct)}

    def _task(self, task_id: str) -> Any:
        try:
            task = self.wf.get_task_from_id(str(task_id))
        except (ValueError, KeyError, SpiffWorkflowException):
            task = None
        if task is None:
            raise NotFound(f"task {task_id} does not exist in this case")
        return task


@contextmanager
def _as_workflow_error(bpmn_id: str | None) -> Iterator[None]:
    try:
        yield
    except (Conflict, NotFound):
        raise
    except SpiffWorkflowException as exc:
        element = getattr(getattr(exc, "task_spec", None), "bpmn_id", None) or getattr(exc, "id", None) or bpmn_id
        raise WorkflowError(f"the procedure could not continue at {element}: {exc}") from exc
    except Exception as exc:  # scripts are user-written: any failure is a workflow error
        raise WorkflowError(f"the procedure could not continue at {bpmn_id}: {exc}") from exc


def _properties(task_spec: Any) -> dict[str, str]:
    return dict((getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {})


def _task_view(task: Any) -> TaskView:
    spec = task.task_spec
    return TaskView(
        id=str(task.id),
        bpmn_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane,
        state=TASK_STATE_NAMES.get(task.state, "future"),
        properties=_properties(spec),
        data=task.data,
        documentation=getattr(spec, "documentation", None),
    )


def _is_timer(task_spec: Any) -> bool:
    return isinstance(getattr(task_spec, "event_definition", None), TimerEventDefinition)


def _timer_view(task: Any, now: datetime) -> TimerView | None:
    spec = task.task_spec
    if not _is_timer(spec):
        return None
    value = task.internal_data.get("event_value")
    props = _properties(spec)
    if task.state == TaskState.WAITING:
        due = _parse_due(value)
        status = "overdue" if due is not None and due <= now else "pending"
    elif task.state == TaskState.COMPLETED:
        due = _parse_due(value)
        # a warning is a reminder, not a limit: firing it breaches nothing
        late = not _interrupting(spec) and props.get("kind", "deadline") != "warning"
        status = _after_firing(task) if late else "fired"
    elif task.state == TaskState.CANCELLED and value is not None:
        due = _parse_due(value)  # armed, then disarmed because the guarded work finished first
        status = "met"
    else:
        return None
    clock_start = props.get("clock_start")
    started = task.data.get(clock_start) if clock_start else None
    return TimerView(
        id=str(task.id),
        bpmn_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        status=status,
        due_at=due,
        started_at=str(started) if started is not None else None,
        properties=props,
        attached_to=_attached_bpmn_id(task),
        interrupting=_interrupting(spec),
        armed=task.state == TaskState.WAITING,
        clock=dict(task.internal_data.get("zhifa_clock") or {}),
    )


# A stopped (suspended) timer waits for this instant, which never comes; views report no due date.
STOPPED_TIMER_VALUE = "9999-12-31T23:59:59+08:00"


def _parse_due(value: Any) -> datetime | None:
    if isinstance(value, dict):  # cycle timers
        value = value.get("next")
    if not isinstance(value, str) or value == STOPPED_TIMER_VALUE:
        return None
    try:
        parsed = TimerEventDefinition.get_datetime(value)
    except ValueError:
        return None
    return datetime.fromtimestamp(parsed.timestamp(), UTC)


def _interrupting(spec: Any) -> bool:
    return isinstance(spec, BoundaryEvent) and bool(spec.cancel_activity)


def _attached_bpmn_id(task: Any) -> str | None:
    attached = _attached_task(task)
    return attached.task_spec.bpmn_id if attached is not None else None


def _after_firing(task: Any) -> str:
    """A non-interrupting deadline fired: overdue while the guarded work is open, breached after."""
    attached = _attached_task(task)
    if attached is None:
        return "fired"
    return "breached" if attached.state == TaskState.COMPLETED else "overdue"


_SPLITS = ("BoundaryEventSplit", "StartEventSplit")


def _compact(workflow: Any) -> int:
    unfinished = [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not unfinished:
        return 0
    marked: set[Any] = set()
    for task in unfinished:
        while task is not None and task.id not in marked:
            marked.add(task.id)
            task = task.parent
    node, open_splits, finished_parent = workflow.task_tree, [], None
    while True:
        if type(node.task_spec).__name__ in _SPLITS and any(
            not c.has_state(TaskState.FINISHED_MASK) for c in node.children
        ):
            open_splits.append(node)  # its join will look it up as an ancestor
        if not node.has_state(TaskState.FINISHED_MASK):
            # Keep the finished parent of a waiting task: a waiting catch event (an intermediate timer)
            # reads its parent's data when it fires, so it cannot become the root itself.
            node = finished_parent or node
            break
        below = [c for c in node._children if c in marked]
        if len(below) != 1:
            break
        finished_parent, node = node, workflow.tasks[below[0]]
    new_root = open_splits[0] if open_splits else node
    kept_below_fork: list[Any] = []
    if len([c for c in new_root._children if c in marked]) > 1:
        kept_below_fork = _cut_branches(workflow, new_root, marked)  # a fork stays: shorten its branches
    if new_root is workflow.task_tree and not kept_below_fork:
        return 0
    keep: set[Any] = set()
    stack = [new_root.id]
    while stack:
        task_id = stack.pop()
        keep.add(task_id)
        stack.extend(workflow.tasks[task_id]._children)
    before = len(workflow.tasks)
    new_root.data = dict(new_root.data)
    new_root._parent = None
    workflow.tasks = {k: v for k, v in workflow.tasks.items() if k in keep}
    workflow.task_tree = new_root
    if workflow.last_task is not None and workflow.last_task.id not in keep:
        last = workflow.last_task
        workflow.last_task = next((k for k in kept_below_fork if last.is_descendant_of(k) or k.is_descendant_of(last)),
                                  new_root) if kept_below_fork else new_root
    return before - len(workflow.tasks)


def _cut_branches(workflow: Any, fork: Any, marked: set[Any]) -> list[Any]:
    """Below a fork that stays (a branch that runs for ever next to the procedure: the clock-change
    requests), drop each branch's finished chain the same way: keep every open boundary-event split,
    and the parent of every unfinished task (joins read their inputs from the parents). Returns the
    nodes that now hang directly below the fork."""
    kept: list[Any] = []
    for child_id in [c for c in fork._children if c in marked]:
        node, previous, open_split = workflow.tasks[child_id], None, None
        while True:
            if open_split is None and type(node.task_spec).__name__ in _SPLITS and any(
                not c.has_state(TaskState.FINISHED_MASK) for c in node.children
            ):
                open_split = node
            if not node.has_state(TaskState.FINISHED_MASK):
                break
            below = [c for c in node._children if c in marked]
            if len(below) != 1:
                break
            previous, node = node, workflow.tasks[below[0]]
        keep = open_split or (previous if not node.has_state(TaskState.FINISHED_MASK) and previous else node)
        if keep.id == child_id:
            continue
        keep.data = dict(keep.data)
        fork._children = [keep.id if c == child_id else c for c in fork._children]
        keep._parent = fork.id
        kept.append(keep)
    return kept

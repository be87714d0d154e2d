"""Fixtures for engine tests that run the procedures in `processes/` without a database.

Every scenario runs twice (`roundtrip` False / True): the second time each step goes through
`Instance.dump()` -> JSON text -> `Runtime.restore()`, as a stored case would between requests.
The clock is a `FrozenClock` the tests move; nothing sleeps and nothing reads the real clock.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jinja2.sandbox import SandboxedEnvironment
from jsonschema import Draft202012Validator

from engine import calendar as legal_calendar
from engine.clock import CHINA_TZ, FrozenClock
from engine.documents import rendering
from engine.spiff import (
    Definition,
    Instance,
    Runtime,
    TaskView,
    TimerView,
    load_definition,
)

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
TEMPLATES = ROOT / "templates"

START = datetime(2026, 3, 2, 9, 0, tzinfo=CHINA_TZ)  # a Monday


def script_functions(clock: FrozenClock) -> dict[str, Callable[..., Any]]:
    """The functions BPMN scripts and timer expressions call, as the engine injects them."""
    cal = legal_calendar.load_default_calendar()
    return {
        "deadline": cal.deadline,
        "due_date": lambda start, amount, unit: cal.due(start, amount, unit).date.isoformat(),
        "now": lambda: clock.now().astimezone(CHINA_TZ).isoformat(timespec="seconds"),
        "late_fee": legal_calendar.late_fee,
    }


def library_definition(*paths: Path, **checks: bool) -> Definition:
    """Procedures of processes/ parsed and validated as deployment does, against every form and template."""
    return load_definition(
        {path.name: path.read_bytes() for path in paths},
        known_forms={p.name for p in FORMS.glob("*.json")},
        known_templates={p.name for p in TEMPLATES.glob("*.j2")},
        require_forms=True,
        **checks,
    )


@pytest.fixture(scope="session")
def general_definition() -> Definition:
    """`processes/general_punishment.bpmn` with the hearing it calls (`hearing.bpmn`), parsed and validated as
    deployment would (once per session)."""
    return library_definition(
        PROCESSES / "general_punishment.bpmn", PROCESSES / "hearing.bpmn",
        require_statutory_timers=True, require_paths_to_end=True,
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def runtime(clock: FrozenClock) -> Runtime:
    return Runtime(clock, script_functions(clock))


@pytest.fixture(params=[False, True], ids=["live", "roundtrip"])
def roundtrip(request: pytest.FixtureRequest) -> bool:
    return request.param


class Case:
    """Drives one instance like a user would; checks each form payload and renders each document.

    With `roundtrip`, the instance is compacted, saved to JSON text and restored after every step,
    and timer history is remembered the way the database projection keeps it.
    """

    def __init__(self, runtime: Runtime, definition: Definition, clock: FrozenClock, roundtrip: bool):
        self.runtime = runtime
        self.definition = definition
        self.clock = clock
        self.roundtrip = roundtrip
        self.inst: Instance | None = None
        self.documents: dict[str, str] = {}
        self._timers_seen: dict[str, TimerView] = {}
        self._tasks_seen: dict[str, TaskView] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        self._templates = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
        )

    # -- time ------------------------------------------------------------------------------
    def at(self, when: str) -> None:
        """Move the clock to a +08:00 local time, e.g. "2026-03-05T10:00"."""
        self.clock.set(datetime.fromisoformat(when).replace(tzinfo=CHINA_TZ))

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, data: dict[str, Any]) -> Case:
        self.inst = self.runtime.start(self.definition, data)
        self._cycle()
        return self

    def _cycle(self) -> None:
        if self.roundtrip:
            # As a save does: remember what the projection would, drop finished history, store as JSON
            # whose object keys come back in another order (PostgreSQL's JSONB does not keep key order).
            for view in self.inst.timers():
                self._timers_seen[view.id] = view
            for task in self.inst.user_tasks():
                self._tasks_seen[task.id] = task
            self.inst.compact()
            text = json.dumps(self.inst.dump(), ensure_ascii=False, sort_keys=True)
            self.inst = self.runtime.restore(self.definition, json.loads(text))

    # -- reading ---------------------------------------------------------------------------
    def ready(self) -> list[str]:
        return sorted(t.bpmn_id for t in self.inst.ready_tasks())

    def task(self, bpmn_id: str) -> TaskView:
        found = [t for t in self.inst.ready_tasks() if t.bpmn_id == bpmn_id]
        assert found, f"{bpmn_id} is not ready; ready: {self.ready()}"
        assert len(found) == 1
        return found[0]

    def all_timers(self) -> list[TimerView]:
        """Every timer ever armed, with its latest status (as the timer projection keeps them)."""
        return list({**self._timers_seen, **{v.id: v for v in self.inst.timers()}}.values())

    def all_user_tasks(self) -> list[TaskView]:
        """Every user task that was ready or finished (as the task projection keeps them)."""
        return list({**self._tasks_seen, **{t.id: t for t in self.inst.user_tasks()}}.values())

    def timers(self, bpmn_id: str) -> list[TimerView]:
        return [t for t in self.all_timers() if t.bpmn_id == bpmn_id]

    def timer(self, bpmn_id: str) -> TimerView:
        """The latest armed timer with this id (a loop may arm one several times)."""
        found = self.timers(bpmn_id)
        assert found, f"timer {bpmn_id} was never armed"
        return found[-1]

    @property
    def data(self) -> dict[str, Any]:
        return self.inst.data

    @property
    def completed(self) -> bool:
        return self.inst.completed

    # -- acting ----------------------------------------------------------------------------
    def complete(self, bpmn_id: str, form: dict[str, Any] | None = None) -> TaskView:
        """Complete a ready user task with `form`, which must satisfy the task's JSON Schema."""
        form = form or {}
        task = self.task(bpmn_id)
        self.check_form(task, form)
        self.render_document(task, form)
        done = self.inst.complete_task(task.id, form)
        self._cycle()
        return done

    def fire(self) -> list[str]:
        fired = self.inst.fire_due_timers()
        self._cycle()
        return fired

    # -- forms and documents ---------------------------------------------------------------
    def validator(self, form_file: str) -> Draft202012Validator:
        if form_file not in self._validators:
            schema = json.loads((FORMS / form_file).read_text(encoding="utf-8"))
            self._validators[form_file] = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        return self._validators[form_file]

    def check_form(self, task: TaskView, form: dict[str, Any]) -> None:
        form_file = task.properties["formJsonSchemaFilename"]
        errors = sorted(self.validator(form_file).iter_errors(form), key=lambda e: list(e.path))
        assert not errors, f"{task.bpmn_id}: {[e.message for e in errors]}"

    def form_errors(self, bpmn_id: str, form: dict[str, Any]) -> list[str]:
        task = self.task(bpmn_id)
        return [e.message for e in self.validator(task.properties["formJsonSchemaFilename"]).iter_errors(form)]

    def render_document(self, task: TaskView, form: dict[str, Any]) -> None:
        """As issuing does (engine.documents): the case's own fields (officers, remedy, issued numbers)
        from the base sample, the workflow data, the form, and the document's number."""
        name = task.properties.get("documentTemplate")
        if name:
            base = json.loads((TEMPLATES / "samples" / "_base.json").read_text(encoding="utf-8"))
            document = {"number": f"测〔2026〕{len(self.documents) + 1}号", "verification_code": "TEST", "issued_on": "2026-03-20"}
            context = {**base, **task.data, **form, "document": document}
            source = (TEMPLATES / name).read_text(encoding="utf-8")
            self.documents[task.bpmn_id] = rendering.render_html(name, source, context).html


@pytest.fixture
def make_case(
    runtime: Runtime, general_definition: Definition, clock: FrozenClock, roundtrip: bool
) -> Callable[[], Case]:
    return lambda: Case(runtime, general_definition, clock, roundtrip)

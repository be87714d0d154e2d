"""A timer's due variable (`due_variable`, engine/spiff/due_variables.py) follows the timer when it moves.

The general procedure decides with two dates its timers guard: `statement_due_on` (P7/P8, whether the
statement or hearing request came in time: evaluate_statement) and `payment_due_at` (P12, from which
day the late fee of APL Art. 72(1) counts: assess_payment). When the engine moves the timer (a holiday
year imported, the case clock suspended, resumed or a period excluded), the variable moves with it
and the later steps decide with the new date.

Expected dates are counted by hand (../shared/legal/time-limits.md section 0; 2026 rest days of section 2):
* P7: 5 working days after Thu 03-05 = 03-06, 03-09..12 -> 03-12; with 03-10 made a rest day -> 03-13.
* P12: 03-17 + 15 days = Wed 04-01; with 04-01 made a rest day -> Thu 04-02.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from engine import calendar as legal_calendar
from engine import case_clock
from engine.clock import CHINA_TZ
from engine.spiff import load_definition
from engine.spiff.due_variables import DueVariableChange
from tests.engine.test_general_procedure import (
    decide_form,
    file_case,
    give_notice,
    investigate_and_review,
    investigate_form,
    iso,
    payment_form,
    serve_form,
    statement_form,
)
from tests.engine.test_parsing import (
    bpmn,
    find,
    linear,
    rejected,
    timer_event,
    user_task,
)

DEFAULT = legal_calendar.load_default_calendar()


def calendar_with_rest_day(day: date) -> legal_calendar.LegalCalendar:
    """The packaged calendar with one more rest day, as an imported notice would make it."""
    years = {y: dict(DEFAULT.year_entry(y)) for y in DEFAULT.data_years}
    entry = years[day.year]
    entry["days"] = [*entry["days"], {"name": "测试", "date": day.isoformat(), "isOffDay": True}]
    return legal_calendar.LegalCalendar(years.values(), **DEFAULT.options())


def move_as_the_calendar_does(case: Any, bpmn_id: str, cal: legal_calendar.LegalCalendar) -> DueVariableChange | None:
    """What `calendar_admin.reschedule_open_timers` does to one armed timer: recount it, move it."""
    view = next(v for v in case.inst.timers() if v.bpmn_id == bpmn_id and v.armed)
    amount, unit = view.properties["limit"].split()
    due = case_clock.timer_due(cal, view.started_at, int(amount), unit, view.clock)
    change = case.inst.reschedule_timer(view.id, due.at.isoformat())
    case._cycle()
    return change


def to_statement(case: Any) -> Any:
    file_case(case)
    investigate_and_review(case, investigate_form("punish", fine=50000))
    give_notice(case)  # served Thu 03-05 10:00
    return case


def test_the_statement_period_moved_by_a_holiday_import_decides_in_time(make_case):
    case = to_statement(make_case())
    assert case.task("record_statement").data["statement_due_on"] == "2026-03-12"

    case.at("2026-03-09T09:00")
    change = move_as_the_calendar_does(case, "timer_p7_statement", calendar_with_rest_day(date(2026, 3, 10)))
    assert change == DueVariableChange("statement_due_on", "date", "2026-03-12", "2026-03-13")
    assert case.task("record_statement").data["statement_due_on"] == "2026-03-13"

    case.at("2026-03-13T10:00")  # after the old due, before the new one: the timer has not fired
    assert case.fire() == []
    case.complete("record_statement", statement_form("hearing_request", "2026-03-13"))
    assert "2026年3月13日" in case.documents["record_statement"], "the statement record names the moved due"
    data = case.task("decide").data
    assert (data["statement_in_time"], data["statement_waived"]) == (True, False)


def test_a_statement_after_the_moved_due_is_still_late(make_case):
    case = to_statement(make_case())
    case.at("2026-03-09T09:00")
    move_as_the_calendar_does(case, "timer_p7_statement", calendar_with_rest_day(date(2026, 3, 10)))
    case.at("2026-03-13T10:00")
    case.complete("record_statement", statement_form("statement", "2026-03-14"))  # recorded late, dated after
    assert case.task("decide").data["statement_in_time"] is False


def to_payment(case: Any, served: str = "2026-03-17T10:00") -> Any:
    to_statement(case)
    case.at("2026-03-09T10:00")
    case.complete("record_statement", statement_form("statement", "2026-03-09"))
    case.at("2026-03-16T10:00")
    case.complete("decide", decide_form("punish", iso("2026-03-16T10:00"), 50000, ("warning", "fine")))
    case.complete("serve_decision", serve_form(iso(served)))
    return case


def test_the_late_fee_counts_from_the_moved_payment_due(make_case):
    case = to_payment(make_case())
    assert case.task("record_payment").data["payment_due_at"] == "2026-04-01T23:59:59+08:00"
    case.at("2026-03-30T09:00")
    change = move_as_the_calendar_does(case, "timer_p12_payment", calendar_with_rest_day(date(2026, 4, 1)))
    assert change == DueVariableChange("payment_due_at", "instant", "2026-04-01T23:59:59+08:00",
                                       "2026-04-02T23:59:59+08:00")

    case.at("2026-04-03T10:00")
    # one day late (04-03 after 04-02): 3% of 50,000 = 1,500; against the old due it would be two days, 3,000
    case.complete("record_payment", payment_form(iso("2026-04-03T10:00"), 50000, 1500))
    data = case.task("close_case").data
    assert (data["late_fee_amount"], data["payment_complete"]) == ("1500.00", True)


def test_a_timer_overdue_when_armed_still_hands_its_due_on(make_case):
    """Decision served long before it is recorded: P12 is armed and fires in the same step."""
    case = to_payment(make_case(), served="2026-03-17T10:00")
    case.at("2026-04-05T10:00")
    assert case.fire() == ["timer_p12_payment"]
    assert case.task("record_payment").data["payment_due_at"] == "2026-04-01T23:59:59+08:00"
    case.complete("record_payment", payment_form(iso("2026-04-05T10:00"), 50000, 6000))  # 4 days late
    assert case.task("close_case").data["late_fee_amount"] == "6000.00"


# -- the case clock: suspension, resumption, exclusion ------------------------------------------
# A small procedure whose time limit the clock may change, with a decision on each path that reads the
# due variable: the normal path (judge) from the guarded task, the timer's path (lapse) from the timer.
ANSWER_TIMER = timer_event(
    "timer_answer", 'deadline(asked_at, 10, "working_days")', attached_to="answer", cancel=True,
    legal_basis="测试依据", limit="10 working_days", kind="deadline", clock_start="asked_at",
    clock_changes="exclude suspend", exclusions="testing", exclusion_basis="测试依据（检测期间不计入）",
    due_variable="answer_due_on", due_variable_format="date",
)
ANSWER_BODY = (
    '<bpmn:startEvent id="start"/>' + user_task("answer", form=None)
    + '<bpmn:scriptTask id="judge" scriptFormat="python"><bpmn:script>'
      "in_time = answer_due_on is None or answered_on &lt;= answer_due_on</bpmn:script></bpmn:scriptTask>"
    + '<bpmn:scriptTask id="lapse" scriptFormat="python"><bpmn:script>lapsed_on = answer_due_on</bpmn:script>'
      "</bpmn:scriptTask>"
    + ANSWER_TIMER + '<bpmn:endEvent id="end"/><bpmn:endEvent id="end_lapsed"/>'
    + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="answer"/>'
    + '<bpmn:sequenceFlow id="f2" sourceRef="answer" targetRef="judge"/>'
    + '<bpmn:sequenceFlow id="f3" sourceRef="judge" targetRef="end"/>'
    + '<bpmn:sequenceFlow id="f4" sourceRef="timer_answer" targetRef="lapse"/>'
    + '<bpmn:sequenceFlow id="f5" sourceRef="lapse" targetRef="end_lapsed"/>'
)


class Answer:
    """The small procedure, driven with the clock changes `engine.clock_changes` applies."""

    def __init__(self, runtime: Any, clock: Any, roundtrip: bool):
        from tests.engine.conftest import Case

        definition = load_definition({"answer.bpmn": bpmn(ANSWER_BODY)})
        self.case = Case(runtime, definition, clock, roundtrip)
        self.case.start({"asked_at": "2026-03-02T09:00:00+08:00"})  # Monday

    def answer(self, when: str, answered_on: str) -> None:
        self.case.at(when)
        self.case.inst.complete_task(self.case.task("answer").id, {"answered_on": answered_on})  # no form here
        self.case._cycle()

    def due_on(self) -> Any:
        return self.case.task("answer").data["answer_due_on"]

    def change(self, today: str, **request: Any) -> case_clock.Applied:
        self.case.at(f"{today}T09:00")
        applied = case_clock.apply_approved(DEFAULT, self.case.inst, {"reason": "测试。", **request},
                                            {"approval_date": today}, date.fromisoformat(today))
        self.case._cycle()
        return applied


@pytest.fixture
def answer(runtime, clock, roundtrip) -> Answer:
    return Answer(runtime, clock, roundtrip)


def test_suspension_empties_the_due_variable_and_resumption_moves_it(answer):
    # 10 working days after Mon 03-02: 03-03..06 (4), 03-09..13 (9), 03-16 (10)
    assert answer.due_on() == "2026-03-16"
    suspended = answer.change("2026-03-05", kind="suspend", on="2026-03-05")
    assert answer.due_on() is None, "a stopped clock has no due date"
    assert suspended.due_variable == {"name": "answer_due_on", "format": "date", "before": "2026-03-16", "after": None}

    # suspended 03-05..03-10: the working days after 03-05 up to 03-10 (03-06, 03-09, 03-10) do not count
    resumed = answer.change("2026-03-10", kind="resume", on="2026-03-10")
    assert answer.due_on() == "2026-03-19"
    assert resumed.due_variable == {"name": "answer_due_on", "format": "date", "before": None, "after": "2026-03-19"}

    answer.answer("2026-03-18T10:00", "2026-03-18")
    assert answer.case.completed and answer.case.data["in_time"] is True, "in time against the resumed clock"


def test_an_answer_while_the_clock_is_stopped_is_in_time(answer):
    answer.change("2026-03-05", kind="suspend", on="2026-03-05")
    answer.case.at("2026-03-20T10:00")  # after the first due: a stopped timer does not fire
    assert answer.case.fire() == []
    answer.answer("2026-03-20T10:00", "2026-03-20")
    assert answer.case.data["in_time"] is True


def test_an_excluded_period_moves_the_due_the_timer_path_reads(answer):
    # testing 03-03..03-04: one working day (03-04) taken out -> 03-17
    excluded = answer.change("2026-03-05", kind="exclude", ground="testing", **{"from": "2026-03-03", "to": "2026-03-04"})
    assert answer.due_on() == "2026-03-17" and excluded.due_variable["after"] == "2026-03-17"
    answer.case.at("2026-03-17T23:00")
    assert answer.case.fire() == []
    answer.case.at("2026-03-18T00:00:01")
    assert answer.case.fire() == ["timer_answer"]
    assert answer.case.completed and answer.case.data["lapsed_on"] == "2026-03-17"


def test_an_unchanged_due_reports_no_change(answer):
    view = next(v for v in answer.case.inst.timers() if v.armed)
    assert answer.case.inst.reschedule_timer(view.id, view.due_at.astimezone(CHINA_TZ).isoformat()) is None


def test_a_timer_without_a_due_variable_reports_none(make_case):
    case = file_case(make_case())
    view = next(v for v in case.inst.timers() if v.bpmn_id == "timer_p5_handling")
    assert case.inst.reschedule_timer(view.id, datetime(2026, 6, 2, 23, 59, 59, tzinfo=CHINA_TZ).isoformat()) is None


# -- deployment ---------------------------------------------------------------------------------
TIMER_PROPS = {"legal_basis": "Art. 1", "limit": "5 working_days", "kind": "deadline", "clock_start": "served_at"}


@pytest.mark.parametrize(
    ("properties", "fragment", "field"),
    [
        pytest.param({"due_variable": "due on", "due_variable_format": "date"}, "variable name", "due_variable",
                     id="not-a-name"),
        pytest.param({"due_variable": "__builtins__", "due_variable_format": "date"}, "variable name", "due_variable",
                     id="dunder"),
        pytest.param({"due_variable": "deadline", "due_variable_format": "date"}, "variable name", "due_variable",
                     id="an-injected-function"),
        pytest.param({"due_variable": "lambda", "due_variable_format": "date"}, "variable name", "due_variable",
                     id="a-keyword"),
        pytest.param({"due_variable": "served_at", "due_variable_format": "date"}, "clock_start", "due_variable",
                     id="the-clock-start"),
        pytest.param({"due_variable": "due_on", "due_variable_format": "datetime"}, "must be one of",
                     "due_variable_format", id="unknown-format"),
        pytest.param({"due_variable": "due_on"}, "must be one of", "due_variable_format", id="no-format"),
        pytest.param({"due_variable_format": "date"}, "without due_variable", "due_variable", id="format-alone"),
    ],
)
def test_a_bad_due_variable_is_refused_naming_the_timer(properties, fragment, field):
    body = linear(user_task("t1")) + timer_event("late", '"2026-03-10T23:59:59+08:00"', attached_to="t1",
                                                 **TIMER_PROPS, **properties)
    problem = find(rejected({"x.bpmn": bpmn(body)}), fragment)
    assert (problem.element_id, problem.field, problem.file) == ("late", field, "x.bpmn")
    assert problem.line is not None


def test_a_cycle_timer_cannot_have_a_due_variable():
    body = linear(user_task("t1")) + timer_event("tick", '"R3/PT1H"', "timeCycle", attached_to="t1",
                                                 due_variable="due_on", due_variable_format="instant")
    problem = find(rejected({"x.bpmn": bpmn(body)}), "cycle timer")
    assert (problem.element_id, problem.field) == ("tick", "due_variable")


def test_a_good_due_variable_deploys():
    body = linear(user_task("t1")) + timer_event("late", '"2026-03-10T23:59:59+08:00"', attached_to="t1",
                                                 **TIMER_PROPS, due_variable="due_on", due_variable_format="instant")
    assert load_definition({"x.bpmn": bpmn(body)}).has_due_variables


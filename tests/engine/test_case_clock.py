"""The case clock in general_punishment.bpmn: suspension and resumption, excluded periods, extensions.

An officer's request is the BPMN message `clock_change`; the agency head's approval task
`approve_clock_change` follows; an approved change moves the timer in the workflow state. Due dates
below are counted by hand from time-limits.md (section 0; 2026 holidays of section 2), as in
test_general_procedure.py. Each scenario also runs through the save/restore round trip.
"""
from __future__ import annotations

from datetime import date

import pytest

from engine import calendar as legal_calendar
from engine.case_clock import (
    MESSAGE,
    apply_approved,
    check_approval,
    check_request,
    timer_due,
)
from engine.clock import CHINA_TZ
from engine.errors import InvalidInput
from tests.engine.test_general_procedure import (
    case_data,
    close_and_archive,
    decide_form,
    due_day,
    file_case,
    give_notice,
    investigate_and_review,
    investigate_form,
    iso,
    payment_form,
    serve_form,
    statement_form,
)

CAL = legal_calendar.load_default_calendar()


def today(case) -> date:
    return case.clock.now().astimezone(CHINA_TZ).date()


def ask(case, **request) -> dict:
    """What `clock_changes.request_change` does, without the database: check, then send the message."""
    checked = check_request(CAL, case.inst, request, today(case))
    case.inst.send_message(MESSAGE, checked)
    case._cycle()
    assert "approve_clock_change" in case.ready()
    return checked


def approve(case, decision: str = "approve", **extra) -> None:
    """The head completes the approval; `clock_changes.after_completion` applies it."""
    form = {"clock_decision": decision, "clock_opinion": "同意。", "approval_date": today(case).isoformat(), **extra}
    task = case.task("approve_clock_change")
    case.check_form(task, form)
    done = case.inst.complete_task(task.id, form)
    if check_approval(done.data["clock_request"], done.data):
        apply_approved(CAL, case.inst, done.data["clock_request"], done.data, today(case))
    case._cycle()


def test_filing_limit_extended_once_by_15_working_days(make_case):
    case = make_case().start(case_data())
    assert due_day(case.timer("timer_p2_filing")) == "2026-03-23"
    case.at("2026-03-20T10:00")
    ask(case, kind="extend", amount=15, reason="案情复杂，需进一步核查。")
    assert due_day(case.timer("timer_p2_filing")) == "2026-03-23", "nothing moves before the head approves"
    approve(case)
    p2 = case.timer("timer_p2_filing")
    # 30 working days after Mon 03-02: ... 03-23 (15), 03-30..04-03 (24), [04-04..06 清明], 04-07..10 (28), 04-14 (30)
    assert due_day(p2) == "2026-04-14"
    assert p2.clock["extended"] == 15 and p2.clock["extensions"][0]["unit"] == "working_days"
    case.at("2026-03-24T00:00")
    assert case.fire() == [], "the old due date has no force any more"
    with pytest.raises(InvalidInput) as refused:
        check_request(CAL, case.inst, {"kind": "extend", "amount": 1, "reason": "再延长"}, today(case))
    assert refused.value.problems[0].field == "amount" and "第十八条" in refused.value.detail
    assert case.ready() == ["verify_clue"]


def test_testing_time_is_not_counted_in_the_filing_limit(make_case):
    case = make_case().start(case_data())
    case.at("2026-03-12T10:00")
    ask(case, kind="exclude", ground="testing", **{"from": "2026-03-05", "to": "2026-03-10"}, reason="样品送检。")
    approve(case)
    # working days 03-06, 03-09, 03-10 are not counted: 18 working days after 03-02 -> 03-26
    assert due_day(case.timer("timer_p2_filing")) == "2026-03-26"


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({"kind": "suspend", "reason": "x"}, "kind"),
        ({"kind": "exclude", "ground": "hearing", "from": "2026-03-03", "to": "2026-03-04", "reason": "x"}, "ground"),
        ({"kind": "exclude", "ground": "testing", "from": "2026-03-03", "to": "2026-03-09", "reason": "x"}, "to"),
        ({"kind": "exclude", "ground": "testing", "from": "2026-03-01", "to": "2026-03-04", "reason": "x"}, "from"),
        ({"kind": "exclude", "ground": "testing", "from": "2026-03-04", "to": "2026-03-03", "reason": "x"}, "to"),
        ({"kind": "exclude", "ground": "testing", "from": "3/4", "to": "2026-03-04", "reason": "x"}, "from"),
        ({"kind": "extend", "amount": 16, "reason": "x"}, "amount"),
        ({"kind": "extend", "amount": 0, "reason": "x"}, "amount"),
        ({"kind": "extend", "amount": 5, "collective_discussion": True, "reason": "x"}, "collective_discussion"),
        ({"kind": "extend", "amount": 5, "reason": " "}, "reason"),
        ({"kind": "postpone", "reason": "x"}, "kind"),
        ({"kind": "extend", "amount": 5, "reason": "x", "timer": "timer_p5_handling"}, "timer"),
    ],
)
def test_what_the_law_does_not_allow_on_the_filing_limit_is_refused(make_case, request_, field):
    case = make_case().start(case_data())
    case.at("2026-03-05T10:00")
    with pytest.raises(InvalidInput) as refused:
        check_request(CAL, case.inst, request_, today(case))
    assert refused.value.problems[0].field == field


def test_suspension_stops_the_handling_limit_until_the_case_resumes(make_case):
    case = file_case(make_case())
    assert due_day(case.timer("timer_p5_handling")) == "2026-06-01"
    case.at("2026-03-10T10:00")
    ask(case, kind="suspend", reason="当事人下落不明，中止调查。")
    approve(case)
    p5 = case.timer("timer_p5_handling")
    assert p5.due_at is None and p5.armed and p5.status == "pending"
    assert p5.clock["suspended_since"] == "2026-03-10"
    case.at("2026-06-05T10:00")
    assert case.fire() == [], "a suspended clock does not run out"
    with pytest.raises(InvalidInput) as twice:
        check_request(CAL, case.inst, {"kind": "suspend", "reason": "x"}, today(case))
    assert twice.value.problems[0].field == "kind"
    ask(case, kind="resume", on="2026-06-05", reason="已找到当事人，恢复调查。")
    approve(case)
    # 03-10..06-05 (87 days) not counted: 177 days after 03-02 = Wednesday 2026-08-26
    p5 = case.timer("timer_p5_handling")
    assert due_day(p5) == "2026-08-26"
    assert p5.clock["stops"] == [{"kind": "suspension", "from": "2026-03-10", "to": "2026-06-05",
                                  "approved_on": "2026-06-05"}]
    assert case.ready() == ["investigate"]


def test_handling_limit_extended_by_the_head_then_by_collective_discussion(make_case):
    case = file_case(make_case())
    case.at("2026-05-25T10:00")
    ask(case, kind="extend", amount=30, reason="案情复杂。")
    approve(case)
    # 120 days after 03-02 = Tuesday 06-30
    assert due_day(case.timer("timer_p5_handling")) == "2026-06-30"
    with pytest.raises(InvalidInput) as beyond:
        check_request(CAL, case.inst, {"kind": "extend", "amount": 10, "reason": "x"}, today(case))
    assert beyond.value.problems[0].field == "amount" and "collective" in beyond.value.detail
    assert "第六十四条" in beyond.value.detail

    ask(case, kind="extend", amount=10, collective_discussion=True, reason="仍需鉴定。")
    with pytest.raises(InvalidInput) as unrecorded:
        approve(case)
    assert unrecorded.value.problems[0].field == "collective_discussion_on"


def test_a_further_extension_with_the_record_of_the_collective_discussion(make_case):
    case = file_case(make_case())
    case.at("2026-05-25T10:00")
    ask(case, kind="extend", amount=30, reason="案情复杂。")
    approve(case)
    ask(case, kind="extend", amount=10, collective_discussion=True, reason="仍需鉴定。")
    approve(case, collective_discussion_on="2026-05-25", collective_participants="王局长、赵副局长",
            collective_conclusion="继续延长十日。")
    # 130 days after 03-02 = Friday 07-10
    p5 = case.timer("timer_p5_handling")
    assert due_day(p5) == "2026-07-10"
    assert [e["collective_discussion"] for e in p5.clock["extensions"]] == [False, True]


def test_hearing_time_is_excluded_from_the_handling_limit_and_a_refusal_changes_nothing(make_case):
    case = file_case(make_case())
    case.at("2026-03-26T10:00")
    ask(case, kind="exclude", ground="hearing", **{"from": "2026-03-18", "to": "2026-03-25"}, reason="听证。")
    approve(case, "refuse")
    assert due_day(case.timer("timer_p5_handling")) == "2026-06-01"
    assert case.timer("timer_p5_handling").clock == {}
    ask(case, kind="exclude", ground="hearing", **{"from": "2026-03-18", "to": "2026-03-25"}, reason="听证。")
    approve(case)
    # 97 days after 03-02 = Sunday 06-07 -> Monday 06-08
    assert due_day(case.timer("timer_p5_handling")) == "2026-06-08"
    with pytest.raises(InvalidInput) as overlap:
        check_request(CAL, case.inst, {"kind": "exclude", "ground": "appraisal", "from": "2026-03-20",
                                       "to": "2026-03-22", "reason": "x"}, today(case))
    assert overlap.value.problems[0].field == "from"


def test_clock_changes_and_the_procedure_still_reach_the_end(make_case):
    case = file_case(make_case())
    case.at("2026-03-10T10:00")
    ask(case, kind="suspend", reason="中止。")
    assert "investigate" in case.ready(), "the case goes on while the head decides"
    approve(case)
    case.at("2026-03-12T10:00")
    ask(case, kind="resume", reason="恢复。")
    approve(case)
    # 03-10..03-12: 2 days not counted, 92 days after 03-02 = Tuesday 06-02
    assert due_day(case.timer("timer_p5_handling")) == "2026-06-02"
    investigate_and_review(case, investigate_form("no_punish"), "2026-03-13T10:00", "2026-03-16T10:00")
    case.complete("decide", decide_form("no_punish", iso("2026-03-16T10:00")))
    assert case.timer("timer_p5_handling").status == "met"
    case.at("2026-03-17T10:00")
    case.complete("serve_decision", serve_form(iso("2026-03-17T10:00")))
    close_and_archive(case, "not_punished", "2026-03-18T10:00")
    assert case.data["outcome"] != "not_filed"


def test_timer_due_matches_the_plain_calendar_without_changes():
    assert timer_due(CAL, "2026-03-02T15:00:00+08:00", 90, "calendar_days", {}) == CAL.due("2026-03-02", 90, "calendar_days")
    clock = {"extended": 0, "stops": [{"kind": "testing", "from": "2026-03-05", "to": "2026-03-10"}]}
    assert timer_due(CAL, "2026-03-02", 1, "months", clock).date == date(2026, 4, 7)  # 04-02 + 5 days


def test_the_request_branch_does_not_keep_the_history_alive(make_case):
    """The clock-change branch runs beside the whole procedure; compaction still drops finished history
    below the fork (state size and step cost must not grow with the case's history)."""
    case = file_case(make_case())
    investigate_and_review(case, investigate_form("punish", fine=50000))
    give_notice(case)
    case.at("2026-03-09T10:00")
    case.complete("record_statement", statement_form("statement", "2026-03-09"))
    for day in ("2026-03-10", "2026-03-11"):
        case.at(f"{day}T10:00")
        ask(case, kind="exclude", ground="testing", **{"from": day, "to": day}, reason="检测。")
        approve(case)
    case.at("2026-03-16T10:00")
    case.complete("decide", decide_form("punish", iso("2026-03-16T10:00"), 50000, ("fine",)))
    case.at("2026-03-17T10:00")
    case.complete("serve_decision", serve_form(iso("2026-03-17T10:00")))
    for _ in range(10):
        case.complete("record_payment", payment_form(iso("2026-03-30T10:00"), 100))
    case.inst.compact()
    assert len(case.inst.wf.tasks) < 30, "finished history below the fork was kept"
    assert case.ready() == ["record_payment"]
    case.complete("record_payment", payment_form(iso("2026-03-30T10:00"), 50000))
    close_and_archive(case, "executed", "2026-04-02T10:00")

"""行政机关强制执行 (processes/agency_enforcement.bpmn): reminder, statement and defence, the 30 days of
additional fine (C7), the enforcement decision, substitute performance after 3 working days (C8), the
enforcement agreement, suspension and termination (C9). Live and through save/restore round trips.

Dates by hand (time-limits.md 1G worked timeline and §2 for 2026): payment due 2026-03-17 → "more than
30 days" of additional fine first met 2026-04-17; substitute-performance decision served Monday
2026-04-20 → 3 working days end Thursday 2026-04-23; suspension 2026-04-20 → 3 years: 2029-04-20.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from engine import task_rules
from engine.clock import CHINA_TZ
from engine.errors import InvalidInput
from engine.spiff import Definition
from tests.engine.conftest import PROCESSES, Case, library_definition

PROCESS_FILE = PROCESSES / "agency_enforcement.bpmn"
ORGANIZATION = {"type": "organization", "name": "广州某某贸易有限公司", "credit_code": "91440101MA59XXXX1X"}


@pytest.fixture(scope="module")
def agency_definition() -> Definition:
    return library_definition(PROCESS_FILE)


@pytest.fixture
def make(runtime, agency_definition, clock, roundtrip) -> Callable[[], Case]:
    def start() -> Case:
        case = Case(runtime, agency_definition, clock, roundtrip)
        case.at("2026-03-20T09:00")
        return case.start({
            "case_id": 6, "case_number": "穗天市监执〔2026〕6号", "agency_name": "广州市天河区市场监督管理局",
            "clue_received_at": "2026-03-20T09:00:00+08:00", "opened_at": "2026-03-20T09:00:00+08:00",
            "party": ORGANIZATION, "matter": {"code": "440299002001", "name": "行政机关强制执行", "legal_basis": "《中华人民共和国行政强制法》第三十四条",
                                              "category": "coercion"},
            "officer_ids": [1, 2],
        })
    return start


def obligation(kind: str = "money") -> dict:
    form = {"decision_document_number": "穗天市监罚〔2026〕1号", "decision_served_at": "2026-03-02T10:00:00+08:00",
            "obligation_kind": kind, "obligation": "缴纳罚款人民币20000元" if kind == "money" else "拆除违法设置的户外广告牌",
            "amount": 20000 if kind == "money" else 0, "late_fee_applies": kind == "money"}
    if kind == "money":
        form.update(payment_due_on="2026-03-17", late_fee_rate_notified=True)
    return form


REMINDER = {"reminder_number": "穗天市监催〔2026〕6号", "reminder_served_at": "2026-03-20T10:00:00+08:00", "performance_deadline": "2026-03-30",
            "performance_manner": "缴纳罚款及加处罚款", "amount_to_pay": 20000, "payment_method": "到指定银行缴纳", "statement_right_told": True}


def response(kind: str, **extra) -> dict:
    form = {"response": kind, "statement_given": False, "response_note": "核查情况。"}
    if kind == "statement_accepted":
        form.update(statement_given=True, statement_summary="当事人称已申请暂缓缴纳并获批准。", statement_review="经核实属实。")
    if kind == "moving_assets":
        form["asset_evidence"] = "银行流水显示当事人正在转出账户资金。"
    form.update(extra)
    return form


def decision(manner: str = "transfer_deposits") -> dict:
    return {"enforcement_decision_number": "穗天市监强执〔2026〕6号", "decided_at": "2026-04-17T10:00:00+08:00",
            "enforcement_reasons": "当事人经催告逾期仍不履行。", "enforcement_manner": manner,
            "execution_planned_at": "2026-04-20T10:00:00+08:00", "emergency": False}


def execution(status: str = "executed", at: str = "2026-04-20T10:00:00+08:00") -> dict:
    form = {"execution_status": status, "execution_recorded_at": at, "execution_record": "已划拨。"}
    if status != "executed":
        form["suspension_ground"] = "当事人暂无财产可供执行。"
    return form


def due_day(timer) -> str:
    local = timer.due_at.astimezone(CHINA_TZ)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    return local.date().isoformat()


def reminded(case: Case, kind: str = "money") -> Case:
    case.complete("record_obligation", obligation(kind))
    case.at("2026-03-20T10:00")
    case.complete("serve_agency_reminder", REMINDER)
    assert "催告书" in case.documents["serve_agency_reminder"] and "2026年3月30日前" in case.documents["serve_agency_reminder"]
    return case


def test_money_obligation_waits_for_30_days_of_additional_fine(make) -> None:
    case = reminded(make())
    case.at("2026-03-31T10:00")
    case.complete("record_response", response("not_performed"))
    assert case.ready() == []
    assert due_day(case.timer("wait_c7_additional_fine")) == "2026-04-16"
    case.at("2026-04-17T00:00:01")
    assert case.fire() == ["wait_c7_additional_fine"]
    case.at("2026-04-17T10:00")
    case.complete("enforcement_decision", decision())
    assert "行政强制执行决定书" in case.documents["enforcement_decision"] and "划拨存款" in case.documents["enforcement_decision"]
    case.at("2026-04-20T10:00")
    case.complete("execute_enforcement", execution())
    assert case.completed and case.data["outcome"] == "executed"


def test_enforcement_only_after_the_reminder_period(make) -> None:
    case = reminded(make())
    task = case.task("record_response")
    on_the_last_day = datetime(2026, 3, 30, 18, 0, tzinfo=CHINA_TZ)
    with pytest.raises(InvalidInput) as err:
        task_rules.check(task.properties, task.data, response("not_performed"), on_the_last_day, task.bpmn_id)
    (problem,) = err.value.problems
    assert problem.field == "response" and "行政强制法第三十七条" in problem.message
    # Moving assets allows an immediate decision (ACL Art. 37), and performing is always possible.
    task_rules.check(task.properties, task.data, response("moving_assets"), on_the_last_day, task.bpmn_id)
    task_rules.check(task.properties, task.data, response("not_performed"), datetime(2026, 3, 31, tzinfo=CHINA_TZ), task.bpmn_id)


def test_moving_assets_means_an_immediate_decision(make) -> None:
    case = reminded(make())
    case.at("2026-03-25T10:00")
    case.complete("record_response", response("moving_assets"))
    assert case.ready() == ["enforcement_decision"]  # no wait for the 30 days of additional fine
    case.complete("enforcement_decision", {**decision(), "decided_at": "2026-03-25T10:00:00+08:00"})
    assert "转移或者隐匿财物" in case.documents["enforcement_decision"]


@pytest.mark.parametrize(("kind", "outcome"), [("performed", "performed"), ("statement_accepted", "not_enforced")])
def test_performed_or_defence_accepted(make, kind, outcome) -> None:
    case = reminded(make())
    case.complete("record_response", response(kind))
    assert case.completed and case.data["outcome"] == outcome


def test_enforcement_agreement_kept(make) -> None:
    case = reminded(make())
    case.complete("record_response", response("agreement"))
    case.complete("approve_agreement", {"agreement_approved": True, "agreement_terms": "分两期缴纳。", "late_fee_reduced": True,
                                        "remedial_measures": "已整改并消除影响。", "agreement_due": "2026-05-30"})
    case.complete("record_agreement_performance", {"agreement_performed": True, "agreement_note": "已按期缴清。"})
    assert case.completed and case.data["outcome"] == "performed_by_agreement"


def test_enforcement_agreement_broken_resumes_enforcement(make) -> None:
    case = reminded(make(), "act")
    case.complete("record_response", response("agreement"))
    case.complete("approve_agreement", {"agreement_approved": True, "agreement_terms": "十日内自行拆除。", "late_fee_reduced": False,
                                        "agreement_due": "2026-04-10"})
    case.complete("record_agreement_performance", {"agreement_performed": False, "agreement_note": "逾期未拆除。"})
    assert case.ready() == ["enforcement_decision"]


def test_agreement_refused_goes_to_enforcement(make) -> None:
    case = reminded(make(), "act")
    case.complete("record_response", response("agreement"))
    case.complete("approve_agreement", {"agreement_approved": False, "agreement_terms": "当事人提出的协议损害公共利益。", "late_fee_reduced": False})
    assert case.ready() == ["enforcement_decision"]


@pytest.mark.parametrize(("performed", "outcome"), [(False, "substituted"), (True, "performed")])
def test_substitute_performance_after_three_working_days(make, performed, outcome) -> None:
    case = reminded(make(), "act")
    case.at("2026-03-31T10:00")
    case.complete("record_response", response("not_performed"))
    case.at("2026-04-17T10:00")
    case.complete("enforcement_decision", decision("substitute"))
    case.at("2026-04-20T10:00")
    case.complete("serve_substitute_notice", {"substitute_decision_number": "穗天市监代〔2026〕1号",
                                              "substitute_notice_served_at": "2026-04-20T10:00:00+08:00", "substitute_performer": "某拆除公司",
                                              "substitute_object": "户外广告牌一块", "estimated_cost": 3000})
    assert "代履行决定书" in case.documents["serve_substitute_notice"]
    assert due_day(case.timer("wait_c8_substitute")) == "2026-04-23"
    case.at("2026-04-23T20:00")
    assert case.fire() == [] and case.ready() == []
    case.at("2026-04-24T08:00")
    assert case.fire() == ["wait_c8_substitute"]
    form = {"party_performed_meanwhile": performed, "substituted_at": "2026-04-24T08:00:00+08:00", "substitute_record": "略。"}
    if not performed:
        form.update(supervising_officer="张明", actual_cost=2800, signed_by=["张明", "某拆除公司王某"])
    case.complete("perform_substitute", form)
    assert case.completed and case.data["outcome"] == outcome


def test_suspension_resumed_then_terminated_after_three_years(make) -> None:
    case = reminded(make(), "act")
    case.at("2026-03-31T10:00")
    case.complete("record_response", response("not_performed"))
    case.at("2026-04-17T10:00")
    case.complete("enforcement_decision", decision("other"))
    case.at("2026-04-20T10:00")
    case.complete("execute_enforcement", execution("suspended"))
    assert due_day(case.timer("timer_c9_suspension")) == "2029-04-20"
    case.complete("resume_or_terminate", {"resumption": "resume", "resumption_reason": "中止情形消失。"})
    case.complete("execute_enforcement", execution("suspended", "2026-04-20T11:00:00+08:00"))
    case.at("2029-04-21T09:00")
    assert case.fire() == ["timer_c9_suspension"]
    case.complete("resume_or_terminate", {"resumption": "terminate", "resumption_reason": "中止执行满三年，当事人确无能力履行。"})
    assert case.completed and case.data["outcome"] == "terminated"


def test_terminated_directly(make) -> None:
    case = reminded(make(), "act")
    case.at("2026-03-31T10:00")
    case.complete("record_response", response("not_performed"))
    case.complete("enforcement_decision", {**decision("other"), "decided_at": "2026-03-31T10:00:00+08:00"})
    case.complete("execute_enforcement", execution("terminated", "2026-03-31T10:00:00+08:00"))
    assert case.data["outcome"] == "terminated"


def test_forms_mirror_the_law(make) -> None:
    case = make()
    assert case.form_errors("record_obligation", {**obligation(), "late_fee_rate_notified": False})  # ACL Art. 45
    form = obligation()
    del form["payment_due_on"]
    assert case.form_errors("record_obligation", form)
    case = reminded(case)
    assert case.form_errors("record_response", response("moving_assets", asset_evidence=""))


# When enforcement may be carried out (ACL Art. 43): (planned, emergency, allowed). Also run through the API.
EXECUTION_TIMES = [
    ("2026-04-20T10:00:00+08:00", False, True),   # a Monday morning
    ("2026-04-18T10:00:00+08:00", False, False),  # a Saturday
    ("2026-05-01T10:00:00+08:00", False, False),  # 劳动节
    ("2026-05-09T10:00:00+08:00", False, True),   # a 调休 working Saturday
    ("2026-04-20T22:30:00+08:00", False, False),  # night
    ("2026-04-21T05:59:00+08:00", False, False),  # night
    ("2026-04-18T23:00:00+08:00", True, True),    # an emergency (ACL Art. 43)
]


@pytest.mark.parametrize(("planned", "emergency", "allowed"), EXECUTION_TIMES)
def test_no_enforcement_at_night_or_on_rest_days(make, planned, emergency, allowed) -> None:
    from engine import calendar as legal_calendar

    case = reminded(make())
    case.complete("record_response", response("moving_assets"))
    task = case.task("enforcement_decision")
    form = {**decision(), "execution_planned_at": planned, "emergency": emergency}
    if emergency:
        form["emergency_reason"] = "当事人正在转移资金。"
    now = datetime(2026, 4, 17, 12, tzinfo=CHINA_TZ)
    cal = legal_calendar.load_default_calendar()
    if allowed:
        task_rules.check(task.properties, task.data, form, now, task.bpmn_id, cal)
        return
    with pytest.raises(InvalidInput) as err:
        task_rules.check(task.properties, task.data, form, now, task.bpmn_id, cal)
    (problem,) = err.value.problems
    assert problem.field == "execution_planned_at" and "行政强制法第四十三条" in problem.message

"""申请人民法院强制执行 (processes/court_enforcement.bpmn): the waiting periods (litigation period, 10
working days after the reminder), the 3-month window (J1), court acceptance (J3), ruling (J4) and the
reviews. Live and through save/restore round trips.

Dates by hand from time-limits.md (worked timeline 1G and the 2026 holiday table): decision served
2026-03-02 → litigation period ends 2026-09-02 → window closes 2026-12-02; reminder served 2026-09-03 →
10 working days end 2026-09-17; application 2026-09-21 → acceptance due 2026-09-29 (中秋 09-25..27 off);
accepted 2026-09-24 → ruling due 2026-10-12 (国庆 10-01..07 off, 10-10 a working Saturday).
"""
from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.clock import CHINA_TZ
from engine.spiff import Definition
from tests.engine.conftest import PROCESSES, Case, library_definition

PROCESS_FILE = PROCESSES / "court_enforcement.bpmn"
ORGANIZATION = {"type": "organization", "name": "广州某某贸易有限公司", "credit_code": "91440101MA59XXXX1X"}


@pytest.fixture(scope="module")
def court_definition() -> Definition:
    return library_definition(PROCESS_FILE)


@pytest.fixture
def make(runtime, court_definition, clock, roundtrip) -> Callable[[], Case]:
    def start() -> Case:
        case = Case(runtime, court_definition, clock, roundtrip)
        case.at("2026-03-05T09:00")
        return case.start({
            "case_id": 5, "case_number": "穗天市监执〔2026〕5号", "agency_name": "广州市天河区市场监督管理局",
            "clue_received_at": "2026-03-05T09:00:00+08:00", "opened_at": "2026-03-05T09:00:00+08:00",
            "party": ORGANIZATION, "matter": {"code": "440299001001", "name": "申请人民法院强制执行",
                                              "legal_basis": "《中华人民共和国行政强制法》第五十三条", "category": "coercion"},
            "officer_ids": [1, 2],
        })
    return start


def basis(deferral: str | None = None) -> dict:
    return {"decision_document_number": "穗天市监罚〔2026〕1号", "decision_served_at": "2026-03-02T10:00:00+08:00",
            "obligation": "缴纳罚款人民币20000元及加处罚款", "amount_due": 40000, "reconsideration_or_suit": False,
            "deferral_until": deferral}


REMINDER = {"reminder_number": "穗天市监催〔2026〕1号", "reminder_served_at": "2026-09-03T10:00:00+08:00", "service_method": "direct",
            "performance_manner": "到指定银行缴纳罚款及加处罚款", "statement_right_told": True}
NOT_PERFORMED = {"performed": False, "statement_received": False, "performance_note": "当事人仍未缴纳。"}
APPROVAL = {"application_number": "穗天市监执申〔2026〕1号", "court_name": "广州市天河区人民法院", "property_to_enforce": "罚款及加处罚款40000元",
            "head_opinion": "同意申请。", "signed_by_head": True}
SUBMIT = {"applied_at": "2026-09-21T10:00:00+08:00", "materials": ["application", "decision", "statement", "property"]}
ACCEPTED = {"court_accepted": True, "accepted_at": "2026-09-24T10:00:00+08:00", "court_case_number": "（2026）粤0106行审1号"}
EXECUTED = {"execution_result": "executed", "executed_at": "2026-11-02T10:00:00+08:00", "amount_recovered": 40000,
            "execution_note": "已划扣到位。"}


def due_day(timer) -> str:
    local = timer.due_at.astimezone(CHINA_TZ)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    return local.date().isoformat()


def reminded(case: Case, deferral: str | None = None) -> Case:
    case.complete("record_basis", basis(deferral))
    assert case.ready() == []  # nothing may be done before the litigation period has run out
    assert due_day(case.timer("wait_litigation_period")) == (deferral or "2026-09-02")
    case.at("2026-09-03T00:00:01")
    if deferral:
        assert case.fire() == []
        return case
    assert case.fire() == ["wait_litigation_period"]
    case.at("2026-09-03T10:00")
    case.complete("serve_reminder", REMINDER)
    assert "催告书" in case.documents["serve_reminder"] and "十个工作日" in case.documents["serve_reminder"]
    assert due_day(case.timer("wait_j2_reminder")) == "2026-09-17"
    case.at("2026-09-17T20:00")
    assert case.fire() == [] and case.ready() == []
    case.at("2026-09-18T09:00")
    assert case.fire() == ["wait_j2_reminder"]
    return case


def applied(case: Case) -> Case:
    reminded(case)
    case.complete("assess_performance", NOT_PERFORMED)
    assert due_day(case.timer("timer_j1_window")) == "2026-12-02"
    case.complete("approve_application", APPROVAL)
    assert "强制执行申请书" in case.documents["approve_application"] and "广州市天河区人民法院" in case.documents["approve_application"]
    case.at("2026-09-21T10:00")
    case.complete("submit_application", SUBMIT)
    assert due_day(case.timer("timer_j3_acceptance")) == "2026-09-29"
    return case


def test_court_accepts_rules_and_executes(make) -> None:
    case = applied(make())
    case.at("2026-09-24T10:00")
    case.complete("record_acceptance", ACCEPTED)
    assert case.timer("timer_j3_acceptance").status == "met"
    assert due_day(case.timer("timer_j4_ruling")) == "2026-10-12"
    case.complete("record_ruling", {"ruling": "enforce", "ruled_at": "2026-10-09T10:00:00+08:00", "parties_heard": False,
                                    "ruling_number": "（2026）粤0106行审1号"})
    case.at("2026-11-02T10:00")
    case.complete("record_execution", EXECUTED)
    assert case.completed and case.data["outcome"] == "executed"
    assert {t.status for t in case.all_timers()} == {"fired", "met"}


def test_the_party_performs_after_the_reminder(make) -> None:
    case = reminded(make())
    case.complete("assess_performance", {"performed": True, "statement_received": True, "statement_review": "当事人称已缴纳，经核实属实。",
                                         "performance_note": "已缴清。"})
    assert case.completed and case.data["outcome"] == "performed"


def test_deferral_moves_the_window(make) -> None:
    case = reminded(make(), deferral="2026-10-15")
    assert case.ready() == []  # 2026-09-03: still inside the deferral
    case.at("2026-10-16T09:00")
    assert case.fire() == ["wait_litigation_period"]
    case.complete("serve_reminder", {**REMINDER, "reminder_served_at": "2026-10-16T09:00:00+08:00"})
    case.at("2026-11-02T09:00")
    assert case.fire() == ["wait_j2_reminder"]
    case.complete("assess_performance", NOT_PERFORMED)
    assert due_day(case.timer("timer_j1_window")) == "2027-01-15"  # 3 months after the deferral (APL Art. 72(2))


def test_a_late_application_is_flagged(make) -> None:
    case = reminded(make())
    case.complete("assess_performance", NOT_PERFORMED)
    case.at("2026-12-03T09:00")
    assert case.fire() == ["timer_j1_window"]
    assert case.timer("timer_j1_window").status == "overdue"
    case.complete("approve_application", APPROVAL)
    assert case.ready() == ["submit_application"]
    assert case.timer("timer_j1_submit").status in ("overdue", "fired")  # armed past its due date


def test_not_accepted_then_accepted_on_review_refused_then_enforced_on_review(make) -> None:
    case = applied(make())
    case.at("2026-09-28T10:00")
    case.complete("record_acceptance", {"court_accepted": False, "not_accepted_at": "2026-09-28T10:00:00+08:00"})
    assert due_day(case.timer("timer_j3_review")) == "2026-10-13"  # 15 days: 10-13 (after 国庆)
    case.complete("record_acceptance_review", {"acceptance_review": "accepted", "accepted_at": "2026-10-12T10:00:00+08:00",
                                               "review_note": "上一级人民法院裁定受理。"})
    assert case.ready() == ["record_ruling"]
    case.complete("record_ruling", {"ruling": "refuse", "ruled_at": "2026-10-16T10:00:00+08:00", "parties_heard": True,
                                    "ruling_received_at": "2026-10-16T15:00:00+08:00", "ruling_number": "（2026）粤0106行审2号"})
    assert due_day(case.timer("timer_j4_reconsideration")) == "2026-11-02"  # day 15 is Saturday 10-31
    case.complete("record_reconsideration", {"ruling_review": "enforce", "review_note": "上一级人民法院裁定准予执行。"})
    case.complete("record_execution", {**EXECUTED, "execution_result": "terminated", "execution_note": "被执行人无财产可供执行。"})
    assert case.completed and case.data["outcome"] == "execution_terminated"


@pytest.mark.parametrize("review", ["not_applied", "rejected"])
def test_not_accepted_ends(make, review) -> None:
    case = applied(make())
    case.complete("record_acceptance", {"court_accepted": False, "not_accepted_at": "2026-09-28T10:00:00+08:00"})
    case.complete("record_acceptance_review", {"acceptance_review": review, "review_note": "略。"})
    assert case.completed and case.data["outcome"] == "not_accepted"


@pytest.mark.parametrize("review", ["not_applied", "refuse"])
def test_refused_enforcement_ends(make, review) -> None:
    case = applied(make())
    case.complete("record_acceptance", ACCEPTED)
    case.complete("record_ruling", {"ruling": "refuse", "ruled_at": "2026-10-09T10:00:00+08:00", "parties_heard": False,
                                    "ruling_received_at": "2026-10-09T15:00:00+08:00", "ruling_number": "（2026）粤0106行审3号"})
    case.complete("record_reconsideration", {"ruling_review": review, "review_note": "略。"})
    assert case.completed and case.data["outcome"] == "enforcement_refused"


def test_forms_mirror_the_law(make) -> None:
    case = make()
    assert case.form_errors("record_basis", {**basis(), "reconsideration_or_suit": True})  # challenged: not this procedure
    assert case.form_errors("record_basis", {k: v for k, v in basis().items() if k != "deferral_until"})

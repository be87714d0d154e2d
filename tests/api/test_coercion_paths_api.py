"""Every path of the simplified procedure and the three coercive measures, through the REST API on SQLite
and PostgreSQL (issue 3: "every procedure runs through the API along each of its paths").

The paths and their step data are the engine tests' (tests/engine/test_{simplified,seizure,preservation,
freeze}_procedure.py, imported); the due dates are the ones worked out by hand there. Here a user's view is
asserted: which tasks are ready, the case's status and outcome, the timers with their legal basis, and the
title of the document issued from a task. The frozen clock moves and the timer sweep (run_due) fires what
is due; nothing sleeps.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.timers import run_due
from tests.engine import test_freeze_procedure as fz
from tests.engine import test_preservation_procedure as pv
from tests.engine import test_seizure_procedure as sz
from tests.engine import test_simplified_procedure as sp
from tests.support.documents import pdf_text

ORGANIZATION = {"type": "organization", "name": "广州市天河区示例食品有限公司", "credit_code": "91350100M000100Y43"}
PERSON = {"type": "person", "name": "张三", "id_number": "11010519491231002X"}
MATTERS = {"simplified": "440201003901", "seizure": "440202001001", "preservation": "440209001001", "freeze": "440202002001"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def ready(case: dict[str, Any]) -> list[str]:
    return sorted(t["bpmn_id"] for t in case["tasks"] if t["state"] == "ready")


def timer(case: dict[str, Any], bpmn_id: str) -> dict[str, Any]:
    """The timer a user looks at: the one still waiting, else the latest one of that BPMN id."""
    rows = [t for t in case["timers"] if t["bpmn_id"] == bpmn_id]
    assert rows, f"no {bpmn_id}; timers: {[t['bpmn_id'] for t in case['timers']]}"
    waiting = [t for t in rows if t["status"] == "pending"]
    return waiting[-1] if waiting else rows[-1]


def due_day(row: dict[str, Any]) -> str:
    local = datetime.fromisoformat(row["due_at"]).astimezone(CHINA_TZ)
    assert (local.hour, local.minute, local.second) == (23, 59, 59), row["due_at"]
    return local.date().isoformat()


class Run:
    """One case driven through the API by the officer and the agency head."""

    def __init__(self, login: Any, core: Core, clock: FrozenClock, kind: str, party: dict[str, Any] = ORGANIZATION,
                 opened: str = "2026-03-02T09:30"):
        self.officer, self.head, self.core, self.clock = login("officer1"), login("head1"), core, clock
        ids = [o["id"] for o in self.officer.get("/api/v1/officers").get_json()["items"]
               if o["username"] in ("officer1", "officer2")]
        clock.set(at(opened))
        response = self.officer.post("/api/v1/cases", json={"matter_code": MATTERS[kind], "party": party,
                                                            "officer_ids": ids, "summary": f"{kind} 路径测试"})
        assert response.status_code == 201, response.get_json()
        self.id = response.get_json()["id"]
        self.case: dict[str, Any] = response.get_json()

    def at(self, text: str) -> None:
        self.clock.set(at(text))

    def do(self, bpmn_id: str, data: dict[str, Any], by: str = "officer", status: int = 200) -> dict[str, Any]:
        client = self.head if by == "head" else self.officer
        task = client.ready(self.id, bpmn_id)
        response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
        body = response.get_json()
        assert response.status_code == status, (bpmn_id, body.get("errors"))
        if status == 200:
            self.case = body
        return body

    def fire(self) -> int:
        fired = run_due(self.core)
        self.case = self.refresh()
        return fired

    def refresh(self) -> dict[str, Any]:
        return self.officer.get(f"/api/v1/cases/{self.id}").get_json()

    def ready(self) -> list[str]:
        return ready(self.case)

    def timer(self, bpmn_id: str) -> dict[str, Any]:
        return timer(self.case, bpmn_id)

    def task_data(self, bpmn_id: str) -> dict[str, Any]:
        task = self.officer.ready(self.id, bpmn_id)
        return self.officer.get(f"/api/v1/tasks/{task['id']}").get_json()["data"]

    def document(self, bpmn_id: str, nth: int = -1) -> tuple[str, str]:
        """Issue the document of a completed task (its nth completion): its title and the text of its PDF."""
        done = [t for t in self.case["tasks"] if t["bpmn_id"] == bpmn_id and t["state"] == "completed"]
        assert done, f"{bpmn_id} not completed"
        response = self.officer.post(f"/api/v1/cases/{self.id}/documents", json={"task_id": done[nth]["id"]})
        assert response.status_code == 201, response.get_json()
        issued = response.get_json()
        pdf = self.officer.get(f"/api/v1/documents/{issued['id']}/pdf")
        assert pdf.status_code == 200
        return issued["title"], pdf_text(pdf.data)

    def audit_length(self) -> int:
        return len(self.officer.get(f"/api/v1/cases/{self.id}/audit").get_json()["items"])

    def closed(self, outcome: str) -> None:
        assert (self.case["status"], self.case["outcome"]) == ("closed", outcome)
        assert self.ready() == []


@pytest.fixture
def run(login: Any, core: Core, clock: FrozenClock) -> Callable[..., Run]:
    return lambda kind, **kw: Run(login, core, clock, kind, **kw)


# -- 行政处罚简易程序 ---------------------------------------------------------------------------
def simplified(run: Callable[..., Run], party: dict[str, Any] = ORGANIZATION) -> Run:
    case = run("simplified", party=party, opened="2026-03-02T10:30")
    assert case.ready() == ["onsite_decide"]
    return case


@pytest.mark.parametrize(("party", "fine"), [(PERSON, 200), (ORGANIZATION, 3000)])
def test_simplified_fine_within_the_limit_paid_at_the_bank(run, party, fine) -> None:
    case = simplified(run, party)
    case.do("onsite_decide", sp.decision(fine=fine))
    assert case.ready() == ["record_payment", "submit_filing"]
    assert due_day(case.timer("timer_q3_filing")) == "2026-03-11"
    assert due_day(case.timer("timer_q5_payment")) == "2026-03-17"
    assert case.timer("timer_q5_payment")["legal_basis"].startswith("行政处罚法第")
    title, text = case.document("onsite_decide")
    assert title == "当场行政处罚决定书" and f"{fine:.2f}" in text and "十五日内" in text
    case.at("2026-03-06T12:00")
    case.do("record_payment", sp.payment("2026-03-04T10:00:00+08:00", fine))
    case.do("submit_filing", sp.filing("2026-03-04T11:00:00+08:00"))
    case.do("accept_filing", sp.ACCEPT, by="head")
    case.closed("punished")
    assert {t["status"] for t in case.case["timers"]} == {"met"}


def test_simplified_warning_only_files_and_ends(run) -> None:
    case = simplified(run)
    case.do("onsite_decide", sp.decision(penalties=("warning",), fine=0, method="none"))
    assert case.ready() == ["submit_filing"]
    assert [t["bpmn_id"] for t in case.case["timers"]] == ["timer_q3_filing"]
    case.at("2026-03-05T10:00")
    case.do("submit_filing", sp.filing())
    case.do("accept_filing", sp.ACCEPT, by="head")
    case.closed("punished")


@pytest.mark.parametrize(("party", "fine"), [(PERSON, 200.01), (ORGANIZATION, 3001)])
def test_simplified_fine_above_the_limit_is_refused_and_changes_nothing(run, party, fine) -> None:
    case = simplified(run, party)
    before = case.audit_length()
    refused = case.do("onsite_decide", sp.decision(fine=fine), status=422)
    (error,) = refused["errors"]
    assert error["field"] == "fine_amount" and error["element_id"] == "onsite_decide"
    assert "行政处罚法第五十一条" in error["message"] and "普通程序" in error["message"]
    after = case.refresh()
    assert ready(after) == ["onsite_decide"] and after["timers"] == [] and after["status"] == case.case["status"]
    assert case.audit_length() == before


def test_simplified_late_payment_adds_the_additional_fine(run) -> None:
    case = simplified(run)
    case.do("onsite_decide", sp.decision(fine=3000))
    case.at("2026-03-06T12:00")
    case.do("submit_filing", sp.filing())
    case.do("accept_filing", sp.ACCEPT, by="head")
    case.at("2026-03-18T08:00")
    assert case.fire() == 1
    assert case.timer("timer_q5_payment")["status"] == "overdue"
    case.at("2026-03-20T10:00")
    case.do("record_payment", sp.payment("2026-03-20T10:00:00+08:00", 3000))  # 270 yuan late fee still owed
    assert case.ready() == ["record_payment"] and case.case["status"] != "closed"
    assert case.task_data("record_payment")["late_fee_amount"] == "270.00"  # 3 % x 3,000 x 3 days (APL Art. 72(1))
    case.do("record_payment", sp.payment("2026-03-20T10:00:00+08:00", 3000, 270))
    case.closed("punished")
    assert case.timer("timer_q5_payment")["status"] == "breached"


def test_simplified_on_the_spot_collection_is_handed_over(run) -> None:
    case = simplified(run, PERSON)
    case.do("onsite_decide", sp.decision(fine=50, method="on_spot"))
    assert "粤财罚字No.000123" in case.document("onsite_decide")[1]  # the finance-department receipt
    assert case.ready() == ["hand_over_fine", "submit_filing"]
    p14 = case.timer("timer_p14_hand_over")
    assert due_day(p14) == "2026-03-04" and p14["legal_basis"].startswith("行政处罚法第")
    case.at("2026-03-06T12:00")
    case.do("hand_over_fine", {"handed_over_at": "2026-03-03T09:00:00+08:00", "amount_handed_over": 50,
                               "received_by": "财务科王某", "on_water": False})
    assert case.timer("timer_p14_hand_over")["status"] == "met"
    case.do("submit_filing", sp.filing("2026-03-03T10:00:00+08:00"))
    case.do("accept_filing", sp.ACCEPT, by="head")
    case.closed("punished")


def test_simplified_late_filing_and_hand_over_are_recorded_not_blocking(run) -> None:
    case = simplified(run, PERSON)
    case.do("onsite_decide", sp.decision(fine=50, method="on_spot", party_signed=False,
                                         refusal_note="当事人拒绝签名，两名执法人员在场见证。"))
    assert "当事人拒绝签收" in case.document("onsite_decide")[1]
    case.at("2026-03-12T08:00")
    assert case.fire() == 1
    assert {case.timer(t)["status"] for t in ("timer_q3_filing", "timer_p14_hand_over")} == {"overdue"}
    assert case.ready() == ["hand_over_fine", "submit_filing"]
    case.at("2026-03-12T09:00")
    case.do("submit_filing", sp.filing("2026-03-12T09:00:00+08:00"))
    case.do("hand_over_fine", {"handed_over_at": "2026-03-12T09:00:00+08:00", "amount_handed_over": 50,
                               "received_by": "财务科王某", "on_water": True, "ashore_at": "2026-03-11T17:00:00+08:00"})
    case.do("accept_filing", {**sp.ACCEPT, "filing_result": "correction_needed", "filing_opinion": "上缴超期，责令说明情况。"},
            by="head")
    case.closed("punished")
    assert {t["status"] for t in case.case["timers"]} == {"breached"}


# -- 查封、扣押 ----------------------------------------------------------------------------------
EXTENSION_APPROVED = {"extension_approved": True, "extension_opinion": "情况复杂，同意延长三十日。",
                      "extension_notice_number": "穗天市监延〔2026〕1号", "extension_notified_at": "2026-03-02T15:00:00+08:00"}
HANDLED = {"handled_at": "2026-03-20T11:00:00+08:00", "handling_record": "已处理。", "witnesses": ["张明", "李华"]}


def seized(run: Callable[..., Run], urgency: str = "ordinary") -> Run:
    case = run("seizure")
    case.do("apply_measure", sz.application(urgency))
    if urgency == "ordinary":
        assert case.ready() == ["approve_measure"]
        case.at("2026-03-02T09:50")
        case.do("approve_measure", sz.APPROVE, by="head")
    case.at("2026-03-02T11:00")
    case.do("execute_measure", sz.execution())
    if urgency == "ordinary":  # in an emergency the period is counted once the head has approved afterwards
        assert_seizure_period(case)
    return case


def assert_seizure_period(case: Run) -> None:
    c2 = case.timer("timer_c2_period")
    assert due_day(c2) == "2026-04-01" and c2["legal_basis"].startswith("行政强制法第二十五条")


def test_seizure_refused_beforehand(run) -> None:
    case = run("seizure")
    case.do("apply_measure", sz.application())
    case.at("2026-03-02T09:50")
    case.do("approve_measure", sz.REFUSE, by="head")
    case.closed("not_approved")


@pytest.mark.parametrize(("outcome", "closed_as"), [("confiscate", "confiscated"), ("destroy", "destroyed")])
def test_seizure_approved_then_confiscated_or_destroyed(run, outcome, closed_as) -> None:
    case = seized(run)
    assert case.ready() == ["decide_handling"]
    title, text = case.document("execute_measure")
    assert title == "扣押决定书" and "扣押财物清单" in text and "某牌饼干" in text
    case.at("2026-03-20T10:00")
    case.do("decide_handling", sz.handle(outcome))
    case.do("approve_handling", sz.decided(outcome), by="head")
    assert case.timer("timer_c2_period")["status"] == "met"
    assert case.ready() == ["record_handling"]
    case.at("2026-03-20T12:00")
    case.do("record_handling", HANDLED)
    case.closed(closed_as)


def test_seizure_in_an_emergency_reported_within_24_hours_then_released(run) -> None:
    case = seized(run, "emergency")
    p3 = case.timer("timer_p3_report")
    assert datetime.fromisoformat(p3["due_at"]) == at("2026-03-03T10:00") and p3["legal_basis"].startswith("行政强制法第十九条")
    assert case.ready() == ["approve_afterwards"]
    case.at("2026-03-02T16:00")
    case.do("approve_afterwards", {**sz.APPROVE, "approved_at": "2026-03-02T16:00:00+08:00"}, by="head")
    assert case.timer("timer_p3_report")["status"] == "met"
    assert_seizure_period(case)
    case.at("2026-03-20T10:00")
    case.do("decide_handling", sz.handle("release"))
    case.do("approve_handling", sz.decided("release"), by="head")
    case.do("release_items", sz.RELEASE)
    case.closed("released")
    title, text = case.document("release_items")
    assert title == "解除扣押决定书" and "经调查，不再需要查封、扣押" in text


def test_seizure_in_an_emergency_reported_late_and_disapproved_is_lifted(run) -> None:
    case = seized(run, "emergency")
    case.at("2026-03-03T11:00")
    assert case.fire() == 1
    assert case.timer("timer_p3_report")["status"] == "overdue"
    case.do("approve_afterwards", {**sz.REFUSE, "approved_at": "2026-03-03T11:00:00+08:00"}, by="head")
    assert case.ready() == ["release_items"]
    case.at("2026-03-03T11:30")
    case.do("release_items", {**sz.RELEASE, "released_at": "2026-03-03T11:30:00+08:00"})
    case.closed("released")
    assert "负责人认为不应当采取" in case.document("release_items")[1]
    assert case.timer("timer_p3_report")["status"] == "breached"


def test_seizure_extended_once_a_second_extension_refused_and_expiry_releases(run) -> None:
    case = seized(run)
    case.at("2026-03-25T10:00")
    case.do("decide_handling", sz.EXTEND)
    assert case.task_data("approve_extension")["extended_period_end"] == "2026-05-06"  # day 60 is 05-01 (劳动节)
    case.do("approve_extension", {**EXTENSION_APPROVED, "extension_notified_at": "2026-03-25T15:00:00+08:00"}, by="head")
    assert [due_day(t) for t in case.case["timers"] if t["bpmn_id"] == "timer_c2_period" and t["status"] == "pending"] \
        == ["2026-05-06"]
    title, text = case.document("approve_extension")
    assert title == "延长查封（扣押）期限通知书" and "2026年5月6日" in text
    before = case.audit_length()
    refused = case.do("decide_handling", sz.EXTEND, status=422)
    (error,) = refused["errors"]
    assert error["field"] == "action" and "行政强制法第二十五条" in error["message"]
    assert ready(case.refresh()) == ["decide_handling"] and case.audit_length() == before
    case.at("2026-05-06T20:00")
    assert case.fire() == 0
    case.at("2026-05-07T00:00:01")
    assert case.fire() == 1
    assert case.ready() == ["release_items"] and case.timer("timer_c2_period")["status"] == "fired"
    case.at("2026-05-07T09:00")
    case.do("release_items", {**sz.RELEASE, "released_at": "2026-05-07T09:00:00+08:00"})
    case.closed("released")
    assert "期限已经届满" in case.document("release_items")[1]


def test_seizure_refused_extension_keeps_the_period(run) -> None:
    case = seized(run)
    case.at("2026-03-02T16:00")
    case.do("decide_handling", sz.EXTEND)
    case.do("approve_extension", {"extension_approved": False, "extension_opinion": "不符合情况复杂的条件。"}, by="head")
    assert "不予批准延长" in case.document("approve_extension")[1]
    assert due_day(case.timer("timer_c2_period")) == "2026-04-01"
    assert case.ready() == ["decide_handling"]
    case.do("decide_handling", sz.EXTEND)  # the one extension the law allows is still there
    assert case.ready() == ["approve_extension"]


def test_seizure_appraisal_time_is_not_counted(run) -> None:
    case = seized(run)
    case.at("2026-03-02T16:00")
    case.do("decide_handling", sz.APPRAISE)
    assert due_day(case.timer("timer_c2_period")) == "2026-04-13"  # 30 + 10 days, then past the weekend
    case.do("decide_handling", sz.EXTEND)
    assert case.task_data("approve_extension")["extended_period_end"] == "2026-05-11"
    case.do("approve_extension", {**EXTENSION_APPROVED, "extension_notice_number": "穗天市监延〔2026〕2号"}, by="head")
    assert "已扣除检测、检验、检疫或者技术鉴定期间10日" in case.document("approve_extension")[1]
    assert due_day(case.timer("timer_c2_period")) == "2026-05-11"
    case.at("2026-04-20T10:00")
    case.do("decide_handling", sz.handle("release"))
    case.do("approve_handling", {**sz.decided("release"), "handling_decided_at": "2026-04-20T10:00:00+08:00"}, by="head")
    case.at("2026-04-20T11:00")
    case.do("release_items", {**sz.RELEASE, "released_at": "2026-04-20T11:00:00+08:00"})
    case.closed("released")


# -- 先行登记保存证据 --------------------------------------------------------------------------
def registered(run: Callable[..., Run], urgency: str = "ordinary") -> Run:
    case = run("preservation", party=PERSON)
    case.do("apply_preservation", pv.application(urgency))
    if urgency == "ordinary":
        case.do("approve_preservation", pv.APPROVE, by="head")
    case.at("2026-03-02T10:30")
    case.do("register_evidence", pv.record())
    if urgency == "ordinary":  # in an emergency P4 runs once the head has approved afterwards
        assert_handling_limit(case)
    return case


def assert_handling_limit(case: Run) -> None:
    p4 = case.timer("timer_p4_handling")
    assert due_day(p4) == "2026-03-11" and p4["limit"] == {"amount": 7, "unit": "working_days"}
    assert p4["legal_basis"] == "行政处罚法第五十六条、第八十五条；市场监督管理行政处罚程序规定第三十五条"


@pytest.mark.parametrize(("action", "outcome"), [
    ("record", "preserved_by_record"), ("testing", "sent_for_testing"), ("seizure", "converted_to_seizure"),
    ("confiscate", "confiscated"),
])
def test_preservation_handling_decision_in_time(run, action, outcome) -> None:
    case = registered(run)
    title, text = case.document("register_evidence")
    assert title == "先行登记保存通知书" and "某牌运动鞋" in text
    case.at("2026-03-05T10:30")
    case.do("decide_preservation", pv.proposal(action))
    case.do("approve_preservation_handling", pv.approval(), by="head")
    case.closed(outcome)
    assert case.timer("timer_p4_handling")["status"] == "met"
    assert case.document("approve_preservation_handling")[0] == "先行登记保存物品处理决定书"


def test_preservation_released_by_decision_after_a_refused_proposal(run) -> None:
    case = registered(run)
    case.at("2026-03-05T10:30")
    case.do("decide_preservation", pv.proposal("confiscate"))
    case.do("approve_preservation_handling", pv.approval(False), by="head")
    assert "不予批准" in case.document("approve_preservation_handling")[1]
    assert case.ready() == ["decide_preservation"]
    case.do("decide_preservation", pv.proposal("release"))
    case.do("approve_preservation_handling", pv.approval(), by="head")
    assert case.ready() == ["release_preserved"]
    case.at("2026-03-05T12:00")
    case.do("release_preserved", pv.RELEASE)
    case.closed("released")
    assert "违法事实不成立或者不需要继续保存" in case.document("release_preserved")[1]


def test_preservation_lapses_by_the_p4_timer(run) -> None:
    case = registered(run)
    case.at("2026-03-11T23:00")
    assert case.fire() == 0
    case.at("2026-03-12T00:00:01")
    assert case.fire() == 1
    assert case.ready() == ["release_preserved"] and case.timer("timer_p4_handling")["status"] == "fired"
    case.at("2026-03-12T09:00")
    case.do("release_preserved", {**pv.RELEASE, "released_at": "2026-03-12T09:00:00+08:00"})
    case.closed("lapsed")
    assert "自动解除" in case.document("release_preserved")[1]


def test_preservation_in_an_emergency_reported_and_approved(run) -> None:
    case = registered(run, "emergency")
    assert datetime.fromisoformat(case.timer("timer_p3_report")["due_at"]) == at("2026-03-03T10:00")
    assert case.ready() == ["approve_afterwards"]
    case.do("approve_afterwards", {**pv.APPROVE, "approved_at": "2026-03-02T10:30:00+08:00"}, by="head")
    assert case.timer("timer_p3_report")["status"] == "met"
    assert_handling_limit(case)
    case.at("2026-03-05T10:30")
    case.do("decide_preservation", pv.proposal("record"))
    case.do("approve_preservation_handling", pv.approval(), by="head")
    case.closed("preserved_by_record")


def test_preservation_in_an_emergency_the_head_disagrees_with_is_released(run) -> None:
    case = registered(run, "emergency")
    case.do("approve_afterwards", {**pv.REFUSE, "approved_at": "2026-03-02T10:30:00+08:00"}, by="head")
    assert case.ready() == ["release_preserved"]
    case.at("2026-03-05T11:00")
    case.do("release_preserved", pv.RELEASE)
    case.closed("released")


def test_preservation_refused_beforehand(run) -> None:
    case = run("preservation", party=PERSON)
    case.do("apply_preservation", pv.application())
    case.do("approve_preservation", pv.REFUSE, by="head")
    case.closed("not_approved")


# -- 冻结存款、汇款 ----------------------------------------------------------------------------
def frozen(run: Callable[..., Run]) -> Run:
    case = run("freeze")
    case.do("apply_freeze", fz.APPLICATION)
    case.do("approve_freeze", fz.APPROVE, by="head")
    case.at("2026-03-02T10:30")
    case.do("notify_bank", fz.NOTICE)
    assert due_day(case.timer("timer_c4_delivery")) == "2026-03-05"
    case.at("2026-03-04T10:00")
    case.do("deliver_freeze_decision", fz.DELIVERY)
    assert case.timer("timer_c4_delivery")["status"] == "met"
    c4 = case.timer("timer_c4_period")
    assert due_day(c4) == "2026-04-01" and c4["legal_basis"].startswith("行政强制法第三十二条")
    title, text = case.document("deliver_freeze_decision")
    assert title == "冻结决定书" and "500000.00" in text
    return case


def test_freeze_transferred_within_the_period(run) -> None:
    case = frozen(run)
    case.at("2026-03-20T10:00")
    case.do("decide_freeze", fz.HANDLE)
    case.do("approve_freeze_handling", fz.handling("transfer"), by="head")
    assert case.ready() == ["record_transfer"] and case.timer("timer_c4_period")["status"] == "met"
    case.at("2026-03-20T12:00")
    case.do("record_transfer", {"handled_at": "2026-03-20T11:00:00+08:00", "handling_record": "已通知银行划拨。",
                                "witnesses": ["张明", "李华"]})
    case.closed("transferred")


def test_freeze_lifted_by_decision(run) -> None:
    case = frozen(run)
    case.at("2026-03-20T10:00")
    case.do("decide_freeze", fz.HANDLE)
    case.do("approve_freeze_handling", fz.handling("unfreeze"), by="head")
    assert case.ready() == ["unfreeze_deposits"]
    case.do("unfreeze_deposits", fz.UNFREEZE)
    case.closed("unfrozen")
    title, text = case.document("unfreeze_deposits")
    assert title == "解除冻结决定书" and "决定解除冻结" in text


def test_freeze_extended_then_expiry_unfreezes(run) -> None:
    case = frozen(run)
    case.at("2026-03-04T15:30")
    case.do("decide_freeze", fz.EXTEND)
    case.do("approve_freeze_extension", {"extension_approved": True, "extension_opinion": "同意延长三十日。",
                                         "extension_notice_number": "穗天市监冻延〔2026〕1号",
                                         "extension_notified_at": "2026-03-04T15:00:00+08:00"}, by="head")
    assert due_day(case.timer("timer_c4_period")) == "2026-05-06"
    before = case.audit_length()
    refused = case.do("decide_freeze", fz.EXTEND, status=422)
    (error,) = refused["errors"]
    assert error["field"] == "freeze_action" and "第三十二条" in error["message"]
    assert ready(case.refresh()) == ["decide_freeze"] and case.audit_length() == before
    case.at("2026-05-07T00:00:01")
    assert case.fire() == 1
    assert case.ready() == ["unfreeze_deposits"]
    case.do("unfreeze_deposits", {**fz.UNFREEZE, "unfrozen_at": "2026-05-07T00:00:01+08:00"})
    case.closed("unfrozen")
    assert "冻结期限届满" in case.document("unfreeze_deposits")[1]


def test_freeze_refused_extension_keeps_the_period_and_late_delivery_is_flagged(run) -> None:
    case = run("freeze")
    case.do("apply_freeze", fz.APPLICATION)
    case.do("approve_freeze", fz.APPROVE, by="head")
    case.at("2026-03-02T10:30")
    case.do("notify_bank", fz.NOTICE)
    case.at("2026-03-06T09:00")
    assert case.fire() == 1
    assert case.timer("timer_c4_delivery")["status"] == "overdue"
    case.do("deliver_freeze_decision", {**fz.DELIVERY, "freeze_decision_delivered_at": "2026-03-06T09:00:00+08:00"})
    assert case.timer("timer_c4_delivery")["status"] == "breached"
    case.do("decide_freeze", fz.EXTEND)
    case.do("approve_freeze_extension", {"extension_approved": False, "extension_opinion": "不符合条件。"}, by="head")
    assert due_day(case.timer("timer_c4_period")) == "2026-04-01"
    assert case.ready() == ["decide_freeze"]


def test_freeze_refused_beforehand(run) -> None:
    case = run("freeze")
    case.do("apply_freeze", fz.APPLICATION)
    case.do("approve_freeze", {**fz.APPROVE, "approved": False}, by="head")
    case.closed("not_approved")

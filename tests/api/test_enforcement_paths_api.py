"""Every path of 行政机关强制执行, 申请人民法院强制执行 and 行政检查 through the REST API on SQLite and
PostgreSQL, as the engine tests drive them without HTTP (tests/engine/test_agency_enforcement_procedure.py,
test_court_enforcement_procedure.py, test_inspection_procedure.py): the frozen clock moves, the timer sweep
fires what is due, and each test checks what a user sees — ready tasks, the case's outcome, its timers'
due days and statuses, 422s naming the field and changing nothing, the issued documents' text.

The dates are the engine tests' hand-computed dates (time-limits.md 1G and §2 for 2026)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.inspection import pick
from engine.timers import run_due
from tests.engine import test_agency_enforcement_procedure as agency
from tests.engine import test_court_enforcement_procedure as court
from tests.engine import test_inspection_procedure as inspection
from tests.support.documents import pdf_text

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
AGENCY_MATTER, COURT_MATTER, INSPECTION_MATTER = "440299002001", "440299001001", "440203001001"
PUNISHMENT_MATTER = "440201001002"
HEAD_TASKS = {"approve_agreement", "enforcement_decision", "approve_application", "decide_follow_up"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


class Case:
    """One case driven through the API by the officer, and by the head for the head's tasks."""

    def __init__(self, login: Any, core: Core, clock: FrozenClock, case_id: int, officer: str = "officer1"):
        self.core, self.clock, self.id, self.login, self.username = core, clock, case_id, login, officer
        self.log_in()

    def log_in(self) -> None:
        self.officer, self.head = self.login(self.username), self.login("head1")

    @classmethod
    def open(cls, login: Any, core: Core, clock: FrozenClock, matter_code: str, opened_at: str, summary: str = "依法办理") -> Case:
        clock.set(at(opened_at))
        officer = login("officer1")
        ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
        response = officer.post("/api/v1/cases", json={"matter_code": matter_code, "party": PARTY, "officer_ids": ids,
                                                       "summary": summary})
        assert response.status_code == 201, response.get_json()
        return cls(login, core, clock, response.get_json()["id"])

    def at(self, text: str) -> None:
        self.clock.set(at(text))

    def client(self, bpmn_id: str) -> Any:
        return self.head if bpmn_id in HEAD_TASKS else self.officer

    def complete(self, bpmn_id: str, data: dict[str, Any], status: int = 200) -> dict[str, Any]:
        return self.client(bpmn_id).complete(self.id, bpmn_id, data, status=status)

    def refused(self, bpmn_id: str, data: dict[str, Any], field: str) -> str:
        """A 422 naming the field; the task stays ready, nothing changed."""
        before, audited = self.view(), self.audit()
        problem = self.complete(bpmn_id, data, status=422)
        assert problem["errors"][0]["field"] == field, problem
        after = self.view()
        assert self.ready() == [bpmn_id] and after["timers"] == before["timers"] and after["status"] == before["status"]
        assert self.audit() == audited
        return problem["errors"][0]["message"]

    def view(self) -> dict[str, Any]:
        return self.officer.get(f"/api/v1/cases/{self.id}").get_json()

    def audit(self) -> list[dict[str, Any]]:
        return self.officer.get(f"/api/v1/cases/{self.id}/audit").get_json()["items"]

    def ready(self) -> list[str]:
        return sorted(t["bpmn_id"] for t in self.view()["tasks"] if t["state"] == "ready")

    def fire(self, when: str) -> int:
        self.at(when)
        return run_due(self.core)

    def timer(self, bpmn_id: str) -> dict[str, Any]:
        found = [t for t in self.view()["timers"] if t["bpmn_id"] == bpmn_id]
        assert found, f"no timer {bpmn_id}"
        return found[-1]

    def due_day(self, bpmn_id: str) -> str:
        local = datetime.fromisoformat(self.timer(bpmn_id)["due_at"]).astimezone(CHINA_TZ)
        assert (local.hour, local.minute, local.second) == (23, 59, 59)
        return local.date().isoformat()

    def ended(self, outcome: str) -> None:
        case = self.view()
        assert (case["status"], case["outcome"]) == ("closed", outcome)
        assert self.ready() == []
        assert not [t for t in case["timers"] if t["status"] in ("pending", "overdue", "suspended")]  # nothing left running

    def document(self, bpmn_id: str) -> str:
        """Issue the document of a completed task and read the PDF's text."""
        items = self.officer.get(f"/api/v1/tasks?case_id={self.id}&state=completed").get_json()["items"]
        task_id = [t["id"] for t in items if t["bpmn_id"] == bpmn_id][-1]
        issued = self.client(bpmn_id).post(f"/api/v1/cases/{self.id}/documents", json={"task_id": task_id})
        assert issued.status_code == 201, issued.get_json()
        pdf = self.officer.get(f"/api/v1/documents/{issued.get_json()['id']}/pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        return pdf_text(pdf.data)


# -- 行政机关强制执行 ------------------------------------------------------------------------------------

def reminded(login: Any, core: Core, clock: FrozenClock, kind: str = "money") -> Case:
    case = Case.open(login, core, clock, AGENCY_MATTER, "2026-03-20T09:00:00", "逾期不履行行政决定，依法强制执行")
    case.complete("record_obligation", agency.obligation(kind))
    case.at("2026-03-20T10:00:00")
    case.complete("serve_agency_reminder", agency.REMINDER)
    return case


def test_money_obligation_waits_for_30_days_of_additional_fine(login: Any, core: Core, clock: FrozenClock) -> None:
    case = reminded(login, core, clock)
    assert "2026年3月30日前" in case.document("serve_agency_reminder")
    case.at("2026-03-31T10:00:00")
    case.complete("record_response", agency.response("not_performed"))
    assert case.ready() == []
    assert case.due_day("wait_c7_additional_fine") == "2026-04-16"
    assert case.fire("2026-04-16T23:00:00") == 0 and case.ready() == []
    assert case.fire("2026-04-17T00:00:01") == 1
    assert case.ready() == ["enforcement_decision"]
    case.at("2026-04-17T10:00:00")
    case.complete("enforcement_decision", agency.decision())
    text = case.document("enforcement_decision")
    assert "行政强制执行决定书" in text and "划拨存款" in text
    case.at("2026-04-20T10:00:00")
    case.complete("execute_enforcement", agency.execution())
    case.ended("executed")


@pytest.mark.parametrize(("kind", "allowed", "then"), [
    ("not_performed", False, None),                     # ACL Art. 37: only after the reminder's deadline
    ("moving_assets", True, ["enforcement_decision"]),  # ACL Art. 37: moving assets allows an immediate decision
    ("performed", True, "performed"),                   # performing is always possible
    ("statement_accepted", True, "not_enforced"),       # the defence accepted
])
def test_responses_before_the_reminder_deadline(login: Any, core: Core, clock: FrozenClock, kind: str, allowed: bool,
                                                then: Any) -> None:
    case = reminded(login, core, clock)
    case.at("2026-03-30T18:00:00")  # the deadline's last day
    if not allowed:
        message = case.refused("record_response", agency.response(kind), "response")
        assert "行政强制法第三十七条" in message and "2026-03-30" in message
        case.at("2026-03-31T00:00:01")
        case.complete("record_response", agency.response(kind))
        assert case.ready() == [] and case.due_day("wait_c7_additional_fine") == "2026-04-16"
        return
    case.complete("record_response", agency.response(kind))
    if isinstance(then, list):
        assert case.ready() == then  # no wait for the 30 days of additional fine
        case.complete("enforcement_decision", {**agency.decision(), "decided_at": "2026-03-30T18:00:00+08:00",
                                               "execution_planned_at": "2026-03-31T10:00:00+08:00"})
        assert "转移或者隐匿财物" in case.document("enforcement_decision")
    else:
        case.ended(then)


@pytest.mark.parametrize(("planned", "emergency", "allowed"), agency.EXECUTION_TIMES)
def test_no_enforcement_at_night_or_on_rest_days(login: Any, core: Core, clock: FrozenClock, planned: str, emergency: bool,
                                                 allowed: bool) -> None:
    case = reminded(login, core, clock)
    case.at("2026-03-25T10:00:00")
    case.complete("record_response", agency.response("moving_assets"))
    case.at("2026-04-17T12:00:00")
    form = {**agency.decision(), "decided_at": "2026-04-17T12:00:00+08:00", "execution_planned_at": planned, "emergency": emergency}
    if emergency:
        form["emergency_reason"] = "当事人正在转移资金。"
    if allowed:
        case.complete("enforcement_decision", form)
        assert case.ready() == ["execute_enforcement"]
    else:
        assert "行政强制法第四十三条" in case.refused("enforcement_decision", form, "execution_planned_at")


@pytest.mark.parametrize(("kind", "approval", "performance", "then"), [
    ("money", {"agreement_approved": True, "agreement_terms": "分两期缴纳。", "late_fee_reduced": True,
               "remedial_measures": "已整改并消除影响。", "agreement_due": "2026-05-30"},
     {"agreement_performed": True, "agreement_note": "已按期缴清。"}, "performed_by_agreement"),
    ("act", {"agreement_approved": True, "agreement_terms": "十日内自行拆除。", "late_fee_reduced": False, "agreement_due": "2026-04-10"},
     {"agreement_performed": False, "agreement_note": "逾期未拆除。"}, ["enforcement_decision"]),
    ("act", {"agreement_approved": False, "agreement_terms": "当事人提出的协议损害公共利益。", "late_fee_reduced": False},
     None, ["enforcement_decision"]),
])
def test_enforcement_agreement(login: Any, core: Core, clock: FrozenClock, kind: str, approval: dict, performance: Any,
                               then: Any) -> None:
    case = reminded(login, core, clock, kind)
    case.complete("record_response", agency.response("agreement"))
    assert case.ready() == ["approve_agreement"]
    case.complete("approve_agreement", approval)
    if performance is not None:
        assert case.ready() == ["record_agreement_performance"]
        case.complete("record_agreement_performance", performance)
    if isinstance(then, list):
        assert case.ready() == then  # broken or refused: enforcement resumes
    else:
        case.ended(then)


@pytest.mark.parametrize(("performed", "outcome"), [(False, "substituted"), (True, "performed")])
def test_substitute_performance_after_three_working_days(login: Any, core: Core, clock: FrozenClock, performed: bool,
                                                         outcome: str) -> None:
    case = reminded(login, core, clock, "act")
    case.at("2026-03-31T10:00:00")
    case.complete("record_response", agency.response("not_performed"))
    assert case.ready() == ["enforcement_decision"]  # an act: no additional fine to wait for
    case.at("2026-04-17T10:00:00")
    case.complete("enforcement_decision", agency.decision("substitute"))
    case.at("2026-04-20T10:00:00")
    case.complete("serve_substitute_notice", {"substitute_decision_number": "穗天市监代〔2026〕1号",
                                              "substitute_notice_served_at": "2026-04-20T10:00:00+08:00", "substitute_performer": "某拆除公司",
                                              "substitute_object": "户外广告牌一块", "estimated_cost": 3000})
    assert "代履行决定书" in case.document("serve_substitute_notice")
    assert case.due_day("wait_c8_substitute") == "2026-04-23"
    assert case.fire("2026-04-23T20:00:00") == 0 and case.ready() == []
    assert case.fire("2026-04-24T08:00:00") == 1 and case.ready() == ["perform_substitute"]
    form = {"party_performed_meanwhile": performed, "substituted_at": "2026-04-24T08:00:00+08:00", "substitute_record": "略。"}
    if not performed:
        form.update(supervising_officer="张明", actual_cost=2800, signed_by=["张明", "某拆除公司王某"])
    case.complete("perform_substitute", form)
    case.ended(outcome)


def test_suspension_resumed_then_terminated_after_three_years(login: Any, core: Core, clock: FrozenClock) -> None:
    case = reminded(login, core, clock, "act")
    case.at("2026-03-31T10:00:00")
    case.complete("record_response", agency.response("not_performed"))
    case.at("2026-04-17T10:00:00")
    case.complete("enforcement_decision", agency.decision("other"))
    case.at("2026-04-20T10:00:00")
    case.complete("execute_enforcement", agency.execution("suspended"))
    assert case.ready() == ["resume_or_terminate"]
    assert case.due_day("timer_c9_suspension") == "2029-04-20"
    case.complete("resume_or_terminate", {"resumption": "resume", "resumption_reason": "中止情形消失。"})
    assert case.ready() == ["execute_enforcement"]
    case.at("2026-04-20T11:00:00")
    case.complete("execute_enforcement", agency.execution("suspended", "2026-04-20T11:00:00+08:00"))
    assert case.fire("2029-04-20T23:00:00") == 0
    assert case.fire("2029-04-21T09:00:00") == 1
    case.log_in()  # three years on, the tokens (400 days in the tests) have expired
    # three years of suspension permit ending execution (ACL Art. 39(2)); nobody missed a deadline
    c9 = case.timer("timer_c9_suspension")
    assert (c9["kind"], c9["status"]) == ("warning", "fired")
    assert case.ready() == ["resume_or_terminate"]
    case.complete("resume_or_terminate", {"resumption": "terminate", "resumption_reason": "中止执行满三年，当事人确无能力履行。"})
    case.ended("terminated")


def test_terminated_directly(login: Any, core: Core, clock: FrozenClock) -> None:
    case = reminded(login, core, clock, "act")
    case.at("2026-03-31T10:00:00")
    case.complete("record_response", agency.response("not_performed"))
    case.complete("enforcement_decision", {**agency.decision("other"), "decided_at": "2026-03-31T10:00:00+08:00",
                                           "execution_planned_at": "2026-03-31T10:00:00+08:00"})
    case.complete("execute_enforcement", agency.execution("terminated", "2026-03-31T10:00:00+08:00"))
    case.ended("terminated")


def test_agency_forms_mirror_the_law(login: Any, core: Core, clock: FrozenClock) -> None:
    case = Case.open(login, core, clock, AGENCY_MATTER, "2026-03-20T09:00:00")
    case.refused("record_obligation", {**agency.obligation(), "late_fee_rate_notified": False}, "late_fee_rate_notified")  # ACL Art. 45
    case.refused("record_obligation", {k: v for k, v in agency.obligation().items() if k != "payment_due_on"}, "payment_due_on")
    case.complete("record_obligation", agency.obligation())
    case.at("2026-03-20T10:00:00")
    case.complete("serve_agency_reminder", agency.REMINDER)
    case.refused("record_response", agency.response("moving_assets", asset_evidence=""), "asset_evidence")


# -- 申请人民法院强制执行 ----------------------------------------------------------------------------------

def court_case(login: Any, core: Core, clock: FrozenClock, deferral: str | None = None) -> Case:
    case = Case.open(login, core, clock, COURT_MATTER, "2026-03-05T09:00:00", "逾期不缴纳罚款，申请人民法院强制执行")
    case.complete("record_basis", court.basis(deferral))
    assert case.ready() == []  # nothing may be done before the litigation period (or the deferral) has run out
    assert case.due_day("wait_litigation_period") == (deferral or "2026-09-02")
    return case


def court_reminded(login: Any, core: Core, clock: FrozenClock) -> Case:
    case = court_case(login, core, clock)
    assert case.fire("2026-09-02T23:00:00") == 0
    assert case.fire("2026-09-03T00:00:01") == 1 and case.ready() == ["serve_reminder"]
    case.at("2026-09-03T10:00:00")
    case.complete("serve_reminder", court.REMINDER)
    assert "十个工作日" in case.document("serve_reminder")
    assert case.due_day("wait_j2_reminder") == "2026-09-17"
    assert case.fire("2026-09-17T20:00:00") == 0 and case.ready() == []
    assert case.fire("2026-09-18T09:00:00") == 1 and case.ready() == ["assess_performance"]
    return case


def court_applied(login: Any, core: Core, clock: FrozenClock) -> Case:
    case = court_reminded(login, core, clock)
    case.complete("assess_performance", court.NOT_PERFORMED)
    assert case.due_day("timer_j1_window") == "2026-12-02"
    case.complete("approve_application", court.APPROVAL)
    assert "广州市天河区人民法院" in case.document("approve_application")
    case.at("2026-09-21T10:00:00")
    case.complete("submit_application", court.SUBMIT)
    assert case.due_day("timer_j3_acceptance") == "2026-09-29"
    return case


def test_court_accepts_rules_and_executes(login: Any, core: Core, clock: FrozenClock) -> None:
    case = court_applied(login, core, clock)
    case.at("2026-09-24T10:00:00")
    case.complete("record_acceptance", court.ACCEPTED)
    assert case.timer("timer_j3_acceptance")["status"] == "met"
    assert case.due_day("timer_j4_ruling") == "2026-10-12"
    case.at("2026-10-09T10:00:00")
    case.complete("record_ruling", {"ruling": "enforce", "ruled_at": "2026-10-09T10:00:00+08:00", "parties_heard": False,
                                    "ruling_number": "（2026）粤0106行审1号"})
    assert case.timer("timer_j4_ruling")["status"] == "met"
    case.at("2026-11-02T10:00:00")
    case.complete("record_execution", court.EXECUTED)
    case.ended("executed")
    assert {t["status"] for t in case.view()["timers"]} == {"fired", "met"}


def test_the_party_performs_after_the_reminder(login: Any, core: Core, clock: FrozenClock) -> None:
    case = court_reminded(login, core, clock)
    case.complete("assess_performance", {"performed": True, "statement_received": True, "statement_review": "当事人称已缴纳，经核实属实。",
                                         "performance_note": "已缴清。"})
    case.ended("performed")


def test_deferral_moves_the_waiting_period_and_the_window(login: Any, core: Core, clock: FrozenClock) -> None:
    case = court_case(login, core, clock, deferral="2026-10-15")
    assert case.fire("2026-09-03T00:00:01") == 0 and case.ready() == []  # still inside the deferral
    assert case.fire("2026-10-16T09:00:00") == 1 and case.ready() == ["serve_reminder"]
    case.complete("serve_reminder", {**court.REMINDER, "reminder_served_at": "2026-10-16T09:00:00+08:00"})
    assert case.fire("2026-11-02T09:00:00") == 1
    case.complete("assess_performance", court.NOT_PERFORMED)
    assert case.due_day("timer_j1_window") == "2027-01-15"  # 3 months after the deferral (APL Art. 72(2))


def test_a_late_application_is_flagged(login: Any, core: Core, clock: FrozenClock) -> None:
    case = court_reminded(login, core, clock)
    case.complete("assess_performance", court.NOT_PERFORMED)
    assert case.fire("2026-12-02T23:00:00") == 0
    assert case.fire("2026-12-03T09:00:00") == 1
    assert case.timer("timer_j1_window")["status"] == "overdue"
    overdue = case.officer.get(f"/api/v1/timers?case_id={case.id}&status=overdue").get_json()["items"]
    assert [t["bpmn_id"] for t in overdue] == ["timer_j1_window"]  # what supervision sees
    case.complete("approve_application", court.APPROVAL)
    assert case.ready() == ["submit_application"]
    assert case.timer("timer_j1_submit")["status"] in ("overdue", "fired")  # armed past its due date


def test_not_accepted_then_accepted_on_review_refused_then_enforced_on_review(login: Any, core: Core, clock: FrozenClock) -> None:
    case = court_applied(login, core, clock)
    case.at("2026-09-28T10:00:00")
    case.complete("record_acceptance", {"court_accepted": False, "not_accepted_at": "2026-09-28T10:00:00+08:00"})
    assert case.ready() == ["record_acceptance_review"]
    assert case.due_day("timer_j3_review") == "2026-10-13"  # 15 days: 10-13 (after 国庆)
    case.at("2026-10-12T10:00:00")
    case.complete("record_acceptance_review", {"acceptance_review": "accepted", "accepted_at": "2026-10-12T10:00:00+08:00",
                                               "review_note": "上一级人民法院裁定受理。"})
    assert case.ready() == ["record_ruling"]
    case.at("2026-10-16T15:00:00")
    case.complete("record_ruling", {"ruling": "refuse", "ruled_at": "2026-10-16T10:00:00+08:00", "parties_heard": True,
                                    "ruling_received_at": "2026-10-16T15:00:00+08:00", "ruling_number": "（2026）粤0106行审2号"})
    assert case.ready() == ["record_reconsideration"]
    assert case.due_day("timer_j4_reconsideration") == "2026-11-02"  # day 15 is Saturday 10-31
    case.complete("record_reconsideration", {"ruling_review": "enforce", "review_note": "上一级人民法院裁定准予执行。"})
    assert case.ready() == ["record_execution"]
    case.at("2026-11-02T10:00:00")
    case.complete("record_execution", {**court.EXECUTED, "execution_result": "terminated", "execution_note": "被执行人无财产可供执行。"})
    case.ended("execution_terminated")


@pytest.mark.parametrize(("accepted", "review", "outcome"), [
    (False, "not_applied", "not_accepted"), (False, "rejected", "not_accepted"),
    (True, "not_applied", "enforcement_refused"), (True, "refuse", "enforcement_refused"),
])
def test_not_accepted_or_refused_ends(login: Any, core: Core, clock: FrozenClock, accepted: bool, review: str, outcome: str) -> None:
    case = court_applied(login, core, clock)
    case.at("2026-09-28T10:00:00")
    if not accepted:
        case.complete("record_acceptance", {"court_accepted": False, "not_accepted_at": "2026-09-28T10:00:00+08:00"})
        case.complete("record_acceptance_review", {"acceptance_review": review, "review_note": "略。"})
    else:
        case.complete("record_acceptance", {**court.ACCEPTED, "accepted_at": "2026-09-28T10:00:00+08:00"})
        case.at("2026-10-09T15:00:00")
        case.complete("record_ruling", {"ruling": "refuse", "ruled_at": "2026-10-09T10:00:00+08:00", "parties_heard": False,
                                        "ruling_received_at": "2026-10-09T15:00:00+08:00", "ruling_number": "（2026）粤0106行审3号"})
        case.complete("record_reconsideration", {"ruling_review": review, "review_note": "略。"})
    case.ended(outcome)


def test_court_forms_mirror_the_law(login: Any, core: Core, clock: FrozenClock) -> None:
    case = Case.open(login, core, clock, COURT_MATTER, "2026-03-05T09:00:00")
    case.refused("record_basis", {**court.basis(), "reconsideration_or_suit": True}, "reconsideration_or_suit")


# -- 行政检查 -------------------------------------------------------------------------------------------

def drawn_case(login: Any, seed: str) -> tuple[str, int]:
    """A 双随机 draw from a recorded seed through /api/v1/inspections: the case it opened, and who inspects."""
    head = login("head1")
    subjects = []
    for i, code in enumerate(["91350100M000100Y43", "91440106MA5CXXXX2N", "91440106MA5D00003P"]):
        response = head.post("/api/v1/inspections/subjects", json={
            "party": {"type": "organization", "name": f"广州市天河区示例食品店{i + 1}", "credit_code": code}, "category": "食品经营者"})
        assert response.status_code == 201, response.get_json()
        subjects.append(response.get_json()["id"])
    response = head.post("/api/v1/inspections/draws", json={"plan_name": "2026年食品经营者双随机抽查", "matter_code": INSPECTION_MATTER,
                                                            "count": 1, "category": "食品经营者", "seed": seed})
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    expected = pick(seed, subjects, made["inspector_pool"], 1)  # anyone can recompute the draw from its seed
    assert [(r["subject_id"], r["officer_ids"]) for r in made["result"]] == [(e["subject_id"], e["officer_ids"]) for e in expected]
    again = head.get(f"/api/v1/inspections/draws/{made['id']}").get_json()
    assert again["reproduced"] is True and again["result"] == made["result"]
    (item,) = made["result"]
    users = {o["id"]: o["username"] for o in head.get("/api/v1/officers").get_json()["items"]}
    return users[item["officer_ids"][0]], item["case_id"]


def test_a_draw_without_a_seed_records_one_it_can_be_reproduced_from(login: Any, clock: FrozenClock) -> None:
    head = login("head1")
    for i, code in enumerate(["91350100M000100Y43", "91440106MA5CXXXX2N"]):
        assert head.post("/api/v1/inspections/subjects", json={
            "party": {"type": "organization", "name": f"广州市天河区示例食品店{i + 1}", "credit_code": code},
            "category": "食品经营者"}).status_code == 201
    response = head.post("/api/v1/inspections/draws", json={"plan_name": "2026年专项抽查", "matter_code": INSPECTION_MATTER,
                                                            "count": 1, "category": "食品经营者"})
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["seed"] and made["reproduced"] is True
    expected = pick(made["seed"], made["subject_pool"], made["inspector_pool"], 1)
    assert [(r["subject_id"], r["officer_ids"]) for r in made["result"]] == [(e["subject_id"], e["officer_ids"]) for e in expected]


def inspection_case(login: Any, core: Core, clock: FrozenClock, kind: str) -> Case:
    if kind != "random":
        return Case.open(login, core, clock, INSPECTION_MATTER, "2026-03-02T09:00:00", f"{kind} 检查")
    clock.set(at("2026-03-02T09:00:00"))
    inspector, case_id = drawn_case(login, "5eed0001")
    return Case(login, core, clock, case_id, officer=inspector)


@pytest.mark.parametrize(("kind", "shown"), [
    ("routine", "检查类型日常检查"), ("special", "检查类型专项检查"),
    ("complaint", "投诉举报、交办、移送引发的检查（编号：12315-2026-0001）"), ("random", "检查类型双随机抽查"),
])
def test_compliant_inspection_is_published_within_20_working_days(login: Any, core: Core, clock: FrozenClock, kind: str,
                                                                  shown: str) -> None:
    case = inspection_case(login, core, clock, kind)
    case.complete("prepare_inspection", inspection.plan(kind))
    case.at("2026-03-02T11:00:00")
    case.complete("conduct_inspection", inspection.record(False))
    text = case.document("conduct_inspection")
    assert "检查记录表" in text and "未发现违法行为" in text and shown in text
    assert case.view()["party"]["name"] in text  # for a draw: the drawn subject
    assert case.due_day("timer_d6_publication") == "2026-03-30"
    assert case.ready() == ["publish_result"]
    case.at("2026-03-10T10:00:00")
    case.complete("publish_result", inspection.PUBLISH)
    case.ended("compliant")
    assert case.timer("timer_d6_publication")["status"] == "met"


def test_inspection_forms_mirror_the_law(login: Any, core: Core, clock: FrozenClock) -> None:
    case = inspection_case(login, core, clock, "routine")
    case.refused("prepare_inspection", {**inspection.plan("random"), "draw_reference": ""}, "draw_reference")
    case.refused("prepare_inspection", {**inspection.plan("complaint"), "complaint_reference": ""}, "complaint_reference")
    case.complete("prepare_inspection", inspection.plan("routine"))
    for form, field in [(inspection.record(False, officers_present=["张明"]), "officers_present"),  # two officers
                        (inspection.record(False, party_present=False), "witness_name"),  # a witness
                        (inspection.record(False, enforcement_ids_shown=False), "enforcement_ids_shown")]:
        case.refused("conduct_inspection", form, field)


@pytest.mark.parametrize(("follow_up", "title", "referred"), [
    ("order_correction", "责令改正通知书", False),  # rectification only
    ("order_and_file", "责令改正通知书", True),     # rectification and a punishment case
    ("file_case", "处理意见", True),
    ("transfer", "处理意见", False),
])
def test_violation_found_is_followed_up(login: Any, core: Core, clock: FrozenClock, follow_up: str, title: str,
                                        referred: bool) -> None:
    case = inspection_case(login, core, clock, "random")
    case.complete("prepare_inspection", inspection.plan())
    case.at("2026-03-02T11:00:00")
    case.complete("conduct_inspection", inspection.record(True, party_present=False, witness_name="物业王某", party_signed=False,
                                                          refusal_note="当事人不在场"))
    assert case.fire("2026-03-30T23:00:00") == 0
    assert case.fire("2026-03-31T09:00:00") == 1  # published late: recorded
    case.complete("publish_result", {**inspection.PUBLISH, "published_at": "2026-03-31T09:00:00+08:00",
                                     "result_summary": "发现问题，已责令改正。"})
    assert case.ready() == ["decide_follow_up"]
    case.complete("decide_follow_up", inspection.follow_up_form(follow_up))
    case.ended("violation_found")
    assert case.timer("timer_d6_publication")["status"] == "breached"
    text = case.document("decide_follow_up")
    assert title in text
    if follow_up in ("order_correction", "order_and_file"):
        assert "建立并执行进货查验记录制度" in text and "2026年4月15日" in text

    response = case.officer.post(f"/api/v1/inspections/cases/{case.id}/referral", json={"matter_code": PUNISHMENT_MATTER})
    if not referred:
        assert response.status_code == 409  # no decision to file a case
        return
    assert response.status_code == 201, response.get_json()
    referral = response.get_json()
    assert referral["evidence"]["record_number"] == "穗天市监检记〔2026〕7号"
    assert referral["evidence"]["suspected_violation"] == "未建立进货查验记录制度"
    assert referral["evidence"]["witness_name"] == "物业王某"
    punishment = case.officer.get(f"/api/v1/cases/{referral['punishment_case_id']}").get_json()
    inspected = case.view()
    assert punishment["matter"]["process_id"] == "general_punishment" and punishment["party"] == inspected["party"]
    assert sorted(o["id"] for o in punishment["officers"]) == sorted(o["id"] for o in inspected["officers"])
    assert "穗天市监检记〔2026〕7号" in punishment["summary"]
    assert {t["bpmn_id"]: t for t in punishment["timers"]}["timer_p2_filing"]["started_at"].startswith("2026-03-02T10:00:00")
    # The inspection keeps its record, and both cases name the referral.
    assert inspected["status"] == "closed" and inspected["outcome"] == "violation_found"
    assert case.officer.get(f"/api/v1/inspections/cases/{case.id}/referral").get_json()["punishment_case_id"] == punishment["id"]
    assert case.officer.get(f"/api/v1/inspections/cases/{punishment['id']}/referral").get_json()["inspection_case_id"] == case.id
    assert "检查记录表" in case.document("conduct_inspection")

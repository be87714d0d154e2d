"""查封、扣押 (processes/seizure_detention.bpmn): prior approval or the 24-hour emergency report, decision
and inventory on the spot, the 30-day period with one 30-day extension, appraisal time excluded, the
outcomes, and release when the period expires. Live and through save/restore round trips.

Due dates by hand (time-limits.md §0, §2; 2026): measure taken Monday 2026-03-02 10:00 →
P3 24 hours: 2026-03-03 10:00; C2 30 days: Wednesday 2026-04-01; extended to 60 days: 2026-05-01 is 劳动节
(05-01..05-05 off) → Wednesday 2026-05-06; 30 + 10 appraisal days: Saturday 2026-04-11 (an ordinary
weekend) → Monday 2026-04-13; 60 + 10 days: Monday 2026-05-11.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from lxml import etree

from engine import task_rules
from engine.clock import CHINA_TZ
from engine.errors import InvalidInput
from engine.spiff import Definition
from tests.engine.conftest import PROCESSES, Case, library_definition

PROCESS_FILE = PROCESSES / "seizure_detention.bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI", "dc": "http://www.omg.org/spec/DD/20100524/DC"}
ORGANIZATION = {"type": "organization", "name": "广州某某食品有限公司", "credit_code": "91440101MA59XXXX1X"}
MATTER = {"code": "440202001001", "name": "查封、扣押不符合食品安全标准的食品", "legal_basis": "《中华人民共和国食品安全法》第一百一十条第四项",
          "category": "coercion"}
LANES = {"apply_measure": "officer", "approve_measure": "agency_head", "execute_measure": "officer",
         "approve_afterwards": "agency_head", "decide_handling": "officer", "approve_extension": "agency_head",
         "approve_handling": "agency_head", "record_handling": "officer", "release_items": "officer"}


@pytest.fixture(scope="module")
def seizure_definition() -> Definition:
    return library_definition(PROCESS_FILE)


@pytest.fixture
def make(runtime, seizure_definition, clock, roundtrip) -> Callable[[], Case]:
    def start() -> Case:
        case = Case(runtime, seizure_definition, clock, roundtrip)
        case.at("2026-03-02T09:30")
        return case.start({
            "case_id": 3, "case_number": "穗天市监强〔2026〕3号", "agency_name": "广州市天河区市场监督管理局",
            "clue_received_at": "2026-03-02T09:00:00+08:00", "opened_at": "2026-03-02T09:00:00+08:00",
            "party": ORGANIZATION, "matter": MATTER, "officer_ids": [1, 2],
        })
    return start


def application(urgency: str = "ordinary") -> dict:
    form = {"measure_type": "detain", "grounds": "当事人仓库存放的一批标签不符合规定的预包装食品涉嫌不符合食品安全标准。",
            "measure_legal_basis": "《中华人民共和国食品安全法》第一百一十条第四项", "items_summary": "预包装饼干一批",
            "urgency": urgency, "applied_at": "2026-03-02T09:30:00+08:00"}
    if urgency == "emergency":
        form["emergency_reason"] = "当事人正在转移涉案食品。"
    return form


APPROVE = {"approved": True, "approval_opinion": "同意。", "approved_at": "2026-03-02T09:45:00+08:00"}
REFUSE = {"approved": False, "approval_opinion": "证据不足，不同意。", "approved_at": "2026-03-02T09:45:00+08:00"}


def execution(**extra) -> dict:
    form = {
        "decision_document_number": "穗天市监强扣〔2026〕3号", "taken_at": "2026-03-02T10:00:00+08:00", "place": "天河区某路1号仓库",
        "officers_present": ["张明（44010600101）", "李华（44010600102）"], "enforcement_ids_shown": True, "party_notified": True,
        "party_present": True, "reasons_and_rights_told": True, "statement_summary": "当事人无异议。",
        "items": [{"item_name": "某牌饼干", "specification": "200g/袋", "quantity": 120, "unit": "袋"}],
        "custody": "agency", "delivered_on_spot": True, "record_signed_by_party": True,
    }
    form.update(extra)
    return form


def handle(outcome: str) -> dict:
    return {"action": "handle", "handling_outcome": outcome, "handling_reasons": "经检验，涉案食品不符合食品安全标准。"}


def decided(outcome: str) -> dict:
    return {"handling_outcome": outcome, "handling_document_number": "穗天市监处〔2026〕9号", "handling_opinion": "同意。",
            "handling_decided_at": "2026-03-20T10:00:00+08:00"}


EXTEND = {"action": "extend", "extension_reason": "涉案食品来源复杂，需向外省核查"}
APPRAISE = {"action": "appraisal", "appraisal_kind": "testing", "appraisal_from": "2026-03-05", "appraisal_days": 10,
            "appraisal_notified": True}
RELEASE = {"release_document_number": "穗天市监解〔2026〕3号", "released_at": "2026-03-20T10:00:00+08:00",
           "return_method": "items_returned", "returned_to": "当事人法定代表人"}


def due_day(timer) -> str:
    local = timer.due_at.astimezone(CHINA_TZ)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    return local.date().isoformat()


def seized(case: Case, urgency: str = "ordinary") -> Case:
    case.complete("apply_measure", application(urgency))
    if urgency == "ordinary":
        case.complete("approve_measure", APPROVE)
    case.at("2026-03-02T11:00")
    case.complete("execute_measure", execution())
    return case


def test_diagram_lanes_timers_and_layout(seizure_definition) -> None:
    tree = etree.parse(str(PROCESS_FILE))
    assert [lane.get("name") for lane in tree.iterfind(".//bpmn:lane", NS)] == ["officer", "legal_reviewer", "agency_head"]
    for task_id, lane in LANES.items():
        assert seizure_definition.task_spec(task_id).lane == lane
    timers = {t.get("id"): t for t in tree.iterfind(".//bpmn:boundaryEvent", NS)}
    assert set(timers) == {"timer_p3_report", "timer_c2_period"}
    assert timers["timer_c2_period"].get("cancelActivity") == "true"  # expiry ends the period: release
    for timer in timers.values():
        props = {p.get("name"): p.get("value") for p in timer.iterfind(".//spiffworkflow:property", NS)}
        assert props["legal_basis"].startswith("行政强制法第") and props["limit"] in ("24 hours", "30 calendar_days")
    shapes = {s.get("bpmnElement"): float(s.find("dc:Bounds", NS).get("x")) for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    assert shapes["start"] < shapes["apply_measure"] < shapes["execute_measure"] < shapes["custody_stage"] < shapes["release_items"]
    nodes = {e.get("id") for e in tree.getroot().iter() if e.get("id") and e.tag.endswith(("Task", "Event", "Gateway", "subProcess"))}
    assert nodes <= set(shapes)


def test_approved_seizure_ends_in_confiscation(make) -> None:
    case = seized(make())
    doc = case.documents["execute_measure"]
    assert "扣押决定书" in doc and "扣押财物清单" in doc and "某牌饼干" in doc and "广州某某食品有限公司" in doc
    c2 = case.timer("timer_c2_period")
    assert due_day(c2) == "2026-04-01" and c2.status == "pending" and c2.started_at == "2026-03-02T10:00:00+08:00"
    assert case.ready() == ["decide_handling"]
    case.at("2026-03-20T10:00")
    case.complete("decide_handling", handle("confiscate"))
    case.complete("approve_handling", decided("confiscate"))
    assert case.timer("timer_c2_period").status == "met"
    case.complete("record_handling", {"handled_at": "2026-03-20T11:00:00+08:00", "handling_record": "已没收入库。",
                                      "witnesses": ["张明", "李华"]})
    assert case.completed and case.data["outcome"] == "confiscated"


def test_destruction(make) -> None:
    case = seized(make())
    case.at("2026-03-20T10:00")
    case.complete("decide_handling", handle("destroy"))
    case.complete("approve_handling", decided("destroy"))
    case.complete("record_handling", {"handled_at": "2026-03-20T11:00:00+08:00", "handling_record": "已监督销毁。",
                                      "witnesses": ["张明", "李华"]})
    assert case.data["outcome"] == "destroyed"


def test_head_refuses_beforehand(make) -> None:
    case = make()
    case.complete("apply_measure", application())
    case.complete("approve_measure", REFUSE)
    assert case.completed and case.data["outcome"] == "not_approved"


def test_emergency_measure_reported_within_24_hours_then_released(make) -> None:
    case = seized(make(), "emergency")
    p3 = case.timer("timer_p3_report")
    assert p3.due_at == datetime(2026, 3, 3, 10, 0, tzinfo=CHINA_TZ) and p3.status == "pending"
    assert case.ready() == ["approve_afterwards"]
    case.at("2026-03-02T16:00")
    case.complete("approve_afterwards", {**APPROVE, "approved_at": "2026-03-02T16:00:00+08:00"})
    assert case.timer("timer_p3_report").status == "met"
    case.at("2026-03-20T10:00")
    case.complete("decide_handling", handle("release"))
    case.complete("approve_handling", decided("release"))
    case.complete("release_items", RELEASE)
    assert case.completed and case.data["outcome"] == "released" and case.data["release_ground"] == "handling_decision"
    assert "经调查，不再需要查封、扣押" in case.documents["release_items"]


def test_emergency_measure_the_head_disagrees_with_is_lifted_at_once(make) -> None:
    case = seized(make(), "emergency")
    case.at("2026-03-03T11:00")
    assert case.fire() == ["timer_p3_report"]  # reported late: recorded, not blocking
    assert case.timer("timer_p3_report").status == "overdue"
    case.complete("approve_afterwards", {**REFUSE, "approved_at": "2026-03-03T11:00:00+08:00"})
    assert case.ready() == ["release_items"]
    case.complete("release_items", {**RELEASE, "released_at": "2026-03-03T11:30:00+08:00"})
    assert case.data["release_ground"] == "not_approved" and case.completed
    assert "负责人认为不应当采取" in case.documents["release_items"]
    assert case.timer("timer_p3_report").status == "breached"


def test_extension_moves_the_period_and_expiry_releases(make) -> None:
    case = seized(make())
    case.at("2026-03-25T10:00")
    case.complete("decide_handling", EXTEND)
    assert case.task("approve_extension").data["extended_period_end"] == "2026-05-06"  # day 60 is 05-01, a holiday
    case.complete("approve_extension", {"extension_approved": True, "extension_opinion": "情况复杂，同意延长三十日。",
                                        "extension_notice_number": "穗天市监延〔2026〕1号",
                                        "extension_notified_at": "2026-03-25T15:00:00+08:00"})
    notice = case.documents["approve_extension"]
    assert "延长查封（扣押）期限通知书" in notice and "2026年5月6日" in notice
    assert case.data["period_days"] == 60 and case.data["extension_count"] == 1
    assert due_day(case.timer("timer_c2_period")) == "2026-05-06"
    assert case.ready() == ["decide_handling"]
    case.at("2026-05-06T20:00")
    assert case.fire() == []
    case.at("2026-05-07T00:00:01")
    assert case.fire() == ["timer_c2_period"]
    assert case.ready() == ["release_items"]  # the expired period is itself the ground for release
    assert case.data["release_ground"] == "period_expired"
    case.complete("release_items", {**RELEASE, "released_at": "2026-05-07T09:00:00+08:00"})
    assert case.completed and "期限已经届满" in case.documents["release_items"]


def test_a_second_extension_is_refused(make) -> None:
    case = seized(make())
    case.complete("decide_handling", EXTEND)
    case.complete("approve_extension", {"extension_approved": True, "extension_opinion": "同意。",
                                        "extension_notice_number": "穗天市监延〔2026〕1号",
                                        "extension_notified_at": "2026-03-02T15:00:00+08:00"})
    task = case.task("decide_handling")
    now = datetime(2026, 3, 3, tzinfo=CHINA_TZ)
    with pytest.raises(InvalidInput) as err:
        task_rules.check(task.properties, task.data, EXTEND, now, task.bpmn_id)
    (problem,) = err.value.problems
    assert problem.field == "action" and "行政强制法第二十五条" in problem.message
    task_rules.check(task.properties, task.data, APPRAISE, now, task.bpmn_id)  # other choices remain


def test_refused_extension_keeps_the_period(make) -> None:
    case = seized(make())
    case.complete("decide_handling", EXTEND)
    case.complete("approve_extension", {"extension_approved": False, "extension_opinion": "不符合情况复杂的条件。"})
    assert "不予批准延长" in case.documents["approve_extension"]
    assert case.data["period_days"] == 30 and case.data["extension_count"] == 0
    assert due_day(case.timer("timer_c2_period")) == "2026-04-01"
    task = case.task("decide_handling")
    task_rules.check(task.properties, task.data, EXTEND, datetime(2026, 3, 3, tzinfo=CHINA_TZ), task.bpmn_id)


def test_appraisal_time_is_not_counted(make) -> None:
    case = seized(make())
    case.complete("decide_handling", APPRAISE)
    assert case.data["excluded_days"] == 10
    assert due_day(case.timer("timer_c2_period")) == "2026-04-13"
    case.complete("decide_handling", EXTEND)
    assert case.task("approve_extension").data["extended_period_end"] == "2026-05-11"
    case.complete("approve_extension", {"extension_approved": True, "extension_opinion": "同意。",
                                        "extension_notice_number": "穗天市监延〔2026〕2号",
                                        "extension_notified_at": "2026-03-02T15:00:00+08:00"})
    assert "已扣除检测、检验、检疫或者技术鉴定期间10日" in case.documents["approve_extension"]
    assert due_day(case.timer("timer_c2_period")) == "2026-05-11"
    case.at("2026-04-20T10:00")
    case.complete("decide_handling", handle("release"))
    case.complete("approve_handling", {**decided("release"), "handling_decided_at": "2026-04-20T10:00:00+08:00"})
    case.complete("release_items", {**RELEASE, "released_at": "2026-04-20T11:00:00+08:00"})
    assert case.completed


def test_forms_mirror_the_law(make) -> None:
    case = make()
    case.complete("apply_measure", application())
    case.complete("approve_measure", APPROVE)
    assert case.form_errors("execute_measure", execution(officers_present=["张明"]))  # two officers (ACL Art. 18(2))
    assert case.form_errors("execute_measure", execution(party_present=False))  # a witness when the party is absent
    assert not case.form_errors("execute_measure", execution(party_present=False, witness_name="居委会王某"))
    assert case.form_errors("execute_measure", execution(items=[]))  # an inventory (ACL Art. 24)
    assert case.form_errors("execute_measure", execution(delivered_on_spot=False))
    assert case.form_errors("execute_measure", execution(enforcement_ids_shown=False))
    case.at("2026-03-02T11:00")
    case.complete("execute_measure", execution())
    assert case.form_errors("decide_handling", {"action": "appraisal", "appraisal_kind": "testing", "appraisal_from": "2026-03-05"})
    assert case.form_errors("decide_handling", {**APPRAISE, "appraisal_days": 0})
    assert case.form_errors("decide_handling", {"action": "extend"})  # reasons (ACL Art. 25(2))


def test_dates_in_the_future_are_refused(make) -> None:
    case = make()
    task = case.task("apply_measure")
    with pytest.raises(InvalidInput) as err:
        task_rules.check(task.properties, task.data, {**application(), "applied_at": "2026-03-02T12:00:00+08:00"},
                         datetime(2026, 3, 2, 9, 30, tzinfo=CHINA_TZ), task.bpmn_id)
    assert [p.field for p in err.value.problems] == ["applied_at"]

"""先行登记保存证据 (processes/evidence_preservation.bpmn): approval or the 24-hour emergency report, the
notice and list on the spot, the handling decision within 7 working days (P4) or the lapse of the
preservation, every outcome. Live and through save/restore round trips.

Due dates by hand (time-limits.md §0; no holiday in March 2026): preserved Monday 2026-03-02 10:00 →
P4 7 working days: Wednesday 2026-03-11 (24:00); P3 24 hours: 2026-03-03 10:00.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from lxml import etree

from engine.clock import CHINA_TZ
from engine.spiff import Definition
from tests.engine.conftest import PROCESSES, Case, library_definition

PROCESS_FILE = PROCESSES / "evidence_preservation.bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI", "dc": "http://www.omg.org/spec/DD/20100524/DC"}
PERSON = {"type": "person", "name": "张三", "id_number": "440106199001011234"}
LANES = {"apply_preservation": "officer", "approve_preservation": "agency_head", "register_evidence": "officer",
         "approve_afterwards": "agency_head", "decide_preservation": "officer", "approve_preservation_handling": "agency_head",
         "release_preserved": "officer"}


@pytest.fixture(scope="module")
def preservation_definition() -> Definition:
    return library_definition(PROCESS_FILE)


@pytest.fixture
def make(runtime, preservation_definition, clock, roundtrip) -> Callable[[], Case]:
    def start() -> Case:
        case = Case(runtime, preservation_definition, clock, roundtrip)
        case.at("2026-03-02T09:30")
        return case.start({
            "case_id": 4, "case_number": "穗天市监立〔2026〕4号", "agency_name": "广州市天河区市场监督管理局",
            "clue_received_at": "2026-03-02T09:00:00+08:00", "opened_at": "2026-03-02T09:00:00+08:00",
            "party": PERSON, "matter": {"code": "440201007001", "name": "对侵犯注册商标专用权行为的行政处罚",
                                        "legal_basis": "《中华人民共和国商标法》第五十七条", "category": "punishment"},
            "officer_ids": [1, 2],
        })
    return start


def application(urgency: str = "ordinary") -> dict:
    form = {"loss_risk": "涉嫌侵权商品可能被转移、销售", "evidence_summary": "某牌运动鞋一批", "urgency": urgency,
            "applied_at": "2026-03-02T09:30:00+08:00"}
    if urgency == "emergency":
        form["emergency_reason"] = "当事人正在装车转移。"
    return form


APPROVE = {"approved": True, "approval_opinion": "同意。", "approved_at": "2026-03-02T09:30:00+08:00"}
REFUSE = {"approved": False, "approval_opinion": "不同意。", "approved_at": "2026-03-02T09:30:00+08:00"}


def record(**extra) -> dict:
    form = {"preservation_notice_number": "穗天市监先登〔2026〕4号", "preserved_at": "2026-03-02T10:00:00+08:00",
            "place": "天河区某商铺", "officers_present": ["张明（44010600101）", "李华（44010600102）"], "enforcement_ids_shown": True,
            "party_present": True, "items": [{"item_name": "某牌运动鞋", "specification": "42码", "quantity": 36, "unit": "双"}],
            "storage": "on_site", "notice_delivered": True}
    form.update(extra)
    return form


def proposal(action: str) -> dict:
    return {"preservation_action": action, "preservation_reasons": "经权利人辨认，涉案商品系侵权商品。"}


def approval(approved: bool = True) -> dict:
    form = {"handling_approved": approved, "handling_opinion": "同意。" if approved else "理由不充分，请重新提出。",
            "handling_decided_at": "2026-03-05T10:00:00+08:00"}
    if approved:
        form["handling_document_number"] = "穗天市监先处〔2026〕4号"
    return form


RELEASE = {"release_document_number": "穗天市监先解〔2026〕4号", "released_at": "2026-03-05T11:00:00+08:00", "returned_to": "张三"}


def registered(case: Case, urgency: str = "ordinary") -> Case:
    case.complete("apply_preservation", application(urgency))
    if urgency == "ordinary":
        case.complete("approve_preservation", APPROVE)
    case.at("2026-03-02T10:30")
    case.complete("register_evidence", record())
    return case


def due_day(timer) -> str:
    local = timer.due_at.astimezone(CHINA_TZ)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    return local.date().isoformat()


def test_diagram_lanes_timers_and_layout(preservation_definition) -> None:
    tree = etree.parse(str(PROCESS_FILE))
    assert [lane.get("name") for lane in tree.iterfind(".//bpmn:lane", NS)] == ["officer", "legal_reviewer", "agency_head"]
    for task_id, lane in LANES.items():
        assert preservation_definition.task_spec(task_id).lane == lane
    timers = {t.get("id"): t for t in tree.iterfind(".//bpmn:boundaryEvent", NS)}
    assert set(timers) == {"timer_p3_report", "timer_p4_handling"}
    p4 = {p.get("name"): p.get("value") for p in timers["timer_p4_handling"].iterfind(".//spiffworkflow:property", NS)}
    assert p4["legal_basis"] == "行政处罚法第五十六条、第八十五条；市场监督管理行政处罚程序规定第三十五条"
    assert p4["limit"] == "7 working_days" and timers["timer_p4_handling"].get("cancelActivity") == "true"
    shapes = {s.get("bpmnElement"): float(s.find("dc:Bounds", NS).get("x")) for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    assert shapes["start"] < shapes["register_evidence"] < shapes["handling_stage"] < shapes["release_preserved"]


@pytest.mark.parametrize(("action", "outcome"), [
    ("record", "preserved_by_record"), ("testing", "sent_for_testing"), ("seizure", "converted_to_seizure"),
    ("confiscate", "confiscated"),
])
def test_handling_decision_within_seven_working_days(make, action, outcome) -> None:
    case = registered(make())
    assert "先行登记保存通知书" in case.documents["register_evidence"] and "某牌运动鞋" in case.documents["register_evidence"]
    p4 = case.timer("timer_p4_handling")
    assert due_day(p4) == "2026-03-11" and p4.started_at == "2026-03-02T10:00:00+08:00"
    case.at("2026-03-05T10:00")
    case.complete("decide_preservation", proposal(action))
    case.complete("approve_preservation_handling", approval())
    assert "先行登记保存物品处理决定书" in case.documents["approve_preservation_handling"]
    assert case.completed and case.data["outcome"] == outcome
    assert case.timer("timer_p4_handling").status == "met"


def test_release_by_decision_after_a_refused_proposal(make) -> None:
    case = registered(make())
    case.at("2026-03-05T10:00")
    case.complete("decide_preservation", proposal("confiscate"))
    case.complete("approve_preservation_handling", approval(False))
    assert "不予批准" in case.documents["approve_preservation_handling"]
    assert case.ready() == ["decide_preservation"]
    case.complete("decide_preservation", proposal("release"))
    case.complete("approve_preservation_handling", approval())
    case.complete("release_preserved", RELEASE)
    assert case.completed and case.data["release_ground"] == "handling_decision"
    assert "违法事实不成立或者不需要继续保存" in case.documents["release_preserved"]


def test_the_preservation_lapses_after_seven_working_days(make) -> None:
    case = registered(make())
    case.at("2026-03-11T23:00")
    assert case.fire() == []
    case.at("2026-03-12T00:00:01")
    assert case.fire() == ["timer_p4_handling"]
    assert case.ready() == ["release_preserved"]
    assert case.data["outcome"] == "lapsed" and case.data["release_ground"] == "lapsed"
    case.complete("release_preserved", {**RELEASE, "released_at": "2026-03-12T09:00:00+08:00"})
    assert case.completed and "自动解除" in case.documents["release_preserved"]
    assert case.data["outcome"] == "lapsed"


def test_emergency_preservation_reported_and_approved(make) -> None:
    case = registered(make(), "emergency")
    assert case.timer("timer_p3_report").due_at == datetime(2026, 3, 3, 10, 0, tzinfo=CHINA_TZ)
    assert case.ready() == ["approve_afterwards"]
    case.complete("approve_afterwards", {**APPROVE, "approved_at": "2026-03-02T10:30:00+08:00"})
    assert case.timer("timer_p3_report").status == "met"
    assert due_day(case.timer("timer_p4_handling")) == "2026-03-11"
    case.complete("decide_preservation", proposal("record"))
    case.complete("approve_preservation_handling", approval())
    assert case.completed


def test_emergency_preservation_the_head_disagrees_with(make) -> None:
    case = registered(make(), "emergency")
    case.complete("approve_afterwards", {**REFUSE, "approved_at": "2026-03-02T10:30:00+08:00"})
    assert case.ready() == ["release_preserved"]
    case.complete("release_preserved", RELEASE)
    assert case.data["release_ground"] == "not_approved" and case.completed


def test_head_refuses_beforehand(make) -> None:
    case = make()
    case.complete("apply_preservation", application())
    case.complete("approve_preservation", REFUSE)
    assert case.completed and case.data["outcome"] == "not_approved"


def test_forms_mirror_the_law(make) -> None:
    case = make()
    assert case.form_errors("apply_preservation", {**application(), "urgency": "emergency"})  # the emergency stated
    case.complete("apply_preservation", application())
    case.complete("approve_preservation", APPROVE)
    assert case.form_errors("register_evidence", record(officers_present=["张明"]))  # two officers (APL Art. 42)
    assert case.form_errors("register_evidence", record(party_present=False))  # a witness
    assert not case.form_errors("register_evidence", record(party_present=False, witness_name="商场保安王某"))
    assert case.form_errors("register_evidence", record(items=[]))
    assert case.form_errors("register_evidence", record(enforcement_ids_shown=False))

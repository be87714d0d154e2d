"""行政处罚简易程序 (processes/simplified_punishment.bpmn): every path, every statutory timer, the
APL Art. 51 limits. Each scenario runs live and through save/restore round trips (`roundtrip`).

Due dates by hand from /work/shared/legal/time-limits.md (section 0 counting rules; 2026 has no
holiday in March): decision Monday 2026-03-02 →
Q3 filing 7 working days → Wednesday 2026-03-11; Q5 payment 15 calendar days → Tuesday 2026-03-17
(the worked timeline 1G gives the same date); P14 hand-over 2 working days → Wednesday 2026-03-04.
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

PROCESS_FILE = PROCESSES / "simplified_punishment.bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI", "dc": "http://www.omg.org/spec/DD/20100524/DC"}
PERSON = {"type": "person", "name": "张三", "id_number": "440106199001011234"}
ORGANIZATION = {"type": "organization", "name": "广州某某贸易有限公司", "credit_code": "91440101MA59XXXX1X"}
MATTER = {"code": "440201003901", "name": "对经营者不按规定明码标价的行政处罚（简易程序）",
          "legal_basis": "《中华人民共和国价格法》第十三条第一款", "category": "punishment"}
LANES = {"onsite_decide": "officer", "submit_filing": "officer", "accept_filing": "agency_head",
         "record_payment": "officer", "hand_over_fine": "officer"}


@pytest.fixture(scope="module")
def simplified_definition() -> Definition:
    return library_definition(PROCESS_FILE)


@pytest.fixture
def make(runtime, simplified_definition, clock, roundtrip) -> Callable[..., Case]:
    def start(party: dict = ORGANIZATION) -> Case:
        case = Case(runtime, simplified_definition, clock, roundtrip)
        return case.start({
            "case_id": 1, "case_number": "穗天市监〔2026〕7号", "agency_name": "广州市天河区市场监督管理局",
            "clue_received_at": "2026-03-02T09:00:00+08:00", "opened_at": "2026-03-02T09:00:00+08:00",
            "party": party, "matter": MATTER, "officer_ids": [1, 2],
        })
    return start


def decision(penalties=("warning", "fine"), fine: float = 200, method: str = "bank", **extra) -> dict:
    form = {
        "enforcement_ids_shown": True, "decision_document_number": "穗天市监当罚〔2026〕0001号",
        "decided_at": "2026-03-02T10:00:00+08:00", "place": "天河路1号", "findings": "销售商品未按规定明码标价。",
        "legal_basis_cited": "《价格违法行为行政处罚规定》第十三条", "penalties": list(penalties), "fine_amount": fine,
        "statement_heard": True, "statement_summary": "当事人无异议。", "party_signed": True, "payment_method": method,
    }
    if method == "on_spot":
        form.update(collection_ground="not_over_100", receipt_number="粤财罚字No.000123")
    form.update(extra)
    return form


def filing(at: str = "2026-03-05T10:00:00+08:00") -> dict:
    return {"filed_at": at, "materials": ["decision_copy", "evidence"]}


ACCEPT = {"filing_result": "accepted", "filing_opinion": "予以备案。", "accepted_on": "2026-03-06"}


def payment(at: str, amount: float, late: float = 0) -> dict:
    return {"paid_at": at, "amount_paid": amount, "late_fee_paid": late, "payment_receipt_number": "GZ0001"}


def due_day(timer) -> str:
    local = timer.due_at.astimezone(CHINA_TZ)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    return local.date().isoformat()


def test_diagram_has_three_lanes_left_to_right_layout_and_cited_timers(simplified_definition) -> None:
    tree = etree.parse(str(PROCESS_FILE))
    assert [lane.get("name") for lane in tree.iterfind(".//bpmn:lane", NS)] == ["officer", "legal_reviewer", "agency_head"]
    for task_id, lane in LANES.items():
        assert simplified_definition.task_spec(task_id).lane == lane
    timers = tree.findall(".//bpmn:boundaryEvent", NS)
    assert {t.get("id") for t in timers} == {"timer_q3_filing", "timer_q5_payment", "timer_p14_hand_over"}
    for timer in timers:
        props = {p.get("name"): p.get("value") for p in timer.iterfind(".//spiffworkflow:property", NS)}
        assert props["legal_basis"].startswith("行政处罚法第") and props["kind"] == "deadline"
        assert props["limit"].split()[1] in ("working_days", "calendar_days")
    shapes = {s.get("bpmnElement"): float(s.find("dc:Bounds", NS).get("x")) for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    assert shapes["start"] < shapes["onsite_decide"] < shapes["submit_filing"] < shapes["accept_filing"] < shapes["end_done"]
    flow_nodes = {e.get("id") for e in tree.getroot().iter() if e.get("id") and e.tag.endswith(("Task", "Event", "Gateway"))}
    assert flow_nodes <= set(shapes)


def test_warning_only_files_and_ends(make) -> None:
    case = make()
    assert case.ready() == ["onsite_decide"]
    case.complete("onsite_decide", decision(penalties=("warning",), fine=0, method="none"))
    assert "当场行政处罚决定书" in case.documents["onsite_decide"] and "警告" in case.documents["onsite_decide"]
    assert "罚款人民币" not in case.documents["onsite_decide"]
    assert case.ready() == ["submit_filing"]
    assert due_day(case.timer("timer_q3_filing")) == "2026-03-11"
    case.at("2026-03-05T10:00")
    case.complete("submit_filing", filing())
    assert case.timer("timer_q3_filing").status == "met"
    case.complete("accept_filing", ACCEPT)
    assert case.completed and case.data["outcome"] == "punished"


def test_fine_paid_at_the_bank_in_time(make) -> None:
    case = make(PERSON)
    case.complete("onsite_decide", decision(fine=200))
    assert case.ready() == ["record_payment", "submit_filing"]
    assert due_day(case.timer("timer_q5_payment")) == "2026-03-17"
    assert "十五日内" in case.documents["onsite_decide"] and "200.00" in case.documents["onsite_decide"]
    case.at("2026-03-04T10:00")
    case.complete("record_payment", payment("2026-03-04T10:00:00+08:00", 200))
    assert case.data["late_fee_amount"] == "0.00"
    assert case.timer("timer_q5_payment").status == "met"
    case.complete("submit_filing", filing("2026-03-04T11:00:00+08:00"))
    case.complete("accept_filing", ACCEPT)
    assert case.completed


def test_late_payment_adds_the_additional_fine_and_waits_for_it(make) -> None:
    case = make()
    case.complete("onsite_decide", decision(fine=3000))
    case.complete("submit_filing", filing())
    case.complete("accept_filing", ACCEPT)
    case.at("2026-03-18T08:00")
    assert case.fire() == ["timer_q5_payment"]
    assert case.timer("timer_q5_payment").status == "overdue"
    case.at("2026-03-20T10:00")
    # Three days late (03-18, 03-19, 03-20): 3 % x 3,000 x 3 = 270 yuan (APL Art. 72(1)).
    case.complete("record_payment", payment("2026-03-20T10:00:00+08:00", 3000))
    assert case.data["late_fee_amount"] == "270.00" and case.data["payment_complete"] is False
    assert case.ready() == ["record_payment"]
    case.complete("record_payment", payment("2026-03-20T10:00:00+08:00", 3000, 270))
    assert case.completed
    assert case.timer("timer_q5_payment").status == "breached"


def test_on_the_spot_collection_is_handed_over(make) -> None:
    case = make(PERSON)
    case.complete("onsite_decide", decision(fine=50, method="on_spot"))
    assert "粤财罚字No.000123" in case.documents["onsite_decide"]
    assert case.ready() == ["hand_over_fine", "submit_filing"]
    assert due_day(case.timer("timer_p14_hand_over")) == "2026-03-04"
    case.complete("hand_over_fine", {"handed_over_at": "2026-03-03T09:00:00+08:00", "amount_handed_over": 50,
                                      "received_by": "财务科王某", "on_water": False})
    assert case.timer("timer_p14_hand_over").status == "met"
    case.complete("submit_filing", filing())
    case.complete("accept_filing", ACCEPT)
    assert case.completed


def test_late_filing_and_late_hand_over_are_recorded_not_blocking(make) -> None:
    case = make(PERSON)
    case.complete("onsite_decide", decision(fine=50, method="on_spot", party_signed=False, refusal_note="当事人拒绝签名，两名执法人员在场见证。"))
    assert "当事人拒绝签收" in case.documents["onsite_decide"]
    case.at("2026-03-12T08:00")
    assert sorted(case.fire()) == ["timer_p14_hand_over", "timer_q3_filing"]
    assert case.ready() == ["hand_over_fine", "submit_filing"]
    case.complete("submit_filing", filing("2026-03-12T09:00:00+08:00"))
    case.complete("hand_over_fine", {"handed_over_at": "2026-03-12T09:00:00+08:00", "amount_handed_over": 50,
                                      "received_by": "财务科王某", "on_water": True, "ashore_at": "2026-03-11T17:00:00+08:00"})
    case.complete("accept_filing", {**ACCEPT, "filing_result": "correction_needed", "filing_opinion": "上缴超期，责令说明情况。"})
    assert case.completed
    assert {t.status for t in case.all_timers()} == {"breached"}


def test_forms_mirror_the_law(make) -> None:
    case = make(PERSON)
    errors = case.form_errors("onsite_decide", decision(enforcement_ids_shown=False))
    assert errors  # the enforcement ID must be shown (APL Art. 52)
    assert case.form_errors("onsite_decide", decision(party_signed=False))  # a refusal must be noted
    assert case.form_errors("onsite_decide", decision(fine=150, method="on_spot"))  # "≤ 100 yuan" ground
    assert not case.form_errors("onsite_decide", decision(fine=150, method="on_spot", collection_ground="hard_to_enforce"))
    form = decision(fine=50, method="on_spot")
    del form["receipt_number"]
    assert case.form_errors("onsite_decide", form)  # the finance-department receipt (APL Art. 70)
    assert case.form_errors("onsite_decide", decision(penalties=("warning",), fine=100, method="none"))
    assert case.form_errors("onsite_decide", decision(penalties=("confiscate",)))  # only warning or fine


@pytest.mark.parametrize(("party", "fine", "allowed"), [
    (PERSON, 200, True), (PERSON, 200.01, False), (ORGANIZATION, 3000, True), (ORGANIZATION, 3001, False),
])
def test_engine_enforces_the_art_51_limits(make, party, fine, allowed) -> None:
    case = make(party)
    task = case.task("onsite_decide")
    now = datetime(2026, 3, 2, 11, 0, tzinfo=CHINA_TZ)
    if allowed:
        task_rules.check(task.properties, task.data, decision(fine=fine), now, task.bpmn_id)
        return
    with pytest.raises(InvalidInput) as err:
        task_rules.check(task.properties, task.data, decision(fine=fine), now, task.bpmn_id)
    (problem,) = err.value.problems
    assert problem.field == "fine_amount" and "行政处罚法第五十一条" in problem.message and "普通程序" in problem.message


def test_engine_refuses_a_decision_dated_in_the_future(make) -> None:
    case = make()
    task = case.task("onsite_decide")
    now = datetime(2026, 3, 2, 9, 30, tzinfo=CHINA_TZ)
    with pytest.raises(InvalidInput) as err:
        task_rules.check(task.properties, task.data, decision(), now, task.bpmn_id)
    assert [p.field for p in err.value.problems] == ["decided_at"]

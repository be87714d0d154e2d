"""Every compliance rule raises its alert on a case built to break it, and a lawful case raises none.
The rules run after each saved step (the hook in the save path) and on demand over existing cases."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from engine import audit
from engine.clock import CHINA_TZ
from engine.core import Core
from engine.demo import STEP_DATA, open_demo_case, run_steps
from engine.models import AgencyMatter, Case, TaskRow, User
from engine.supervision import compliance, monitoring
from engine.supervision.models import ComplianceAlert
from engine.timers import run_due

PARTY = {"type": "person", "name": "王小明", "id_number": "11010519491231002X"}
MATTER = "440201003001"  # the demo fine (2,000 yuan) is inside its discretion band
FULL = list(STEP_DATA)  # the demo's lawful path through the general procedure, verify_clue .. archive


def alerts(core: Core, case_id: int) -> dict[str, ComplianceAlert]:
    with core.unit() as unit:
        rows = unit.session.scalars(select(ComplianceAlert).where(ComplianceAlert.case_id == case_id))
        return {a.rule: a for a in rows}


def on_demand(core: Core, case_id: int) -> dict[str, ComplianceAlert]:
    with core.unit() as unit:
        compliance.evaluate_case(unit, case_id)
    return alerts(core, case_id)


def record_step(core: Core, case_id: int, bpmn_id: str, data: dict[str, Any], *, action: str = "task.completed") -> None:
    """A step in the case's audit trail as the engine writes it (for breaches the procedure prevents)."""
    with core.unit() as unit:
        case = unit.session.get(Case, case_id)
        core.clock.advance(minutes=1)
        detail = {"task_id": f"synthetic-{bpmn_id}", "bpmn_id": bpmn_id, "name": bpmn_id, "data": data} if action == "task.completed" else data
        audit.record(unit, action, detail, case=case)


def test_a_lawful_case_raises_nothing(core: Core, caplog: pytest.LogCaptureFixture) -> None:
    case_id = open_demo_case(core, MATTER, PARTY, "合法案件")
    run_steps(core, case_id, FULL)
    with core.unit() as unit:
        assert unit.session.get(Case, case_id).status == "closed"
    assert on_demand(core, case_id) == {}
    assert "failed on case" not in caplog.text  # the hook ran cleanly on every step


def test_matter_no_longer_in_the_agencys_competence(core: Core) -> None:
    case_id = open_demo_case(core, MATTER, PARTY, "目录变更")
    assert alerts(core, case_id) == {}
    with core.unit() as unit:
        agency_id = unit.session.scalar(select(Case.agency_id).where(Case.id == case_id))
        unit.session.execute(delete(AgencyMatter).where(AgencyMatter.agency_id == agency_id, AgencyMatter.matter_code == MATTER))
    try:
        found = on_demand(core, case_id)
    finally:
        with core.unit() as unit:
            unit.session.add(AgencyMatter(agency_id=agency_id, matter_code=MATTER))
    alert = found["matter_outside_catalogue"]
    assert alert.severity == "high" and "2019-170" in alert.basis and alert.subject == f"matter:{MATTER}"


def test_evidence_task_done_with_one_certified_officer(core: Core) -> None:
    case_id = open_demo_case(core, MATTER, PARTY, "证件过期")
    with core.unit() as unit:
        officer2 = unit.session.scalar(select(User).where(User.username == "officer2"))
        valid_until = officer2.certificate_valid_until
        officer2.certificate_valid_until = date(2026, 3, 1)  # expired the day before
    try:
        run_steps(core, case_id, ["verify_clue"])  # the hook runs the rules on this step
    finally:
        with core.unit() as unit:
            unit.session.execute(update(User).where(User.username == "officer2").values(certificate_valid_until=valid_until))
    alert = alerts(core, case_id)["uncertified_officers"]
    assert alert.basis.startswith("行政处罚法第四十二条") and "不足两名" in alert.message
    with core.unit() as unit:
        task = unit.session.scalar(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == "verify_clue"))
    assert alert.subject == f"task:{task.id}" and alert.officer_id == task.completed_by


def test_overdue_deadline_alert_comes_from_the_sweep(core: Core) -> None:
    case_id = open_demo_case(core, MATTER, PARTY, "超期")
    core.clock.set(datetime(2026, 3, 24, 0, 0, 1, tzinfo=CHINA_TZ))
    assert run_due(core) == 1
    alert = alerts(core, case_id)["deadline_overdue"]
    assert alert.basis == "市场监督管理行政处罚程序规定第十八条"  # the timer's own legal basis
    assert alert.detected_at == core.clock.now()


def decided_case(core: Core, steps: list[str]) -> int:
    case_id = open_demo_case(core, MATTER, PARTY, "构造案件")
    run_steps(core, case_id, steps)
    return case_id


def test_decision_without_prior_notice(core: Core) -> None:
    case_id = decided_case(core, ["verify_clue", "approve_filing", "investigate"])
    record_step(core, case_id, "decide", {**STEP_DATA["decide"]})
    assert set(on_demand(core, case_id)) >= {"decision_without_prior_notice"}
    record_step(core, case_id, "decide", {**STEP_DATA["decide"], "decision": "no_punishment"})
    assert alerts(core, case_id)["decision_without_prior_notice"].basis.startswith("行政处罚法第四十四条")


def test_major_case_without_legal_review(core: Core) -> None:
    case_id = decided_case(core, ["verify_clue", "approve_filing"])
    record_step(core, case_id, "investigate", {**STEP_DATA["investigate"], "is_major": True})
    record_step(core, case_id, "prior_notice", STEP_DATA["prior_notice"])
    record_step(core, case_id, "decide", STEP_DATA["decide"])
    found = on_demand(core, case_id)
    assert "major_case_without_legal_review" in found and "decision_without_prior_notice" not in found


def test_hearing_requested_but_not_held(core: Core) -> None:
    case_id = decided_case(core, ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice"])
    record_step(core, case_id, "record_statement", {**STEP_DATA["record_statement"], "statement_response": "hearing_request"})
    record_step(core, case_id, "decide", STEP_DATA["decide"])
    assert "hearing_not_held" in on_demand(core, case_id)


def test_service_not_recorded(core: Core) -> None:
    case_id = decided_case(core, ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice", "record_statement"])
    assert "service_not_recorded" not in on_demand(core, case_id)
    record_step(core, case_id, "decide", STEP_DATA["decide"])  # decided, and no service task is waiting
    assert "service_not_recorded" in on_demand(core, case_id)


def test_fine_outside_the_discretion_band_without_a_reason(core: Core) -> None:
    case_id = decided_case(core, ["verify_clue", "approve_filing"])
    band = {"min": 1000, "max": 3000}
    record_step(core, case_id, "investigate", {**STEP_DATA["investigate"], "proposed_fine_amount": 5000, "discretion_band": band,
                                               "deviation_reason": "多次违法，从重处罚"})
    assert "discretion_deviation_unexplained" not in on_demand(core, case_id)
    record_step(core, case_id, "decide", {**STEP_DATA["decide"], "fine_amount": 5000, "discretion_band": band})
    alert = on_demand(core, case_id)["discretion_deviation_unexplained"]
    assert alert.detail["band"] == band and "5000" in alert.message


def test_simplified_procedure_above_its_threshold(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    # The simplified procedure is another branch's BPMN: treat this procedure as simplified for the test.
    monkeypatch.setitem(monitoring.settings()["simplified_procedure"], "process_ids", ["general_punishment"])
    case_id = decided_case(core, ["verify_clue", "approve_filing"])
    record_step(core, case_id, "decide", {**STEP_DATA["decide"], "fine_amount": 200})
    assert "simplified_above_threshold" not in on_demand(core, case_id)  # a person: at most 200 yuan
    record_step(core, case_id, "decide", {**STEP_DATA["decide"], "fine_amount": 201})
    assert on_demand(core, case_id)["simplified_above_threshold"].basis.startswith("行政处罚法第五十一条")


def test_evidence_added_after_the_decision(core: Core) -> None:
    case_id = decided_case(core, FULL[:7])  # through decide
    assert "evidence_after_decision" not in on_demand(core, case_id)
    record_step(core, case_id, "", {"file": "补充照片.jpg"}, action="evidence.added")
    alert = on_demand(core, case_id)["evidence_after_decision"]
    assert alert.subject.startswith("event:")


def test_alerts_are_not_repeated(core: Core) -> None:
    case_id = decided_case(core, ["verify_clue", "approve_filing", "investigate"])
    record_step(core, case_id, "decide", STEP_DATA["decide"])
    first = on_demand(core, case_id)
    with core.unit() as unit:
        assert compliance.evaluate_case(unit, case_id) == []
    assert on_demand(core, case_id).keys() == first.keys()


def test_every_rule_is_tested_here() -> None:
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    assert all(f'"{rule.id}"' in source for rule in compliance.RULES)
    assert all(rule.basis for rule in compliance.RULES)


def test_a_broken_rule_does_not_undo_the_step(core: Core, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(facts: Any) -> Any:
        raise RuntimeError("rule bug")
        yield  # pragma: no cover

    monkeypatch.setattr(compliance, "RULES", [compliance.Rule("broken", "broken", "low", "none", broken)])
    case_id = open_demo_case(core, MATTER, PARTY, "规则出错")
    run_steps(core, case_id, ["verify_clue"])
    with core.unit() as unit:
        state = unit.session.scalar(select(TaskRow.state).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == "verify_clue"))
        assert state == "completed"
    assert "compliance rule broken failed" in caplog.text


def test_only_steps_the_rules_read_trigger_an_evaluation() -> None:
    assert compliance.triggers("task.completed", {"bpmn_id": "decide", "data": {}})
    assert compliance.triggers("task.completed", {"bpmn_id": "verify_clue", "data": {}})  # an evidence task
    assert compliance.triggers("task.completed", {"bpmn_id": "bench_step", "data": {"discretion_band": {"min": 1}}})
    assert compliance.triggers("timer.fired", {}) and compliance.triggers("evidence.added", {})
    assert not compliance.triggers("task.completed", {"bpmn_id": "approve_filing", "data": {"filing_decision": "file"}})
    assert not compliance.triggers("task.claimed", {"bpmn_id": "decide"})


def test_a_fired_timer_runs_only_the_rules_watching_timers_and_tasks() -> None:
    by_id = {rule.id: rule for rule in compliance.rules_for({"timers"})}
    assert set(by_id) == {"deadline_overdue"}
    assert {r.id for r in compliance.rules_for({"timers", "tasks"})} == {"deadline_overdue", "uncertified_officers", "service_not_recorded"}
    assert compliance.rules_for({"steps"}) == compliance.RULES and compliance.rules_for({"timers", "events"}) == compliance.RULES
    assert compliance.changes("timer.fired", {}) == {"timers"} and compliance.changes("task.claimed", {}) == frozenset()


def test_a_recounted_limit_runs_only_its_own_rule() -> None:
    # the rule itself, on real cases and an import: tests/integration/test_fired_limits.py
    assert compliance.changes("timer.recounted", {}) == {"recounts"}
    assert [r.id for r in compliance.rules_for({"recounts"})] == ["limit_recounted"]
    assert compliance.RULES_BY_ID["limit_recounted"].severity == "high"


# A decision whose service task is guarded by an interrupting limit: when it runs out, the task is cancelled
# and the decision has no service recorded and none waiting. The sweep itself must raise the alert.
SERVICE_CUT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="service_cut_defs" targetNamespace="https://zhifa.example/tests">
  <bpmn:process id="service_cut" name="送达期限中断" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane_officer" name="officer"><bpmn:flowNodeRef>serve_decision</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="serve_decision" name="送达决定书">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="bench_step.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="serve_limit" name="送达期限" cancelActivity="true" attachedToRef="serve_decision">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="legal_basis" value="行政处罚法第六十一条" />
        <spiffworkflow:property name="limit" value="7 working_days" />
        <spiffworkflow:property name="kind" value="deadline" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:outgoing>f_late</bpmn:outgoing>
      <bpmn:timerEventDefinition id="serve_limit_def"><bpmn:timeDuration>"PT3600S"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="late_end"><bpmn:incoming>f_late</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="serve_decision" />
    <bpmn:sequenceFlow id="f2" sourceRef="serve_decision" targetRef="end" />
    <bpmn:sequenceFlow id="f_late" sourceRef="serve_limit" targetRef="late_end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def service_cut_matter(core: Core):  # type: ignore[no-untyped-def]
    from engine import definitions
    from engine.models import Agency, DefinitionFile, Matter, ProcessDefinition
    from engine.settings import PROJECT_ROOT
    from tests.conftest import empty_case_tables

    with core.unit() as unit:
        seeded = unit.session.scalar(select(ProcessDefinition.id).order_by(ProcessDefinition.id.desc()).limit(1))
        form = (PROJECT_ROOT / "bench" / "timer_processes" / "bench_step.schema.json").read_bytes()
        definitions.deploy_files(unit, {"service_cut.bpmn": SERVICE_CUT.encode(), "bench_step.schema.json": form})
        unit.session.add(Matter(code="TEST-SERVICE-CUT", name="送达期限中断测试事项", category="punishment", legal_basis="-",
                                penalty_basis=None, process_id="service_cut", domain="test"))
        unit.session.flush()
        agency_id = unit.session.scalar(select(Agency.id).join(User, User.agency_id == Agency.id).where(User.username == "officer1"))
        unit.session.add(AgencyMatter(agency_id=agency_id, matter_code="TEST-SERVICE-CUT"))
    yield "TEST-SERVICE-CUT"
    with core.db.transaction() as session:
        empty_case_tables(session)
        session.execute(delete(AgencyMatter).where(AgencyMatter.matter_code == "TEST-SERVICE-CUT"))
        session.execute(delete(Matter).where(Matter.code == "TEST-SERVICE-CUT"))
        session.execute(delete(DefinitionFile).where(DefinitionFile.definition_id > seeded))
        session.execute(delete(ProcessDefinition).where(ProcessDefinition.id > seeded))


def test_a_timer_that_cancels_the_service_task_raises_service_not_recorded(core: Core, service_cut_matter: str) -> None:
    case_id = open_demo_case(core, service_cut_matter, PARTY, "送达期限中断")
    record_step(core, case_id, "decide", STEP_DATA["decide"])  # decided; the service task is waiting
    assert "service_not_recorded" not in alerts(core, case_id)
    core.clock.advance(hours=2)
    assert run_due(core) == 1
    with core.unit() as unit:
        state = unit.session.scalar(select(TaskRow.state).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == "serve_decision"))
    assert state == "cancelled"
    found = alerts(core, case_id)  # raised by the sweep's transaction, not by an on-demand run
    # (an interrupting limit that runs out ends the step: it is not itself an overdue deadline)
    assert set(found) == {"service_not_recorded"}
    assert found["service_not_recorded"].basis.startswith("行政处罚法第六十一条")

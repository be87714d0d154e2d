"""Deployment refuses a diagram with each kind of defect legal staff may introduce, naming the element
(POST /api/v1/processes): a user task without a form or naming one that does not exist, a document
template that does not exist, a timer without `legal_basis` or `limit`, a path that cannot reach an
end, and scripts or expressions outside the allowlist (dunder attributes, str.format, getattr, ...).
Each is a 422 problem+json with file, line and element, and nothing is stored.
"""
from __future__ import annotations

from typing import Any

import pytest

from engine.core import Core
from tests.api.test_processes_api import (  # noqa: F401 - the fixture removes what a test deployed
    _remove_deployed_definitions,
    assert_problem,
    deploy,
    stored,
    unique_id,
)
from tests.support.bpmn_samples import line_of

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="defs" targetNamespace="http://zhifa.test/checks">
  <bpmn:process id="{pid}" name="检查" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane_officer" name="officer">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>check</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
"""
TASK = """    <bpmn:userTask id="check" name="核查">
      <bpmn:extensionElements><spiffworkflow:properties>
        {props}
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
"""
FORM = '<spiffworkflow:property name="formJsonSchemaFilename" value="verify_clue.schema.json"/>'
TAIL = """    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end"/>
{extra}
  </bpmn:process>
</bpmn:definitions>
"""
TIMER = """    <bpmn:boundaryEvent id="deadline" name="期限" attachedToRef="check" cancelActivity="false">
      <bpmn:extensionElements><spiffworkflow:properties>
        {props}
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="deadline_definition">
        <bpmn:timeDate xsi:type="bpmn:tFormalExpression">deadline(now(), 15, "working_days")</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="late"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="deadline" targetRef="late"/>"""
BASIS = '<spiffworkflow:property name="legal_basis" value="市场监督管理行政处罚程序规定第十八条"/>'
LIMIT = '<spiffworkflow:property name="limit" value="15 working_days"/>'


def diagram(*, props: str = FORM, extra: str = "", script: str | None = None) -> bytes:
    if script is not None:
        extra += f"""
    <bpmn:scriptTask id="compute" name="计算" scriptFormat="python">
      <bpmn:incoming>f9</bpmn:incoming><bpmn:outgoing>f10</bpmn:outgoing><bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:startEvent id="start2"><bpmn:outgoing>f9</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="end2"><bpmn:incoming>f10</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f9" sourceRef="start2" targetRef="compute"/>
    <bpmn:sequenceFlow id="f10" sourceRef="compute" targetRef="end2"/>"""
    return (HEAD.format(pid=unique_id()) + TASK.format(props=props) + TAIL.format(extra=extra)).encode()


def refused(login: Any, core: Core, xml: bytes) -> list[dict[str, Any]]:
    before = stored(core)
    problem = assert_problem(deploy(login("designer1"), {"checks.bpmn": xml}), 422)
    assert stored(core) == before, "a refused deployment stores nothing"
    assert all(e["file"] == "checks.bpmn" for e in problem["errors"])
    return problem["errors"]


def test_the_sample_itself_deploys(login: Any) -> None:
    response = deploy(login("designer1"), {"checks.bpmn": diagram(extra=TIMER.format(props=BASIS + LIMIT))})
    assert response.status_code == 201, response.get_json()


def test_a_user_task_without_a_form(login: Any, core: Core) -> None:
    xml = diagram(props='<spiffworkflow:property name="documentTemplate" value="filing_approval.html.j2"/>')
    [error] = refused(login, core, xml)
    assert (error["element_id"], error["field"]) == ("check", "formJsonSchemaFilename")
    assert error["line"] == line_of(xml, "<bpmn:userTask") and "has no form" in error["message"]


def test_a_user_task_naming_a_form_that_does_not_exist(login: Any, core: Core) -> None:
    [error] = refused(login, core, diagram(props=FORM.replace("verify_clue", "no_such_form")))
    assert error["element_id"] == "check" and "no_such_form.schema.json" in error["message"]


def test_a_document_template_that_does_not_exist(login: Any, core: Core) -> None:
    xml = diagram(props=FORM + '<spiffworkflow:property name="documentTemplate" value="no_such_document.html.j2"/>')
    [error] = refused(login, core, xml)
    assert (error["element_id"], error["field"]) == ("check", "documentTemplate")
    assert "no_such_document.html.j2" in error["message"] and "does not exist" in error["message"]


@pytest.mark.parametrize(("props", "missing"), [(LIMIT, {"legal_basis"}), (BASIS, {"limit"}), ("", {"legal_basis", "limit"})])
def test_a_timer_without_legal_basis_or_limit(login: Any, core: Core, props: str, missing: set[str]) -> None:
    xml = diagram(extra=TIMER.format(props=props or '<spiffworkflow:property name="note" value="x"/>'))
    errors = refused(login, core, xml)
    assert {e["field"] for e in errors} == missing
    assert {e["element_id"] for e in errors} == {"deadline"}
    assert all(e["line"] == line_of(xml, "<bpmn:boundaryEvent") for e in errors)


def test_a_task_with_no_way_out(login: Any, core: Core) -> None:
    extra = """    <bpmn:exclusiveGateway id="gw" default="f5"><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:boundaryEvent id="deadline" attachedToRef="check" cancelActivity="false"><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:messageEventDefinition id="m"/></bpmn:boundaryEvent>
    <bpmn:scriptTask id="stuck" name="无出口"><bpmn:incoming>f5</bpmn:incoming><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="deadline" targetRef="gw"/>
    <bpmn:sequenceFlow id="f5" sourceRef="gw" targetRef="stuck"/>"""
    errors = refused(login, core, diagram(extra=extra))
    by_element = {e["element_id"]: e["message"] for e in errors}
    assert "has no outgoing sequence flow" in by_element["stuck"]
    assert "no end event can be reached" in by_element["gw"] and "deadline" in by_element


def test_a_loop_that_never_ends(login: Any, core: Core) -> None:
    xml = diagram().replace(b'<bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end"/>',
                            b'<bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="check"/>')
    xml = xml.replace(b'<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>',
                      b'<bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>')
    xml = xml.replace(b'<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>',
                      b'<bpmn:endEvent id="end"/>')
    errors = refused(login, core, xml)
    assert {"check", "start"} <= {e["element_id"] for e in errors if "end event" in e["message"]}


@pytest.mark.parametrize(
    ("script", "says"),
    [
        pytest.param("x = ().__class__.__base__.__subclasses__()", "'__class__'", id="dunder-attribute"),
        pytest.param("x = party.__dict__", "'__dict__'", id="dunder-dict"),
        pytest.param('x = "{0.__class__}".format(party)', "'format'", id="str.format"),
        pytest.param('x = "{a}".format_map(party)', "'format_map'", id="str.format_map"),
        pytest.param('x = getattr(party, "name")', "'getattr'", id="getattr"),
        pytest.param("f = getattr\nx = 1", "'getattr'", id="getattr-as-a-value"),
        pytest.param("x = __builtins__", "'__builtins__'", id="builtins"),
        pytest.param("import os", "import", id="import"),
        pytest.param("x = [c for c in ().__class__.__mro__]", "'__class__'", id="dunder-in-comprehension"),
        pytest.param('x = f"{party.__class__}"', "'__class__'", id="dunder-in-f-string"),
        pytest.param("x = vars(party)", "'vars'", id="vars"),
        pytest.param("x = (lambda: 1)()", "lambda", id="lambda"),
    ],
)
def test_a_script_outside_the_allowlist(login: Any, core: Core, script: str, says: str) -> None:
    xml = diagram(script=script.replace('"', "&quot;"))
    errors = refused(login, core, xml)
    [error] = [e for e in errors if e["element_id"] == "compute"]
    assert says in error["message"] and "not allowed" in error["message"]
    assert error["line"] == line_of(xml, "<bpmn:script>")


def test_an_expression_outside_the_allowlist(login: Any, core: Core) -> None:
    extra = TIMER.format(props=BASIS + LIMIT).replace('deadline(now(), 15, "working_days")',
                                                      'deadline(now().__class__, 15, "working_days")')
    [error] = refused(login, core, diagram(extra=extra))
    assert error["element_id"] == "deadline" and "'__class__'" in error["message"]

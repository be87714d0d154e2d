"""Deployment parsing of our own BPMN/DMN: what is accepted, what is rejected, and where."""
from __future__ import annotations

import hashlib
import itertools
import re

import pytest
from lxml import etree

from engine.errors import DeploymentInvalid, Problem
from engine.spiff.parsing import ParsedBundle, TimerInfo, UserTaskInfo, parse_bundle

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  id="defs" targetNamespace="http://zhifa.test/bpmn">
"""


def bpmn(body: str, *, pid: str = "P", name: str = "Test process", executable: bool | None = True,
         defs: str = "", lanes: str = "", tail: str = "") -> bytes:
    attr = "" if executable is None else f' isExecutable="{str(executable).lower()}"'
    return (f"{HEAD}{defs}<bpmn:process id=\"{pid}\" name=\"{name}\"{attr}>\n{lanes}{body}\n"
            f"</bpmn:process>\n{tail}</bpmn:definitions>\n").encode()


def props(**values: str) -> str:
    inner = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in values.items())
    return f"<bpmn:extensionElements><spiffworkflow:properties>{inner}</spiffworkflow:properties></bpmn:extensionElements>"


def flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>'
    return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            "</bpmn:sequenceFlow>")


def user_task(tid: str, name: str = "Task", form: str | None = "inquiry.json", **extra: str) -> str:
    values = {"formJsonSchemaFilename": form} if form else {}
    values.update(extra)
    return f'<bpmn:userTask id="{tid}" name="{name}">{props(**values) if values else ""}</bpmn:userTask>'


def linear(*middle: str, ids: list[str] | None = None) -> str:
    """start -> middle elements (given with their ids) -> end."""
    ids = ids or [re.search(r'id="([^"]+)"', m).group(1) for m in middle]
    chain = ["start", *ids, "end"]
    flows = "".join(flow(f"f{i}", a, b) for i, (a, b) in enumerate(itertools.pairwise(chain)))
    return '<bpmn:startEvent id="start"/>' + "".join(middle) + '<bpmn:endEvent id="end"/>' + flows


def timer_event(eid: str, expression: str, timer_type: str = "timeDate", *, attached_to: str | None = None,
                cancel: bool = False, **properties: str) -> str:
    ext = props(**properties) if properties else ""
    definition = (f'<bpmn:timerEventDefinition id="{eid}_def"><bpmn:{timer_type} xsi:type="bpmn:tFormalExpression">'
                  f"{expression}</bpmn:{timer_type}></bpmn:timerEventDefinition>")
    if attached_to:
        return (f'<bpmn:boundaryEvent id="{eid}" name="{eid} name" attachedToRef="{attached_to}" '
                f'cancelActivity="{str(cancel).lower()}">{ext}{definition}</bpmn:boundaryEvent>')
    return f'<bpmn:intermediateCatchEvent id="{eid}" name="{eid} name">{ext}{definition}</bpmn:intermediateCatchEvent>'


def rejected(files: dict[str, bytes], **kwargs) -> list[Problem]:
    with pytest.raises(DeploymentInvalid) as info:
        parse_bundle(files, **kwargs)
    problems = info.value.problems
    assert problems, "DeploymentInvalid must list its problems"
    return problems


def find(problems: list[Problem], fragment: str) -> Problem:
    for problem in problems:
        if fragment in problem.message:
            return problem
    raise AssertionError(f"no problem mentions {fragment!r}: {[p.message for p in problems]}")


def line_of(data: bytes, element_id: str) -> int:
    return etree.fromstring(data).xpath(f"//*[@id='{element_id}']")[0].sourceline


# --------------------------------------------------------------------------------------------
# A realistic procedure: lanes, forms, script, boundary deadline, gateway


PROCEDURE = bpmn(
    lanes="""<bpmn:laneSet id="ls"><bpmn:lane id="lane_officer" name="officer">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>record_service</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>statement</bpmn:flowNodeRef><bpmn:flowNodeRef>statement_deadline</bpmn:flowNodeRef>
      </bpmn:lane><bpmn:lane id="lane_head" name="head">
      <bpmn:flowNodeRef>decide</bpmn:flowNodeRef><bpmn:flowNodeRef>gw</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end_ok</bpmn:flowNodeRef><bpmn:flowNodeRef>end_no</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end_late</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>""",
    body="""
    <bpmn:startEvent id="start"/>
    <bpmn:scriptTask id="record_service" name="Record service" scriptFormat="python">
      <bpmn:script>notice_served_at = now()
statement_due_on = due_date(notice_served_at, 5, "working_days")</bpmn:script>
    </bpmn:scriptTask>
    """ + user_task("statement", "Record statement", form="statement.json",
                    formUiSchemaFilename="statement.ui.json", documentTemplate="statement_record.html") + """
    """ + timer_event("statement_deadline", 'deadline(notice_served_at, 5, "working_days")', attached_to="statement",
                      cancel=True, legal_basis="行政处罚法第六十四条", limit="5 working_days", kind="deadline",
                      clock_start="notice_served_at") + """
    """ + user_task("decide", "Decide", form="decision.json") + """
    <bpmn:exclusiveGateway id="gw" default="f_no"/>
    <bpmn:endEvent id="end_ok"/><bpmn:endEvent id="end_no"/><bpmn:endEvent id="end_late"/>
    """ + flow("f1", "start", "record_service") + flow("f2", "record_service", "statement")
    + flow("f3", "statement", "decide") + flow("f4", "decide", "gw")
    + flow("f_ok", "gw", "end_ok", "approved == True and fine &gt;= 0") + flow("f_no", "gw", "end_no")
    + flow("f_late", "statement_deadline", "end_late"),
    pid="punish", name="General punishment")

FORMS = {"statement.json", "statement.ui.json", "decision.json"}
TEMPLATES = {"statement_record.html"}


def test_procedure_parses_with_everything_it_needs():
    bundle = parse_bundle({"punish.bpmn": PROCEDURE}, known_forms=FORMS, known_templates=TEMPLATES,
                          require_forms=True)
    assert isinstance(bundle, ParsedBundle)
    assert bundle.process_id == "punish"
    assert bundle.process_name == "General punishment"
    assert bundle.executable is True
    assert bundle.spec is not None and bundle.spec.name == "punish"
    assert "statement" in bundle.spec.task_specs
    assert bundle.subprocess_specs == {}
    assert bundle.processes == ["punish"]
    assert bundle.files_sha256 == {"punish.bpmn": hashlib.sha256(PROCEDURE).hexdigest()}
    assert bundle.user_tasks == [
        UserTaskInfo("statement", "Record statement", "officer", "statement.json", "statement.ui.json",
                     "statement_record.html", process_id="punish", file="punish.bpmn"),
        UserTaskInfo("decide", "Decide", "head", "decision.json", None, None, process_id="punish",
                     file="punish.bpmn"),
    ]
    [timer] = bundle.timers
    assert isinstance(timer, TimerInfo)
    assert (timer.bpmn_id, timer.name) == ("statement_deadline", "statement_deadline name")
    assert timer.properties == {"legal_basis": "行政处罚法第六十四条", "limit": "5 working_days",
                                "kind": "deadline", "clock_start": "notice_served_at"}
    assert (timer.event_type, timer.timer_type, timer.attached_to, timer.cancel_activity) == \
        ("boundaryEvent", "timeDate", "statement", True)
    assert timer.expression == 'deadline(notice_served_at, 5, "working_days")'


def test_lane_matches_what_spiff_puts_on_the_task_spec():
    bundle = parse_bundle({"punish.bpmn": PROCEDURE})
    for info in bundle.user_tasks:
        assert bundle.spec.task_specs[info.bpmn_id].lane == info.lane


def test_forms_are_not_required_unless_asked():
    body = linear(user_task("t1", form=None))
    assert parse_bundle({"a.bpmn": bpmn(body)}).user_tasks[0].form is None
    problem = find(rejected({"a.bpmn": bpmn(body)}, require_forms=True), "has no form")
    assert problem.element_id == "t1" and problem.field == "formJsonSchemaFilename"
    assert problem.line == line_of(bpmn(body), "t1") and problem.file == "a.bpmn"


def test_unknown_form_ui_schema_and_template_are_named():
    problems = rejected({"punish.bpmn": PROCEDURE}, known_forms={"decision.json"}, known_templates=set(),
                        require_forms=True)
    assert find(problems, "form 'statement.json'").element_id == "statement"
    assert find(problems, "UI schema 'statement.ui.json'").element_id == "statement"
    assert find(problems, "document template 'statement_record.html'").field == "documentTemplate"
    assert len(problems) == 3


@pytest.mark.parametrize("name", ["../secret.json", "/etc/passwd", "a\\b.json", "forms/../../x.json"])
def test_form_names_must_be_plain_relative_names(name):
    body = linear(user_task("t1", form=name))
    assert find(rejected({"a.bpmn": bpmn(body)}), "not a plain relative file name").element_id == "t1"


# --------------------------------------------------------------------------------------------
# executable or not, main process, call activities


def test_non_executable_bundle_is_stored_not_started():
    bundle = parse_bundle({"a.bpmn": bpmn(linear(user_task("t1")), executable=False)})
    assert bundle.executable is False
    assert bundle.spec is None and bundle.subprocess_specs == {}
    assert bundle.process_id == "P"
    assert "can be stored and viewed but not started" in bundle.notes[0]


def test_missing_is_executable_counts_as_executable():
    assert parse_bundle({"a.bpmn": bpmn(linear(user_task("t1")), executable=None)}).executable is True


def test_strange_is_executable_value_is_rejected():
    data = bpmn(linear(user_task("t1"))).replace(b'isExecutable="true"', b'isExecutable="1"')
    assert find(rejected({"a.bpmn": data}), "isExecutable").element_id == "P"


def _caller(called: str = "sub", pid: str = "main") -> bytes:
    return bpmn(linear(f'<bpmn:callActivity id="call" name="Call it" calledElement="{called}"/>'), pid=pid)


def test_main_process_is_the_one_not_called_whatever_the_file_order():
    sub = bpmn(linear(user_task("t_sub")), pid="sub")
    bundle = parse_bundle({"sub.bpmn": sub, "main.bpmn": _caller()})
    assert bundle.process_id == "main"
    assert set(bundle.subprocess_specs) == {"sub"}
    assert bundle.processes == ["sub", "main"]
    assert [t.bpmn_id for t in bundle.user_tasks] == ["t_sub"]


def test_several_roots_take_the_first_and_say_so():
    bundle = parse_bundle({"a.bpmn": bpmn(linear(user_task("t1")), pid="first"),
                           "b.bpmn": bpmn(linear(user_task("t2")), pid="second")})
    assert bundle.process_id == "first"
    assert any("first in file order" in n for n in bundle.notes)


def test_missing_called_element_names_the_call_activity():
    problem = find(rejected({"main.bpmn": _caller("nowhere")}), "'nowhere'")
    assert problem.element_id == "call" and problem.file == "main.bpmn"
    assert problem.line == line_of(_caller("nowhere"), "call")


def test_calling_a_non_executable_process():
    sub = bpmn(linear(user_task("t_sub")), pid="sub", executable=False)
    assert find(rejected({"main.bpmn": _caller(), "sub.bpmn": sub}), "not executable").element_id == "call"


def test_recursive_call_activities():
    a = bpmn(linear('<bpmn:callActivity id="call_b" calledElement="B"/>'), pid="A")
    b = bpmn(linear('<bpmn:callActivity id="call_a" calledElement="A"/>'), pid="B")
    problem = find(rejected({"a.bpmn": a, "b.bpmn": b}), "Recursive call activity")
    assert "A -> B -> A" in problem.message and problem.element_id == "call_a"
    self_call = bpmn(linear('<bpmn:callActivity id="again" calledElement="P"/>'))
    assert "P -> P" in find(rejected({"s.bpmn": self_call}), "Recursive").message


def test_duplicate_process_ids():
    data = bpmn(linear(user_task("t1")))
    assert find(rejected({"a.bpmn": data, "b.bpmn": data}), "defined twice").file == "b.bpmn"


# --------------------------------------------------------------------------------------------
# what SpiffWorkflow ignores or only fails on at run time


def _single_problem(body: str, fragment: str, element_id: str, **kwargs) -> Problem:
    data = bpmn(body, **kwargs)
    problem = find(rejected({"x.bpmn": data}), fragment)
    assert problem.file == "x.bpmn"
    assert problem.element_id == element_id
    assert problem.line is not None and problem.line >= 1
    return problem


def test_link_events():
    body = ('<bpmn:startEvent id="start"/><bpmn:intermediateThrowEvent id="go">'
            '<bpmn:linkEventDefinition id="l1" name="L"/></bpmn:intermediateThrowEvent>'
            '<bpmn:intermediateCatchEvent id="land"><bpmn:linkEventDefinition id="l2" name="L"/>'
            '</bpmn:intermediateCatchEvent><bpmn:endEvent id="end"/>'
            + flow("f1", "start", "go") + flow("f2", "land", "end"))
    problems = rejected({"x.bpmn": bpmn(body)})
    assert {p.element_id for p in problems if "link event" in p.message} == {"go", "land"}


def test_event_definition_ref():
    body = ('<bpmn:startEvent id="start"><bpmn:eventDefinitionRef>td</bpmn:eventDefinitionRef></bpmn:startEvent>'
            '<bpmn:endEvent id="end"/>' + flow("f1", "start", "end"))
    defs = ('<bpmn:timerEventDefinition id="td"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1H"'
            "</bpmn:timeDuration></bpmn:timerEventDefinition>")
    _single_problem(body, "eventDefinitionRef", "start", defs=defs)


def test_compensation_boundary_event():
    body = linear('<bpmn:task id="work"/>') + (
        '<bpmn:boundaryEvent id="comp" attachedToRef="work"><bpmn:compensateEventDefinition id="c"/>'
        "</bpmn:boundaryEvent>")
    _single_problem(body, "compensation event", "comp")


def test_service_task():
    _single_problem(linear('<bpmn:serviceTask id="svc" name="Call API"/>'), "service tasks are not supported", "svc")


@pytest.mark.parametrize("condition", ["${approved}", "#{approved}", "${clarified == 'yes'}"])
def test_juel_condition(condition):
    body = ('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" default="f_b"/>'
            '<bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>' + flow("f0", "start", "gw")
            + flow("f_a", "gw", "a", condition) + flow("f_b", "gw", "b"))
    _single_problem(body, "JUEL", "f_a")


@pytest.mark.parametrize(
    ("expression", "kind"),
    [("P7D", "timeDuration"), ("PT2H", "timeDuration"), ("R6/P1D", "timeCycle"), ("R/PT1H", "timeCycle"),
     ("2025-01-01T00:00:00+08:00", "timeDate"), ("2025-10-11", "timeDate")],
)
def test_bare_iso_timer_literal(expression, kind):
    body = linear(timer_event("wait", expression, kind))
    problem = _single_problem(body, "must be quoted", "wait")
    assert expression in problem.message


@pytest.mark.parametrize(
    ("expression", "kind", "fragment"),
    [('"P7X"', "timeDuration", "not a valid ISO-8601"),
     ('"2025-01-01T09:00:00"', "timeDate", "no UTC offset"),
     ('"P3D"', "timeDate", "is a duration"),
     ('"R/PT1H"', "timeCycle", "repeats without end"),
     ("5", "timeDuration", "ISO-8601 string"),
     ("deadline(x, 5, 'working_days'", "timeDate", "not a valid Python expression"),
     ("os.system('x')", "timeDate", "not allowed"),
     ("${dueDate}", "timeDate", "JUEL"),
     ("", "timeDate", "is empty")],
)
def test_invalid_timer_expressions(expression, kind, fragment):
    _single_problem(linear(timer_event("wait", expression, kind)), fragment, "wait")


@pytest.mark.parametrize(
    ("expression", "kind"),
    [('"PT0.25S"', "timeDuration"), ('"P7D"', "timeDuration"), ('"R3/PT1H"', "timeCycle"),
     ('"2025-01-01T09:00:00+08:00"', "timeDate"), ('"2025-01-01T01:00:00Z"', "timeDate"),
     ('deadline(served_at, 5, "working_days")', "timeDate"), ("due_at", "timeDate")],
)
def test_valid_timer_expressions(expression, kind):
    bundle = parse_bundle({"x.bpmn": bpmn(linear(timer_event("wait", expression, kind)))})
    assert bundle.timers[0].timer_type == kind


def test_timer_without_definition_content():
    body = linear('<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="td"/>'
                  "</bpmn:intermediateCatchEvent>")
    _single_problem(body, "has no timeDate", "wait")


def test_condition_that_does_not_compile():
    body = ('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" default="f_b"/>'
            '<bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>' + flow("f0", "start", "gw")
            + flow("f_a", "gw", "a", "amount &gt;&gt;= 3") + flow("f_b", "gw", "b"))
    _single_problem(body, "not a valid Python expression", "f_a")


def test_condition_on_a_flow_that_is_not_from_a_gateway():
    body = linear('<bpmn:task id="t"/>').replace(
        flow("f1", "t", "end"), flow("f1", "t", "end", "x &gt; 1"))
    _single_problem(body, "only evaluates conditions", "f1")


def test_gateway_flow_without_condition():
    body = ('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw"/>'
            '<bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>' + flow("f0", "start", "gw")
            + flow("f_a", "gw", "a", "x") + flow("f_b", "gw", "b"))
    _single_problem(body, "without a condition", "f_b")


@pytest.mark.parametrize(
    "script",
    ["import os", "x = ().__class__.__base__.__subclasses__()", "open('/etc/passwd')", "while True:\n    pass",
     "x = eval('1')"],
)
def test_unsafe_script_task(script):
    body = linear(f'<bpmn:scriptTask id="s" name="Compute"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>')
    _single_problem(body, "script not allowed", "s")


def test_script_with_non_python_format():
    body = linear('<bpmn:scriptTask id="s" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>')
    _single_problem(body, "'groovy' is not supported", "s")


def test_script_task_without_script():
    _single_problem(linear('<bpmn:scriptTask id="s"/>'), "has no script", "s")


@pytest.mark.parametrize("which", ["preScript", "postScript"])
def test_pre_and_post_scripts_are_checked(which):
    task = (f'<bpmn:userTask id="t"><bpmn:extensionElements><spiffworkflow:{which}>import os'
            f"</spiffworkflow:{which}></bpmn:extensionElements></bpmn:userTask>")
    _single_problem(linear(task), which, "t")


def test_multi_instance_expressions():
    task = ('<bpmn:userTask id="t"><bpmn:multiInstanceLoopCharacteristics>'
            "<bpmn:loopCardinality>__import__('os')</bpmn:loopCardinality>"
            "<bpmn:completionCondition>x.__class__</bpmn:completionCondition>"
            "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>")
    problems = rejected({"x.bpmn": bpmn(linear(task))})
    assert find(problems, "loopCardinality").element_id == "t"
    assert find(problems, "completionCondition").element_id == "t"


def test_multi_instance_without_cardinality_or_input():
    task = '<bpmn:userTask id="t" name="Many"><bpmn:multiInstanceLoopCharacteristics/></bpmn:userTask>'
    _single_problem(linear(task), "needs loopCardinality", "t")


def test_message_payload_expression_is_checked():
    defs = ('<bpmn:message id="m" name="notice"><bpmn:extensionElements>'
            "<spiffworkflow:messagePayload>().__class__</spiffworkflow:messagePayload>"
            "</bpmn:extensionElements></bpmn:message>")
    body = linear('<bpmn:intermediateThrowEvent id="send"><bpmn:messageEventDefinition id="md" messageRef="m"/>'
                  "</bpmn:intermediateThrowEvent>")
    problem = find(rejected({"x.bpmn": bpmn(body, defs=defs)}), "messagePayload")
    assert problem.element_id == "m"


def test_unresolved_message_ref_is_located_not_a_crash():
    body = linear('<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition id="md" messageRef="nope"/>'
                  "</bpmn:intermediateCatchEvent>")
    problem = _single_problem(body, "does not resolve to a bpmn:message", "wait")
    assert "TypeError" not in problem.message


def test_prefixed_message_ref_is_resolved():
    defs = '<bpmn:message id="m1" name="notice"/>'
    body = linear('<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition id="md" '
                  'messageRef="bpmn:m1"/></bpmn:intermediateCatchEvent>')
    assert parse_bundle({"x.bpmn": bpmn(body, defs=defs)}).executable


def test_boundary_event_on_missing_activity():
    body = linear('<bpmn:task id="work"/>') + timer_event("late", '"PT1H"', "timeDuration", attached_to="ghost")
    _single_problem(body, "attached to 'ghost'", "late")


def test_empty_subprocess():
    body = linear('<bpmn:subProcess id="sp" name="Repair"/>')
    problem = _single_problem(body, "is empty", "sp")
    assert "Repair" in problem.message


def test_interrupting_event_subprocess():
    sub = ('<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="es">'
           '<bpmn:messageEventDefinition id="emd" messageRef="m"/></bpmn:startEvent><bpmn:endEvent id="ee"/>'
           + flow("ef", "es", "ee") + "</bpmn:subProcess>")
    body = linear(user_task("t1")) + sub
    _single_problem(body, "interrupting start event", "es", defs='<bpmn:message id="m" name="m"/>')


def test_data_store_in_executable_process():
    defs = '<bpmn:dataStore id="ds" name="Archive"/>'
    body = linear(user_task("t1")) + '<bpmn:dataStoreReference id="dsr" dataStoreRef="ds"/>'
    _single_problem(body, "data stores are not supported", "dsr", defs=defs)


def test_data_store_only_in_a_non_executable_pool_is_fine():
    defs = '<bpmn:dataStore id="ds" name="Archive"/>'
    body = linear(user_task("t1")) + '<bpmn:dataStoreReference id="dsr" dataStoreRef="ds"/>'
    assert parse_bundle({"x.bpmn": bpmn(body, defs=defs, executable=False)}).executable is False


def test_spiff_semantic_error_is_located_by_element_id():
    # a task with two outgoing flows: only SpiffWorkflow notices, and it gives no line
    body = ('<bpmn:startEvent id="start"/><bpmn:task id="fork"/><bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>'
            + flow("f0", "start", "fork") + flow("f1", "fork", "a") + flow("f2", "fork", "b"))
    data = bpmn(body)
    problem = find(rejected({"x.bpmn": data}), "Multiple outgoing flows")
    assert problem.element_id == "fork" and problem.line == line_of(data, "fork") and problem.file == "x.bpmn"


def test_schema_errors_are_located():
    data = bpmn(linear(user_task("t1"))).replace(b'<bpmn:endEvent id="end"/>', b'<bpmn:endEvent id="end" bogus="1"/>')
    problem = find(rejected({"x.bpmn": data}), "does not conform to the BPMN 2.0 schema")
    assert problem.line == line_of(data, "end")


# --------------------------------------------------------------------------------------------
# timer properties


@pytest.mark.parametrize(
    ("properties", "fragment", "field"),
    [({"kind": "deadline", "limit": "5 working_days"}, "no legal_basis", "legal_basis"),
     ({"kind": "deadline", "legal_basis": " ", "limit": "5 working_days"}, "no legal_basis", "legal_basis"),
     ({"kind": "reminder", "legal_basis": "Art. 1"}, "kind must be one of", "kind"),
     ({"kind": "deadline", "legal_basis": "Art. 1", "limit": "5 days"}, "limit must be", "limit"),
     ({"kind": "deadline", "legal_basis": "Art. 1", "limit": "five working_days"}, "limit must be", "limit"),
     ({"kind": "deadline", "legal_basis": "Art. 1", "limit": "0 hours"}, "limit must be", "limit"),
     ({"limit": "5 weeks"}, "limit must be", "limit"),
     ({"kind": "warning", "legal_basis": "Art. 1", "clock_start": "__builtins__"}, "clock_start", "clock_start")],
)
def test_invalid_timer_properties(properties, fragment, field):
    body = linear(user_task("t1")) + timer_event("late", '"PT1H"', "timeDuration", attached_to="t1", **properties)
    problem = _single_problem(body, fragment, "late")
    assert problem.field == field


@pytest.mark.parametrize("unit", ["working_days", "calendar_days", "months", "years", "hours"])
def test_valid_timer_properties(unit):
    body = linear(user_task("t1")) + timer_event(
        "late", '"PT1H"', "timeDuration", attached_to="t1", kind="warning", legal_basis="Art. 1",
        limit=f"3 {unit}", clock_start="filed_at")
    bundle = parse_bundle({"x.bpmn": bpmn(body)})
    assert bundle.timers[0].properties["limit"] == f"3 {unit}"


def test_timer_without_statutory_properties_is_allowed():
    bundle = parse_bundle({"x.bpmn": bpmn(linear(timer_event("wait", '"PT1H"', "timeDuration")))})
    assert bundle.timers[0].properties == {}


def test_property_without_value():
    task = ('<bpmn:userTask id="t"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename"/></spiffworkflow:properties>'
            "</bpmn:extensionElements></bpmn:userTask>")
    _single_problem(linear(task), "needs both a name and a value", "t")


# --------------------------------------------------------------------------------------------
# every problem, not just the first


def test_all_problems_are_reported_together():
    body = linear(
        '<bpmn:serviceTask id="svc"/>',
        '<bpmn:scriptTask id="s"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>',
        user_task("t1", form=None),
        timer_event("wait", "P7D", "timeDuration"),
    )
    with pytest.raises(DeploymentInvalid) as info:
        parse_bundle({"x.bpmn": bpmn(body)}, require_forms=True)
    ids = {p.element_id for p in info.value.problems}
    assert {"svc", "s", "t1", "wait"} <= ids
    assert "problems" in info.value.detail
    assert all(p.file == "x.bpmn" and p.line for p in info.value.problems)


def test_problems_in_several_files():
    bad_xml = b"<bpmn:definitions"
    with pytest.raises(DeploymentInvalid) as info:
        parse_bundle({"good.bpmn": bpmn(linear('<bpmn:serviceTask id="svc"/>')), "bad.bpmn": bad_xml,
                      "empty.dmn": b""})
    assert {p.file for p in info.value.problems} == {"good.bpmn", "bad.bpmn", "empty.dmn"}


def test_empty_bundle():
    assert rejected({})[0].message == "The bundle contains no files"


def test_bpmn_without_process():
    data = f"{HEAD}</bpmn:definitions>".encode()
    assert find(rejected({"x.bpmn": data}), "defines no process").file == "x.bpmn"


def test_unknown_file_kind():
    problem = find(rejected({"x.xml": b"<html/>"}), "neither BPMN 2.0 nor DMN")
    assert problem.file == "x.xml" and problem.line == 1


def test_bpmn_recognised_by_namespace_without_extension():
    assert parse_bundle({"procedure.xml": bpmn(linear(user_task("t1")))}).process_id == "P"


# --------------------------------------------------------------------------------------------
# DMN


DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def dmn(decisions: str, *, ns: str = DMN13, prefix: str | None = None) -> bytes:
    if prefix:
        decisions = re.sub(r"<(/?)(\w)", rf"<\1{prefix}:\2", decisions)
        return (f'<?xml version="1.0"?>\n<{prefix}:definitions xmlns:{prefix}="{ns}" id="d" name="D" '
                f'namespace="http://zhifa.test/dmn">{decisions}</{prefix}:definitions>').encode()
    return (f'<?xml version="1.0"?>\n<definitions xmlns="{ns}" id="d" name="D" namespace="http://zhifa.test/dmn">'
            f"{decisions}</definitions>").encode()


def decision(did: str = "fine_range", entry: str = "&lt;= 100", output: str = '"low"', hit: str = "UNIQUE",
             extra: str = "") -> str:
    return (f'<decision id="{did}" name="Fine range"><decisionTable id="{did}_t" hitPolicy="{hit}"{extra}>'
            '<input id="i1" label="Amount"><inputExpression id="ie1" typeRef="number"><text>amount</text>'
            '</inputExpression></input><output id="o1" name="band" typeRef="string"/>'
            f'<rule id="r1"><inputEntry id="e1"><text>{entry}</text></inputEntry>'
            f'<outputEntry id="oe1"><text>{output}</text></outputEntry></rule>'
            '<rule id="r2"><inputEntry id="e2"><text>-</text></inputEntry>'
            '<outputEntry id="oe2"><text>"high"</text></outputEntry></rule>'
            "</decisionTable></decision>")


def rule_task(decision_id: str = "fine_range") -> str:
    return (f'<bpmn:businessRuleTask id="rules" name="Discretion"><bpmn:extensionElements>'
            f"<spiffworkflow:calledDecisionId>{decision_id}</spiffworkflow:calledDecisionId>"
            "</bpmn:extensionElements></bpmn:businessRuleTask>")


def test_business_rule_task_with_dmn():
    bundle = parse_bundle({"p.bpmn": bpmn(linear(rule_task())), "fine.dmn": dmn(decision())})
    assert bundle.decisions == ["fine_range"]
    assert "rules" in bundle.spec.task_specs


def test_dmn_namespace_bound_to_a_prefix_works():
    bundle = parse_bundle({"p.bpmn": bpmn(linear(rule_task())), "fine.dmn": dmn(decision(), prefix="semantic")})
    assert bundle.decisions == ["fine_range"]


def test_camunda_decision_ref_is_accepted():
    task = ('<bpmn:businessRuleTask id="rules" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
            'camunda:decisionRef="fine_range"/>')
    bundle = parse_bundle({"p.bpmn": bpmn(linear(task)), "fine.dmn": dmn(decision())})
    assert any("camunda:decisionRef" in n for n in bundle.notes)


def test_missing_decision():
    problem = find(rejected({"p.bpmn": bpmn(linear(rule_task("nope"))), "fine.dmn": dmn(decision())}),
                   "'nope'")
    assert problem.element_id == "rules"


def test_dmn_without_decision():
    problem = find(rejected({"p.bpmn": bpmn(linear(user_task("t"))), "x.dmn": dmn("")}), "no decision")
    assert problem.file == "x.dmn" and problem.line == 2


def test_dmn_with_two_decisions():
    data = dmn(decision("a") + decision("b").replace('id="i1"', 'id="i2"'))
    problems = rejected({"p.bpmn": bpmn(linear(rule_task("a"))), "x.dmn": data})
    assert "2 decisions (a, b)" in find(problems, "decisions").message
    assert find(problems, "whose DMN file").element_id == "rules"


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [('"a","b"', "FEEL list"), ("[1..5]", "FEEL range"), ("not(\"x\")", "FEEL negation"),
     ("__import__('os')", "not allowed"), ("&lt;= ().__class__", "not allowed"), ("&gt;&gt; &lt;", "not a valid Python expression")],
)
def test_dmn_input_entries(entry, fragment):
    problem = find(rejected({"x.dmn": dmn(decision(entry=entry)), "p.bpmn": bpmn(linear(rule_task()))}), fragment)
    assert problem.file == "x.dmn" and problem.line is not None


@pytest.mark.parametrize("entry", ['"low"', "&lt;= 100", "? &lt; 100", '? in ["a", "b"]', "40 &lt; ? &lt;= 200", "-", ""])
def test_dmn_input_entries_accepted(entry):
    assert parse_bundle({"x.dmn": dmn(decision(entry=entry)), "p.bpmn": bpmn(linear(rule_task()))}).executable


def test_dmn_output_and_policies():
    problems = rejected({"x.dmn": dmn(decision(output="open('x')", hit="COLLECT", extra=' aggregation="SUM"')),
                         "p.bpmn": bpmn(linear(rule_task()))})
    find(problems, "aggregation SUM")
    find(problems, "output entry")
    problems = rejected({"x.dmn": dmn(decision(hit="PRIORITY")), "p.bpmn": bpmn(linear(rule_task()))})
    find(problems, "PRIORITY")


def test_dmn_output_name_must_be_a_variable():
    data = dmn(decision().replace('name="band"', 'name="__builtins__"'))
    find(rejected({"x.dmn": data, "p.bpmn": bpmn(linear(rule_task()))}), "needs a name")


# --------------------------------------------------------------------------------------------
# never crash: every single-element deletion of a valid procedure parses or is rejected cleanly


def _mutations():
    root = etree.fromstring(PROCEDURE)
    count = sum(1 for el in root.iter() if el is not root)
    for index in range(count):
        tree = etree.fromstring(PROCEDURE)
        victim = [el for el in tree.iter() if el is not tree][index]
        victim.getparent().remove(victim)
        yield pytest.param(etree.tostring(tree), id=f"drop-{index}-{etree.QName(victim).localname}")


@pytest.mark.parametrize("data", list(_mutations()))
def test_mutated_procedure_never_crashes(data):
    try:
        result = parse_bundle({"m.bpmn": data}, require_forms=True)
    except DeploymentInvalid as exc:
        assert exc.problems
        assert all(p.file == "m.bpmn" for p in exc.problems)
        assert any(p.line or p.element_id for p in exc.problems)
    else:
        assert isinstance(result, ParsedBundle)


@pytest.mark.parametrize("cut", [10, 200, 700, 1500, len(PROCEDURE) - 5])
def test_truncated_procedure(cut):
    problem = rejected({"t.bpmn": PROCEDURE[:cut]})[0]
    assert problem.file == "t.bpmn" and problem.line


# --------------------------------------------------------------------------------------------
# exceptions from SpiffWorkflow's parser are located problems, whatever their type


@pytest.mark.parametrize("error", [TypeError("x"), IndexError("y"), AttributeError("z"), NotImplementedError("n"),
                                   RecursionError("deep"), KeyError("k")])
def test_any_exception_of_get_spec_becomes_a_located_problem(monkeypatch, error):
    from engine.spiff import parsing

    def broken(self, process_id, required=True):
        raise error

    monkeypatch.setattr(parsing._BundleParser, "get_spec", broken)
    data = bpmn(linear(user_task("t1")))
    [problem] = rejected({"x.bpmn": data})
    assert type(error).__name__ in problem.message
    assert problem.file == "x.bpmn" and problem.element_id == "P" and problem.line == line_of(data, "P")


def test_any_exception_while_adding_a_file_becomes_a_located_problem(monkeypatch):
    from engine.spiff import parsing

    def broken(self, bpmn, filename=None):
        raise etree.XPathEvalError("Undefined namespace prefix")

    monkeypatch.setattr(parsing._BundleParser, "add_bpmn_xml", broken)
    [problem] = rejected({"x.bpmn": bpmn(linear(user_task("t1")))})
    assert "XPathEvalError" in problem.message and problem.file == "x.bpmn" and problem.line


def test_validation_exception_without_file_is_attributed_to_the_right_file():
    # DMN lookups fail in SpiffWorkflow with file_name='' and only the task id
    other = bpmn(linear(user_task("unrelated")), pid="Other")
    data = bpmn(linear(rule_task()), pid="Main")
    problems = rejected({"other.bpmn": other, "main.bpmn": data})
    assert find(problems, "not in this bundle").file == "main.bpmn"

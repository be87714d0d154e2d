"""The procedure library as a whole: every diagram in processes/ deploys with its forms and templates,
has the three lanes, cites every timer, and every catalogue matter names a diagram that exists; no form
or template is left unused."""
from __future__ import annotations

import json

import pytest
from lxml import etree

from engine.seed import load_catalogue
from engine.spiff import load_definition
from engine.supervision.kinds import SUPERVISION_LANES, SUPERVISION_PROCESS
from tests.engine.conftest import FORMS, PROCESSES, TEMPLATES

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
DIAGRAMS = sorted(PROCESSES.glob("*.bpmn"))


LANES = ["officer", "legal_reviewer", "agency_head"]


def called_only() -> set[str]:
    """Diagrams that other diagrams call (the hearing): deployed with their callers, not started alone."""
    called = {c.get("calledElement") for p in DIAGRAMS for c in etree.parse(str(p)).iterfind(".//bpmn:callActivity", NS)}
    return {p.stem for p in DIAGRAMS if p.stem in called}


def with_called(path) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """The diagram's file and the files of the processes it calls (deployment takes them together)."""
    files = {path.name: path.read_bytes()}
    for call in etree.parse(str(path)).iterfind(".//bpmn:callActivity", NS):
        callee = PROCESSES / f"{call.get('calledElement')}.bpmn"
        files[callee.name] = callee.read_bytes()
    return files


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_every_diagram_deploys_with_lanes_and_cited_timers(path) -> None:
    definition = load_definition(with_called(path), known_forms={p.name for p in FORMS.glob("*.json")},
                                 known_templates={p.name for p in TEMPLATES.glob("*.j2")}, require_forms=True)
    assert definition.process_id == path.stem
    tree = etree.parse(str(path))
    lanes = [lane.get("name") for lane in tree.iterfind(".//bpmn:lane", NS)]
    # Every role of the procedure has its lane, in this order; a called procedure may need fewer roles.
    if path.stem == SUPERVISION_PROCESS:  # not an enforcement procedure: the supervisor and the supervised agency's head
        assert lanes == SUPERVISION_LANES
    else:
        assert lanes == (LANES[: len(lanes)] if path.stem in called_only() else LANES)
    for event in tree.iter(f"{{{NS['bpmn']}}}boundaryEvent", f"{{{NS['bpmn']}}}intermediateCatchEvent"):
        if event.find("bpmn:timerEventDefinition", NS) is None:
            continue
        props = {p.get("name"): p.get("value") for p in event.iterfind(".//spiffworkflow:property", NS)}
        assert {"legal_basis", "limit", "kind", "clock_start"} <= set(props), event.get("id")
    for task in tree.iterfind(".//bpmn:userTask", NS):
        props = {p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)}
        schema = json.loads((FORMS / props["formJsonSchemaFilename"]).read_text(encoding="utf-8"))
        assert schema["title"] and all(v.get("title") for v in schema["properties"].values()), task.get("id")
        assert (FORMS / props["formUiSchemaFilename"]).exists()


def test_catalogue_matters_name_existing_diagrams() -> None:
    stems = {p.stem for p in DIAGRAMS}
    used = {m["process_id"] for m in load_catalogue()} | {SUPERVISION_PROCESS}  # started by the internal matter SUPERVISION
    assert used <= stems
    assert stems - called_only() <= used  # and every diagram can be started from some matter (or is called)


def named_by_diagrams() -> set[str]:
    named = set()
    for path in DIAGRAMS:
        for prop in etree.parse(str(path)).iterfind(".//spiffworkflow:property", NS):
            if prop.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename", "documentTemplate"):
                named.add(prop.get("value"))
    return named


def test_no_form_is_left_unused() -> None:
    # Templates no diagram names are library documents, issued from a case with the officer's data; each is
    # issued from its sample in tests/api/test_documents_api.py.
    assert {p.name for p in FORMS.glob("*.json")} - named_by_diagrams() == set()

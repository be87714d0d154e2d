"""The procedure library as a whole: every diagram in processes/ deploys with its forms and templates,
has the three lanes, cites every timer, and every catalogue matter names a diagram that exists; no form
or template is left unused."""
from __future__ import annotations

import json

import pytest
from lxml import etree

from engine.seed import load_catalogue
from engine.spiff import load_definition
from tests.engine.conftest import FORMS, PROCESSES, TEMPLATES

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
DIAGRAMS = sorted(PROCESSES.glob("*.bpmn"))


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_every_diagram_deploys_with_lanes_and_cited_timers(path) -> None:
    definition = load_definition({path.name: path.read_bytes()}, known_forms={p.name for p in FORMS.glob("*.json")},
                                 known_templates={p.name for p in TEMPLATES.glob("*.j2")}, require_forms=True)
    assert definition.process_id == path.stem
    tree = etree.parse(str(path))
    assert [lane.get("name") for lane in tree.iterfind(".//bpmn:lane", NS)] == ["officer", "legal_reviewer", "agency_head"]
    for event in tree.iter("{%s}boundaryEvent" % NS["bpmn"], "{%s}intermediateCatchEvent" % NS["bpmn"]):
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
    used = {m["process_id"] for m in load_catalogue()}
    assert used <= stems
    assert stems <= used  # and every diagram can be started from some matter


def test_no_form_or_template_is_left_unused() -> None:
    named = set()
    for path in DIAGRAMS:
        for prop in etree.parse(str(path)).iterfind(".//spiffworkflow:property", NS):
            if prop.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename", "documentTemplate"):
                named.add(prop.get("value"))
    assert {p.name for p in FORMS.glob("*.json")} - named == set()
    assert {p.name for p in TEMPLATES.glob("*.j2")} - named == set()

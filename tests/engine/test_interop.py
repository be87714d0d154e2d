"""Third-party BPMN/DMN (shared/interop): accepted and parsed, or rejected with a located message.

The corpus lives next to the repository (`../shared/interop`, also in CI); it is read in place,
never copied into the project. Its absence is a failure, not a skip: these tests are the evidence
that deployment never crashes on diagrams we did not write.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import DeploymentInvalid
from engine.spiff.parsing import ParsedBundle, parse_bundle
from engine.spiff.scripts import DEFAULT_FUNCTIONS
from tests.support.bpmn_samples import BILLION_LAUGHS, HUGE, XXE

INTEROP = Path(__file__).resolve().parents[3] / "shared" / "interop"
FILES = INTEROP / "files"
MANIFEST = INTEROP / "manifest.json"
MIWG_A10 = FILES / "miwg-A.1.0"

MISSING = (f"The interoperability corpus is missing: expected {MANIFEST} and {FILES} "
           "(the 'shared' folder must be a sibling of the repository checkout)")


def _manifest() -> dict | None:
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


MANIFEST_DATA = _manifest()


def _entries(section: str):
    if MANIFEST_DATA is None:
        return [pytest.param(None, id="interop-corpus-missing")]
    return [pytest.param(entry, id=entry["file"]) for entry in MANIFEST_DATA[section]]


def _miwg_files():
    if not MIWG_A10.is_dir():
        return [pytest.param(None, id="miwg-A.1.0-missing")]
    return [pytest.param(p, id=p.name) for p in sorted(MIWG_A10.glob("*.bpmn"))]


def _require(thing) -> None:
    if thing is None:
        pytest.fail(MISSING)


def _bundle(entry: dict) -> dict[str, bytes]:
    return {name: (FILES / name).read_bytes() for name in [entry["file"], *entry.get("deps", [])]}


def test_corpus_is_present():
    _require(MANIFEST_DATA)
    assert FILES.is_dir(), MISSING
    assert MANIFEST_DATA["should_deploy_and_run"] and MANIFEST_DATA["should_be_rejected_or_not_executable"]
    assert len(list(MIWG_A10.glob("*.bpmn"))) >= 50


# --------------------------------------------------------------------------------------------
# should deploy


# Names a file's scripts call that our engine must inject for it to run. SpiffWorkflow's own test
# suite injects `custom_function` and runs with full builtins (`print`); our allowlist rejects
# both unless the deploying environment provides them (see test_extra_functions_are_required).
EXTRA_FUNCTIONS = {
    "spiffworkflow/tests/SpiffWorkflow/bpmn/data/timer-cycle-start.bpmn": {"custom_function", "print"},
}

# Processes the call activities of a file must resolve to.
EXPECTED_SUBPROCESSES = {
    "camunda-bpm-examples/multi-tenancy/tenant-identifier-shared-definitions/src/main/resources/processes/default/"
    "mainProcess.bpmn": {"subProcess"},
    "spiff-example-cli/bpmn/tutorial/top_level.bpmn": {"customize_product"},
}


@pytest.mark.parametrize("entry", _entries("should_deploy_and_run"))
def test_should_deploy(entry):
    _require(entry)
    functions = DEFAULT_FUNCTIONS | EXTRA_FUNCTIONS.get(entry["file"], set())
    bundle = parse_bundle(_bundle(entry), known_forms=None, require_forms=False, functions=functions)
    assert isinstance(bundle, ParsedBundle)
    assert bundle.executable is True, bundle.notes
    assert bundle.spec is not None
    assert bundle.process_id in bundle.executable_processes
    assert set(bundle.files_sha256) == {entry["file"], *entry.get("deps", [])}
    assert EXPECTED_SUBPROCESSES.get(entry["file"], set()) <= set(bundle.subprocess_specs)


def test_extra_functions_are_required():
    """Without `custom_function` / `print` injected, timer-cycle-start.bpmn would fail at run time: reject it."""
    _require(MANIFEST_DATA)
    name = "spiffworkflow/tests/SpiffWorkflow/bpmn/data/timer-cycle-start.bpmn"
    with pytest.raises(DeploymentInvalid) as info:
        parse_bundle({name: (FILES / name).read_bytes()})
    [problem] = info.value.problems
    assert problem.file == name and problem.element_id == "Refill_Coffee" and problem.line
    assert "custom_function" in problem.message and "print" in problem.message


def test_collaboration_keeps_only_the_executable_pool():
    _require(MANIFEST_DATA)
    name = "miwg/bpmn.io (Camunda Modeler) 18.6.1/A.4.0-export.bpmn"
    bundle = parse_bundle({name: (FILES / name).read_bytes()})
    assert len(bundle.processes) == 2 and bundle.executable_processes == [bundle.process_id]
    assert any("not started" in note for note in bundle.notes)


def test_camunda_dialect_business_rule_task_is_bridged():
    _require(MANIFEST_DATA)
    entry = next(e for e in MANIFEST_DATA["should_deploy_and_run"] if e["file"].endswith("camunda/task_types.bpmn"))
    bundle = parse_bundle(_bundle(entry))
    assert bundle.decisions == ["product_prices"]
    assert any("camunda:decisionRef" in note for note in bundle.notes)


# --------------------------------------------------------------------------------------------
# should be rejected (or stored without being executable)


# What the message must say, per file (beyond being located).
EXPECTED_REJECTION = {
    "miwg/Reference/C.3.0.bpmn": ("_cd6f230f-13c3-4027-aa3e-57de601a1ab2", "is empty"),
    "miwg/Reference/C.9.2.bpmn": ("CallActivity_RequestDocument", "needs loopCardinality or an input collection"),
    "miwg/Reference/C.9.1.bpmn": ("BoundaryEvent_1", "'R6/P1D' is not a valid expression"),
    "camunda-bpm-examples/usertask/task-form-embedded-react/src/main/resources/react-example.bpmn":
        ("SequenceFlow_0fiou82", "JUEL"),
    "miwg/Trisotech Workflow Modeler 12.6.3/C.1.0-roundtrip.bpmn": ("archiveInvoice", "service tasks are not supported"),
    "spiffworkflow/tests/SpiffWorkflow/bpmn/data/call_activity_nested/call_activity_level_3.bpmn":
        ("Activity_12zat0d", "Recursive call activity: Level3 -> Level3"),
    "camunda-bpm-examples/dmn-engine/dmn-engine-drg/src/main/resources/org/camunda/bpm/example/drg/dinnerDecisions.dmn":
        ("dish", "defines 2 decisions (beverages, dish)"),
    "bpmn-moddle/test/fixtures/bpmn/event-definition-ref.bpmn": ("StartEvent_1", "uses eventDefinitionRef"),
    "bpmn-moddle/test/fixtures/bpmn/error/xmlns-redeclaration.bpmn": (None, "line 2 col 114: Attribute xmlns redefined"),
    "bpmn-moddle/test/fixtures/bpmn/error/not-bpmn.bpmn": (None, "is not a BPMN 2.0 document"),
}
EXPECTED_NOT_EXECUTABLE = {"miwg/Reference/A.1.0.bpmn", "miwg/Reference/B.1.0.bpmn"}


@pytest.mark.parametrize("entry", _entries("should_be_rejected_or_not_executable"))
def test_should_be_rejected_or_not_executable(entry):
    _require(entry)
    name = entry["file"]
    try:
        bundle = parse_bundle(_bundle(entry), known_forms=None, require_forms=False)
    except DeploymentInvalid as exc:
        assert name not in EXPECTED_NOT_EXECUTABLE, [p.message for p in exc.problems]
        problems = exc.problems
        assert problems
        assert all(p.file == name for p in problems), problems
        assert all(p.line or p.element_id for p in problems), problems
        element_id, fragment = EXPECTED_REJECTION[name]
        matching = [p for p in problems if fragment in p.message]
        assert matching, [p.message for p in problems]
        if element_id is not None:
            assert any(p.element_id == element_id for p in matching), matching
        else:
            assert all(p.line for p in matching), matching
    else:
        assert name in EXPECTED_NOT_EXECUTABLE, f"{name} was accepted as executable"
        assert bundle.executable is False and bundle.spec is None
        assert "can be stored and viewed but not started" in bundle.notes[0]


# --------------------------------------------------------------------------------------------
# MIWG A.1.0 exported by ~60 tools: never a crash


@pytest.mark.parametrize("path", _miwg_files())
def test_miwg_a10_exports_parse_or_are_rejected_with_location(path):
    _require(path)
    try:
        bundle = parse_bundle({path.name: path.read_bytes()})
    except DeploymentInvalid as exc:
        assert exc.problems
        assert all(p.file == path.name for p in exc.problems)
        assert any(p.line or p.element_id for p in exc.problems)
    else:
        assert isinstance(bundle, ParsedBundle)
        assert bundle.executable == (bundle.spec is not None)
        if not bundle.executable:
            assert "not started" in bundle.notes[0]


def test_miwg_reference_model_is_not_executable():
    _require(MANIFEST_DATA)
    bundle = parse_bundle({"ref.bpmn": (MIWG_A10 / "Reference__A.1.0.bpmn").read_bytes()})
    assert bundle.executable is False and bundle.process_id == "WFP-6-"


# --------------------------------------------------------------------------------------------
# hostile inputs



HOSTILE = {
    "xxe.bpmn": (XXE, "DOCTYPE", 2),
    "laughs.bpmn": (BILLION_LAUGHS, "DOCTYPE", 2),
    "big.bpmn": (HUGE, "limit", None),
    "notxml.bpmn": (b"PK\x03\x04 this is a zip file", "XML parse error", 1),
    "html.bpmn": (b"<html><body>hello</body></html>", "not a BPMN 2.0 document", 1),
    "empty.bpmn": (b"", "empty", 1),
    "notbpmn.dmn": (b'<definitions xmlns="http://example.org/other"/>', "not a DMN document", 1),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input(name):
    data, fragment, line = HOSTILE[name]
    with pytest.raises(DeploymentInvalid) as info:
        parse_bundle({name: data})
    [problem] = info.value.problems
    assert problem.file == name
    assert fragment in problem.message
    assert problem.line == line
    assert "root:" not in problem.message  # nothing of /etc/passwd leaked


def test_hostile_file_next_to_a_good_one_is_named():
    _require(MANIFEST_DATA)
    good = "spiffworkflow/tests/SpiffWorkflow/bpmn/data/timer.bpmn"
    with pytest.raises(DeploymentInvalid) as info:
        parse_bundle({good: (FILES / good).read_bytes(), "xxe.bpmn": XXE})
    assert [p.file for p in info.value.problems] == ["xxe.bpmn"]

"""Deploying procedures through the API: POST /api/v1/processes (multipart parts named `files`).

A valid bundle becomes an immutable, versioned definition (201 {"id", "process_id", "version"});
the same files again are not a new version, a changed file is. Hostile or malformed BPMN (external
entities, entity expansion, huge files, not XML, not BPMN, unsupported elements) is refused with 422
application/problem+json naming the file, the line and the BPMN element, and nothing is stored.

Definitions live in the session-wide database (only case tables are emptied between tests), so each
test deploys its own process id and the definitions it created are removed afterwards.
"""
from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from engine.core import Core
from engine.models import AuditEvent, DefinitionFile, ProcessDefinition
from tests.support.bpmn_samples import BILLION_LAUGHS, HUGE, XXE, line_of, minimal_bpmn

ROOT = Path(__file__).resolve().parents[2]
INTEROP = Path(__file__).resolve().parents[3] / "shared" / "interop"
FILES = INTEROP / "files"
PROBLEM_JSON = "application/problem+json"


SERVICE_TASK = minimal_bpmn("zz_service_task", task_tag="serviceTask")
UNCLOSED = minimal_bpmn("zz_unclosed").replace(b"</bpmn:process>", b"")


# name -> (content, fragment of the message, line (None: not asserted), element id (None: no element))
HOSTILE: dict[str, tuple[bytes, str, int | None, str | None]] = {
    "xxe.bpmn": (XXE, "DOCTYPE", 2, None),
    "laughs.bpmn": (BILLION_LAUGHS, "DOCTYPE", 2, None),
    "huge.bpmn": (HUGE, "bytes", None, None),
    "zip.bpmn": (b"PK\x03\x04 this is a zip file", "XML parse error", 1, None),
    "unclosed.bpmn": (UNCLOSED, "XML parse error", None, None),
    "html.bpmn": (b"<html><body>hello</body></html>", "not a BPMN 2.0 document", 1, None),
    "empty.bpmn": (b"", "empty", 1, None),
    "service.bpmn": (SERVICE_TASK, "service tasks are not supported", line_of(SERVICE_TASK, "<bpmn:serviceTask"), "check"),
}


# -- fixtures and helpers ------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _remove_deployed_definitions(core: Core) -> Iterator[None]:
    """Definitions are not case tables: take away whatever this test deployed."""
    with core.unit() as unit:
        before = set(unit.session.scalars(select(ProcessDefinition.id)))
    yield
    with core.unit() as unit:
        new = set(unit.session.scalars(select(ProcessDefinition.id))) - before
        if new:
            unit.session.execute(delete(DefinitionFile).where(DefinitionFile.definition_id.in_(new)))
            unit.session.execute(delete(ProcessDefinition).where(ProcessDefinition.id.in_(new)))


def unique_id() -> str:
    return f"zz_test_{uuid.uuid4().hex[:10]}"


def multipart(parts: dict[str, list[tuple[bytes, str]]]) -> dict[str, Any]:
    """A multipart body built in memory (the test client's own encoder spools big bodies to a
    temporary file it never closes, which this suite's warnings-as-errors would report)."""
    values = MultiDict([(field, FileStorage(io.BytesIO(content), filename=name))
                        for field, items in parts.items() for content, name in items])
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def deploy(client: Any, files: dict[str, bytes]) -> Any:
    return client.post("/api/v1/processes", **multipart({"files": [(c, n) for n, c in files.items()]}))


def stored(core: Core) -> tuple[int, int, int]:
    """What a refused deployment must leave as it was: definitions, their files, audit events."""
    with core.unit() as unit:
        return (
            unit.session.scalar(select(func.count()).select_from(ProcessDefinition)),
            unit.session.scalar(select(func.count()).select_from(DefinitionFile)),
            # Logins are recorded too; what counts is that the refused deployment added nothing.
            unit.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "auth.login")),
        )


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == PROBLEM_JSON
    problem = response.get_json()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    return problem


# -- valid deployments ------------------------------------------------------------------------------
def test_valid_deploy_creates_version_one_and_serves_the_xml(login: Any, core: Core) -> None:
    designer = login("designer1")
    process_id = unique_id()
    xml = minimal_bpmn(process_id)
    response = deploy(designer, {"screening.bpmn": xml})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {"id", "process_id", "version"} <= set(body)
    assert body["process_id"] == process_id and body["version"] == 1
    assert isinstance(body["id"], int)
    assert body["executable"] is True
    # The form the user task names is stored with the definition.
    assert {f["filename"] for f in body["files"]} == {"screening.bpmn", "verify_clue.schema.json"}

    got = designer.get(f"/api/v1/processes/{body['id']}/xml")
    assert got.status_code == 200
    assert got.mimetype == "application/xml"
    assert got.data == xml

    one = designer.get(f"/api/v1/processes/{body['id']}").get_json()
    assert one["process_id"] == process_id and one["version"] == 1
    listed = designer.get("/api/v1/processes").get_json()["items"]
    assert [(d["process_id"], d["version"]) for d in listed if d["process_id"] == process_id] == [(process_id, 1)]
    # The general procedure the demo deployed is listed too.
    assert any(d["process_id"] == "general_punishment" for d in listed)


def test_deploying_the_same_files_again_is_not_a_new_version(login: Any, core: Core) -> None:
    designer = login("designer1")
    files = {"screening.bpmn": minimal_bpmn(unique_id())}
    first = deploy(designer, files)
    assert first.status_code == 201, first.get_json()
    before = stored(core)
    again = deploy(designer, files)
    assert again.status_code in (200, 201), again.get_json()
    assert (again.get_json()["id"], again.get_json()["version"]) == (first.get_json()["id"], 1)
    assert stored(core)[:2] == before[:2]


def test_a_changed_file_is_the_next_version_and_the_old_one_is_kept(login: Any, core: Core) -> None:
    designer = login("designer1")
    process_id = unique_id()
    old_xml, new_xml = minimal_bpmn(process_id), minimal_bpmn(process_id, task_name="核查线索")
    first = deploy(designer, {"screening.bpmn": old_xml}).get_json()
    response = deploy(designer, {"screening.bpmn": new_xml})
    assert response.status_code == 201, response.get_json()
    second = response.get_json()
    assert second["process_id"] == process_id
    assert second["version"] == first["version"] + 1 == 2
    assert second["id"] != first["id"]
    assert designer.get(f"/api/v1/processes/{second['id']}/xml").data == new_xml
    assert designer.get(f"/api/v1/processes/{first['id']}/xml").data == old_xml  # versions never change


def test_a_changed_form_is_also_a_new_version(login: Any, core: Core) -> None:
    designer = login("designer1")
    xml = minimal_bpmn(unique_id())
    form = json.loads((ROOT / "forms" / "verify_clue.schema.json").read_text(encoding="utf-8"))
    first = deploy(designer, {"screening.bpmn": xml}).get_json()
    form["title"] = "核查线索（修订）"
    changed = json.dumps(form, ensure_ascii=False).encode()
    response = deploy(designer, {"screening.bpmn": xml, "verify_clue.schema.json": changed})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["version"] == first["version"] + 1


def test_a_model_that_is_not_executable_is_stored_but_says_so(login: Any) -> None:
    name = "miwg/Reference/A.1.0.bpmn"
    response = deploy(login("designer1"), {"A.1.0.bpmn": (FILES / name).read_bytes()})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["executable"] is False


def test_unknown_definition_is_404(login: Any) -> None:
    designer = login("designer1")
    assert_problem(designer.get("/api/v1/processes/999999"), 404)
    assert_problem(designer.get("/api/v1/processes/999999/xml"), 404)


# -- who may deploy ---------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["officer1", "reviewer1", "head1", "supervisor1"])
def test_only_designers_and_admins_deploy(login: Any, core: Core, username: str) -> None:
    before = stored(core)
    problem = assert_problem(deploy(login(username), {"screening.bpmn": minimal_bpmn(unique_id())}), 403)
    assert "process_designer" in problem["detail"]
    assert stored(core) == before


def test_admin_may_deploy(login: Any) -> None:
    response = deploy(login("admin"), {"screening.bpmn": minimal_bpmn(unique_id())})
    assert response.status_code == 201, response.get_json()


def test_deploy_without_a_token_is_401(http: Any, core: Core) -> None:
    before = stored(core)
    response = http.post("/api/v1/processes", **multipart({"files": [(minimal_bpmn(unique_id()), "a.bpmn")]}))
    assert_problem(response, 401)
    assert stored(core) == before


# -- bad input ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_or_malformed_bpmn_is_refused_by_file_line_and_element(login: Any, core: Core, name: str) -> None:
    content, fragment, line, element_id = HOSTILE[name]
    before = stored(core)
    problem = assert_problem(deploy(login("designer1"), {name: content}), 422)
    errors = problem["errors"]
    assert errors and all(e["file"] == name for e in errors), errors
    matching = [e for e in errors if fragment in e["message"]]
    assert matching, errors
    if line is not None:
        assert any(e.get("line") == line for e in matching), matching
    if element_id is not None:
        assert any(e.get("element_id") == element_id for e in matching), matching
    assert "root:" not in json.dumps(problem)  # nothing of /etc/passwd leaked
    assert stored(core) == before


def test_unclosed_element_names_the_line(login: Any) -> None:
    problem = assert_problem(deploy(login("designer1"), {"unclosed.bpmn": UNCLOSED}), 422)
    [error] = problem["errors"]
    assert error["file"] == "unclosed.bpmn" and isinstance(error["line"], int) and error["line"] > 1


@pytest.mark.parametrize(
    "name, fragment, element_id",
    [
        ("bpmn-moddle/test/fixtures/bpmn/error/not-bpmn.bpmn", "is not a BPMN 2.0 document", None),
        ("bpmn-moddle/test/fixtures/bpmn/error/xmlns-redeclaration.bpmn", "Attribute xmlns redefined", None),
        ("bpmn-moddle/test/fixtures/bpmn/event-definition-ref.bpmn", "eventDefinitionRef", "StartEvent_1"),
        ("miwg/Trisotech Workflow Modeler 12.6.3/C.1.0-roundtrip.bpmn", "service tasks are not supported", "archiveInvoice"),
        ("spiffworkflow/tests/SpiffWorkflow/bpmn/data/call_activity_nested/call_activity_level_3.bpmn",
         "Recursive call activity", "Activity_12zat0d"),
    ],
)
def test_third_party_files_that_cannot_run_are_refused_with_location(
    login: Any, core: Core, name: str, fragment: str, element_id: str | None
) -> None:
    path = FILES / name
    assert path.is_file(), f"interop corpus missing: {path}"
    base = path.name
    before = stored(core)
    problem = assert_problem(deploy(login("designer1"), {base: path.read_bytes()}), 422)
    matching = [e for e in problem["errors"] if fragment in e["message"]]
    assert matching, problem["errors"]
    assert all(e["file"] == base for e in matching)
    assert all(isinstance(e.get("line"), int) for e in matching), matching
    if element_id is not None:
        assert any(e.get("element_id") == element_id for e in matching), matching
    assert stored(core) == before


def test_camunda_user_task_without_a_form_is_named(login: Any, core: Core) -> None:
    name = "camunda-bpm-examples/usertask/task-form-embedded/src/main/resources/loanApproval.bpmn"
    before = stored(core)
    problem = assert_problem(deploy(login("designer1"), {"loanApproval.bpmn": (FILES / name).read_bytes()}), 422)
    [error] = [e for e in problem["errors"] if "has no form" in e["message"]]
    assert error["file"] == "loanApproval.bpmn" and error["element_id"] and error["line"]
    assert error["field"] == "formJsonSchemaFilename"
    assert stored(core) == before


def test_a_bad_file_next_to_a_good_one_is_named_and_nothing_is_stored(login: Any, core: Core) -> None:
    before = stored(core)
    problem = assert_problem(
        deploy(login("designer1"), {"good.bpmn": minimal_bpmn(unique_id()), "xxe.bpmn": XXE}), 422
    )
    assert {e["file"] for e in problem["errors"]} == {"xxe.bpmn"}
    assert stored(core) == before


def test_a_user_task_naming_a_missing_form_is_refused(login: Any, core: Core) -> None:
    xml = minimal_bpmn(unique_id()).replace(b"verify_clue.schema.json", b"no_such_form.schema.json")
    before = stored(core)
    problem = assert_problem(deploy(login("designer1"), {"screening.bpmn": xml}), 422)
    [error] = problem["errors"]
    assert error["file"] == "screening.bpmn" and error["element_id"] == "check"
    assert error["line"] == line_of(xml, "<bpmn:userTask")
    assert "no_such_form.schema.json" in error["message"]
    assert stored(core) == before


def test_an_invalid_uploaded_form_is_refused_by_name(login: Any, core: Core) -> None:
    before = stored(core)
    problem = assert_problem(
        deploy(login("designer1"), {"screening.bpmn": minimal_bpmn(unique_id()), "verify_clue.schema.json": b"{not json"}),
        422,
    )
    assert [e["file"] for e in problem["errors"]] == ["verify_clue.schema.json"]
    assert stored(core) == before


def test_no_files_is_422_naming_the_files_part(login: Any, core: Core) -> None:
    designer = login("designer1")
    before = stored(core)
    problem = assert_problem(designer.post("/api/v1/processes", data={}, content_type="multipart/form-data"), 422)
    assert [e["field"] for e in problem["errors"]] == ["files"]
    wrong_part = designer.post("/api/v1/processes", **multipart({"file": [(minimal_bpmn(unique_id()), "a.bpmn")]}))
    assert [e["field"] for e in assert_problem(wrong_part, 422)["errors"]] == ["files"]
    assert stored(core) == before


def test_only_non_process_files_is_422(login: Any, core: Core) -> None:
    before = stored(core)
    problem = assert_problem(deploy(login("designer1"), {"readme.txt": b"hello"}), 422)
    assert problem["errors"]
    assert stored(core) == before


def test_a_request_over_the_servers_size_limit_is_413_problem(login: Any, core: Core) -> None:
    before = stored(core)
    response = login("designer1").post(
        "/api/v1/processes", environ_overrides={"CONTENT_LENGTH": str(100 * 1024 * 1024)},
        **multipart({"files": [(minimal_bpmn(unique_id()), "screening.bpmn")]}),
    )
    assert_problem(response, 413)
    assert stored(core) == before

"""The legal-staff editors without a browser (Flask test client, SQLite and PostgreSQL): who may open and
save them, CSRF on every save, and bad input answered with located problems and nothing stored."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from engine.discretion_store import DiscretionTableVersion
from engine.models import DefinitionFile, ProcessDefinition
from tests.web import test_web_http
from tests.web.test_web_http import csrf, login, status

web = test_web_http.web  # the fixture: a test client of the app with a short session

FINE = (Path(__file__).resolve().parents[2] / "processes" / "discretion" / "fine_benchmark.dmn").read_text(encoding="utf-8")
WIDER = FINE.replace('<outputEntry id="fine_benchmark_rule_5_out_5"><text>0.3</text>',
                     '<outputEntry id="fine_benchmark_rule_5_out_5"><text>0.4</text>')


def stored(core: Any) -> list[DiscretionTableVersion]:
    with core.unit() as unit:
        return list(unit.session.scalars(select(DiscretionTableVersion)))


def test_only_designers_and_admins_open_the_table_editor(web):  # type: ignore[no-untyped-def]
    login(web, "reviewer1")
    for path in ("/procedures/discretion", "/procedures/discretion/fine_benchmark", "/procedures/discretion/fine_benchmark/xml"):
        assert web.get(path).status_code == 403, path
    token = csrf(web, "/inbox")
    response = web.post("/procedures/discretion/fine_benchmark", json={"xml": WIDER}, headers={"X-CSRFToken": token})
    assert response.status_code == 403
    web.post("/logout", data={"csrf_token": token})
    login(web, "designer1")
    assert "罚款裁量基准" in web.get("/procedures/discretion").get_data(as_text=True)
    assert web.get("/procedures/discretion/fine_benchmark/xml").get_data(as_text=True) == FINE
    assert web.get("/procedures/discretion/no_such_table").status_code == 404


def test_saving_a_table_needs_the_csrf_token(web, core):  # type: ignore[no-untyped-def]
    login(web, "designer1")
    assert web.post("/procedures/discretion/fine_benchmark", json={"xml": WIDER}).status_code == 400
    assert stored(core) == []
    token = csrf(web, "/inbox")
    response = web.post("/procedures/discretion/fine_benchmark", json={"xml": WIDER}, headers={"X-CSRFToken": token})
    assert response.status_code == 201 and response.get_json()["version"] == 1
    again = web.post("/procedures/discretion/fine_benchmark", json={"xml": WIDER}, headers={"X-CSRFToken": token})
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert [r.version for r in stored(core)] == [1]
    assert "0.4" in web.get("/procedures/discretion/fine_benchmark/xml").get_data(as_text=True)
    assert web.get("/procedures/discretion/fine_benchmark/xml?version=0").get_data(as_text=True) == FINE


def test_bad_tables_are_refused_with_located_problems(web, core):  # type: ignore[no-untyped-def]
    login(web, "admin")
    token = csrf(web, "/inbox")
    for body, expected in (({"xml": FINE.replace("</rule>", "</rul>", 1)}, "line"),
                           ({"xml": FINE.replace('name="fine_kind"', 'name="kind"')}, "fine_kind"),
                           ({"xml": "<definitions/>"}, "fine_benchmark.dmn"),
                           ({"xml": 5}, "xml"), ({}, "xml")):
        response = web.post("/procedures/discretion/fine_benchmark", json=body, headers={"X-CSRFToken": token})
        answer = response.get_json()
        assert response.status_code == 200 and answer["saved"] is False, body
        assert expected in str(answer["errors"]), (expected, answer)
    assert stored(core) == []


def test_the_rest_api_saves_and_reads_tables(web, core):  # type: ignore[no-untyped-def]
    def token(username: str) -> dict[str, str]:
        from tests.conftest import PASSWORD

        answer = web.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}).get_json()
        return {"Authorization": f"Bearer {answer['access_token']}"}

    officer, designer = token("officer1"), token("designer1")
    listed = web.get("/api/v1/discretion/tables", headers=officer).get_json()
    assert [t["table"] for t in listed["items"]] == ["disposition_tier", "fine_benchmark"]
    assert web.post("/api/v1/discretion/tables/fine_benchmark", json={"xml": WIDER}, headers=officer).status_code == 403
    refused = web.post("/api/v1/discretion/tables/fine_benchmark", json={"xml": FINE.replace("</rule>", "</rul>", 1)},
                       headers=designer)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert web.post("/api/v1/discretion/tables/fine_benchmark", json={"xml": None}, headers=designer).status_code == 422
    saved = web.post("/api/v1/discretion/tables/fine_benchmark", json={"xml": WIDER}, headers=designer)
    assert saved.status_code == 201 and saved.get_json()["version"] == 1
    shown = web.get("/api/v1/discretion/tables/fine_benchmark", headers=officer).get_json()
    assert shown["version"] == 1 and shown["xml"] == WIDER and [v["version"] for v in shown["versions"]] == [1, 0]
    assert web.get("/api/v1/discretion/tables/fine_benchmark?version=7", headers=officer).status_code == 404
    assert web.get("/api/v1/discretion/tables/nothing", headers=officer).status_code == 404
    assert [r.version for r in stored(core)] == [1]


def general_id(core: Any) -> int:
    from engine import definitions

    with core.unit() as unit:
        return definitions.latest_executable(unit, "general_punishment").id


def test_template_editor_roles_csrf_and_bad_input(web, core):  # type: ignore[no-untyped-def]
    definition = general_id(core)
    page = f"/procedures/{definition}/templates/filing_approval.html.j2"
    login(web, "officer1")
    assert web.get(page).status_code == 403
    token = csrf(web, "/inbox")
    assert web.post(page + "/preview", data={"csrf_token": token, "source": "x"}).status_code == 403
    assert web.post(page, data={"csrf_token": token, "source": "x"}).status_code == 403
    web.post("/logout", data={"csrf_token": token})
    login(web, "designer1")
    text = web.get(page).get_data(as_text=True)
    assert "立案审批表" in text and 'id="preview-frame"' in text and 'sandbox=""' in text
    assert web.get(f"/procedures/{definition}/templates/no_such.html.j2").status_code == 404
    assert web.get(f"/procedures/{definition}/templates/verify_clue.schema.json").status_code == 404
    token = csrf(web, page)
    for path in (page, page + "/preview", page + "/preview.pdf"):
        assert web.post(path, data={"source": "x"}).status_code == 400, path  # no CSRF token
    empty = web.post(page, data={"csrf_token": token, "source": "  "})
    assert empty.status_code == 200 and "deploy-problems" in empty.get_data(as_text=True)
    broken = web.post(page + "/preview", data={"csrf_token": token, "source": "{% if %}"})
    assert broken.status_code == 200 and 'id="preview-errors"' in broken.get_data(as_text=True)
    refused_pdf = web.post(page + "/preview.pdf", data={"csrf_token": token, "source": "{{ missing_name }}"})
    assert refused_pdf.status_code == 200 and "missing_name" in refused_pdf.get_data(as_text=True)
    too_long = web.post(page + "/preview", data={"csrf_token": token, "source": "x" * 200_001})
    assert "200000" in too_long.get_data(as_text=True)
    with core.unit() as unit:
        versions = unit.session.scalars(select(ProcessDefinition.version).where(
            ProcessDefinition.process_id == "general_punishment")).all()
    assert versions == [1]  # nothing was deployed


@pytest.fixture
def deployed_versions_removed(core):  # type: ignore[no-untyped-def]
    """Versions a test deploys are removed afterwards: other tests expect the seeded procedures."""
    with core.db.transaction() as session:
        seeded = session.scalar(select(func.max(ProcessDefinition.id)))
    yield
    with core.db.transaction() as session:
        session.execute(delete(DefinitionFile).where(DefinitionFile.definition_id > seeded))
        session.execute(delete(ProcessDefinition).where(ProcessDefinition.id > seeded))


def test_later_edits_keep_an_edited_template(web, core, deployed_versions_removed):  # type: ignore[no-untyped-def]
    """The modeler and the form editor deploy from the version they opened: a template edited before
    stays in the next versions (not the copy in templates/)."""
    from engine import definitions

    seeded = general_id(core)
    login(web, "designer1")
    page = f"/procedures/{seeded}/templates/filing_approval.html.j2"
    token = csrf(web, page)
    with core.unit() as unit:
        source = definitions.file_content(unit, seeded, "filing_approval.html.j2").decode("utf-8")
        bpmn_name, bpmn = definitions.main_xml(unit, seeded)
        form = definitions.file_content(unit, seeded, "verify_clue.schema.json").decode("utf-8")
    edited = source.replace("<th>核查情况</th>", "<th>核查情况（修订）</th>")
    assert web.post(page, data={"csrf_token": token, "source": edited}).status_code == 302
    v2 = general_id(core)
    renamed = bpmn.decode("utf-8").replace('name="核查线索"', 'name="核查线索（修订）"', 1)
    deployed = web.post("/procedures/deploy", json={"filename": bpmn_name, "xml": renamed, "based_on": v2},
                        headers={"X-CSRFToken": token})
    assert deployed.status_code == 201, deployed.get_json()
    v3 = deployed.get_json()["id"]
    form_page = f"/procedures/{v3}/forms/verify_clue.schema.json"
    assert web.post(form_page, data={"csrf_token": token, "schema": form.replace("核查情况", "核查情况（现场）"), "ui": "{}"}).status_code == 302
    v4 = general_id(core)
    with core.unit() as unit:
        versions = {v: definitions.get_view(unit, v).version for v in (v2, v3, v4)}
        templates = [definitions.file_content(unit, v, "filing_approval.html.j2").decode("utf-8") for v in (v2, v3, v4)]
        names = definitions.main_xml(unit, v4)[1].decode("utf-8")
    assert list(versions.values()) == [2, 3, 4]
    assert all("核查情况（修订）" in t for t in templates)
    assert 'name="核查线索（修订）"' in names


def test_dmn_js_is_served_from_its_dist_only(web):  # type: ignore[no-untyped-def]
    assert status(web, "/static/vendor/dmn-js/dmn-modeler.production.min.js") == 200
    assert status(web, "/static/vendor/dmn-js/assets/dmn-js-decision-table.css") == 200
    assert status(web, "/static/vendor/dmn-js/../package.json") == 404
    assert status(web, "/static/vendor/dmn-js/../lib/Modeler.js") == 404

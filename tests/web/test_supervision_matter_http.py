"""The supervision matter pages without a browser (Flask test client, SQLite and PostgreSQL): who sees a
matter and does its tasks through the pages (the supervised agency's head on the generic task page, which
reads the decision band of any task), refusals at the engine's fields, a matter's case page leading to it."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from api import create_app
from engine.accounts import principal_for_username
from engine.core import Core
from engine.models import Agency, Case, TaskRow
from engine.supervision import matters
from engine.supervision.matter_models import SupervisionMatter
from tests.web.conftest import open_case_in
from tests.web.test_web_http import client, csrf

NOTICE = {"findings": "未按期立案。", "supervision_basis": "《市场监督管理行政处罚程序规定》第十八条", "requirements": "立即核查处理。",
          "rectification_days": "10", "notice_served_at": "2026-03-02T09:00"}


@pytest.fixture
def app(core: Core) -> Any:
    return create_app(Core(replace(core.settings, token_ttl_seconds=3600, secret_key="test-secret"), clock=core.clock, db=core.db))


def agency(core: Core, code: str) -> int:
    with core.unit() as unit:
        return unit.session.scalar(select(Agency.id).where(Agency.code == code))


def opened(core: Core, **body: Any) -> matters.MatterView:
    tianhe = agency(core, "GZ-TH-SJJ")
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "supervisor1")
        return matters.open_matter(unit, {"agency_id": tianhe, "source": "initiative", "summary": "日常监督", **body})


def ready(core: Core, case_id: int, bpmn_id: str) -> str:
    with core.unit() as unit:
        return unit.session.scalar(select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == bpmn_id, TaskRow.state == "ready"))


def errors(html: str, field: str) -> list[str]:
    found = re.search(rf'<ul class="field-errors" id="m-{field}-errors">(.*?)</ul>', html, re.DOTALL)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def test_who_sees_the_matter_and_does_its_tasks(app: Any, core: Core) -> None:
    matter = opened(core)
    supervisor, head = client(app, "supervisor1"), client(app, "head1")
    assert supervisor.get(f"/cases/{matter.case_id}").headers["Location"].endswith(f"/supervision/matters/{matter.id}")
    for user in (supervisor, head):
        page = user.get("/supervision/matters").get_data(as_text=True)
        assert f'data-matter-id="{matter.id}"' in page
        assert user.get(f"/supervision/matters/{matter.id}").status_code == 200
    assert "依职权立监督事项" not in head.get("/supervision/matters").get_data(as_text=True)  # heads do not open matters
    assert client(app, "officer1").get("/supervision/matters").status_code == 403
    assert client(app, "officer3").get(f"/supervision/matters/{matter.id}").status_code == 403  # 越秀: not theirs
    assert supervisor.get("/supervision/matters/999999").status_code == 404

    notice = ready(core, matter.case_id, "issue_notice")
    assert head.get(f"/tasks/{notice}").status_code == 403  # not in their scope: the bureau's task
    page = supervisor.get(f"/supervision/matters/{matter.id}").get_data(as_text=True)
    assert f'href="/tasks/{notice}"' in page
    assert f'href="/tasks/{notice}"' not in head.get(f"/supervision/matters/{matter.id}").get_data(as_text=True)
    done = supervisor.post(f"/tasks/{notice}", data={"csrf_token": csrf(supervisor, f"/tasks/{notice}"), **NOTICE})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{matter.case_id}")

    report = ready(core, matter.case_id, "rectification_report")
    assert supervisor.post(f"/tasks/{report}", data={"csrf_token": csrf(supervisor, "/supervision/matters"),
                                                      "rectification_measures": "x"}).status_code == 403
    assert ready(core, matter.case_id, "rectification_report") == report  # nothing done
    assert head.get(f"/tasks/{report}").status_code == 200  # the head of the supervised agency, by the grant
    assert f'href="/tasks/{report}"' in head.get(f"/supervision/matters/{matter.id}").get_data(as_text=True)
    assert f'data-task-id="{report}"' in head.get("/inbox").get_data(as_text=True)
    assert client(app, "officer1").get(f"/tasks/{report}").status_code == 403  # the head's agency, not the head


@pytest.mark.parametrize("form, field, message", [
    ({"agency_id": "", "summary": "x"}, "agency_id", "请选择被监督的行政执法机关。"),
    ({"agency_id": "abc", "summary": "x"}, "agency_id", "请选择被监督的行政执法机关。"),
    ({"agency_id": "999999", "summary": "x"}, "agency_id", "请选择被监督的行政执法机关。"),
    ({"agency_id": "@GZ-TH", "summary": "x"}, "agency_id", "被监督机关须为行政执法机关。"),
    ({"agency_id": "@GD", "summary": "x"}, "agency_id", "该机关不在您的监督范围内。"),
    ({"agency_id": "@GZ-TH-SJJ", "summary": "x" * 2001}, "summary", "请填写监督事由（1至2000字）。"),
    ({"agency_id": "@GZ-TH-SJJ", "summary": "x", "case": "999999"}, "case_id", "没有这个执法案件。"),
    ({"agency_id": "@GZ-TH-SJJ", "summary": "x", "case": "穗天市监〔2026〕999号"}, "case_id", "请填写被监督机关的案件编号，或者留空。"),
    ({"agency_id": "@GZ-YX-SJJ", "summary": "x", "case": "@case"}, "case_id", "该案件不是被监督机关的案件。"),
])
def test_refusals_are_shown_at_their_fields_and_change_nothing(app: Any, core: Core, form: dict[str, str], field: str, message: str) -> None:
    case_id = open_case_in(core)
    with core.unit() as unit:
        number = unit.session.get(Case, case_id).number
    form = {k: number if v == "@case" else str(agency(core, v[1:])) if v.startswith("@") else v for k, v in form.items()}
    supervisor = client(app, "supervisor1")
    response = supervisor.post("/supervision/matters", data={"csrf_token": csrf(supervisor, "/supervision/matters"), **form})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert errors(html, field) == [message], html
    assert 'id="form-invalid"' in html
    with core.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(SupervisionMatter)) == 0


def test_a_case_number_names_the_case(app: Any, core: Core) -> None:
    case_id = open_case_in(core)
    with core.unit() as unit:
        number = unit.session.get(Case, case_id).number
    supervisor = client(app, "supervisor1")
    response = supervisor.post("/supervision/matters?status=notice", data={
        "csrf_token": csrf(supervisor, "/supervision/matters"), "agency_id": str(agency(core, "GZ-TH-SJJ")), "case": number,
        "summary": "  日常监督  "})
    assert response.status_code == 302
    with core.unit() as unit:
        row = unit.session.scalars(select(SupervisionMatter)).one()
        assert (row.source, row.subject_case_id) == ("initiative", case_id)
        assert unit.session.get(Case, row.case_id).summary == "日常监督"
    listed = supervisor.get("/supervision/matters?status=closed&page=x").get_data(as_text=True)
    assert "没有监督事项。" in listed
    assert 'data-matter-id="' in supervisor.get("/supervision/matters?status=unknown").get_data(as_text=True)  # unknown: all


def test_the_agencies_offered_are_the_enforcement_agencies_of_the_subtree(core: Core) -> None:
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "supervisor1")
        offered = {a["code"] for a in matters.supervisable_agencies(unit)}
        kinds = dict(unit.session.execute(select(Agency.code, Agency.kind).where(Agency.path.startswith(unit.actor.scope_path or unit.actor.agency_path))).all())
    assert offered == {code for code, kind in kinds.items() if kind == "enforcement"}
    assert {"GZ-TH-SJJ", "GZ-YX-SJJ"} <= offered and "GZ-SFJ" not in offered and "GD" not in offered

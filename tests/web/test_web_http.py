"""The web layer without a browser (Flask test client, SQLite and PostgreSQL): CSRF on every form,
sessions that end with their token, logout, safe redirects, what is served from node_modules."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from api import create_app
from engine.core import Core
from engine.models import AuditEvent
from tests.conftest import PASSWORD


@pytest.fixture
def web(core: Core) -> Any:
    settings = replace(core.settings, token_ttl_seconds=3600, secret_key="test-secret")
    return create_app(Core(settings, clock=core.clock, db=core.db)).test_client()


def csrf(http: Any, path: str = "/login") -> str:
    page = http.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def login(http: Any, username: str = "officer1", **extra: str) -> Any:
    return http.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf(http), **extra})


def client(app: Any, username: str) -> Any:
    """A test client of `app` logged in as `username` through the login page."""
    http = app.test_client()
    assert login(http, username).status_code == 302
    return http


def test_login_without_csrf_token_is_refused(web):  # type: ignore[no-untyped-def]
    response = web.post("/login", data={"username": "officer1", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert web.get("/inbox").status_code == 302  # not logged in


def test_every_form_post_needs_the_token(web):  # type: ignore[no-untyped-def]
    assert login(web).status_code == 302
    for path in ("/logout", "/cases/new", "/tasks/x", "/procedures/deploy"):
        assert web.post(path, data={}).status_code == 400, path
    assert web.get("/inbox").status_code == 200  # still logged in: nothing happened


def test_rest_api_needs_no_csrf_token(web):  # type: ignore[no-untyped-def]
    response = web.post("/api/v1/auth/token", json={"username": "officer1", "password": PASSWORD})
    assert response.status_code == 200


def test_session_ends_when_its_token_expires(web, clock):  # type: ignore[no-untyped-def]
    login(web)
    assert web.get("/inbox").status_code == 200
    clock.advance(seconds=3601)
    response = web.get("/inbox")
    assert response.status_code == 302 and "/login?next=/inbox" in response.headers["Location"]
    assert "登录已失效" in web.get(response.headers["Location"]).get_data(as_text=True)


def test_logout_revokes_the_token(web):  # type: ignore[no-untyped-def]
    login(web)
    with web.session_transaction() as session:
        token = session["token"]
    web.post("/logout", data={"csrf_token": csrf(web, "/inbox")})
    assert web.get("/inbox").status_code == 302
    api = web.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_wrong_password_keeps_the_user_out_and_is_recorded(web, core):  # type: ignore[no-untyped-def]
    response = web.post("/login", data={"username": "officer1", "password": "nope", "csrf_token": csrf(web)})
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert web.get("/inbox").status_code == 302
    with core.unit() as unit:
        last = unit.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (last.action, last.detail) == ("auth.refused", {"username": "officer1", "known": True, "via": "web"})


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_login_does_not_redirect_off_site(web, target):  # type: ignore[no-untyped-def]
    response = login(web, next=target)
    assert response.headers["Location"] == "/"


def test_login_returns_to_the_page_asked_for(web):  # type: ignore[no-untyped-def]
    assert login(web, next="/cases?q=1").headers["Location"] == "/cases?q=1"


def test_pages_carry_a_content_security_policy_and_no_token(web):  # type: ignore[no-untyped-def]
    login(web)
    with web.session_transaction() as session:
        token = session["token"]
    page = web.get("/inbox")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert token not in page.get_data(as_text=True)


def status(web: Any, path: str) -> int:
    response = web.get(path)
    response.close()  # files are streamed
    return response.status_code


def test_vendor_files_only_from_the_named_packages(web):  # type: ignore[no-untyped-def]
    assert status(web, "/static/vendor/htmx/htmx.min.js") == 200
    assert status(web, "/static/vendor/bpmn-js/bpmn-modeler.production.min.js") == 200
    assert status(web, "/static/vendor/chart.js/chart.umd.js") == 200
    assert status(web, "/static/vendor/bpmn-js/../package.json") == 404
    assert status(web, "/static/vendor/preact/dist/preact.js") == 404


def test_other_agencies_cases_are_forbidden(web, core):  # type: ignore[no-untyped-def]
    from tests.web.conftest import open_case_in

    case_id = open_case_in(core)
    login(web, "officer3")  # 越秀区
    response = web.get(f"/cases/{case_id}")
    assert response.status_code == 403
    assert "无权操作" in response.get_data(as_text=True)


def test_a_task_of_another_lane_is_refused_with_a_page(web, core):  # type: ignore[no-untyped-def]
    from engine.demo import run_steps
    from tests.web.conftest import open_case_in

    case_id = open_case_in(core)
    run_steps(core, case_id, ["verify_clue"])  # approve_filing is the agency head's
    login(web, "officer1")
    page = web.get(f"/cases/{case_id}").get_data(as_text=True)
    task_id = re.search(r'href="/tasks/([0-9a-f-]+)"', page).group(1)
    response = web.post(f"/tasks/{task_id}", data={"csrf_token": csrf(web, f"/tasks/{task_id}"), "filing_decision": "file"})
    assert response.status_code == 403
    assert "任务“立案审批”由机关负责人办理。" in response.get_data(as_text=True)  # the engine's refusal, in Chinese


def general_procedure_id(core: Core) -> int:
    """The deployed general punishment procedure (other procedures are deployed beside it)."""
    from sqlalchemy import select

    from engine.models import ProcessDefinition

    with core.unit() as unit:
        return unit.session.scalar(
            select(ProcessDefinition.id).where(ProcessDefinition.process_id == "general_punishment")
            .order_by(ProcessDefinition.version.desc()).limit(1)
        )


def test_form_deployment_refused_keeps_the_edits_and_stores_nothing(web, core):  # type: ignore[no-untyped-def]
    login(web, "designer1")
    path = f"/procedures/{general_procedure_id(core)}/forms/verify_clue.schema.json"
    editor = web.get(path)
    assert editor.status_code == 200
    response = web.post(path, data={"csrf_token": csrf(web, path), "schema": '{"type": "nonsense"}', "ui": "{}"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "未部署" in page and "nonsense" in page
    library = web.get("/procedures").get_data(as_text=True)
    general = library[library.index("行政处罚一般程序"):]
    assert general[: general.index("</section>")].count("最新版本：第1版") == 1


def test_only_designers_edit_forms(web, core):  # type: ignore[no-untyped-def]
    login(web, "officer1")
    assert web.get(f"/procedures/{general_procedure_id(core)}/forms/verify_clue.schema.json").status_code == 403
    assert web.post("/procedures/forms/preview", data={"csrf_token": csrf(web, "/inbox")}).status_code == 403

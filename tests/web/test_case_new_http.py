"""/cases/new without a browser (Flask test client, SQLite and PostgreSQL): every refusal of
engine/cases.open_case (the matter, its procedure, the party, the officers, the clue time) is shown in
Chinese at its field, and nothing is created: no case, no audit event, no case number consumed."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from api import create_app
from engine.accounts import hash_password
from engine.core import Core
from engine.models import (
    Agency,
    AgencyMatter,
    AuditEvent,
    Case,
    CaseSequence,
    Matter,
    ProcessDefinition,
    User,
)
from tests.api.test_read_api import user_ids
from tests.conftest import PASSWORD, empty_case_tables
from tests.web.test_web_http import client, csrf

MATTER = "440201003001"
PARTY = {"party.type": "organization", "party.name": "广州市天河区示例便利店有限公司", "party.credit_code": "91350100M000100Y43"}
PERSON = {"party.type": "person", "party.name": "王某", "party.id_number": "11010519491231002X"}
ALONE = "请至少选择两名持有执法证件的执法人员（《行政处罚法》第四十二条）。"
CLUE = "请输入有效且不晚于当前时间的日期和时间。"


@pytest.fixture
def app(core: Core) -> Any:
    return create_app(Core(replace(core.settings, token_ttl_seconds=3600, secret_key="test-secret"), clock=core.clock, db=core.db))


@pytest.fixture
def catalogue_gaps(core: Core) -> Iterator[dict[str, str]]:
    """Matters whose cases cannot be opened by 天河: one it is not competent for, one whose procedure is not
    deployed, one whose newest version is not executable; an officer with an expired certificate and an
    inactive one. All removed afterwards (the catalogue and the accounts outlive a test)."""
    with core.unit() as unit:
        s = unit.session
        tianhe = s.scalar(select(Agency.id).where(Agency.code == "GZ-TH-SJJ"))
        seeded = s.get(Matter, MATTER)
        newest = s.scalars(select(ProcessDefinition).where(ProcessDefinition.process_id == seeded.process_id)
                           .order_by(ProcessDefinition.version.desc())).first()
        s.add(ProcessDefinition(process_id="web_test_drafted", name="草稿流程", version=1, executable=False, checksum="0" * 64,
                                spec_state=newest.spec_state, serializer_version=newest.serializer_version,
                                tasks_meta=newest.tasks_meta, deployed_at=unit.now, deployed_by=None))
        for code, process in (("WEB-TEST-ELSEWHERE", seeded.process_id), ("WEB-TEST-UNDEPLOYED", "web_test_nowhere"),
                              ("WEB-TEST-DRAFT", "web_test_drafted")):
            s.add(Matter(code=code, name="测试事项", category=seeded.category, legal_basis=seeded.legal_basis,
                         penalty_basis=seeded.penalty_basis, process_id=process, domain=seeded.domain))
            s.flush()
            if code != "WEB-TEST-ELSEWHERE":
                s.add(AgencyMatter(agency_id=tianhe, matter_code=code))
        hashed = hash_password(PASSWORD)
        for username, valid_until, active in (("web_expired", date(2025, 12, 31), True), ("web_inactive", date(2029, 12, 31), False)):
            s.add(User(username=username, name=username, agency_id=tianhe, password_hash=hashed, roles=["officer"],
                       certificate_no="粤执44010699999", certificate_valid_until=valid_until, active=active))
    yield {"elsewhere": "WEB-TEST-ELSEWHERE", "undeployed": "WEB-TEST-UNDEPLOYED", "draft": "WEB-TEST-DRAFT"}
    with core.unit() as unit:
        s = unit.session
        empty_case_tables(s)
        s.execute(delete(AgencyMatter).where(AgencyMatter.matter_code.like("WEB-TEST-%")))
        s.execute(delete(Matter).where(Matter.code.like("WEB-TEST-%")))
        s.execute(delete(ProcessDefinition).where(ProcessDefinition.process_id == "web_test_drafted"))
        s.execute(delete(User).where(User.username.in_(["web_expired", "web_inactive"])))


def errors(html: str, field: str) -> list[str]:
    found = re.search(rf'<ul class="field-errors" id="{re.escape(field)}-errors">(.*?)</ul>', html, re.DOTALL)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def nothing_created(core: Core) -> tuple[int, int, int]:
    with core.unit() as unit:
        s = unit.session
        return (s.scalar(select(func.count()).select_from(Case)), s.scalar(select(func.count()).select_from(AuditEvent)),
                s.scalar(select(func.count()).select_from(CaseSequence)))


def submit(app: Any, core: Core, change: dict[str, Any]) -> str:
    officer = client(app, "officer1")
    form: dict[str, Any] = {"matter_code": MATTER, "officer_ids": ["@officer1", "@officer2"], "summary": "投诉：价签缺失",
                            "clue_received_at": "2026-03-01T10:00", **PARTY, **change}
    form["officer_ids"] = [str(user_ids(core, v[1:])[0]) if v.startswith("@") else v for v in form["officer_ids"]]
    before = nothing_created(core)
    response = officer.post("/cases/new", data={"csrf_token": csrf(officer, "/cases/new"), **form})
    assert response.status_code == 200, response.headers.get("Location")
    html = response.get_data(as_text=True)
    assert "案件未登记：请更正标出的项目。" in html
    assert nothing_created(core) == before and (before[0], before[2]) == (0, 0)  # no case, no event, no number
    return html


@pytest.mark.parametrize("change, field, message", [
    ({"matter_code": ""}, "matter_code", "请选择执法事项。"),
    ({"matter_code": "999"}, "matter_code", "请选择执法事项。"),
    ({"matter_code": "@elsewhere"}, "matter_code", "本机关对该执法事项没有管辖权。"),
    ({"matter_code": "@undeployed"}, "matter_code", "该执法事项的办案流程尚未部署，请联系流程设计人员。"),
    ({"matter_code": "@draft"}, "matter_code", "该执法事项办案流程的第 1 版不可执行，请联系流程设计人员。"),
    ({"party.type": ""}, "party.type", "请选择当事人是单位还是自然人。"),
    ({"party.name": " "}, "party.name", "请填写当事人名称。"),
    ({"party.credit_code": "91350100M000100Y44"}, "party.credit_code", "请填写有效的18位统一社会信用代码。"),
    ({**PERSON, "party.id_number": "110105194912310021"}, "party.id_number", "请填写有效的18位公民身份号码。"),
    ({"officer_ids": ["@officer1"]}, "officer_ids", ALONE),
    ({"officer_ids": []}, "officer_ids", ALONE),
    ({"officer_ids": ["@officer1", "@officer3"]}, "officer_ids", "用户 {officer3} 不是广州市天河区市场监督管理局的执法人员。"),
    ({"officer_ids": ["@officer1", "@head1"]}, "officer_ids", "用户 {head1} 不是广州市天河区市场监督管理局的执法人员。"),
    ({"officer_ids": ["@officer1", "@web_inactive"]}, "officer_ids", "用户 {web_inactive} 不是广州市天河区市场监督管理局的执法人员。"),
    ({"officer_ids": ["@officer1", "@web_expired"]}, "officer_ids", "执法人员 web_expired 没有有效的行政执法证件。"),
    ({"officer_ids": ["@officer1", "999999"]}, "officer_ids", "用户 999999 不是广州市天河区市场监督管理局的执法人员。"),
    ({"clue_received_at": "2026-03-02T09:01"}, "clue_received_at", CLUE),  # a minute after the frozen now
    ({"clue_received_at": "2026-13-40T09:00"}, "clue_received_at", CLUE),
    ({"clue_received_at": "昨天上午"}, "clue_received_at", CLUE),
])
def test_each_refusal_is_told_in_chinese_at_its_field_and_opens_nothing(
    app: Any, core: Core, catalogue_gaps: dict[str, str], change: dict[str, Any], field: str, message: str
) -> None:
    change = {k: catalogue_gaps[v[1:]] if isinstance(v, str) and v.startswith("@") else v for k, v in change.items()}
    named = {name: user_ids(core, name)[0] for name in ("officer3", "head1", "web_inactive")}
    html = submit(app, core, change)
    assert errors(html, field) == [message.format(**named)], html
    typed = change.get("party.name", PARTY["party.name"]).strip()
    assert f'id="party.name" name="party.name" value="{typed}"' in html  # what was typed stays


def test_the_party_s_refusals_at_once_each_at_its_field(app: Any, core: Core) -> None:
    html = submit(app, core, {"party.name": "", "party.credit_code": "123", "officer_ids": ["@officer1"]})
    assert errors(html, "party.name") == ["请填写当事人名称。"]
    assert errors(html, "party.credit_code") == ["请填写有效的18位统一社会信用代码。"]
    assert errors(html, "officer_ids") == []  # the engine checks the officers once the party is right


def test_after_refusals_the_first_case_takes_the_first_number(app: Any, core: Core) -> None:
    for change in ({"officer_ids": ["@officer1"]}, {"party.credit_code": "123"}, {"clue_received_at": "2027-01-01T00:00"}):
        submit(app, core, change)
    officer = client(app, "officer1")
    opened = officer.post("/cases/new", data={
        "csrf_token": csrf(officer, "/cases/new"), "matter_code": MATTER, "summary": "投诉：价签缺失",
        "officer_ids": [str(i) for i in user_ids(core, "officer1", "officer2")], **PARTY})
    assert opened.status_code == 302
    with core.unit() as unit:
        assert unit.session.scalars(select(Case.number)).all() == ["穗天市监〔2026〕1号"]


def test_one_who_opens_no_cases_gets_the_refusal_page_in_chinese(app: Any, core: Core) -> None:
    supervisor = client(app, "supervisor1")
    response = supervisor.post("/cases/new", data={"csrf_token": csrf(supervisor, "/cases/new"), "matter_code": MATTER, **PARTY})
    assert response.status_code == 403
    assert "此操作需要以下角色之一：执法人员、机关负责人。" in response.get_data(as_text=True)
    assert nothing_created(core)[::2] == (0, 0)


def test_the_api_keeps_the_engine_s_english_and_names_the_procedure(app: Any, core: Core, catalogue_gaps: dict[str, str]) -> None:
    """Only the pages translate: the REST API answers the same refusals in the engine's words, located."""
    http = app.test_client()
    token = http.post("/api/v1/auth/token", json={"username": "officer1", "password": PASSWORD}).get_json()["access_token"]
    body = {"party": {"type": "organization", "name": "某公司", "credit_code": "91350100M000100Y43"},
            "officer_ids": user_ids(core, "officer1", "officer2"), "summary": "x"}
    for code, field, message in ((catalogue_gaps["draft"], "process_id", "version 1 is not executable"),
                                 (catalogue_gaps["undeployed"], "process_id", "not deployed"),
                                 ("999", "matter_code", "not in the enforcement catalogue")):
        response = http.post("/api/v1/cases", json={**body, "matter_code": code}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
        assert [(e["field"], e["message"]) for e in response.get_json()["errors"]] == [(field, message)]
    assert nothing_created(core)[::2] == (0, 0)

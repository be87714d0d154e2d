"""Further supervisors on a supervision matter opened from /supervision/matters (Flask test client, SQLite
and PostgreSQL): the form offers the supervisors engine/supervision/matters.py would assign (active
supervisors of the opener's bureau), the engine decides, the matter's page shows who was assigned, and
a refusal is told in Chinese at the field with nothing opened."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from api import create_app
from engine.accounts import hash_password, principal_for_username
from engine.core import Core
from engine.errors import Forbidden, InvalidInput
from engine.models import Agency, CaseOfficer, User
from engine.supervision import matters
from engine.supervision.matter_models import SupervisionMatter, SupervisionSequence
from tests.api.test_read_api import user_ids
from tests.conftest import PASSWORD, empty_case_tables
from tests.web.test_web_http import client, csrf

EXTRA = (  # username, name, agency, roles, active
    ("web_supervisor2", "钱监督", "GZ-SFJ", ["supervisor"], True),
    ("web_supervisor_gone", "孙监督", "GZ-SFJ", ["supervisor"], False),
    ("web_supervisor_gd", "周监督", "GD-SFT", ["supervisor"], True),
    ("web_clerk", "吴文书", "GZ-SFJ", ["legal_reviewer"], True),
)


@pytest.fixture
def app(core: Core) -> Any:
    return create_app(Core(replace(core.settings, token_ttl_seconds=3600, secret_key="test-secret"), clock=core.clock, db=core.db))


@pytest.fixture
def staff(core: Core) -> Iterator[dict[str, int]]:
    """A second supervisor of 广州市司法局, an inactive one, one of 广东省司法厅 and a non-supervisor of the bureau;
    removed afterwards (accounts outlive a test)."""
    with core.unit() as unit:
        hashed = hash_password(PASSWORD)
        for username, name, code, roles, active in EXTRA:
            agency = unit.session.scalar(select(Agency.id).where(Agency.code == code))
            unit.session.add(User(username=username, name=name, agency_id=agency, password_hash=hashed, roles=roles,
                                  certificate_no=None, certificate_valid_until=None, active=active))
    names = ("supervisor1", "officer1", *(e[0] for e in EXTRA))
    yield dict(zip(names, user_ids(core, *names), strict=True))
    with core.unit() as unit:
        empty_case_tables(unit.session)  # the matters opened refer to the accounts
        unit.session.execute(delete(User).where(User.username.in_([e[0] for e in EXTRA])))


def tianhe(core: Core) -> str:
    with core.unit() as unit:
        return str(unit.session.scalar(select(Agency.id).where(Agency.code == "GZ-TH-SJJ")))


def errors(html: str) -> list[str]:
    found = re.search(r'<ul class="field-errors" id="m-supervisor_ids-errors">(.*?)</ul>', html, re.DOTALL)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def opened_count(core: Core) -> tuple[int, int]:
    with core.unit() as unit:
        return (unit.session.scalar(select(func.count()).select_from(SupervisionMatter)),
                unit.session.scalar(select(func.count()).select_from(SupervisionSequence)))


def test_the_supervisors_offered_are_those_the_engine_assigns(core: Core, staff: dict[str, int]) -> None:
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "supervisor1")
        offered = matters.assignable_supervisors(unit)
    assert [s["username"] for s in offered] == ["supervisor1", "web_supervisor2"]
    assert offered[1] == {"id": staff["web_supervisor2"], "username": "web_supervisor2", "name": "钱监督"}
    body = {"agency_id": int(tianhe(core)), "source": "initiative", "summary": "日常监督"}
    for other in ("officer1", "web_supervisor_gone", "web_supervisor_gd", "web_clerk"):  # not offered: refused
        with pytest.raises(InvalidInput) as refused, core.unit() as unit:
            unit.actor = principal_for_username(unit, "supervisor1")
            matters.open_matter(unit, {**body, "supervisor_ids": [staff["supervisor1"], staff[other]]})
        assert [(p.field, p.message) for p in refused.value.problems] == [
            ("supervisor_ids", f"user {staff[other]} is not an active supervisor of your bureau")]
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "supervisor1")
        done = matters.open_matter(unit, {**body, "supervisor_ids": [s["id"] for s in offered]})
    assert [s["username"] for s in done.supervisors] == ["supervisor1", "web_supervisor2"]
    with pytest.raises(Forbidden), core.unit() as unit:
        unit.actor = principal_for_username(unit, "officer1")
        matters.assignable_supervisors(unit)


def test_the_form_assigns_further_supervisors_shown_on_the_matter_s_page(app: Any, core: Core, staff: dict[str, int]) -> None:
    supervisor = client(app, "supervisor1")
    form = supervisor.get("/supervision/matters").get_data(as_text=True)
    offered = re.findall(r'<input type="checkbox" name="supervisor_ids" value="(\d+)"\s*(checked)?>', form)
    assert offered == [(str(staff["supervisor1"]), "checked"), (str(staff["web_supervisor2"]), "")]  # the opener by default
    assert "承办监督人员" in form and 'name="supervisor_ids.present"' in form
    response = supervisor.post("/supervision/matters", data={
        "csrf_token": csrf(supervisor, "/supervision/matters"), "agency_id": tianhe(core), "summary": "日常监督",
        "supervisor_ids.present": "1", "supervisor_ids": [str(staff["supervisor1"]), str(staff["web_supervisor2"])]})
    assert response.status_code == 302, response.get_data(as_text=True)
    with core.unit() as unit:
        matter = unit.session.scalars(select(SupervisionMatter)).one()
        assigned = set(unit.session.scalars(select(CaseOfficer.user_id).where(CaseOfficer.case_id == matter.case_id)))
    assert assigned == {staff["supervisor1"], staff["web_supervisor2"]}
    page = supervisor.get(f"/supervision/matters/{matter.id}").get_data(as_text=True)
    shown = re.findall(r'<span class="supervisor" data-user-id="(\d+)">(.*?)</span>', page)
    assert shown == [(str(staff["supervisor1"]), "赵监督"), (str(staff["web_supervisor2"]), "钱监督")]
    second = client(app, "web_supervisor2")  # the assigned colleague does the matter's first task
    notice = re.search(r'href="/tasks/([0-9a-f-]+)"', second.get(f"/supervision/matters/{matter.id}").get_data(as_text=True))
    assert notice and second.get(f"/tasks/{notice.group(1)}").status_code == 200


def test_a_colleague_alone_and_a_form_without_the_list(app: Any, core: Core, staff: dict[str, int]) -> None:
    supervisor = client(app, "supervisor1")
    for extra, expected in (({"supervisor_ids.present": "1", "supervisor_ids": str(staff["web_supervisor2"])}, {"web_supervisor2"}),
                            ({}, {"supervisor1"})):  # no list at all (an older form): the opener, the engine's default
        response = supervisor.post("/supervision/matters", data={
            "csrf_token": csrf(supervisor, "/supervision/matters"), "agency_id": tianhe(core), "summary": "日常监督", **extra})
        assert response.status_code == 302
        matter_id = int(response.headers["Location"].rsplit("/", 1)[1])
        with core.unit() as unit:
            unit.actor = principal_for_username(unit, "supervisor1")
            assert {s["username"] for s in matters.get_matter(unit, matter_id).supervisors} == expected


@pytest.mark.parametrize("ticked, message", [
    (["@officer1"], "用户 {officer1} 不是本机关在职的监督人员。"),
    (["@supervisor1", "@web_supervisor_gd"], "用户 {web_supervisor_gd} 不是本机关在职的监督人员。"),
    (["@supervisor1", "@web_supervisor_gone"], "用户 {web_supervisor_gone} 不是本机关在职的监督人员。"),
    (["@web_clerk"], "用户 {web_clerk} 不是本机关在职的监督人员。"),
    (["999999"], "用户 999999 不是本机关在职的监督人员。"),
    ([], "请至少选择一名监督人员。"),
    (["abc"], "请至少选择一名监督人员。"),
])
def test_a_refused_assignment_is_told_at_the_field_and_opens_nothing(
    app: Any, core: Core, staff: dict[str, int], ticked: list[str], message: str
) -> None:
    supervisor = client(app, "supervisor1")
    ids = [str(staff[v[1:]]) if v.startswith("@") else v for v in ticked]
    response = supervisor.post("/supervision/matters", data={
        "csrf_token": csrf(supervisor, "/supervision/matters"), "agency_id": tianhe(core), "summary": "日常监督",
        "supervisor_ids.present": "1", "supervisor_ids": ids})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert errors(html) == [message.format(**staff)], html
    assert 'id="form-invalid"' in html and "日常监督</textarea>" in html
    for i in ids:  # what was ticked stays ticked where it is offered
        if i in (str(staff["supervisor1"]), str(staff["web_supervisor2"])):
            assert f'name="supervisor_ids" value="{i}" checked' in html
    assert opened_count(core) == (0, 0)  # no matter, no number taken

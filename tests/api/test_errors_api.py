"""Bad input gets a clear answer and changes nothing.

Every refusal is application/problem+json with the status the issue names (401 not logged in,
403 not allowed, 404 unknown, 409 not ready / already done, 422 invalid content) and, where a field
is at fault, an `errors` list naming it. After every refused request the database is as it was:
no case, no case number, no audit event, no task state changed.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from api import create_app
from engine.clock import FrozenClock
from engine.core import Core
from engine.demo import STEP_DATA
from engine.models import (
    AccessToken,
    Agency,
    AgencyMatter,
    AuditEvent,
    Case,
    CaseSequence,
    Matter,
    ProcessInstance,
    TaskRow,
    TimerRow,
    User,
)
from tests.api.conftest import Client
from tests.conftest import PASSWORD, START, empty_case_tables

PROBLEM_JSON = "application/problem+json"
MATTER = "440201003001"  # 不按规定明码标价: in the catalogue, both districts competent
ORGANIZATION = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
PERSON = {"type": "person", "name": "王小明", "id_number": "11010519491231002X"}


# -- helpers -------------------------------------------------------------------------------------------
def user_ids(core: Core, *usernames: str) -> list[int]:
    with core.unit() as unit:
        found = dict(unit.session.execute(select(User.username, User.id).where(User.username.in_(usernames))).all())
    return [found[name] for name in usernames]


def snapshot(core: Core) -> dict[str, Any]:
    """Everything a refused request must leave untouched."""
    with core.unit() as unit:
        s = unit.session
        return {
            "cases": s.execute(select(Case.id, Case.number, Case.status, Case.revision, Case.last_audit_hash)
                               .order_by(Case.id)).all(),
            "sequences": s.execute(select(CaseSequence.agency_id, CaseSequence.year, CaseSequence.last_value)
                                   .order_by(CaseSequence.agency_id, CaseSequence.year)).all(),
            # A login is a request of its own, and is recorded: the refused request must add nothing.
            "audit": s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "auth.login")),
            "tasks": s.execute(select(TaskRow.id, TaskRow.state, TaskRow.claimed_by, TaskRow.completed_by)
                               .order_by(TaskRow.id)).all(),
            "timers": s.execute(select(TimerRow.id, TimerRow.status).order_by(TimerRow.id)).all(),
            "instances": s.execute(select(ProcessInstance.case_id, ProcessInstance.completed)).all(),
        }


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == PROBLEM_JSON
    problem = response.get_json()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    return problem


def fields(problem: dict[str, Any]) -> set[str]:
    return {e.get("field") for e in problem.get("errors", [])}


def new_case(core: Core, **overrides: Any) -> dict[str, Any]:
    body = {"matter_code": MATTER, "party": copy.deepcopy(ORGANIZATION),
            "officer_ids": user_ids(core, "officer1", "officer2"), "summary": "投诉：未明码标价"}
    body.update(overrides)
    return body


def open_case(core: Core, officer: Client) -> dict[str, Any]:
    response = officer.post("/api/v1/cases", json=new_case(core))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ready_task(case: dict[str, Any], bpmn_id: str) -> dict[str, Any]:
    [task] = [t for t in case["tasks"] if t["bpmn_id"] == bpmn_id and t["state"] == "ready"]
    return task


@pytest.fixture
def officer(login: Any) -> Client:
    return login("officer1")


# -- opening a case: the matter ------------------------------------------------------------------------
@pytest.mark.parametrize("matter_code", ["000000000000", "", None, 440201003001, ["440201003001"]])
def test_unknown_matter_is_422_naming_matter_code(core: Core, officer: Client, matter_code: Any) -> None:
    before = snapshot(core)
    problem = assert_problem(officer.post("/api/v1/cases", json=new_case(core, matter_code=matter_code)), 422)
    assert fields(problem) == {"matter_code"}
    assert snapshot(core) == before


@pytest.fixture
def tianhe_only_matter(core: Core) -> Iterator[str]:
    """A catalogue matter only 天河区市场监督管理局 is competent for (removed again afterwards)."""
    code = "449999000001"
    with core.unit() as unit:
        unit.session.add(Matter(code=code, name="测试事项（仅天河）", category="punishment", legal_basis="测试依据",
                                penalty_basis=None, process_id="general_punishment", domain="测试"))
        unit.session.flush()
        tianhe = unit.session.scalar(select(Agency.id).where(Agency.code == "GZ-TH-SJJ"))
        unit.session.add(AgencyMatter(agency_id=tianhe, matter_code=code))
    yield code
    with core.unit() as unit:
        empty_case_tables(unit.session)  # a case of this matter would keep the matter row alive
        unit.session.execute(delete(AgencyMatter).where(AgencyMatter.matter_code == code))
        unit.session.execute(delete(Matter).where(Matter.code == code))


def test_matter_outside_the_agencys_competence_is_403(core: Core, login: Any, tianhe_only_matter: str) -> None:
    yuexiu = login("officer3")
    body = new_case(core, matter_code=tianhe_only_matter, officer_ids=user_ids(core, "officer3", "officer4"))
    before = snapshot(core)
    problem = assert_problem(yuexiu.post("/api/v1/cases", json=body), 403)
    assert tianhe_only_matter in problem["detail"]
    assert snapshot(core) == before
    # The same matter is fine for the agency that is competent.
    response = login("officer1").post("/api/v1/cases", json=new_case(core, matter_code=tianhe_only_matter))
    assert response.status_code == 201, response.get_json()


# -- opening a case: the officers -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "officers",
    [
        pytest.param(["officer1"], id="one-officer"),
        pytest.param(["officer1", "officer1"], id="same-officer-twice"),
        pytest.param([], id="none"),
        pytest.param(["officer1", "officer3"], id="officer-of-another-agency"),
        pytest.param(["officer1", "reviewer1"], id="not-an-officer"),
        pytest.param(["officer1", "head1"], id="agency-head-is-not-an-officer"),
    ],
)
def test_fewer_than_two_certified_officers_of_the_agency_is_422(core: Core, officer: Client, officers: list[str]) -> None:
    before = snapshot(core)
    problem = assert_problem(officer.post("/api/v1/cases", json=new_case(core, officer_ids=user_ids(core, *officers))), 422)
    assert fields(problem) == {"officer_ids"}
    assert snapshot(core) == before


@pytest.mark.parametrize(
    "officer_ids",
    [
        pytest.param(None, id="missing"),
        pytest.param("1,2", id="string"),
        pytest.param([1.5, 2.5], id="floats"),
        pytest.param(["officer1", "officer2"], id="usernames"),
        pytest.param([999_999, 999_998], id="unknown-ids"),
    ],
)
def test_malformed_officer_ids_are_422(core: Core, officer: Client, officer_ids: Any) -> None:
    before = snapshot(core)
    problem = assert_problem(officer.post("/api/v1/cases", json=new_case(core, officer_ids=officer_ids)), 422)
    assert fields(problem) == {"officer_ids"}
    assert snapshot(core) == before


def test_json_booleans_are_not_user_ids(core: Core, officer: Client) -> None:
    """`true` is not the id of user 1: officer ids must be integers, not booleans."""
    [officer2] = user_ids(core, "officer2")
    before = snapshot(core)
    problem = assert_problem(officer.post("/api/v1/cases", json=new_case(core, officer_ids=[True, officer2])), 422)
    assert fields(problem) == {"officer_ids"}
    assert snapshot(core) == before


@pytest.fixture
def officer2_certificate_expired(core: Core, clock: FrozenClock) -> Iterator[None]:
    """officer2's enforcement certificate ran out yesterday (restored afterwards)."""
    with core.unit() as unit:
        original = unit.session.scalar(select(User.certificate_valid_until).where(User.username == "officer2"))
        unit.session.execute(update(User).where(User.username == "officer2")
                             .values(certificate_valid_until=START.date() - timedelta(days=1)))
    yield
    with core.unit() as unit:
        unit.session.execute(update(User).where(User.username == "officer2").values(certificate_valid_until=original))


def test_an_officer_whose_certificate_expired_is_refused(core: Core, officer: Client, officer2_certificate_expired: None) -> None:
    before = snapshot(core)
    problem = assert_problem(officer.post("/api/v1/cases", json=new_case(core)), 422)
    assert fields(problem) == {"officer_ids"}
    assert any("officer2" in e["message"] for e in problem["errors"]), problem["errors"]
    assert snapshot(core) == before


def test_a_certificate_valid_until_today_still_counts(core: Core, officer: Client) -> None:
    with core.unit() as unit:
        original = unit.session.scalar(select(User.certificate_valid_until).where(User.username == "officer2"))
        unit.session.execute(update(User).where(User.username == "officer2").values(certificate_valid_until=START.date()))
    try:
        response = officer.post("/api/v1/cases", json=new_case(core))
        assert response.status_code == 201, response.get_json()
    finally:
        with core.unit() as unit:
            unit.session.execute(update(User).where(User.username == "officer2").values(certificate_valid_until=original))


# -- opening a case: the party --------------------------------------------------------------------------
BAD_PARTIES = [
    pytest.param({**PERSON, "id_number": "110105194912310021"}, "party.id_number", id="id-number-checksum"),
    pytest.param({**PERSON, "id_number": "110105491231002"}, "party.id_number", id="old-15-digit-id-number"),
    pytest.param({**PERSON, "id_number": "11010519491231002Y"}, "party.id_number", id="id-number-bad-character"),
    pytest.param({"type": "person", "name": "王小明"}, "party.id_number", id="person-without-id-number"),
    pytest.param({**ORGANIZATION, "credit_code": "91350100M000100Y44"}, "party.credit_code", id="credit-code-checksum"),
    pytest.param({**ORGANIZATION, "credit_code": "91350100M000100Y4"}, "party.credit_code", id="credit-code-too-short"),
    pytest.param({**ORGANIZATION, "credit_code": "91350100M000100I43"}, "party.credit_code", id="credit-code-letter-I"),
    pytest.param({"type": "organization", "name": "某公司"}, "party.credit_code", id="organization-without-credit-code"),
    pytest.param({k: v for k, v in ORGANIZATION.items() if k != "name"}, "party.name", id="missing-name"),
    pytest.param({**ORGANIZATION, "name": "   "}, "party.name", id="blank-name"),
    pytest.param({**ORGANIZATION, "name": {"zh": "某公司"}}, "party.name", id="name-not-text"),
    pytest.param({**ORGANIZATION, "name": ["某公司"]}, "party.name", id="name-is-a-list"),
    pytest.param({**ORGANIZATION, "type": "company"}, "party.type", id="wrong-type"),
    pytest.param({k: v for k, v in ORGANIZATION.items() if k != "type"}, "party.type", id="missing-type"),
    pytest.param("广州市天河区示例便利店有限公司", "party", id="not-an-object"),
    pytest.param(None, "party", id="missing"),
]


@pytest.mark.parametrize("party, field", BAD_PARTIES)
def test_invalid_party_is_422_naming_the_field(core: Core, officer: Client, party: Any, field: str) -> None:
    before = snapshot(core)
    problem = assert_problem(officer.post("/api/v1/cases", json=new_case(core, party=party)), 422)
    assert field in fields(problem), problem
    assert snapshot(core) == before


def test_every_party_problem_is_listed_at_once(core: Core, officer: Client) -> None:
    problem = assert_problem(
        officer.post("/api/v1/cases", json=new_case(core, party={"type": "person", "name": "", "id_number": "123"})), 422
    )
    assert fields(problem) == {"party.name", "party.id_number"}


@pytest.mark.parametrize(
    "body",
    [pytest.param("not json", id="text"), pytest.param([1, 2], id="array"), pytest.param(None, id="empty")],
)
def test_a_body_that_is_not_a_json_object_is_422(core: Core, officer: Client, body: Any) -> None:
    before = snapshot(core)
    if body is None:
        response = officer.post("/api/v1/cases")
    elif isinstance(body, str):
        response = officer.post("/api/v1/cases", data=body, content_type="application/json")
    else:
        response = officer.post("/api/v1/cases", json=body)
    assert fields(assert_problem(response, 422)) == {"body"}
    assert snapshot(core) == before


@pytest.mark.parametrize("username", ["reviewer1", "supervisor1", "designer1"])
def test_only_officers_and_heads_open_cases(core: Core, login: Any, username: str) -> None:
    before = snapshot(core)
    assert_problem(login(username).post("/api/v1/cases", json=new_case(core)), 403)
    assert snapshot(core) == before


def test_a_refused_opening_does_not_consume_a_case_number(core: Core, officer: Client) -> None:
    assert open_case(core, officer)["number"] == "穗天市监〔2026〕1号"
    assert_problem(officer.post("/api/v1/cases", json=new_case(core, party={**PERSON, "id_number": "1"})), 422)
    assert_problem(officer.post("/api/v1/cases", json=new_case(core, officer_ids=user_ids(core, "officer1"))), 422)
    assert open_case(core, officer)["number"] == "穗天市监〔2026〕2号"


# -- completing a task: form data ------------------------------------------------------------------------
def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


VERIFY = STEP_DATA["verify_clue"]
BAD_FORMS = [
    pytest.param(_without(VERIFY, "verification_summary"), {"verification_summary"}, id="missing-required"),
    pytest.param({**VERIFY, "clue_source": "rumour"}, {"clue_source"}, id="not-in-enum"),
    pytest.param({**VERIFY, "filing_recommendation": "maybe"}, {"filing_recommendation"}, id="not-in-enum-2"),
    pytest.param({**VERIFY, "bribe": 10000}, {"bribe"}, id="extra-property"),
    pytest.param({**VERIFY, "suspected_violation": "yes"}, {"suspected_violation"}, id="wrong-type"),
    pytest.param({**VERIFY, "verification_summary": ""}, {"verification_summary"}, id="too-short"),
    pytest.param(
        {**_without(VERIFY, "recommendation_reasons"), "clue_source": "rumour", "extra": True},
        {"recommendation_reasons", "clue_source", "extra"}, id="three-problems-at-once",
    ),
    pytest.param({}, {k for k in VERIFY if k != "excluded_period_note"}, id="empty"),
]


@pytest.mark.parametrize("data, expected_fields", BAD_FORMS)
def test_form_data_not_matching_the_schema_is_422_listing_the_fields(
    core: Core, officer: Client, data: dict[str, Any], expected_fields: set[str]
) -> None:
    task = ready_task(open_case(core, officer), "verify_clue")
    before = snapshot(core)
    problem = assert_problem(officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}), 422)
    assert fields(problem) == expected_fields
    assert all(e["message"] for e in problem["errors"])
    assert snapshot(core) == before
    # The task is still there to be done properly.
    case = officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": VERIFY})
    assert case.status_code == 200, case.get_json()


@pytest.mark.parametrize(
    "body",
    [pytest.param({}, id="no-data"), pytest.param({"data": "text"}, id="data-is-text"), pytest.param({"data": [VERIFY]}, id="data-is-list")],
)
def test_completion_data_that_is_not_an_object_is_422(core: Core, officer: Client, body: dict[str, Any]) -> None:
    task = ready_task(open_case(core, officer), "verify_clue")
    before = snapshot(core)
    problem = assert_problem(officer.post(f"/api/v1/tasks/{task['id']}/complete", json=body), 422)
    assert fields(problem) == {"data"}
    assert snapshot(core) == before


# -- completing a task: state -------------------------------------------------------------------------------
def test_completing_a_task_twice_is_409(core: Core, officer: Client) -> None:
    task = ready_task(open_case(core, officer), "verify_clue")
    assert officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": VERIFY}).status_code == 200
    before = snapshot(core)
    problem = assert_problem(officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": VERIFY}), 409)
    assert "completed" in problem["detail"]
    assert snapshot(core) == before
    with core.unit() as unit:
        done = unit.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "task.completed"))
    assert done == 1


def test_a_cancelled_task_is_409(core: Core, officer: Client, login: Any) -> None:
    """Filing refused: the case ends and nothing more can be done on it."""
    case = open_case(core, officer)
    officer.post(f"/api/v1/tasks/{ready_task(case, 'verify_clue')['id']}/complete", json={"data": VERIFY})
    head = login("head1")
    approve = head.get(f"/api/v1/tasks?case_id={case['id']}&state=ready").get_json()["items"]
    [approve_filing] = [t for t in approve if t["bpmn_id"] == "approve_filing"]
    refusal = {"filing_decision": "not_file", "not_filing_ground": "no_evidence", "filing_opinion": "证据不足，不予立案。",
               "approval_date": "2026-03-03"}
    response = head.post(f"/api/v1/tasks/{approve_filing['id']}/complete", json={"data": refusal})
    assert response.status_code == 200, response.get_json()
    before = snapshot(core)
    problem = assert_problem(head.post(f"/api/v1/tasks/{approve_filing['id']}/complete", json={"data": refusal}), 409)
    assert problem["detail"]
    assert snapshot(core) == before


def test_a_task_claimed_by_another_officer_is_409(core: Core, officer: Client, login: Any) -> None:
    task = ready_task(open_case(core, officer), "verify_clue")
    claimed = login("officer2").post(f"/api/v1/tasks/{task['id']}/claim")
    assert claimed.status_code == 200, claimed.get_json()
    before = snapshot(core)
    assert_problem(officer.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": VERIFY}), 409)
    assert snapshot(core) == before


def test_an_unknown_task_or_case_is_404(core: Core, officer: Client) -> None:
    before = snapshot(core)
    assert_problem(officer.post("/api/v1/tasks/00000000-0000-0000-0000-000000000000/complete", json={"data": VERIFY}), 404)
    assert_problem(officer.get("/api/v1/tasks/no-such-task"), 404)
    assert_problem(officer.get("/api/v1/cases/999999"), 404)
    assert_problem(officer.get("/api/v1/no-such-resource"), 404)
    assert snapshot(core) == before


# -- completing a task: who ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "username, reason",
    [
        pytest.param("reviewer1", "officer", id="reviewer-does-officer-task"),
        pytest.param("head1", "officer", id="head-does-verify-clue"),
        pytest.param("officer3", "scope", id="officer-of-another-agency"),
        pytest.param("supervisor1", "agency", id="supervisor-sees-but-does-not-act"),
        pytest.param("designer1", "scope", id="designer"),
    ],
)
def test_only_the_lane_role_of_the_cases_agency_does_a_task(
    core: Core, officer: Client, login: Any, username: str, reason: str
) -> None:
    task = ready_task(open_case(core, officer), "verify_clue")
    other = login(username)
    before = snapshot(core)
    problem = assert_problem(other.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": VERIFY}), 403)
    assert reason in problem["detail"]
    assert_problem(other.post(f"/api/v1/tasks/{task['id']}/claim"), 403)
    assert snapshot(core) == before


def test_an_officer_cannot_do_the_heads_task(core: Core, officer: Client) -> None:
    case = open_case(core, officer)
    response = officer.post(f"/api/v1/tasks/{ready_task(case, 'verify_clue')['id']}/complete", json={"data": VERIFY})
    approve_filing = ready_task(response.get_json(), "approve_filing")
    before = snapshot(core)
    problem = assert_problem(
        officer.post(f"/api/v1/tasks/{approve_filing['id']}/complete", json={"data": STEP_DATA["approve_filing"]}), 403
    )
    assert "agency_head" in problem["detail"]
    assert snapshot(core) == before


def test_an_officer_not_assigned_to_the_case_cannot_do_its_officer_tasks(core: Core, login: Any) -> None:
    """越秀 has two officers: a case of officer3 and officer4 is done by them, not by another 越秀 officer."""
    officer3 = login("officer3")
    body = new_case(core, officer_ids=user_ids(core, "officer3", "officer4"))
    response = officer3.post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.get_json()
    task = ready_task(response.get_json(), "verify_clue")
    # Reassign: officer4 leaves the case, so only officer3 is assigned (as if the roster changed).
    from engine.models import CaseOfficer

    [officer4] = user_ids(core, "officer4")
    with core.unit() as unit:
        unit.session.execute(delete(CaseOfficer).where(CaseOfficer.case_id == response.get_json()["id"],
                                                       CaseOfficer.user_id == officer4))
    before = snapshot(core)
    problem = assert_problem(login("officer4").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": VERIFY}), 403)
    assert "assigned" in problem["detail"]
    assert snapshot(core) == before


def test_a_case_of_another_district_is_out_of_sight(core: Core, officer: Client, login: Any) -> None:
    case = open_case(core, officer)
    officer3 = login("officer3")
    assert_problem(officer3.get(f"/api/v1/cases/{case['id']}"), 403)
    assert_problem(officer3.get(f"/api/v1/cases/{case['id']}/audit"), 403)
    assert_problem(officer3.get(f"/api/v1/tasks/{ready_task(case, 'verify_clue')['id']}"), 403)


# -- authentication ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"Authorization": "Bearer garbage"}, id="garbage-token"),
        pytest.param({"Authorization": "Bearer "}, id="empty-token"),
        pytest.param({"Authorization": "Basic b2ZmaWNlcjE6dGVzdA=="}, id="basic-auth"),
        pytest.param({"Authorization": "garbage"}, id="no-scheme"),
    ],
)
def test_no_or_bad_token_is_401(core: Core, http: Any, officer: Client, headers: dict[str, str]) -> None:
    task = ready_task(open_case(core, officer), "verify_clue")
    before = snapshot(core)
    for method, url, kw in [
        ("get", "/api/v1/me", {}),
        ("get", "/api/v1/cases", {}),
        ("get", "/api/v1/tasks", {}),
        ("get", "/api/v1/timers", {}),
        ("get", "/api/v1/matters", {}),
        ("get", "/api/v1/processes", {}),
        ("post", "/api/v1/cases", {"json": new_case(core)}),
        ("post", f"/api/v1/tasks/{task['id']}/complete", {"json": {"data": VERIFY}}),
        ("post", f"/api/v1/tasks/{task['id']}/claim", {}),
    ]:
        response = getattr(http, method)(url, headers=headers, **kw)
        assert_problem(response, 401)
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), url
    assert snapshot(core) == before


def test_a_token_expires(core: Core, http: Any, clock: FrozenClock) -> None:
    officer = Client(http, "officer1")
    clock.set(START + timedelta(days=399))
    assert officer.get("/api/v1/me").status_code == 200
    clock.set(START + timedelta(days=401))
    before = snapshot(core)
    problem = assert_problem(officer.get("/api/v1/me"), 401)
    assert "expired" in problem["detail"]
    assert_problem(officer.post("/api/v1/cases", json=new_case(core)), 401)
    assert snapshot(core) == before
    # Logging in again gives a fresh token.
    assert Client(http, "officer1").get("/api/v1/me").status_code == 200


def test_a_token_expires_after_the_configured_ttl(core: Core, clock: FrozenClock) -> None:
    short = Core(replace(core.settings, token_ttl_seconds=60), clock=clock, db=core.db)
    http = create_app(short).test_client()
    response = http.post("/api/v1/auth/token", json={"username": "officer1", "password": PASSWORD})
    assert response.get_json()["expires_in"] == 60
    officer = Client(http, "officer1")
    clock.set(START + timedelta(seconds=59))
    assert officer.get("/api/v1/me").status_code == 200
    clock.set(START + timedelta(seconds=61))
    assert "expired" in assert_problem(officer.get("/api/v1/me"), 401)["detail"]


@pytest.mark.parametrize(
    "credentials, status, field",
    [
        pytest.param({"username": "officer1", "password": "wrong"}, 401, None, id="wrong-password"),
        pytest.param({"username": "nobody", "password": PASSWORD}, 401, None, id="unknown-user"),
        pytest.param({"username": "officer1"}, 422, "password", id="no-password"),
        pytest.param({"password": PASSWORD}, 422, "username", id="no-username"),
        pytest.param({"username": "officer1", "password": 123}, 422, "password", id="password-not-text"),
    ],
)
def test_login_failures(core: Core, http: Any, credentials: dict[str, Any], status: int, field: str | None) -> None:
    with core.unit() as unit:
        tokens = unit.session.scalar(select(func.count()).select_from(AccessToken))
        refused = unit.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.refused"))
    problem = assert_problem(http.post("/api/v1/auth/token", json=credentials), status)
    if field:
        assert fields(problem) == {field}
    else:
        assert problem["detail"] == "wrong username or password"  # the same answer for both: no user enumeration
    with core.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(AccessToken)) == tokens
        events = unit.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.refused")
                                      .order_by(AuditEvent.id)).all()
    if field:  # a malformed request is no login attempt
        assert len(events) == refused
        return
    # a wrong password or an unknown name is recorded (never the password), under the account's agency if any
    assert len(events) == refused + 1
    known = credentials["username"] == "officer1"
    assert events[-1].detail == {"username": credentials["username"], "known": known, "via": "api"}
    assert (events[-1].agency_id is not None) == known and events[-1].case_id is None
    assert PASSWORD not in str(events[-1].detail) and "wrong" not in str(events[-1].detail)


def test_a_disabled_account_cannot_log_in_and_its_tokens_stop_working(core: Core, http: Any) -> None:
    officer = Client(http, "officer2")
    with core.unit() as unit:
        unit.session.execute(update(User).where(User.username == "officer2").values(active=False))
    try:
        assert_problem(officer.get("/api/v1/me"), 401)
        assert_problem(http.post("/api/v1/auth/token", json={"username": "officer2", "password": PASSWORD}), 401)
    finally:
        with core.unit() as unit:
            unit.session.execute(update(User).where(User.username == "officer2").values(active=True))


# -- query parameters -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/cases?page=0", "page"),
        ("/api/v1/cases?page=abc", "page"),
        ("/api/v1/cases?per_page=1000", "per_page"),
        ("/api/v1/tasks?case_id=x", "case_id"),
        ("/api/v1/timers?status=late", "status"),
        ("/api/v1/timers?as_of=yesterday", "as_of"),
    ],
)
def test_bad_query_parameters_are_422_naming_them(officer: Client, url: str, field: str) -> None:
    assert fields(assert_problem(officer.get(url), 422)) == {field}


# -- unexpected errors ------------------------------------------------------------------------------------------
def test_an_unexpected_error_is_a_500_problem_that_reveals_no_internals(
    core: Core, officer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.cases

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("SELECT secret_column FROM internal_table")

    monkeypatch.setattr(engine.cases, "list_cases", broken)
    response = officer.get("/api/v1/cases")
    problem = assert_problem(response, 500)
    assert "secret_column" not in response.get_data(as_text=True), problem

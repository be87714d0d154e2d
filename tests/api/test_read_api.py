"""What users read: health, the API description, who am I, my agency's officers, the catalogue,
case lists (paging, filters, agency scope), task lists (mine), timers and a case's audit trail.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from engine.core import Core
from engine.demo import run_steps
from engine.models import Agency, User
from tests.api.conftest import Client
from tests.conftest import START

TIANHE_PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
YUEXIU_PARTY = {"type": "person", "name": "王小明", "id_number": "11010519491231002X"}
PRICE_TAGS, ADVERTISING = "440201003001", "440201002001"


def user_ids(core: Core, *usernames: str) -> list[int]:
    with core.unit() as unit:
        found = dict(unit.session.execute(select(User.username, User.id).where(User.username.in_(usernames))).all())
    return [found[name] for name in usernames]


def agency_id(core: Core, code: str) -> int:
    with core.unit() as unit:
        return unit.session.scalar(select(Agency.id).where(Agency.code == code))


def open_case(core: Core, client: Client, officers: tuple[str, str], matter: str, party: dict[str, Any], summary: str) -> dict[str, Any]:
    body = {"matter_code": matter, "party": party, "officer_ids": user_ids(core, *officers), "summary": summary}
    response = client.post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def cases(core: Core, login: Any) -> dict[str, list[dict[str, Any]]]:
    """Three 天河 cases (two price-tag, one advertising) and two 越秀 cases."""
    officer1, officer3 = login("officer1"), login("officer3")
    tianhe = [
        open_case(core, officer1, ("officer1", "officer2"), PRICE_TAGS, TIANHE_PARTY, "投诉：未明码标价"),
        open_case(core, officer1, ("officer1", "officer2"), ADVERTISING, TIANHE_PARTY, "巡查：广告使用“最佳”用语"),
        open_case(core, officer1, ("officer1", "officer2"), PRICE_TAGS, TIANHE_PARTY, "举报：价签缺失"),
    ]
    yuexiu = [
        open_case(core, officer3, ("officer3", "officer4"), PRICE_TAGS, YUEXIU_PARTY, "越秀：未明码标价"),
        open_case(core, officer3, ("officer3", "officer4"), ADVERTISING, YUEXIU_PARTY, "越秀：虚假广告"),
    ]
    return {"tianhe": tianhe, "yuexiu": yuexiu}


# -- open endpoints -------------------------------------------------------------------------------------
def test_health_needs_no_login(http: Any) -> None:
    response = http.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_swagger_describes_the_api(http: Any) -> None:
    response = http.get("/api/v1/swagger.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec.get("swagger") == "2.0" or str(spec.get("openapi", "")).startswith("3")
    assert spec["info"]["title"] and spec["info"]["version"]
    paths = spec["paths"]
    for path in ("/cases", "/cases/{case_id}", "/tasks", "/tasks/{task_id}/complete", "/timers", "/processes",
                 "/matters", "/me", "/officers", "/auth/token", "/health"):
        assert path in paths, sorted(paths)
    assert "post" in paths["/cases"] and "get" in paths["/cases"]
    assert "post" in paths["/tasks/{task_id}/complete"]
    # Every operation documents itself.
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert operation.get("summary") or operation.get("description"), (path, method)
    assert http.get("/api/v1/docs").status_code == 200


# -- who am I, my officers -------------------------------------------------------------------------------
def test_me(core: Core, login: Any) -> None:
    me = login("officer1").get("/api/v1/me").get_json()
    assert me == {"id": user_ids(core, "officer1")[0], "username": "officer1", "name": "张明",
                  "agency_id": agency_id(core, "GZ-TH-SJJ"), "roles": ["officer"]}
    supervisor = login("supervisor1").get("/api/v1/me").get_json()
    assert supervisor["roles"] == ["supervisor"] and supervisor["agency_id"] == agency_id(core, "GZ-SFJ")


def test_officers_are_the_certified_officers_of_my_own_agency(core: Core, login: Any) -> None:
    items = login("officer1").get("/api/v1/officers").get_json()["items"]
    assert [o["username"] for o in items] == ["officer1", "officer2"]
    for officer in items:
        assert set(officer) == {"id", "username", "name", "certificate_no", "certificate_valid_until"}
        assert officer["certificate_no"].startswith("粤执")
        assert officer["certificate_valid_until"] >= START.date().isoformat()
    # The reviewer and the head of the same agency see the same officers; 越秀 sees its own.
    assert [o["username"] for o in login("reviewer1").get("/api/v1/officers").get_json()["items"]] == ["officer1", "officer2"]
    assert [o["username"] for o in login("officer3").get("/api/v1/officers").get_json()["items"]] == ["officer3", "officer4"]
    # A supervision body has no enforcement officers of its own.
    assert login("supervisor1").get("/api/v1/officers").get_json()["items"] == []


@pytest.fixture
def officer2_uncertified(core: Core) -> Iterator[None]:
    with core.unit() as unit:
        original = unit.session.scalar(select(User.certificate_valid_until).where(User.username == "officer2"))
        unit.session.execute(update(User).where(User.username == "officer2").values(certificate_valid_until=START.date().replace(year=2025)))
    yield
    with core.unit() as unit:
        unit.session.execute(update(User).where(User.username == "officer2").values(certificate_valid_until=original))


def test_an_officer_with_an_expired_certificate_is_not_listed(login: Any, officer2_uncertified: None) -> None:
    assert [o["username"] for o in login("officer1").get("/api/v1/officers").get_json()["items"]] == ["officer1"]


# -- catalogue --------------------------------------------------------------------------------------------
def test_matters(login: Any) -> None:
    officer = login("officer1")
    items = officer.get("/api/v1/matters").get_json()["items"]
    assert len(items) >= 10
    for matter in items:
        assert {"code", "name", "category", "legal_basis", "process_id"} <= set(matter)
        assert matter["code"] and matter["name"] and matter["legal_basis"]
        assert matter["category"] in ("punishment", "coercion", "inspection")
        assert matter["process_id"] in ("general_punishment", "simplified_punishment", "seizure_detention", "evidence_preservation",
                                       "court_enforcement", "agency_enforcement",
                                       "administrative_inspection", "deposit_freezing")
    codes = [m["code"] for m in items]
    assert len(set(codes)) == len(codes) and codes == sorted(codes)
    assert PRICE_TAGS in codes
    everything = officer.get("/api/v1/matters?all=true").get_json()["items"]
    assert {m["code"] for m in everything} >= set(codes)
    # A supervisor sees the whole catalogue.
    assert len(login("supervisor1").get("/api/v1/matters").get_json()["items"]) == len(everything)


# -- cases -------------------------------------------------------------------------------------------------
def _numbers(page: dict[str, Any]) -> list[str]:
    return [c["number"] for c in page["items"]]


def test_case_list_shape(login: Any, cases: dict[str, list[dict[str, Any]]]) -> None:
    page = login("officer1").get("/api/v1/cases").get_json()
    assert page["total"] == 3 and page["page"] == 1 and page["per_page"] == 20
    item = page["items"][0]
    assert set(item) >= {"id", "number", "matter_code", "agency_id", "agency_name", "party_name", "status", "opened_at"}
    assert item["agency_name"] == "广州市天河区市场监督管理局"
    assert item["party_name"] == TIANHE_PARTY["name"]
    assert item["status"] == "open"
    # Newest first.
    assert _numbers(page) == ["穗天市监〔2026〕3号", "穗天市监〔2026〕2号", "穗天市监〔2026〕1号"]


def test_case_list_paging(login: Any, cases: dict[str, list[dict[str, Any]]]) -> None:
    supervisor = login("supervisor1")
    pages = [supervisor.get(f"/api/v1/cases?per_page=2&page={n}").get_json() for n in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert all(p["per_page"] == 2 for p in pages)
    seen = [c["id"] for p in pages for c in p["items"]]
    assert sorted(seen) == sorted(c["id"] for group in cases.values() for c in group)  # no case twice, none missing


def test_case_list_filters(core: Core, login: Any, cases: dict[str, list[dict[str, Any]]]) -> None:
    officer = login("officer1")
    assert officer.get(f"/api/v1/cases?matter_code={PRICE_TAGS}").get_json()["total"] == 2
    assert officer.get(f"/api/v1/cases?matter_code={ADVERTISING}").get_json()["total"] == 1
    assert officer.get("/api/v1/cases?status=open").get_json()["total"] == 3
    assert officer.get("/api/v1/cases?status=closed").get_json()["total"] == 0
    assert _numbers(officer.get("/api/v1/cases?q=2号").get_json()) == ["穗天市监〔2026〕2号"]
    assert _numbers(officer.get("/api/v1/cases?q=价签").get_json()) == ["穗天市监〔2026〕3号"]
    supervisor = login("supervisor1")
    yuexiu = supervisor.get(f"/api/v1/cases?agency_id={agency_id(core, 'GZ-YX-SJJ')}").get_json()
    assert _numbers(yuexiu) == ["穗越市监〔2026〕2号", "穗越市监〔2026〕1号"]
    both = supervisor.get(f"/api/v1/cases?matter_code={ADVERTISING}").get_json()
    assert sorted(_numbers(both)) == ["穗天市监〔2026〕2号", "穗越市监〔2026〕2号"]


def test_agency_scope_of_the_case_list(core: Core, login: Any, cases: dict[str, list[dict[str, Any]]]) -> None:
    supervisor = login("supervisor1").get("/api/v1/cases").get_json()
    assert supervisor["total"] == 5
    assert {c["agency_name"] for c in supervisor["items"]} == {"广州市天河区市场监督管理局", "广州市越秀区市场监督管理局"}
    officer3 = login("officer3").get("/api/v1/cases").get_json()
    assert officer3["total"] == 2
    assert {c["agency_name"] for c in officer3["items"]} == {"广州市越秀区市场监督管理局"}
    # Asking for another district's cases by agency_id shows nothing of them.
    other = login("officer3").get(f"/api/v1/cases?agency_id={agency_id(core, 'GZ-TH-SJJ')}")
    assert other.status_code in (200, 403)
    if other.status_code == 200:
        assert other.get_json()["total"] == 0
    assert login("head1").get("/api/v1/cases").get_json()["total"] == 3
    # The supervisor reads a case of either district.
    for case in (cases["tianhe"][0], cases["yuexiu"][0]):
        detail = login("supervisor1").get(f"/api/v1/cases/{case['id']}")
        assert detail.status_code == 200 and detail.get_json()["number"] == case["number"]


def test_case_detail(login: Any, cases: dict[str, list[dict[str, Any]]]) -> None:
    case = login("officer2").get(f"/api/v1/cases/{cases['tianhe'][0]['id']}").get_json()
    assert case["number"] == "穗天市监〔2026〕1号"
    assert case["matter"]["code"] == PRICE_TAGS and case["matter"]["legal_basis"]
    assert case["agency"]["abbreviation"] == "穗天市监"
    assert [o["username"] for o in case["officers"]] == ["officer1", "officer2"]
    assert case["party"]["credit_code"] == TIANHE_PARTY["credit_code"]
    assert [(t["bpmn_id"], t["state"]) for t in case["tasks"]] == [("verify_clue", "ready")]
    assert [t["bpmn_id"] for t in case["timers"]] == ["timer_p2_filing"]


# -- tasks -------------------------------------------------------------------------------------------------
@pytest.fixture
def staged(core: Core, cases: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """天河 case 1 waits for the legal reviewer, case 2 for the head, case 3 for the officers."""
    first, second, third = (c["id"] for c in cases["tianhe"])
    run_steps(core, first, ["verify_clue", "approve_filing", "investigate"])
    run_steps(core, second, ["verify_clue"])
    return {"case_review": first, "approve_filing": second, "verify_clue": third}


def _ready(client: Client, query: str = "") -> list[tuple[str, str | None]]:
    items = client.get(f"/api/v1/tasks?state=ready{query}").get_json()["items"]
    return sorted((t["bpmn_id"], t["lane"]) for t in items)


def test_my_tasks_are_those_of_my_lane(login: Any, staged: dict[str, int]) -> None:
    reviewer = login("reviewer1")
    mine = reviewer.get("/api/v1/tasks?mine=true").get_json()
    assert mine["total"] == 1
    [task] = mine["items"]
    assert (task["bpmn_id"], task["lane"], task["case_id"]) == ("case_review", "legal_reviewer", staged["case_review"])
    assert task["case_number"] == "穗天市监〔2026〕1号"
    # Without `mine` the reviewer still sees every task of the agency.
    assert {b for b, _ in _ready(reviewer)} == {"case_review", "approve_filing", "verify_clue"}
    assert _ready(login("head1"), "&mine=true") == [("approve_filing", "agency_head")]
    assert _ready(login("officer1"), "&mine=true") == [("verify_clue", "officer")]


def test_officer_tasks_of_the_other_district_are_not_mine(login: Any, staged: dict[str, int]) -> None:
    # officer1: only the 天河 case still at verify_clue; officer3: the two 越秀 cases.
    assert [(t["bpmn_id"], t["case_id"]) for t in login("officer1").get("/api/v1/tasks?mine=true").get_json()["items"]] == [
        ("verify_clue", staged["verify_clue"])
    ]
    officer3 = login("officer3").get("/api/v1/tasks?mine=true").get_json()
    assert officer3["total"] == 2 and {t["case_number"] for t in officer3["items"]} == {"穗越市监〔2026〕1号", "穗越市监〔2026〕2号"}
    assert login("supervisor1").get("/api/v1/tasks?mine=true").get_json()["total"] == 0


def test_task_detail_has_its_form(login: Any, staged: dict[str, int]) -> None:
    reviewer = login("reviewer1")
    [task] = reviewer.get("/api/v1/tasks?mine=true").get_json()["items"]
    detail = reviewer.get(f"/api/v1/tasks/{task['id']}").get_json()
    assert detail["bpmn_id"] == "case_review" and detail["state"] == "ready"
    schema = detail["form"]["schema"]
    assert schema["type"] == "object" and "case_review_result" in schema["properties"]
    assert detail["form"]["ui_schema"]
    assert detail["data"]["case_number"] == "穗天市监〔2026〕1号"


def test_task_list_paging_and_filters(login: Any, staged: dict[str, int]) -> None:
    reviewer = login("reviewer1")
    completed = reviewer.get(f"/api/v1/tasks?case_id={staged['case_review']}&state=completed").get_json()
    assert sorted(t["bpmn_id"] for t in completed["items"]) == ["approve_filing", "investigate", "verify_clue"]
    page = reviewer.get(f"/api/v1/tasks?case_id={staged['case_review']}&per_page=2&page=2").get_json()
    assert page["total"] == 4 and len(page["items"]) == 2 and page["page"] == 2


# -- timers and audit ----------------------------------------------------------------------------------------
def test_timers_in_scope(login: Any, cases: dict[str, list[dict[str, Any]]]) -> None:
    supervisor = login("supervisor1").get("/api/v1/timers").get_json()
    assert supervisor["total"] == 5
    assert {t["bpmn_id"] for t in supervisor["items"]} == {"timer_p2_filing"}
    assert login("officer3").get("/api/v1/timers").get_json()["total"] == 2
    item = login("officer1").get("/api/v1/timers?status=pending").get_json()["items"][0]
    assert set(item) >= {"id", "case_id", "case_number", "name", "bpmn_id", "due_at", "legal_basis", "limit", "status"}
    assert item["status"] == "pending" and item["limit"] == {"amount": 15, "unit": "working_days"}


def test_case_audit_trail(login: Any, staged: dict[str, int]) -> None:
    events = login("officer1").get(f"/api/v1/cases/{staged['case_review']}/audit").get_json()["items"]
    assert [e["action"] for e in events] == ["case.opened", "task.completed", "task.completed", "task.completed"]
    assert [e["detail"]["bpmn_id"] for e in events[1:]] == ["verify_clue", "approve_filing", "investigate"]
    assert events[0]["prev_hash"] == "0" * 64
    assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(events))

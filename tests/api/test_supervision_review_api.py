"""Post-case review (案卷评查): reproducible sampling of closed cases per agency and period, a checklist
legal staff edit (versioned), reviewer assignment, scoring against the checklist, per-agency results."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine.clock import CHINA_TZ
from engine.core import Core
from engine.models import Agency, User
from tests.api.test_supervision_indicators_api import Builder, at

PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def closed(core: Core) -> dict[str, list[int]]:
    """天河: four cases closed in March; 越秀: two in March and one in April."""
    made: dict[str, list[int]] = {"GZ-TH-SJJ": [], "GZ-YX-SJJ": []}
    with core.unit() as unit:
        b = Builder(unit)
        for agency, days in (("GZ-TH-SJJ", ["03-05", "03-10", "03-20", "03-30"]), ("GZ-YX-SJJ", ["03-12", "03-25", "04-02"])):
            for i, day in enumerate(days):
                case = b.case(agency, "02-01", f"{agency}-{i}")
                case.status, case.closed_at = "closed", at(day)
                if day.startswith("03"):
                    made[agency].append(case.id)
        b.case("GZ-TH-SJJ", "03-01", "still-open")
    core.clock.set(datetime(2026, 4, 10, 9, 0, tzinfo=CHINA_TZ))
    return made


def put(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.http.put(url, headers=client._headers(), json=body)


def draw(client: Any, **body: Any) -> Any:
    return client.post("/api/v1/supervision/reviews", json={**PERIOD, **body})


def test_sampling_is_reproducible_from_the_recorded_seed(login: Any, closed: dict[str, list[int]]) -> None:
    supervisor = login("supervisor1")
    first = draw(supervisor, per_agency=2, seed=7)
    assert first.status_code == 201, first.get_json()
    sample = first.get_json()
    picked = [c["case_id"] for c in sample["cases"]]
    assert len(picked) == 4 and sample["seed"] == 7
    assert set(picked) <= set(closed["GZ-TH-SJJ"]) | set(closed["GZ-YX-SJJ"])
    assert [s["sampled"] for s in sample["by_agency"]] == [2, 2]
    assert [c["case_id"] for c in draw(supervisor, per_agency=2, seed=7).get_json()["cases"]] == picked
    unseeded = draw(supervisor, per_agency=3).get_json()
    again = draw(supervisor, per_agency=3, seed=unseeded["seed"]).get_json()
    assert [c["case_id"] for c in again["cases"]] == [c["case_id"] for c in unseeded["cases"]]
    assert sorted(c["case_id"] for c in draw(supervisor, per_agency=10).get_json()["cases"]) == sorted(
        closed["GZ-TH-SJJ"] + closed["GZ-YX-SJJ"])  # fewer closed cases than asked: all of them


def test_bad_sampling_requests(core: Core, login: Any, closed: dict[str, list[int]]) -> None:
    supervisor = login("supervisor1")
    empty = supervisor.post("/api/v1/supervision/reviews", json={"from": "2026-01-01", "to": "2026-01-31", "per_agency": 2})
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["field"] == "from"
    for body, field in (({"per_agency": 0}, "per_agency"), ({"per_agency": 2, "seed": -1}, "seed"),
                        ({"per_agency": 2, "agency_id": "GZ"}, "agency_id"), ({"per_agency": 2, "to": "soon"}, "to")):
        response = draw(supervisor, **body)
        assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == field, body
    with core.unit() as unit:
        province = unit.session.scalar(select(Agency.id).where(Agency.code == "GD"))
    assert draw(supervisor, per_agency=2, agency_id=province).status_code == 403
    assert draw(login("officer1"), per_agency=2).status_code == 403


def test_the_checklist_is_data_legal_staff_edit(login: Any, closed: dict[str, list[int]]) -> None:
    supervisor, reviewer = login("supervisor1"), login("reviewer1")
    default = supervisor.get("/api/v1/supervision/review-checklist").get_json()
    assert [i["code"] for i in default["items"]] == ["subject", "facts", "law", "procedure", "documents"]
    old_sample = draw(supervisor, per_agency=1, seed=1).get_json()
    assert old_sample["max_total"] == 100
    bad = put(reviewer, "/api/v1/supervision/review-checklist", {"name": "新标准", "items": [{"code": "a", "text": "x", "max_score": 0}]})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "items.0.max_score"
    items = [{"code": "facts", "text": "事实清楚", "max_score": 60}, {"code": "procedure", "text": "程序合法", "max_score": 40}]
    new = put(reviewer, "/api/v1/supervision/review-checklist", {"name": "2026年评查标准", "items": items})
    assert new.status_code == 200 and new.get_json()["id"] != default["id"]
    assert put(login("officer1"), "/api/v1/supervision/review-checklist", {"name": "x", "items": items}).status_code == 403
    assert draw(supervisor, per_agency=1, seed=1).get_json()["checklist"]["name"] == "2026年评查标准"
    kept = supervisor.get(f"/api/v1/supervision/reviews/{old_sample['id']}").get_json()
    assert kept["checklist"]["id"] == default["id"]  # a sample keeps the checklist it was drawn with


def test_assign_score_and_aggregate(core: Core, login: Any, closed: dict[str, list[int]]) -> None:
    supervisor, reviewer = login("supervisor1"), login("reviewer1")
    sample = draw(supervisor, per_agency=1, seed=3).get_json()
    base = f"/api/v1/supervision/reviews/{sample['id']}/cases"
    with core.unit() as unit:
        reviewer_id = unit.session.scalar(select(User.id).where(User.username == "reviewer1"))
        officer_id = unit.session.scalar(select(User.id).where(User.username == "officer1"))
    tianhe, yuexiu = (c["case_id"] for c in sample["cases"])
    assert supervisor.post(f"{base}/{tianhe}/assign", json={"reviewer_id": officer_id}).status_code == 422
    assert supervisor.post(f"{base}/{tianhe}/assign", json={"reviewer_id": reviewer_id}).get_json()["reviewer_id"] == reviewer_id
    assert supervisor.post(f"{base}/99999/assign", json={"reviewer_id": reviewer_id}).status_code == 404
    scores = {"subject": 15, "facts": 20, "law": 18, "procedure": 20, "documents": 10}
    assert supervisor.post(f"{base}/{tianhe}/score", json={"scores": scores}).status_code == 403  # not the reviewer
    missing = reviewer.post(f"{base}/{tianhe}/score", json={"scores": {**scores, "facts": 26, "extra": 1}})
    assert {e["field"] for e in missing.get_json()["errors"]} == {"scores.facts", "scores.extra"}
    done = reviewer.post(f"{base}/{tianhe}/score", json={"scores": scores, "findings": "送达回证缺少签名"}).get_json()
    assert done["total"] == 83 and done["findings"] == "送达回证缺少签名"
    assert supervisor.post(f"{base}/{tianhe}/assign", json={"reviewer_id": reviewer_id}).status_code == 409
    result = supervisor.get(f"/api/v1/supervision/reviews/{sample['id']}").get_json()
    by_agency = {a["agency"]["id"]: a for a in result["by_agency"]}
    scored = next(a for a in by_agency.values() if a["reviewed"] == 1)
    assert (scored["sampled"], scored["mean_total"], scored["with_findings"]) == (1, 83.0, 1)
    other = next(a for a in by_agency.values() if a["reviewed"] == 0)
    assert other["mean_total"] is None and yuexiu in {c["case_id"] for c in result["cases"]}
    assert login("officer3").get(f"/api/v1/supervision/reviews/{sample['id']}").status_code == 403

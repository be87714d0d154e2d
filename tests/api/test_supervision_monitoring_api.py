"""Monitoring over the projections: red (overdue) and yellow (due within the kind's warning working
days) as of any date, due within N working days, filters, aggregates down the agency tree and per
officer, tasks pending per stage; bad input and agencies outside the supervisor's subtree are 4xx."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine.core import Core
from engine.demo import STEP_DATA
from tests.api.test_read_api import (
    ADVERTISING,
    PRICE_TAGS,
    TIANHE_PARTY,
    YUEXIU_PARTY,
    agency_id,
    open_case,
    user_ids,
)
from tests.conftest import START


@pytest.fixture
def tree(core: Core, login: Any) -> dict[str, Any]:
    """天河: t1, t2 opened Mon 2026-03-02 (P2 due 03-23), t3 on 03-09 (due 03-30); 越秀: y1 03-02, y2 03-09."""
    officer1, officer3 = login("officer1"), login("officer3")
    t1 = open_case(core, officer1, ("officer1", "officer2"), PRICE_TAGS, TIANHE_PARTY, "t1")
    t2 = open_case(core, officer1, ("officer1", "officer2"), ADVERTISING, TIANHE_PARTY, "t2")
    y1 = open_case(core, officer3, ("officer3", "officer4"), PRICE_TAGS, YUEXIU_PARTY, "y1")
    core.clock.set(START + timedelta(days=7))
    t3 = open_case(core, officer1, ("officer1", "officer2"), PRICE_TAGS, TIANHE_PARTY, "t3")
    y2 = open_case(core, officer3, ("officer3", "officer4"), PRICE_TAGS, YUEXIU_PARTY, "y2")
    officer1.complete(t1["id"], "verify_clue", STEP_DATA["verify_clue"])
    return {"t1": t1, "t2": t2, "t3": t3, "y1": y1, "y2": y2}


def numbers(client: Any, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_json()
    return {t["case_number"] for t in response.get_json()["items"]}


def test_red_and_yellow_as_of_any_date(login: Any, tree: dict[str, Any]) -> None:
    supervisor = login("supervisor1")
    n = {k: v["number"] for k, v in tree.items()}
    assert numbers(supervisor, "/api/v1/timers?colour=red&as_of=2026-03-20") == set()
    assert numbers(supervisor, "/api/v1/timers?colour=yellow&as_of=2026-03-20") == {n["t1"], n["t2"], n["y1"]}
    assert numbers(supervisor, "/api/v1/timers?colour=green&as_of=2026-03-20") == {n["t3"], n["y2"]}
    assert numbers(supervisor, "/api/v1/timers?colour=red&as_of=2026-03-24") == {n["t1"], n["t2"], n["y1"]}
    assert numbers(supervisor, "/api/v1/timers?status=overdue&as_of=2026-03-24T00:00:00%2B08:00") == {n["t1"], n["t2"], n["y1"]}
    # 2026-03-24 + 3 working days = 03-27: the 03-30 deadlines are still green; on 03-26 they turn yellow.
    assert numbers(supervisor, "/api/v1/timers?colour=yellow&as_of=2026-03-24") == set()
    assert numbers(supervisor, "/api/v1/timers?colour=yellow&as_of=2026-03-26") == {n["t3"], n["y2"]}
    items = supervisor.get(f"/api/v1/timers?as_of=2026-03-26&case_id={tree['t3']['id']}").get_json()["items"]
    assert [(t["status"], t["colour"]) for t in items] == [("pending", "yellow")]


def test_due_within_working_days_and_filters(core: Core, login: Any, tree: dict[str, Any]) -> None:
    supervisor = login("supervisor1")
    n = {k: v["number"] for k, v in tree.items()}
    assert numbers(supervisor, "/api/v1/timers?due_within=3&as_of=2026-03-24") == set()
    assert numbers(supervisor, "/api/v1/timers?due_within=4&as_of=2026-03-24") == {n["t3"], n["y2"]}
    tianhe = agency_id(core, "GZ-TH")  # a county government: its subtree holds the 天河 bureau
    assert numbers(supervisor, f"/api/v1/timers?agency_id={tianhe}") == {n["t1"], n["t2"], n["t3"]}
    assert numbers(supervisor, f"/api/v1/timers?matter_code={ADVERTISING}") == {n["t2"]}
    officer3 = user_ids(core, "officer3")[0]
    assert numbers(supervisor, f"/api/v1/timers?officer_id={officer3}") == {n["y1"], n["y2"]}
    assert len(numbers(supervisor, "/api/v1/timers?level=county")) == 5
    assert numbers(supervisor, "/api/v1/timers?level=township") == set()


def test_overview_drills_down_the_agency_tree(core: Core, login: Any, tree: dict[str, Any]) -> None:
    supervisor = login("supervisor1")
    body = supervisor.get("/api/v1/supervision/overview?as_of=2026-03-24&due_within=4").get_json()
    assert body["agency"]["code"] == "GZ"
    assert body["totals"] == {"open_cases": 5, "pending": 2, "yellow": 0, "red": 3, "due_within": 2}
    children = {c["agency"]["code"]: c["counts"] for c in body["children"]}
    assert children["GZ-TH"] == {"open_cases": 3, "pending": 1, "yellow": 0, "red": 2, "due_within": 1}
    assert children["GZ-YX"] == {"open_cases": 2, "pending": 1, "yellow": 0, "red": 1, "due_within": 1}
    assert children["GZ-SFJ"]["open_cases"] == 0
    down = supervisor.get(f"/api/v1/supervision/overview?agency_id={agency_id(core, 'GZ-TH')}&as_of=2026-03-24").get_json()
    assert [(c["agency"]["code"], c["agency"]["level"], c["counts"]["red"]) for c in down["children"]] == [("GZ-TH-SJJ", "county", 2)]
    assert down["totals"]["due_within"] is None
    before = supervisor.get("/api/v1/supervision/overview?as_of=2026-03-05").get_json()
    assert before["totals"]["open_cases"] == 3  # t3 and y2 were opened on 03-09
    province = login("admin").get("/api/v1/supervision/overview").get_json()
    assert province["agency"]["code"] == "GD" and province["totals"]["open_cases"] == 5
    assert {c["agency"]["code"] for c in province["children"]} == {"GD-SFT", "GZ"}


def test_counts_per_officer_and_per_stage(core: Core, login: Any, tree: dict[str, Any]) -> None:
    supervisor = login("supervisor1")
    body = supervisor.get(f"/api/v1/supervision/officers?agency_id={agency_id(core, 'GZ-TH-SJJ')}&as_of=2026-03-24").get_json()
    assert body["total"] == 2
    assert {o["officer"]["username"]: o["counts"]["red"] for o in body["items"]} == {"officer1": 2, "officer2": 2}
    assert {o["counts"]["open_cases"] for o in body["items"]} == {3}
    stages = supervisor.get("/api/v1/supervision/stages").get_json()["items"]
    assert {s["bpmn_id"]: s["pending"] for s in stages} == {"verify_clue": 4, "approve_filing": 1}
    then = supervisor.get("/api/v1/supervision/stages?as_of=2026-03-05").get_json()["items"]
    assert {s["bpmn_id"]: s["pending"] for s in then} == {"verify_clue": 3}


@pytest.mark.parametrize("url, field", [
    ("/api/v1/supervision/overview?as_of=yesterday", "as_of"),
    ("/api/v1/supervision/overview?as_of=2026-02-30", "as_of"),
    ("/api/v1/timers?as_of=2026-03-24T09:00:00", "as_of"),
    ("/api/v1/timers?colour=purple", "colour"),
    ("/api/v1/timers?due_within=-1", "due_within"),
    ("/api/v1/timers?level=planet", "level"),
    ("/api/v1/supervision/stages?as_of=soon", "as_of"),
])
def test_bad_input_is_422(login: Any, url: str, field: str) -> None:
    response = login("supervisor1").get(url)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"][0]["field"] == field


def test_an_agency_outside_the_subtree_is_403(core: Core, login: Any, tree: dict[str, Any]) -> None:
    supervisor, officer3 = login("supervisor1"), login("officer3")
    province = agency_id(core, "GD")
    for url in (f"/api/v1/supervision/overview?agency_id={province}", f"/api/v1/timers?agency_id={province}",
                f"/api/v1/supervision/officers?agency_id={province}", "/api/v1/supervision/overview?agency_id=9999"):
        response = supervisor.get(url)
        assert response.status_code == 403, url
        assert response.mimetype == "application/problem+json"
    tianhe = agency_id(core, "GZ-TH-SJJ")
    assert officer3.get(f"/api/v1/supervision/overview?agency_id={tianhe}").status_code == 403
    own = officer3.get("/api/v1/supervision/overview").get_json()
    assert own["agency"]["code"] == "GZ-YX-SJJ" and own["totals"]["open_cases"] == 2

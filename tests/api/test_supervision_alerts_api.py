"""Alerts through the API: visible to the supervisors of the agency's ancestors only; acknowledge,
dismiss with a reason, escalate; rules with citations; on-demand evaluation; incidents and lateness."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from engine.clock import CHINA_TZ
from engine.core import Core
from engine.models import ProcessInstance
from engine.timers import run_due
from tests.api.test_read_api import (
    PRICE_TAGS,
    TIANHE_PARTY,
    YUEXIU_PARTY,
    agency_id,
    open_case,
)

AFTER_P2 = datetime(2026, 3, 24, 0, 0, 1, tzinfo=CHINA_TZ)


@pytest.fixture
def overdue(core: Core, login: Any) -> dict[str, Any]:
    """A 天河 and a 越秀 case whose filing deadline (P2) passed: the sweep raises deadline alerts."""
    tianhe = open_case(core, login("officer1"), ("officer1", "officer2"), PRICE_TAGS, TIANHE_PARTY, "天河")
    yuexiu = open_case(core, login("officer3"), ("officer3", "officer4"), PRICE_TAGS, YUEXIU_PARTY, "越秀")
    core.clock.set(AFTER_P2)
    assert run_due(core) == 2
    return {"tianhe": tianhe, "yuexiu": yuexiu}


def test_supervisors_of_ancestors_see_the_alerts(core: Core, login: Any, overdue: dict[str, Any]) -> None:
    body = login("supervisor1").get("/api/v1/supervision/alerts").get_json()
    assert body["total"] == 2
    item = body["items"][0]
    assert item["rule"] == "deadline_overdue" and item["status"] == "open" and item["severity"] == "medium"
    assert item["basis"] == "市场监督管理行政处罚程序规定第十八条" and item["officer_id"]
    assert set(item) >= {"case_id", "case_number", "agency_id", "agency_name", "detected_at", "message"}
    assert login("admin").get("/api/v1/supervision/alerts").get_json()["total"] == 2
    yuexiu = agency_id(core, "GZ-YX")
    assert login("supervisor1").get(f"/api/v1/supervision/alerts?agency_id={yuexiu}").get_json()["total"] == 1
    assert login("head1").get("/api/v1/supervision/alerts").get_json()["total"] == 1  # own agency only
    assert login("officer1").get("/api/v1/supervision/alerts").status_code == 403
    assert login("supervisor1").get(f"/api/v1/supervision/alerts?agency_id={agency_id(core, 'GD')}").status_code == 403


def test_acknowledge_dismiss_escalate(core: Core, login: Any, overdue: dict[str, Any]) -> None:
    supervisor = login("supervisor1")
    first, second = (a["id"] for a in supervisor.get("/api/v1/supervision/alerts").get_json()["items"])
    acknowledged = supervisor.post(f"/api/v1/supervision/alerts/{first}/acknowledge")
    assert acknowledged.status_code == 200 and acknowledged.get_json()["status"] == "acknowledged"
    assert supervisor.post(f"/api/v1/supervision/alerts/{first}/acknowledge").status_code == 409
    no_reason = supervisor.post(f"/api/v1/supervision/alerts/{first}/dismiss", json={"reason": "  "})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    dismissed = supervisor.post(f"/api/v1/supervision/alerts/{first}/dismiss", json={"reason": "经核实已依法延长期限"})
    assert dismissed.get_json()["status"] == "dismissed" and dismissed.get_json()["reason"] == "经核实已依法延长期限"
    assert supervisor.post(f"/api/v1/supervision/alerts/{first}/escalate").status_code == 409
    escalated = supervisor.post(f"/api/v1/supervision/alerts/{second}/escalate", json={"reason": "多次超期"}).get_json()
    assert escalated["status"] == "escalated" and escalated["escalated_to"] == agency_id(core, "GD")
    assert login("admin").post(f"/api/v1/supervision/alerts/{second}/escalate").status_code == 409  # nothing above
    assert supervisor.post(f"/api/v1/supervision/alerts/{second}/shred").status_code == 404
    assert supervisor.post("/api/v1/supervision/alerts/9999/acknowledge").status_code == 404
    assert login("head1").post(f"/api/v1/supervision/alerts/{second}/acknowledge").status_code == 403
    open_ = supervisor.get("/api/v1/supervision/alerts?status=open").get_json()["total"]
    assert open_ == 0
    assert supervisor.get("/api/v1/supervision/alerts?status=closed").status_code == 422


def test_rules_and_on_demand_evaluation(core: Core, login: Any) -> None:
    rules = login("supervisor1").get("/api/v1/supervision/rules").get_json()["items"]
    assert len(rules) == 11 and all(r["basis"] for r in rules)
    open_case(core, login("officer1"), ("officer1", "officer2"), PRICE_TAGS, TIANHE_PARTY, "天河")
    core.clock.set(AFTER_P2)  # overdue, but no sweep has run: evaluating finds it
    first = login("supervisor1").post("/api/v1/supervision/compliance/evaluate").get_json()
    assert first == {"new_alerts": 1}
    assert login("supervisor1").post("/api/v1/supervision/compliance/evaluate").get_json() == {"new_alerts": 0}
    assert login("officer1").post("/api/v1/supervision/compliance/evaluate").status_code == 403


def test_incidents_and_lateness(core: Core, login: Any) -> None:
    broken = open_case(core, login("officer1"), ("officer1", "officer2"), PRICE_TAGS, TIANHE_PARTY, "坏")
    open_case(core, login("officer3"), ("officer3", "officer4"), PRICE_TAGS, YUEXIU_PARTY, "好")
    with core.unit() as unit:
        unit.session.execute(update(ProcessInstance).where(ProcessInstance.case_id == broken["id"]).values(state={}))
    core.clock.set(AFTER_P2 + timedelta(seconds=1))
    assert run_due(core) == 1
    supervisor = login("supervisor1")
    items = supervisor.get("/api/v1/supervision/incidents").get_json()["items"]
    assert [(i["case_id"], i["attempts"], i["status"]) for i in items] == [(broken["id"], 1, "retrying")]
    assert login("officer1").get("/api/v1/supervision/incidents").status_code == 403
    report = supervisor.get("/api/v1/supervision/timers/lateness").get_json()
    assert report["count"] == 1 and report["max_ms"] == report["p99_ms"] == 3000  # due 23:59:59, fired 00:00:02
    assert supervisor.get("/api/v1/supervision/timers/lateness?since=2026-03-25").get_json()["count"] == 0
    assert supervisor.get("/api/v1/supervision/timers/lateness?since=never").status_code == 422

"""先行登记保存 through the API on SQLite and PostgreSQL: approval, registration, and the preservation
lapsing when no handling decision is made within 7 working days (the timer sweep), then release."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.timers import run_due
from tests.engine.test_preservation_procedure import (
    APPROVE,
    RELEASE,
    application,
    approval,
    proposal,
    record,
)

PARTY = {"type": "person", "name": "张三", "id_number": "11010519491231002X"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def open_preservation(login: Any, clock: FrozenClock) -> tuple[Any, Any, int]:
    officer, head = login("officer1"), login("head1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    clock.set(at("2026-03-02T09:30:00"))
    response = officer.post("/api/v1/cases", json={"matter_code": "440209001001", "party": PARTY, "officer_ids": ids,
                                                   "summary": "涉嫌侵权商品先行登记保存"})
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["id"]
    officer.complete(case_id, "apply_preservation", application())
    head.complete(case_id, "approve_preservation", APPROVE)
    clock.set(at("2026-03-02T10:30:00"))
    case = officer.complete(case_id, "register_evidence", record())
    p4 = {t["bpmn_id"]: t for t in case["timers"]}["timer_p4_handling"]
    assert p4["due_at"].startswith("2026-03-11T15:59:59") and p4["limit"] == {"amount": 7, "unit": "working_days"}
    return officer, head, case_id


def test_preservation_lapses_and_is_released(login: Any, core: Core, clock: FrozenClock) -> None:
    officer, _, case_id = open_preservation(login, clock)
    clock.set(at("2026-03-12T00:00:01"))
    assert run_due(core) == 1
    case = officer.get(f"/api/v1/cases/{case_id}").get_json()
    assert [t["bpmn_id"] for t in case["tasks"] if t["state"] == "ready"] == ["release_preserved"]
    assert {t["bpmn_id"]: t["status"] for t in case["timers"]}["timer_p4_handling"] == "fired"
    case = officer.complete(case_id, "release_preserved", {**RELEASE, "released_at": "2026-03-12T00:00:01+08:00"})
    assert case["status"] == "closed" and case["outcome"] == "lapsed"


def test_handling_decision_in_time(login: Any, clock: FrozenClock) -> None:
    officer, head, case_id = open_preservation(login, clock)
    clock.set(at("2026-03-05T10:30:00"))
    officer.complete(case_id, "decide_preservation", proposal("testing"))
    case = head.complete(case_id, "approve_preservation_handling", approval())
    assert case["status"] == "closed" and case["outcome"] == "sent_for_testing"
    assert {t["bpmn_id"]: t["status"] for t in case["timers"]}["timer_p4_handling"] == "met"

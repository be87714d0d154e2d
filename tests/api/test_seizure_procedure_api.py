"""查封、扣押 through the API on SQLite and PostgreSQL: approval, seizure with inventory, one extension
(a second one is a 422 saying why, nothing changed), the period expiring under the timer sweep, release."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.timers import run_due
from tests.engine.test_seizure_procedure import (
    APPROVE,
    EXTEND,
    RELEASE,
    application,
    execution,
)

PARTY = {"type": "organization", "name": "广州市天河区示例食品有限公司", "credit_code": "91350100M000100Y43"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def test_seizure_from_approval_to_release_on_expiry(login: Any, core: Core, clock: FrozenClock) -> None:
    officer, head, supervisor = login("officer1"), login("head1"), login("supervisor1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    clock.set(at("2026-03-02T09:30:00"))
    response = officer.post("/api/v1/cases", json={"matter_code": "440202001001", "party": PARTY, "officer_ids": ids,
                                                   "summary": "扣押涉嫌不符合食品安全标准的食品"})
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["id"]
    officer.complete(case_id, "apply_measure", application())
    clock.set(at("2026-03-02T09:50:00"))
    head.complete(case_id, "approve_measure", APPROVE)
    clock.set(at("2026-03-02T11:00:00"))
    case = officer.complete(case_id, "execute_measure", execution())
    c2 = {t["bpmn_id"]: t for t in case["timers"]}["timer_c2_period"]
    assert c2["due_at"].startswith("2026-04-01T15:59:59") and c2["legal_basis"].startswith("行政强制法第二十五条")

    clock.set(at("2026-03-25T10:00:00"))
    officer.complete(case_id, "decide_handling", EXTEND)
    case = head.complete(case_id, "approve_extension", {
        "extension_approved": True, "extension_opinion": "情况复杂，同意延长三十日。", "extension_notice_number": "穗天市监延〔2026〕1号",
        "extension_notified_at": "2026-03-25T15:00:00+08:00"})
    waiting = [t for t in case["timers"] if t["bpmn_id"] == "timer_c2_period" and t["status"] == "pending"]
    assert [t["due_at"][:19] for t in waiting] == ["2026-05-06T15:59:59"]  # day 60 is 05-01 (劳动节)

    refused = officer.complete(case_id, "decide_handling", EXTEND, status=422)
    assert refused["errors"][0]["field"] == "action" and "行政强制法第二十五条" in refused["errors"][0]["message"]
    assert officer.ready(case_id, "decide_handling")

    clock.set(at("2026-05-07T00:00:01"))
    assert [t["bpmn_id"] for t in supervisor.get("/api/v1/timers?status=overdue").get_json()["items"]] == ["timer_c2_period"]
    assert run_due(core) == 1
    case = officer.get(f"/api/v1/cases/{case_id}").get_json()
    assert [t["bpmn_id"] for t in case["tasks"] if t["state"] == "ready"] == ["release_items"]
    case = officer.complete(case_id, "release_items", {**RELEASE, "released_at": "2026-05-07T00:00:01+08:00"})
    assert case["status"] == "closed" and case["outcome"] == "released"

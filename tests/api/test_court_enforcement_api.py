"""申请人民法院强制执行 through the API on SQLite and PostgreSQL: the waiting periods pass under the timer
sweep, then application, acceptance, ruling and execution."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.timers import run_due
from tests.engine.test_court_enforcement_procedure import (
    ACCEPTED,
    APPROVAL,
    EXECUTED,
    NOT_PERFORMED,
    REMINDER,
    SUBMIT,
    basis,
)

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def ready(client: Any, case_id: int) -> list[str]:
    case = client.get(f"/api/v1/cases/{case_id}").get_json()
    return [t["bpmn_id"] for t in case["tasks"] if t["state"] == "ready"]


def test_court_enforcement_main_path(login: Any, core: Core, clock: FrozenClock) -> None:
    officer, head = login("officer1"), login("head1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    clock.set(at("2026-03-05T09:00:00"))
    response = officer.post("/api/v1/cases", json={"matter_code": "440299001001", "party": PARTY, "officer_ids": ids,
                                                   "summary": "逾期不缴纳罚款"})
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["id"]
    case = officer.complete(case_id, "record_basis", basis())
    assert ready(officer, case_id) == []
    wait = {t["bpmn_id"]: t for t in case["timers"]}["wait_litigation_period"]
    assert wait["due_at"].startswith("2026-09-02T15:59:59")  # 6 months, corresponding day, 24:00 +08:00

    clock.set(at("2026-09-03T09:00:00"))
    assert run_due(core) == 1
    assert ready(officer, case_id) == ["serve_reminder"]
    clock.set(at("2026-09-03T10:00:00"))
    officer.complete(case_id, "serve_reminder", REMINDER)
    clock.set(at("2026-09-18T09:00:00"))
    assert run_due(core) == 1
    case = officer.complete(case_id, "assess_performance", NOT_PERFORMED)
    assert {t["bpmn_id"]: t for t in case["timers"]}["timer_j1_window"]["due_at"].startswith("2026-12-02T15:59:59")
    head.complete(case_id, "approve_application", APPROVAL)
    clock.set(at("2026-09-21T10:00:00"))
    officer.complete(case_id, "submit_application", SUBMIT)
    clock.set(at("2026-09-24T10:00:00"))
    officer.complete(case_id, "record_acceptance", ACCEPTED)
    officer.complete(case_id, "record_ruling", {"ruling": "enforce", "ruled_at": "2026-09-24T10:00:00+08:00", "parties_heard": False,
                                                "ruling_number": "（2026）粤0106行审1号"})
    clock.set(at("2026-11-02T10:00:00"))
    case = officer.complete(case_id, "record_execution", EXECUTED)
    assert case["status"] == "closed" and case["outcome"] == "executed"

"""冻结存款、汇款 through the API on SQLite and PostgreSQL: approval, freeze, decision delivered, the
period expiring under the timer sweep, unfreezing."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.timers import run_due
from tests.engine.test_freeze_procedure import (
    APPLICATION,
    APPROVE,
    DELIVERY,
    NOTICE,
    UNFREEZE,
)

PARTY = {"type": "organization", "name": "广州市天河区示例贸易有限公司", "credit_code": "91350100M000100Y43"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def test_freeze_expires_and_is_lifted(login: Any, core: Core, clock: FrozenClock) -> None:
    officer, head = login("officer1"), login("head1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    clock.set(at("2026-03-02T09:30:00"))
    response = officer.post("/api/v1/cases", json={"matter_code": "440202002001", "party": PARTY, "officer_ids": ids, "summary": "冻结"})
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["id"]
    officer.complete(case_id, "apply_freeze", APPLICATION)
    head.complete(case_id, "approve_freeze", APPROVE)
    clock.set(at("2026-03-02T10:30:00"))
    case = officer.complete(case_id, "notify_bank", NOTICE)
    assert {t["bpmn_id"]: t for t in case["timers"]}["timer_c4_delivery"]["due_at"].startswith("2026-03-05T15:59:59")
    clock.set(at("2026-03-04T10:00:00"))
    case = officer.complete(case_id, "deliver_freeze_decision", DELIVERY)
    assert {t["bpmn_id"]: t for t in case["timers"]}["timer_c4_period"]["due_at"].startswith("2026-04-01T15:59:59")
    clock.set(at("2026-04-02T00:00:01"))
    assert run_due(core) == 1
    case = officer.complete(case_id, "unfreeze_deposits", {**UNFREEZE, "unfrozen_at": "2026-04-02T00:00:01+08:00"})
    assert case["status"] == "closed" and case["outcome"] == "unfrozen"

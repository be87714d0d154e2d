"""行政机关强制执行 through the API on SQLite and PostgreSQL: enforcing before the reminder's deadline is a
422 saying why (nothing changed); the 30 days of additional fine pass under the timer sweep; decision
and execution."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.timers import run_due
from tests.engine.test_agency_enforcement_procedure import (
    REMINDER,
    decision,
    execution,
    obligation,
    response,
)

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def test_agency_enforcement_main_path(login: Any, core: Core, clock: FrozenClock) -> None:
    officer, head = login("officer1"), login("head1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    clock.set(at("2026-03-20T09:00:00"))
    response_ = officer.post("/api/v1/cases", json={"matter_code": "440299002001", "party": PARTY, "officer_ids": ids,
                                                    "summary": "逾期不缴纳罚款，依法强制执行"})
    assert response_.status_code == 201, response_.get_json()
    case_id = response_.json["id"]
    officer.complete(case_id, "record_obligation", obligation())
    clock.set(at("2026-03-20T10:00:00"))
    officer.complete(case_id, "serve_agency_reminder", REMINDER)

    clock.set(at("2026-03-30T17:00:00"))
    early = officer.complete(case_id, "record_response", response("not_performed"), status=422)
    assert early["errors"][0]["field"] == "response" and "2026-03-30" in early["errors"][0]["message"]
    assert officer.ready(case_id, "record_response")

    clock.set(at("2026-03-31T10:00:00"))
    case = officer.complete(case_id, "record_response", response("not_performed"))
    wait = {t["bpmn_id"]: t for t in case["timers"]}["wait_c7_additional_fine"]
    assert wait["due_at"].startswith("2026-04-16T15:59:59") and wait["legal_basis"].startswith("行政强制法第四十六条")
    clock.set(at("2026-04-17T09:00:00"))
    assert run_due(core) == 1
    clock.set(at("2026-04-17T10:00:00"))
    saturday = head.complete(case_id, "enforcement_decision", {**decision(), "execution_planned_at": "2026-04-18T10:00:00+08:00"},
                             status=422)
    assert saturday["errors"][0]["field"] == "execution_planned_at" and "行政强制法第四十三条" in saturday["errors"][0]["message"]
    head.complete(case_id, "enforcement_decision", decision())
    clock.set(at("2026-04-20T10:00:00"))
    case = officer.complete(case_id, "execute_enforcement", execution())
    assert case["status"] == "closed" and case["outcome"] == "executed"

"""Changing a case's time limits through the API: the officer asks, the agency head approves, the
timer moves (projection, workflow state, audit); what the law does not allow is a 422 naming the
field, and nothing changes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.demo import STEP_DATA
from engine.models import AuditEvent
from engine.timers import run_due

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
APPROVE = {"clock_decision": "approve", "clock_opinion": "同意。", "approval_date": "2026-03-10"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def filed(login: Any) -> int:
    officer, head = login("officer1"), login("head1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    case = officer.post("/api/v1/cases", json={"matter_code": "440201003001", "party": PARTY, "officer_ids": ids}).get_json()
    officer.complete(case["id"], "verify_clue", STEP_DATA["verify_clue"])
    head.complete(case["id"], "approve_filing", STEP_DATA["approve_filing"])
    return case["id"]


def p5(login: Any, case_id: int) -> dict[str, Any]:
    case = login("officer1").get(f"/api/v1/cases/{case_id}").get_json()
    return {t["bpmn_id"]: t for t in case["timers"]}["timer_p5_handling"]


def actions(core: Core, case_id: int) -> list[str]:
    with core.unit() as unit:
        return list(unit.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)))


def test_suspend_and_resume_through_the_api(login: Any, core: Core, clock: FrozenClock) -> None:
    case_id = filed(login)
    officer, head = login("officer1"), login("head1")
    assert p5(login, case_id)["due_at"] == "2026-06-01T15:59:59+00:00"
    clock.set(at("2026-03-10T10:00:00"))
    response = officer.post(f"/api/v1/cases/{case_id}/clock-changes", json={"kind": "suspend", "reason": "当事人下落不明。"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["request"]["timer"] == "timer_p5_handling" and body["request"]["on"] == "2026-03-10"
    assert "第六十四条" in body["request"]["legal_basis"]

    again = officer.post(f"/api/v1/cases/{case_id}/clock-changes", json={"kind": "resume", "reason": "x"})
    assert again.status_code == 409, "one change at a time"

    task = head.get(f"/api/v1/tasks/{body['approval_task_id']}").get_json()
    assert task["data"]["clock_request"]["kind"] == "suspend"
    head.complete(case_id, "approve_clock_change", APPROVE)
    timer = p5(login, case_id)
    assert timer["status"] == "suspended" and timer["due_at"] is None
    suspended = supervisor_sees(login, "suspended")
    assert [t["case_id"] for t in suspended] == [case_id]

    clock.set(at("2026-06-05T10:00:00"))
    assert run_due(core) == 0
    officer.post(f"/api/v1/cases/{case_id}/clock-changes", json={"kind": "resume", "reason": "恢复调查。"})
    head.complete(case_id, "approve_clock_change", {**APPROVE, "approval_date": "2026-06-05"})
    timer = p5(login, case_id)
    assert timer["status"] == "pending" and timer["due_at"] == "2026-08-26T15:59:59+00:00"  # 87 days not counted
    events = actions(core, case_id)
    assert events[-4:] == ["clock.change_requested", "clock.changed", "timer.rescheduled", "task.completed"]
    assert events.count("clock.changed") == 2 and events.count("timer.rescheduled") == 2


def supervisor_sees(login: Any, status: str) -> list[dict[str, Any]]:
    return login("supervisor1").get(f"/api/v1/timers?status={status}").get_json()["items"]


def test_an_extension_beyond_the_law_is_422_and_changes_nothing(login: Any, core: Core, clock: FrozenClock) -> None:
    case_id = filed(login)
    officer = login("officer1")
    before, events = p5(login, case_id), actions(core, case_id)
    response = officer.post(f"/api/v1/cases/{case_id}/clock-changes",
                            json={"kind": "extend", "amount": 31, "reason": "案情复杂。"})
    assert response.status_code == 422
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert problem["errors"][0]["field"] == "amount" and "第六十四条" in problem["detail"]
    assert p5(login, case_id) == before and actions(core, case_id) == events
    assert not [t for t in officer.get(f"/api/v1/tasks?case_id={case_id}&state=ready").get_json()["items"]
                if t["bpmn_id"] == "approve_clock_change"]


def test_the_head_approves_an_extension_and_the_deadline_moves(login: Any, core: Core, clock: FrozenClock) -> None:
    case_id = filed(login)
    officer, head = login("officer1"), login("head1")
    officer.post(f"/api/v1/cases/{case_id}/clock-changes", json={"kind": "extend", "amount": 30, "reason": "案情复杂。"})
    ready = officer.get(f"/api/v1/tasks?case_id={case_id}&state=ready").get_json()["items"]
    assert {t["bpmn_id"]: t["lane"] for t in ready}["approve_clock_change"] == "agency_head"
    approval = next(t for t in ready if t["bpmn_id"] == "approve_clock_change")
    refused = officer.post(f"/api/v1/tasks/{approval['id']}/complete", json={"data": APPROVE})
    assert refused.status_code == 403, "an officer cannot approve"
    head.complete(case_id, "approve_clock_change", APPROVE)
    assert p5(login, case_id)["due_at"] == "2026-06-30T15:59:59+00:00"  # 120 days after 03-02
    clock.set(at("2026-06-02T09:00:00"))
    assert run_due(core) == 0, "the workflow's timer moved too"


def test_who_may_ask_and_what_is_malformed(login: Any, core: Core) -> None:
    case_id = filed(login)
    outsider = login("officer3")  # another district
    assert outsider.post(f"/api/v1/cases/{case_id}/clock-changes", json={"kind": "suspend", "reason": "x"}).status_code == 403
    reviewer = login("reviewer1")
    assert reviewer.post(f"/api/v1/cases/{case_id}/clock-changes", json={"kind": "suspend", "reason": "x"}).status_code == 403
    officer = login("officer1")
    for body, field in (({"kind": "exclude", "ground": "lunch", "from": "2026-03-02", "to": "2026-03-02", "reason": "x"}, "ground"),
                        ({"kind": "suspend"}, "reason"), ({"kind": "extend", "amount": "30", "reason": "x"}, "amount"),
                        ({"kind": "extend", "amount": 5, "reason": "x", "timer": "timer_p2_filing"}, "timer")):
        response = officer.post(f"/api/v1/cases/{case_id}/clock-changes", json=body)
        assert response.status_code == 422, body
        assert response.get_json()["errors"][0]["field"] == field
    assert officer.post("/api/v1/cases/99999/clock-changes", json={"kind": "suspend", "reason": "x"}).status_code == 404

"""The issue's "done": officer1 opens a case and takes it through the general procedure to archived,
with reviewer1 and head1 doing their tasks and a statutory waiting period passing by moving the
clock and running the timer sweep. Every timer shows the due date the counting rules give.
"""
from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.demo import STEP_DATA
from engine.timers import run_due

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def timers_by_bpmn(case: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["bpmn_id"]: t for t in case["timers"]}


def open_case(login: Any) -> tuple[Any, dict[str, Any]]:
    officer = login("officer1")
    officers = officer.get("/api/v1/officers").get_json()["items"]
    ids = [o["id"] for o in officers if o["username"] in ("officer1", "officer2")]
    response = officer.post(
        "/api/v1/cases", json={"matter_code": "440201003001", "party": PARTY, "officer_ids": ids, "summary": "投诉：未明码标价"}
    )
    assert response.status_code == 201, response.get_json()
    return officer, response.get_json()


def test_case_goes_from_clue_to_archive(login: Any, core: Core, clock: FrozenClock) -> None:
    officer, case = open_case(login)
    head, reviewer, supervisor = login("head1"), login("reviewer1"), login("supervisor1")
    case_id = case["id"]
    assert case["number"] == "穗天市监〔2026〕1号"
    assert case["status"] == "open"
    p2 = timers_by_bpmn(case)["timer_p2_filing"]
    # 15 working days after Monday 2026-03-02 (start day not counted): Monday 2026-03-23, 24:00.
    assert p2["due_at"].startswith("2026-03-23T15:59:59")  # 23:59:59+08:00 in UTC
    assert p2["legal_basis"].startswith("市场监督管理行政处罚程序规定第十八条")
    assert p2["limit"] == {"amount": 15, "unit": "working_days"}
    assert p2["status"] == "pending"

    officer.complete(case_id, "verify_clue", STEP_DATA["verify_clue"])
    case = head.complete(case_id, "approve_filing", STEP_DATA["approve_filing"])
    timers = timers_by_bpmn(case)
    assert timers["timer_p2_filing"]["status"] == "met"
    # 90 calendar days from 2026-03-02 is Sunday 2026-05-31: the last day moves to Monday 2026-06-01.
    assert timers["timer_p5_handling"]["due_at"].startswith("2026-06-01T15:59:59")

    clock.set(at("2026-03-10T10:00:00"))
    officer.complete(case_id, "investigate", STEP_DATA["investigate"])
    case = reviewer.complete(case_id, "case_review", STEP_DATA["case_review"])
    clock.set(at("2026-03-12T10:00:00"))
    case = officer.complete(case_id, "prior_notice", STEP_DATA["prior_notice"])
    p7 = timers_by_bpmn(case)["timer_p7_statement"]
    # Served Thursday 2026-03-12; 5 working days: Thursday 2026-03-19.
    assert p7["due_at"].startswith("2026-03-19T15:59:59")

    # Nobody states, defends or asks for a hearing: the period passes and the sweep fires the timer.
    clock.set(at("2026-03-20T08:00:00"))
    overdue = supervisor.get("/api/v1/timers?status=overdue").get_json()
    assert [t["bpmn_id"] for t in overdue["items"]] == ["timer_p7_statement"]
    assert run_due(core) == 1
    assert run_due(core) == 0  # each timer fires once
    case = officer.get(f"/api/v1/cases/{case_id}").get_json()
    assert timers_by_bpmn(case)["timer_p7_statement"]["status"] == "fired"
    assert [t["bpmn_id"] for t in case["tasks"] if t["state"] == "ready"] == ["decide"]

    clock.set(at("2026-03-20T10:00:00"))
    case = head.complete(case_id, "decide", STEP_DATA["decide"])
    assert timers_by_bpmn(case)["timer_p11_service"]["due_at"].startswith("2026-03-31T15:59:59")
    clock.set(at("2026-03-23T10:00:00"))
    case = officer.complete(case_id, "serve_decision", STEP_DATA["serve_decision"])
    # 15 calendar days from service on 2026-03-23: 2026-04-07 (a Tuesday).
    assert timers_by_bpmn(case)["timer_p12_payment"]["due_at"].startswith("2026-04-07T15:59:59")
    clock.set(at("2026-03-30T10:00:00"))
    officer.complete(case_id, "record_payment", STEP_DATA["record_payment"])
    officer.complete(case_id, "close_case", STEP_DATA["close_case"])
    head.complete(case_id, "approve_closure", STEP_DATA["approve_closure"])
    case = officer.complete(case_id, "archive", STEP_DATA["archive"])

    assert case["status"] == "closed"
    assert not [t for t in case["tasks"] if t["state"] == "ready"]
    assert {t["status"] for t in case["timers"]} <= {"met", "fired"}
    audit = officer.get(f"/api/v1/cases/{case_id}/audit").get_json()["items"]
    assert audit[0]["action"] == "case.opened" and audit[-1]["action"] == "case.closed"
    assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(audit))


def test_supervisor_sees_overdue_filing_limit_in_the_city(login: Any, clock: FrozenClock) -> None:
    open_case(login)
    supervisor = login("supervisor1")
    as_of = "2026-03-24T00:00:01%2B08:00"
    overdue = supervisor.get(f"/api/v1/timers?status=overdue&as_of={as_of}").get_json()
    assert overdue["total"] == 1
    item = overdue["items"][0]
    assert item["bpmn_id"] == "timer_p2_filing" and item["case_number"] == "穗天市监〔2026〕1号"
    assert item["started_at"].startswith("2026-03-02T09:00:00")
    pending = supervisor.get("/api/v1/timers?status=pending").get_json()
    assert pending["total"] == 1
    # An officer of another district sees nothing of it.
    assert login("officer3").get("/api/v1/timers").get_json()["total"] == 0


def test_a_deadline_in_a_year_without_a_holiday_notice_is_provisional(login: Any, clock: FrozenClock) -> None:
    clock.set(at("2026-11-27T10:00:00"))
    officer, case = open_case(login)
    assert timers_by_bpmn(case)["timer_p2_filing"]["provisional"] is False  # ends in December 2026
    head = login("head1")
    officer.complete(case["id"], "verify_clue", STEP_DATA["verify_clue"])
    case = head.complete(case["id"], "approve_filing", STEP_DATA["approve_filing"])
    p5 = timers_by_bpmn(case)["timer_p5_handling"]
    # 90 days from 2026-11-27 end on 2027-02-25, counted through the provisional 2027 calendar.
    assert p5["provisional"] is True
    assert p5["due_at"].startswith("2027-02-25T15:59:59")


def test_the_filing_clock_starts_when_the_clue_was_received(login: Any) -> None:
    officer = login("officer1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"]][:2]
    body = {"matter_code": "440201003001", "party": PARTY, "officer_ids": ids, "clue_received_at": "2026-02-26T16:00:00+08:00"}
    case = officer.post("/api/v1/cases", json=body).get_json()
    p2 = timers_by_bpmn(case)["timer_p2_filing"]
    # Thursday 2026-02-26 + 15 working days: 02-27, the adjusted working Saturday 02-28, then 03-02..03-18.
    assert p2["started_at"] == "2026-02-26T16:00:00+08:00"
    assert p2["due_at"].startswith("2026-03-18T15:59:59")
    for bad in ("2026-03-05T09:00:00+08:00", "2026-02-26T16:00:00", "yesterday", 20260226):
        response = officer.post("/api/v1/cases", json={**body, "clue_received_at": bad})
        assert response.status_code == 422, bad
        assert response.get_json()["errors"][0]["field"] == "clue_received_at"
    assert officer.get("/api/v1/cases").get_json()["total"] == 1

"""Due variables through the API (SQLite and PostgreSQL).

* The payment period (P12, 15 days from service of the decision, APL Art. 67(3)) is moved by a holiday
  year imported with `PUT /api/v1/calendar/years/2026`: `payment_due_at` moves with the timer and the
  late fee (APL Art. 72(1), 3% a day) counts from the new due date.
  Counted by hand: decision served Mon 2026-03-23 + 15 days = Tue 04-07 (清明 is 04-04..06); with 04-07
  made a rest day by the imported notice (a test fixture) -> Wed 04-08. Paid Thu 04-09: one day late,
  60.00 on a 2,000 fine (against the old due it would be two days, 120.00).
* A diagram whose timer declares a bad `due_variable` is a 422 naming the element, and nothing is stored.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import calendar as legal_calendar
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.demo import STEP_DATA
from engine.models import AuditEvent
from tests.api.test_deployment_checks_api import BASIS, LIMIT, TIMER, diagram, refused
from tests.api.test_processes_api import (  # noqa: F401 - the fixture removes what a test deployed
    _remove_deployed_definitions,
    deploy,
)
from tests.support.bpmn_samples import line_of

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
TO_SERVICE = ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice", "record_statement",
              "decide", "serve_decision"]
LANES = {"approve_filing": "head1", "case_review": "reviewer1", "decide": "head1"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def served_case(login: Any, clock: FrozenClock) -> int:
    clock.set(at("2026-03-12T09:00:00"))
    officer = login("officer1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    case_id = officer.post("/api/v1/cases", json={"matter_code": "440201003001", "party": PARTY, "officer_ids": ids}).get_json()["id"]
    for bpmn_id in TO_SERVICE:
        if bpmn_id == "decide":
            clock.set(at("2026-03-23T11:00:00"))
        login(LANES.get(bpmn_id, "officer1")).complete(case_id, bpmn_id, STEP_DATA[bpmn_id])
    return case_id


def task_data(user: Any, case_id: int, bpmn_id: str) -> dict[str, Any]:
    return user.get(f"/api/v1/tasks/{user.ready(case_id, bpmn_id)['id']}").get_json()["data"]


def test_a_holiday_import_moves_payment_due_at_and_the_late_fee_counts_from_it(login: Any, core: Core,
                                                                                  clock: FrozenClock) -> None:
    case_id = served_case(login, clock)
    officer = login("officer1")
    assert task_data(officer, case_id, "record_payment")["payment_due_at"] == "2026-04-07T23:59:59+08:00"

    clock.set(at("2026-04-01T09:00:00"))
    entry = dict(legal_calendar.load_default_calendar().year_entry(2026))
    entry["days"] = [*entry["days"], {"name": "测试", "date": "2026-04-07", "isOffDay": True}]
    admin = login("admin")
    response = admin.http.put("/api/v1/calendar/years/2026", json=entry, headers=admin._headers())
    assert response.status_code == 200, response.get_json()
    assert [(m["case_id"], m["bpmn_id"], m["due_after"]) for m in response.get_json()["rescheduled"]] == [
        (case_id, "timer_p12_payment", "2026-04-08T23:59:59+08:00")]
    assert task_data(officer, case_id, "record_payment")["payment_due_at"] == "2026-04-08T23:59:59+08:00"

    clock.set(at("2026-04-09T10:00:00"))
    officer.complete(case_id, "record_payment", {**STEP_DATA["record_payment"], "paid_at": "2026-04-09T10:00:00+08:00",
                                                 "late_fee_paid": 60})
    closing = task_data(officer, case_id, "close_case")
    assert (closing["late_fee_amount"], closing["payment_complete"]) == ("60.00", True)

    with core.unit() as unit:
        [event] = unit.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                                AuditEvent.action == "timer.rescheduled")).all()
    assert event.detail["due_variable"] == {"name": "payment_due_at", "format": "instant",
                                            "before": "2026-04-07T23:59:59+08:00", "after": "2026-04-08T23:59:59+08:00"}


def test_a_bad_due_variable_is_a_422_naming_the_timer(login: Any, core: Core) -> None:
    bad = ('<spiffworkflow:property name="due_variable" value="check-due"/>'
           '<spiffworkflow:property name="due_variable_format" value="day"/>')
    xml = diagram(extra=TIMER.format(props=BASIS + LIMIT + bad))
    errors = refused(login, core, xml)
    assert {(e["element_id"], e["field"]) for e in errors} == {("deadline", "due_variable"),
                                                              ("deadline", "due_variable_format")}
    assert all(e["line"] == line_of(xml, "<bpmn:boundaryEvent") for e in errors)


def test_a_good_due_variable_deploys(login: Any) -> None:
    good = ('<spiffworkflow:property name="due_variable" value="check_due_on"/>'
            '<spiffworkflow:property name="due_variable_format" value="date"/>')
    response = deploy(login("designer1"), {"checks.bpmn": diagram(extra=TIMER.format(props=BASIS + LIMIT + good))})
    assert response.status_code == 201, response.get_json()

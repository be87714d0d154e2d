"""A holiday year imported (`calendar_admin.import_year`) while the party's statement period (P7/P8) runs:
the timer moves, `statement_due_on` moves with it in the stored case, a statement submitted on the new
last day is judged in time, and the `timer.rescheduled` audit event records the variable's old and new
value. On SQLite and PostgreSQL.

Counted by hand (../shared/legal/time-limits.md section 0): notice served Thu 2026-03-12, 5 working
days -> 03-13, 03-16..19 -> Thu 03-19; with Tue 03-17 made a rest day by the imported notice -> Fri 03-20.
The "notice" is a test fixture: the packaged 2026 year with one more rest day.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from engine import calendar as legal_calendar
from engine import calendar_admin, tasks
from engine.accounts import principal_for_username
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.demo import open_demo_case, run_steps
from engine.models import AuditEvent, TaskRow

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def year_2026_with_rest_day(day: date) -> dict[str, Any]:
    entry = dict(legal_calendar.load_default_calendar().year_entry(2026))
    entry["days"] = [*entry["days"], {"name": "测试", "date": day.isoformat(), "isOffDay": True}]
    return entry


def ready_data(core: Core, case_id: int, bpmn_id: str) -> dict[str, Any]:
    with core.unit() as unit:
        officer = principal_for_username(unit, "officer1")
    with core.unit(officer) as unit:
        row = unit.session.scalar(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == bpmn_id,
                                                        TaskRow.state == "ready"))
        assert row is not None, f"{bpmn_id} is not ready"
        return tasks.get_task(unit, row.id).data


def test_a_holiday_import_moves_statement_due_on_and_the_statement_is_in_time(core: Core, clock: FrozenClock) -> None:
    clock.set(at("2026-03-12T10:00:00"))
    case_id = open_demo_case(core, "440201003001", PARTY, "投诉：商品未明码标价")
    run_steps(core, case_id, ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice"])
    assert ready_data(core, case_id, "record_statement")["statement_due_on"] == "2026-03-19"

    clock.set(at("2026-03-16T09:00:00"))
    with core.unit() as unit:
        admin = principal_for_username(unit, "admin")
    with core.unit(admin) as unit:
        result = calendar_admin.import_year(unit, year_2026_with_rest_day(date(2026, 3, 17)))
    assert [(m.case_id, m.bpmn_id, m.due_after.date()) for m in result.rescheduled] == [
        (case_id, "timer_p7_statement", date(2026, 3, 20))]
    assert ready_data(core, case_id, "record_statement")["statement_due_on"] == "2026-03-20"

    clock.set(at("2026-03-20T10:00:00"))  # after the old due: submitted in time only against the moved one
    run_steps(core, case_id, ["record_statement"], {"record_statement": {"response_submitted_on": "2026-03-20"}})
    decide = ready_data(core, case_id, "decide")
    assert (decide["statement_in_time"], decide["statement_waived"]) == (True, False)

    with core.unit() as unit:
        [event] = unit.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                                AuditEvent.action == "timer.rescheduled")).all()
    assert event.detail["bpmn_id"] == "timer_p7_statement" and event.detail["reason"].startswith("holiday year 2026")
    assert event.detail["due_variable"] == {"name": "statement_due_on", "format": "date",
                                            "before": "2026-03-19", "after": "2026-03-20"}

"""A holiday year imported after a limit already ran out on the provisional count (engine/fired_limits.py):
the limit is recounted and reported (audit event, alert, projection, import result, CLI), never re-run.
On SQLite and PostgreSQL, with real cases driven through the general procedure and the timer sweep.

Counted by hand (../shared/legal/time-limits.md §0, conventions 3; 2027 has no notice in the packaged data,
so it is provisional: 放假办法 Art. 2, 元旦 Fri 2027-01-01 the only rest day early in January):
* case A, prior notice served Tue 2026-12-29: 5 working days -> 12-30, 12-31, 01-04, 01-05, 01-06 -> Wed 01-06;
* case B, served Mon 2026-12-28: 12-29, 12-30, 12-31, 01-04, 01-05 -> Tue 01-05.
The "official" 2027 year below is a test fixture, not the real notice: it also rests Wed 01-06, so A's last
day becomes Thu 01-07 (A's period ran out a day early) while B's stays 01-05 (nothing to report).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

from engine import calendar_admin
from engine.accounts import principal_for_username
from engine.cli import main
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.demo import open_demo_case, run_steps
from engine.fired_limits import clocks_from_trail
from engine.models import AuditEvent, Case, ProcessInstance, TimerRow
from engine.supervision.models import ComplianceAlert
from engine.timers import run_due
from tests.conftest import PASSWORD

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
TO_NOTICE = ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice"]
P7 = "timer_p7_statement"
AFTER_BOTH_RAN_OUT = "2027-01-07T00:30:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def official_2027(*extra_rest: str) -> dict[str, Any]:
    days = [{"name": "元旦", "date": "2027-01-01", "isOffDay": True}]
    days += [{"name": "测试", "date": d, "isOffDay": True} for d in extra_rest]
    return {"year": 2027, "papers": ["https://www.gov.cn/test/2027-notice (test fixture, not the real notice)"], "days": days}


def served_on(core: Core, clock: FrozenClock, day: str) -> int:
    """A case whose prior notice was served at 10:00 on `day` (its statement period P7 then runs)."""
    clock.set(at(f"{day}T10:00:00"))
    case_id = open_demo_case(core, "440201003001", PARTY, "投诉：商品未明码标价")
    run_steps(core, case_id, TO_NOTICE, {
        "approve_filing": {"approval_date": day}, "investigate": {"investigation_ended_on": day},
        "prior_notice": {"served_at": f"{day}T10:00:00+08:00"},
    })
    return case_id


def ran_out_on_the_provisional_count(core: Core, clock: FrozenClock) -> tuple[int, int]:
    """Cases A and B, their statement periods run out (fired by the sweep) on the provisional calendar."""
    b = served_on(core, clock, "2026-12-28")
    a = served_on(core, clock, "2026-12-29")
    clock.set(at(AFTER_BOTH_RAN_OUT))
    assert run_due(core) == 2
    assert p7(core, a).status == "fired" and p7(core, a).provisional is True
    assert p7(core, a).due_at == at("2027-01-06T23:59:59") and p7(core, b).due_at == at("2027-01-05T23:59:59")
    return a, b


def p7(core: Core, case_id: int) -> TimerRow:
    with core.unit() as unit:
        return unit.session.scalar(select(TimerRow).where(TimerRow.case_id == case_id, TimerRow.bpmn_id == P7))


def admin_imports(core: Core, entry: dict[str, Any]) -> calendar_admin.ImportResult:
    with core.unit() as unit:
        admin = principal_for_username(unit, "admin")
    with core.unit(admin) as unit:
        return calendar_admin.import_year(unit, entry)


def recounted_events(core: Core) -> list[AuditEvent]:
    with core.unit() as unit:
        return list(unit.session.scalars(select(AuditEvent).where(AuditEvent.action == "timer.recounted").order_by(AuditEvent.id)))


def recount_alerts(core: Core) -> list[ComplianceAlert]:
    with core.unit() as unit:
        return list(unit.session.scalars(select(ComplianceAlert).where(ComplianceAlert.rule == "limit_recounted")))


def test_a_limit_that_ran_out_early_is_recounted_and_reported_once(core: Core, clock: FrozenClock) -> None:
    a, b = ran_out_on_the_provisional_count(core, clock)
    clock.set(at("2027-01-07T09:00:00"))
    result = admin_imports(core, official_2027("2027-01-06"))

    assert [(r.case_id, r.bpmn_id, r.fired_due.date().isoformat(), r.official_due.date().isoformat(), r.fired, r.case_closed)
            for r in result.recounted] == [(a, P7, "2027-01-06", "2027-01-07", "early", False)]
    assert result.recounted[0].provisional is False
    assert P7 not in {m.bpmn_id for m in result.rescheduled}  # fired: not moved, only recounted

    [event] = recounted_events(core)
    assert event.case_id == a
    row = p7(core, a)
    assert event.detail == {
        "timer_id": row.id, "bpmn_id": P7, "name": row.name, "legal_basis": row.legal_basis, "status": "fired",
        "reason": event.detail["reason"], "fired_due": "2027-01-06T23:59:59+08:00", "official_due": "2027-01-07T23:59:59+08:00",
        "fired": "early", "provisional": False, "case_closed": False,
    }
    assert event.detail["reason"].startswith("holiday year 2027 imported")
    # the projection: still the instant the workflow acted on, no longer provisional, the official last day beside it
    assert (row.status, row.due_at, row.provisional, row.recounted_due_at) == (
        "fired", at("2027-01-06T23:59:59"), False, at("2027-01-07T23:59:59"))
    unchanged = p7(core, b)
    assert (unchanged.due_at, unchanged.provisional, unchanged.recounted_due_at) == (at("2027-01-05T23:59:59"), False, None)

    [alert] = recount_alerts(core)
    assert (alert.case_id, alert.status, alert.severity, alert.subject) == (a, "open", "high", f"recount:{row.id}:2027-01-07")
    assert "按临时节假日安排计算已于2027年1月6日届满；按正式通知应于2027年1月7日届满。" in alert.message
    assert "期限提前届满" in alert.message and row.name in alert.message
    assert alert.basis.startswith(row.legal_basis) and "全国年节及纪念日放假办法》第二条" in alert.basis
    with core.unit() as unit:
        officer1 = principal_for_username(unit, "officer1")
    assert alert.officer_id == officer1.user_id

    again = admin_imports(core, official_2027("2027-01-06"))  # the same year again: nothing new
    assert again.recounted == [] and again.replaced == "stored"
    assert len(recounted_events(core)) == 1 and len(recount_alerts(core)) == 1


def test_an_official_year_that_confirms_the_day_reports_nothing(core: Core, clock: FrozenClock) -> None:
    a, b = ran_out_on_the_provisional_count(core, clock)
    result = admin_imports(core, official_2027())
    assert result.recounted == []
    assert recounted_events(core) == [] and recount_alerts(core) == []
    for case_id in (a, b):
        row = p7(core, case_id)
        assert (row.provisional, row.recounted_due_at) == (False, None)


def test_a_limit_that_ran_out_late_is_reported_as_late(core: Core, clock: FrozenClock) -> None:
    a, b = ran_out_on_the_provisional_count(core, clock)
    entry = official_2027()
    entry["days"].append({"name": "元旦", "date": "2027-01-02", "isOffDay": False})  # a 调休 working Saturday
    result = admin_imports(core, entry)
    # A: 12-30, 12-31, 01-02, 01-04, 01-05 -> 01-05; B: 12-29, 12-30, 12-31, 01-02, 01-04 -> 01-04
    assert {(r.case_id, r.official_due.date().isoformat(), r.fired) for r in result.recounted} == {
        (a, "2027-01-05", "late"), (b, "2027-01-04", "late")}
    assert {e.case_id for e in recounted_events(core)} == {a, b}
    messages = {x.case_id: x.message for x in recount_alerts(core)}
    assert "期限届满晚于法定届满日" in messages[a] and "按正式通知应于2027年1月5日届满" in messages[a]


def test_a_closed_case_is_reported_and_not_changed(core: Core, clock: FrozenClock) -> None:
    a, _ = ran_out_on_the_provisional_count(core, clock)
    clock.set(at("2027-01-07T14:00:00"))
    run_steps(core, a, ["decide", "serve_decision", "record_payment", "close_case", "approve_closure", "archive"], {
        "decide": {"decided_at": "2027-01-07T10:00:00+08:00"},
        "serve_decision": {"served_at": "2027-01-07T11:00:00+08:00"},
        "record_payment": {"paid_at": "2027-01-07T12:00:00+08:00"},
        "archive": {"archived_at": "2027-01-07T13:00:00+08:00"},
    })
    with core.unit() as unit:
        case = unit.session.get(Case, a)
        assert case.status == "closed"
        before = (case.revision, case.closed_at, unit.session.get(ProcessInstance, a).state)

    result = admin_imports(core, official_2027("2027-01-06"))
    assert [(r.case_id, r.fired, r.case_closed) for r in result.recounted] == [(a, "early", True)]
    [event] = recounted_events(core)
    assert event.case_id == a and event.detail["case_closed"] is True
    [alert] = recount_alerts(core)
    assert alert.case_id == a and "案件已结案" in alert.message
    with core.unit() as unit:
        case = unit.session.get(Case, a)
        assert (case.status, case.revision, case.closed_at, unit.session.get(ProcessInstance, a).state) == ("closed", *before)


def test_the_cli_lists_recounted_limits_apart_from_moved_timers(core: Core, clock: FrozenClock, tmp_path: Path) -> None:
    import json

    a, _ = ran_out_on_the_provisional_count(core, clock)
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(official_2027("2027-01-06"), ensure_ascii=False), encoding="utf-8")
    env = {"ZHIFA_DATABASE_URL": core.settings.database_url, "ZHIFA_DATA_DIR": str(tmp_path),
           "ZHIFA_NOW": "2027-01-07T09:00:00+08:00", "ZHIFA_DEMO_PASSWORD": PASSWORD}
    result = CliRunner().invoke(main, ["calendar", "import", str(path)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with core.unit() as unit:
        number = unit.session.get(Case, a).number
    lines = result.output.splitlines()
    recounted = lines.index("recounted 1 time limit(s) that had run out on the provisional calendar")
    assert lines[0].startswith("imported 2027") and "moved 2 open timer(s)" in lines[0]  # the two P5, no longer provisional
    assert lines[recounted + 1:] == [f"  {number} {P7}: ran out 2027-01-06, officially 2027-01-07 (fired early)"]
    assert len(recounted_events(core)) == 1 and len(recount_alerts(core)) == 1


def test_the_clock_record_of_a_fired_timer_comes_from_the_trail(core: Core, clock: FrozenClock) -> None:
    """The recount applies the case-clock record kept in the audit trail (a fired timer may be gone from the
    workflow state): a `clock.changed` followed by the `timer.rescheduled` of the timer it moved. Written here
    as `clock_changes._record` writes them, with an extension of 2 working days: P7 itself allows no clock
    change, so no approval could extend it."""
    a, _ = ran_out_on_the_provisional_count(core, clock)
    row = p7(core, a)
    clock_record = {"extended": 2, "extensions": [], "stops": [], "suspended_since": None}
    with core.unit() as unit:
        from engine import audit, instances

        case = instances.lock_case(unit, a)
        audit.record(unit, "clock.changed", {"task_id": None, "request": {"timer": P7}, "clock": clock_record}, case=case)
        audit.record(unit, "timer.rescheduled", {"timer_id": row.id, "bpmn_id": P7}, case=case)
        audit.record(unit, "timer.rescheduled", {"timer_id": "another", "bpmn_id": "timer_p5_handling"}, case=case)
    with core.unit() as unit:
        assert clocks_from_trail(unit, a, {row.id, "another"}) == {row.id: clock_record}
        assert unit.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == a)) > 3

    result = admin_imports(core, official_2027("2027-01-06"))
    # 5 + 2 working days from 12-29 with 01-06 a rest day: 12-30, 12-31, 01-04, 01-05, 01-07, 01-08, 01-11
    [recounted] = [r for r in result.recounted if r.case_id == a]
    assert recounted.official_due == at("2027-01-11T23:59:59")

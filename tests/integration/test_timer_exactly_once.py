"""The sweep fires each due timer exactly once, also with two timer processes at once on PostgreSQL;
catches up after downtime; and a failing case does not stop the others: it is retried with backoff,
then becomes an incident, and is resolved once it fires."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select, update

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.db import Database
from engine.demo import open_demo_case
from engine.models import AuditEvent, ProcessInstance, TimerRow
from engine.server import start_timers
from engine.settings import from_env
from engine.supervision import incidents
from engine.supervision.models import TimerFiring, TimerIncident
from engine.timers import catch_up, run_due
from tests.conftest import START, empty_case_tables

PARTY = {"type": "person", "name": "王小明", "id_number": "11010519491231002X"}
P2_DUE = datetime(2026, 3, 23, 23, 59, 59, tzinfo=CHINA_TZ)  # P2: 15 working days from 2026-03-02


def fired_rows(core: Core) -> list[tuple[str, int]]:
    with core.unit() as unit:
        return [tuple(r) for r in unit.session.execute(select(TimerFiring.timer_id, TimerFiring.lateness_ms))]


def audit_fired(core: Core) -> int:
    with core.unit() as unit:
        return unit.session.scalar(select(func.count()).where(AuditEvent.action == "timer.fired")) or 0


@pytest.fixture(params=["postgres", "sqlite"])
def shared_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The suite's database, for cores that each open their own connections (as separate processes do)."""
    db: Database = request.getfixturevalue(f"{request.param}_db")
    yield db.url
    with db.transaction() as session:
        empty_case_tables(session)


def separate_core(url: str, tmp_path: Path, at: datetime) -> Core:
    """A core with its own engine and connection pool, as a second timer process has."""
    settings = replace(from_env({}), database_url=url, data_dir=tmp_path)
    return Core(settings, clock=FrozenClock(at), db=Database(url, pool_size=2))


def test_two_timer_processes_fire_each_timer_exactly_once(shared_url: str, tmp_path: Path) -> None:
    """On PostgreSQL the two skip each other's locked cases; on SQLite BEGIN IMMEDIATE serialises them."""
    opener = separate_core(shared_url, tmp_path, START)
    case_ids = [open_demo_case(opener, "440201004001", PARTY, f"案件{i}") for i in range(16)]
    late = P2_DUE + timedelta(seconds=3)
    workers = [separate_core(shared_url, tmp_path, late) for _ in range(2)]
    barrier = threading.Barrier(2)
    advanced: list[int] = []
    errors: list[BaseException] = []

    def sweep(core: Core, name: str) -> None:
        try:
            barrier.wait(timeout=30)
            advanced.append(catch_up(core, limit=4, worker=name))
        except BaseException as exc:  # noqa: BLE001 - surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=sweep, args=(core, f"w{i}")) for i, core in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sum(advanced) == len(case_ids)
    fired = fired_rows(opener)
    assert len(fired) == len(case_ids) == len({timer for timer, _ in fired})
    assert {lateness for _, lateness in fired} == {3000}
    assert audit_fired(opener) == len(case_ids)
    with opener.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(TimerIncident)) == 0
        statuses = set(unit.session.scalars(select(TimerRow.status).where(TimerRow.bpmn_id == "timer_p2_filing")))
    assert statuses == {"overdue"}
    assert catch_up(workers[0]) == 0 and catch_up(workers[1]) == 0
    for core in (opener, *workers):
        core.db.dispose()


def test_missed_timers_fire_at_start_up(core: Core) -> None:
    case_ids = [open_demo_case(core, "440201004001", PARTY, f"案件{i}") for i in range(3)]
    core.clock.set(P2_DUE + timedelta(days=10))  # the server was down for ten days
    scheduler = BackgroundScheduler(timezone="UTC")  # not started: start_timers catches up first
    start_timers(core, scheduler)
    assert scheduler.get_job("timers") is not None
    fired = fired_rows(core)
    assert len(fired) == len(case_ids)
    assert {lateness for _, lateness in fired} == {10 * 86400 * 1000}
    assert run_due(core) == 0


def test_catch_up_goes_on_batch_after_batch(core: Core) -> None:
    for i in range(5):
        open_demo_case(core, "440201004001", PARTY, f"案件{i}")
    core.clock.set(P2_DUE + timedelta(seconds=1))
    assert catch_up(core, limit=2) == 5
    assert len(fired_rows(core)) == 5


def _break_workflow(core: Core, case_id: int) -> dict:
    with core.unit() as unit:
        stored = unit.session.get(ProcessInstance, case_id)
        original = stored.state
        unit.session.execute(update(ProcessInstance).where(ProcessInstance.case_id == case_id).values(state={"broken": True}))
    return original


def incident(core: Core, case_id: int) -> TimerIncident | None:
    with core.unit() as unit:
        return unit.session.get(TimerIncident, case_id)


def test_a_failing_case_is_retried_with_backoff_then_an_incident(core: Core) -> None:
    broken = open_demo_case(core, "440201004001", PARTY, "坏案件")
    healthy = open_demo_case(core, "440201004001", PARTY, "好案件")
    original = _break_workflow(core, broken)
    core.clock.set(P2_DUE + timedelta(seconds=1))
    assert run_due(core) == 1  # the healthy case fired in spite of the broken one
    assert len(fired_rows(core)) == 1
    first = incident(core, broken)
    assert (first.attempts, first.status, first.next_attempt_at) == (1, "retrying", core.clock.now() + timedelta(minutes=1))
    assert run_due(core) == 0
    assert incident(core, broken).attempts == 1  # backing off: not tried again before its time

    waits = [1, 2, 4, 8]
    for attempt, minutes in enumerate(waits, start=2):
        core.clock.advance(minutes=minutes)
        assert run_due(core) == 0
        row = incident(core, broken)
        assert row.attempts == attempt
        assert row.next_attempt_at == core.clock.now() + incidents.backoff(attempt)
    assert row.status == "incident" and row.attempts == incidents.ATTEMPTS_BEFORE_INCIDENT
    with core.unit() as unit:
        assert unit.session.scalar(select(func.count()).where(AuditEvent.action == "timer.incident")) == 1

    with core.unit() as unit:  # repaired
        unit.session.execute(update(ProcessInstance).where(ProcessInstance.case_id == broken).values(state=original))
    core.clock.advance(minutes=16)
    assert run_due(core) == 1
    resolved = incident(core, broken)
    assert resolved.status == "resolved" and resolved.resolved_at == core.clock.now()
    assert len(fired_rows(core)) == 2
    with core.unit() as unit:
        assert unit.session.get(TimerIncident, healthy) is None  # the healthy case never failed


def test_backoff_doubles_up_to_an_hour() -> None:
    minutes = [incidents.backoff(n) / timedelta(minutes=1) for n in (1, 2, 3, 6, 7, 20)]
    assert minutes == [1, 2, 4, 32, 60, 60]  # 64 minutes would be over the cap

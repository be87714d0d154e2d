"""Concurrent requests on PostgreSQL (the production database; SQLite serialises writers anyway).

Two users completing the same ready task at the same moment: exactly one succeeds, the other gets
a Conflict, and the audit trail records one completion. Cases opened at the same moment get
distinct, gapless numbers. The threads start together on a `threading.Barrier`; nothing sleeps and
nothing is timed.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from engine import cases, tasks
from engine.accounts import principal_for_username
from engine.clock import FrozenClock
from engine.core import Core
from engine.db import Database
from engine.demo import STEP_DATA
from engine.errors import Conflict
from engine.models import AuditEvent, Case, CaseSequence, TaskRow, User
from engine.settings import from_env
from tests.conftest import START, empty_case_tables

pytestmark = pytest.mark.postgres

ORGANIZATION = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
BARRIER_TIMEOUT = 30  # only ever reached if a thread dies before the barrier


@pytest.fixture
def pg_core(postgres_db: Database, tmp_path: Path) -> Iterator[Core]:
    """A Core on the suite's PostgreSQL database; case tables emptied afterwards."""
    settings = replace(from_env({}), database_url=postgres_db.url, data_dir=tmp_path, token_ttl_seconds=400 * 86400)
    yield Core(settings, clock=FrozenClock(START), db=postgres_db)
    with postgres_db.transaction() as session:
        empty_case_tables(session)


def run_together(workers: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run each worker in its own thread, all released at once; ("ok", result) or ("error", exception)."""
    barrier = threading.Barrier(len(workers), timeout=BARRIER_TIMEOUT)
    results: list[tuple[str, Any]] = [("error", RuntimeError("did not run"))] * len(workers)

    def run(i: int, work: Callable[[], Any]) -> None:
        try:
            results[i] = ("ok", work_after(barrier, work))
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[i] = ("error", exc)

    threads = [threading.Thread(target=run, args=(i, w), name=f"worker-{i}") for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), f"{t.name} did not finish"
    return results


def work_after(barrier: threading.Barrier, work: Callable[[], Any]) -> Any:
    barrier.wait()
    return work()


def open_case(core: Core, username: str = "officer1") -> int:
    with core.unit() as unit:
        actor = principal_for_username(unit, username)
        officers = list(unit.session.scalars(select(User.id).where(User.username.in_(["officer1", "officer2"]))))
    with core.unit(actor) as unit:
        return cases.open_case(unit, "440201003001", ORGANIZATION, officers, "并发测试").id


def ready_task_id(core: Core, case_id: int, bpmn_id: str) -> str:
    with core.unit() as unit:
        return unit.session.scalar(
            select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == bpmn_id, TaskRow.state == "ready")
        )


def completer(core: Core, username: str, task_id: str, data: dict[str, Any]) -> Callable[[], Any]:
    def work() -> Any:
        with core.unit() as unit:
            actor = principal_for_username(unit, username)
        with core.unit(actor) as unit:
            return tasks.complete(unit, task_id, data)

    return work


def completions(core: Core, case_id: int, bpmn_id: str) -> int:
    with core.unit() as unit:
        events = unit.session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == "task.completed")
        ).all()
    return sum(1 for e in events if e.detail.get("bpmn_id") == bpmn_id)


def test_two_officers_complete_the_same_task_at_once(pg_core: Core) -> None:
    case_id = open_case(pg_core)
    task_id = ready_task_id(pg_core, case_id, "verify_clue")
    data = STEP_DATA["verify_clue"]

    results = run_together([completer(pg_core, "officer1", task_id, data), completer(pg_core, "officer2", task_id, data)])

    outcomes = sorted(kind for kind, _ in results)
    errors = [value for kind, value in results if kind == "error"]
    assert outcomes == ["error", "ok"], results
    assert isinstance(errors[0], Conflict), repr(errors[0])
    assert completions(pg_core, case_id, "verify_clue") == 1
    with pg_core.unit() as unit:
        rows = unit.session.execute(select(TaskRow.bpmn_id, TaskRow.state).where(TaskRow.case_id == case_id)).all()
        events = unit.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)).all()
        last_hash = unit.session.get(Case, case_id).last_audit_hash
    assert sorted(tuple(r) for r in rows) == [("approve_filing", "ready"), ("verify_clue", "completed")]
    # The hash chain is one chain, not a fork.
    assert [e.action for e in events] == ["case.opened", "task.completed"]
    assert events[1].prev_hash == events[0].hash and last_hash == events[1].hash


def test_the_same_officer_submitting_twice_at_once(pg_core: Core) -> None:
    """A double click: the same user, the same task, two requests."""
    case_id = open_case(pg_core)
    task_id = ready_task_id(pg_core, case_id, "verify_clue")
    data = STEP_DATA["verify_clue"]

    results = run_together([completer(pg_core, "officer1", task_id, data) for _ in range(2)])

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    assert all(isinstance(v, Conflict) for k, v in results if k == "error")
    assert completions(pg_core, case_id, "verify_clue") == 1


def test_four_requests_for_one_task(pg_core: Core) -> None:
    case_id = open_case(pg_core)
    task_id = ready_task_id(pg_core, case_id, "verify_clue")
    data = STEP_DATA["verify_clue"]

    results = run_together([completer(pg_core, user, task_id, data) for user in ("officer1", "officer2") * 2])

    assert [k for k, _ in results].count("ok") == 1, results
    assert all(isinstance(v, Conflict) for k, v in results if k == "error"), results
    assert completions(pg_core, case_id, "verify_clue") == 1


def test_cases_opened_at_once_get_distinct_gapless_numbers(pg_core: Core) -> None:
    results = run_together([lambda: open_case(pg_core) for _ in range(4)])
    assert all(kind == "ok" for kind, _ in results), results
    with pg_core.unit() as unit:
        numbers = sorted(unit.session.scalars(select(Case.number)))
        [last_value] = unit.session.scalars(select(CaseSequence.last_value))
        total = unit.session.scalar(select(func.count()).select_from(Case))
    assert total == 4 and last_value == 4
    assert numbers == sorted(f"穗天市监〔2026〕{n}号" for n in range(1, 5))


def test_different_cases_do_not_wait_for_each_other(pg_core: Core) -> None:
    """Completing tasks of two different cases at once: both succeed."""
    first, second = open_case(pg_core), open_case(pg_core)
    data = STEP_DATA["verify_clue"]
    results = run_together([
        completer(pg_core, "officer1", ready_task_id(pg_core, first, "verify_clue"), data),
        completer(pg_core, "officer2", ready_task_id(pg_core, second, "verify_clue"), data),
    ])
    assert [k for k, _ in results] == ["ok", "ok"], results
    assert completions(pg_core, first, "verify_clue") == completions(pg_core, second, "verify_clue") == 1


def wait_until_a_backend_waits_for_a_lock(core: Core, deadline_s: float = 30.0) -> None:
    """Poll pg_stat_activity (bounded) until another connection is blocked on a row lock."""
    import time

    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
    end = time.monotonic() + deadline_s
    with core.db.engine.connect() as conn:
        while conn.execute(query).scalar() == 0:
            assert time.monotonic() < end, "the second completion never waited for the case lock"


def test_a_completion_that_waited_for_the_lock_sees_the_task_done(pg_core: Core) -> None:
    """The second request blocks on the case lock while the first is uncommitted; once the first
    commits, the second must read the newest task and workflow state (a Conflict), not what the rows
    held when it started waiting."""
    case_id = open_case(pg_core)
    task_id = ready_task_id(pg_core, case_id, "verify_clue")
    data = STEP_DATA["verify_clue"]
    second: list[tuple[str, Any]] = []

    def complete_second() -> None:
        try:
            second.append(("ok", completer(pg_core, "officer2", task_id, data)()))
        except Exception as exc:  # noqa: BLE001 - the outcome is asserted below
            second.append(("error", exc))

    with pg_core.unit() as unit:
        first_actor = principal_for_username(unit, "officer1")
    waiter = threading.Thread(target=complete_second)
    with pg_core.unit(first_actor) as unit:
        tasks.complete(unit, task_id, data)
        unit.writes.flush()  # everything is written; the locks are held until this unit commits
        waiter.start()
        wait_until_a_backend_waits_for_a_lock(pg_core)
    waiter.join(timeout=120)

    assert len(second) == 1 and second[0][0] == "error" and isinstance(second[0][1], Conflict), second
    assert completions(pg_core, case_id, "verify_clue") == 1
    with pg_core.unit() as unit:
        states = dict(unit.session.execute(select(TaskRow.bpmn_id, TaskRow.state).where(TaskRow.case_id == case_id)).all())
    assert states == {"verify_clue": "completed", "approve_filing": "ready"}

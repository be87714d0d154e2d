"""The overdue total from the per-agency counts (engine.supervision.overdue) is the direct count: after a
random series of case openings, completions, firings, compactions and recounts, for every scope and for
as-of instants in the past, now and the future; also while another transaction compacts (PostgreSQL)."""
from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import and_, func, or_, select, text

from engine import cases, tasks
from engine.accounts import principal_for_username
from engine.clock import FrozenClock
from engine.core import Core
from engine.db import Database
from engine.demo import STEP_DATA
from engine.models import Agency, Case, TaskRow, TimerRow, User
from engine.settings import from_env
from engine.supervision import overdue
from engine.supervision.models import OverdueCount, OverdueDelta
from engine.timers import list_timers, run_due
from tests.conftest import START, empty_case_tables

PARTY = {"type": "person", "name": "王小明", "id_number": "11010519491231002X"}
MATTER = "440201004001"
OFFICERS = {"GZ-TH-SJJ": ("officer1", "officer2"), "GZ-YX-SJJ": ("officer3", "officer4")}
STEPS = ["verify_clue", "approve_filing"]  # the P2 filing deadline, then the P5 handling deadline


def open_case(core: Core, agency: str, summary: str) -> int:
    first, second = OFFICERS[agency]
    with core.unit() as unit:
        actor = principal_for_username(unit, first)
        ids = list(unit.session.scalars(select(User.id).where(User.username.in_([first, second]))))
    with core.unit(actor) as unit:
        return cases.open_case(unit, MATTER, PARTY, ids, summary).id


def complete_next(core: Core, case_id: int) -> bool:
    """Complete the case's next filing step as a user of its agency (a Yuexiu case has no head to approve)."""
    with core.unit() as unit:
        row = unit.session.scalar(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.state == "ready",
                                                        TaskRow.bpmn_id.in_(STEPS)))
        code = unit.session.scalar(select(Agency.code).join(Case, Case.agency_id == Agency.id).where(Case.id == case_id))
        if row is None or (row.lane != "officer" and code != "GZ-TH-SJJ"):
            return False
        actor = principal_for_username(unit, OFFICERS[code][0] if row.lane == "officer" else "head1")
        task_id, step = row.id, row.bpmn_id
    data = {**STEP_DATA[step], **({"approval_date": core.clock.now().date().isoformat()} if step == "approve_filing" else {})}
    with core.unit(actor) as unit:
        tasks.complete(unit, task_id, data)
    return True


def direct(core: Core, path: str, as_of: datetime, level: str | None = None) -> tuple[int, list[str]]:
    """What the overdue filter selects, written out (fired and open, or waiting and due by then): how many,
    and all their ids in page order."""
    with core.unit() as unit:
        query = (
            select(TimerRow.id).join(Agency, Agency.id == TimerRow.agency_id)
            .where(Agency.path.like(f"{path}%"),
                   or_(TimerRow.status == "overdue", and_(TimerRow.status == "waiting", TimerRow.due_at <= as_of)))
            .order_by(TimerRow.due_at, TimerRow.id)
        )
        if level:
            query = query.where(Agency.level == level)
        ids = list(unit.session.scalars(query))
    return len(ids), ids


def scopes(core: Core) -> list[tuple[str, int | None, str, str | None]]:
    """(user, agency_id argument, the subtree's path, level): a province admin, a city supervisor, each bureau."""
    with core.unit() as unit:
        agencies = {a.code: a for a in unit.session.scalars(select(Agency).where(Agency.code.in_(["GD", "GZ-SFJ", *OFFICERS])))}
        city = unit.session.get(Agency, agencies["GZ-SFJ"].parent_id)
    found = [("admin", None, agencies["GD"].path, None), ("supervisor1", None, city.path, None),
             ("admin", None, agencies["GD"].path, "county")]
    found += [("supervisor1", agencies[code].id, agencies[code].path, None) for code in OFFICERS]
    return found


def check(core: Core) -> int:
    """The fast total equals the direct count for every scope, as of a year ago, a week ago, now, in a
    week and in a year. Returns the province's overdue total now."""
    now = core.clock.now()
    for username, agency_id, path, level in scopes(core):
        with core.unit() as unit:
            actor = principal_for_username(unit, username)
        for as_of in (now - timedelta(days=365), now - timedelta(days=7), now, now + timedelta(days=7), now + timedelta(days=365)):
            expected, ids = direct(core, path, as_of, level)
            with core.unit(actor) as unit:
                first, total = list_timers(unit, status="overdue", agency_id=agency_id, as_of=as_of, level=level, per_page=3)
                second, red = list_timers(unit, colour="red", agency_id=agency_id, as_of=as_of, level=level, page=2, per_page=3)
            assert (total, red) == (expected, expected), (username, agency_id, level, as_of)
            assert [t.id for t in first + second] == ids[:6]
    return direct(core, scopes(core)[0][2], now)[0]


def test_the_fast_total_is_the_direct_count_after_random_operations(core: Core) -> None:
    rng = random.Random(20261201)
    open_ids: list[int] = []
    seen_overdue = 0
    for i in range(80):
        op = rng.choices(["open", "complete", "advance", "compact", "recount"], weights=[3, 6, 3, 2, 1])[0]
        if op == "open" or not open_ids:
            open_ids.append(open_case(core, rng.choice(list(OFFICERS)), f"案件{i}"))
        elif op == "complete":
            case_id = rng.choice(open_ids)
            if not complete_next(core, case_id):
                open_ids.remove(case_id)
        elif op == "advance":
            core.clock.advance(hours=rng.uniform(1, 24 * 8))
            run_due(core)  # fire what is due: waiting -> overdue (+1 each)
        elif op == "compact":
            overdue.compact(core)
        else:
            assert overdue.recount(core) == 0  # nothing wrote around the triggers
        if i % 8 == 7:
            seen_overdue = max(seen_overdue, check(core))
    core.clock.advance(days=30)  # what is still waiting is due by now, not fired yet: the waiting term
    assert check(core) > 0
    assert run_due(core) > 0
    seen_overdue = max(seen_overdue, check(core))
    overdue.compact(core)
    check(core)
    with core.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(OverdueDelta)) == 0
        fired_open = unit.session.scalar(select(func.count()).where(TimerRow.status == "overdue"))
        assert unit.session.scalar(select(func.coalesce(func.sum(OverdueCount.n), 0))) == fired_open
        breached = unit.session.scalar(select(func.count()).where(TimerRow.status == "breached"))
    assert seen_overdue > 0 and breached > 0  # the series reached fired deadlines, and completed some late


def test_a_breached_deadline_leaves_the_count_and_compaction_keeps_the_sum(core: Core) -> None:
    case_id = open_case(core, "GZ-TH-SJJ", "超期后办结")
    core.clock.advance(days=30)
    assert run_due(core) == 1
    assert check(core) == 1
    with core.unit() as unit:
        assert [d.delta for d in unit.session.scalars(select(OverdueDelta))] == [1]
    assert overdue.compact(core) == 1
    assert complete_next(core, case_id) and complete_next(core, case_id)  # filed late: overdue -> breached
    with core.unit() as unit:
        assert unit.session.scalar(select(TimerRow.status).where(TimerRow.case_id == case_id, TimerRow.bpmn_id == "timer_p2_filing")) == "breached"
        assert [d.delta for d in unit.session.scalars(select(OverdueDelta))] == [-1]
    assert check(core) == 0
    assert overdue.compact(core) == 1
    with core.unit() as unit:
        assert unit.session.scalar(select(func.sum(OverdueCount.n))) == 0


def test_the_recount_repairs_counts_written_around_the_triggers(core: Core) -> None:
    for i in range(3):
        open_case(core, "GZ-YX-SJJ", f"案件{i}")
    core.clock.advance(days=30)
    assert run_due(core) == 3
    overdue.compact(core)
    with core.unit() as unit:  # a repair by hand that forgot the counts
        unit.session.execute(OverdueCount.__table__.delete())
        assert unit.session.scalar(select(func.count()).select_from(OverdueCount)) == 0
    with core.unit() as unit:
        actor = principal_for_username(unit, "admin")
    with core.unit(actor) as unit:
        assert list_timers(unit, status="overdue")[1] == 0  # wrong, until the recount
    assert overdue.recount(core) == 1  # one agency was wrong
    assert check(core) == 3
    assert overdue.recount(core) == 0


@pytest.fixture
def pg_core(postgres_db: Database, tmp_path: Path) -> Iterator[Core]:
    settings = replace(from_env({}), database_url=postgres_db.url, data_dir=tmp_path)
    yield Core(settings, clock=FrozenClock(START), db=postgres_db)
    with postgres_db.transaction() as session:
        empty_case_tables(session)


def test_the_total_stays_exact_while_another_transaction_compacts(pg_core: Core) -> None:
    """PostgreSQL (SQLite serialises every transaction): each check reads the fast total and the direct
    count in one REPEATABLE READ snapshot, while a thread fires and completes cases and another compacts."""
    core = pg_core
    for i in range(12):
        open_case(core, "GZ-TH-SJJ", f"案件{i}")
    core.clock.advance(days=30)
    stop = threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_due(core)
            with core.unit() as unit:
                ids = list(unit.session.scalars(select(Case.id).where(Case.status == "open")))
            for case_id in ids:
                while complete_next(core, case_id):
                    pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            stop.set()

    def compact() -> None:
        try:
            while not stop.is_set():
                overdue.compact(core)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work), threading.Thread(target=compact)]
    for thread in threads:
        thread.start()
    checks = 0
    with core.unit() as unit:
        path = unit.session.scalar(select(Agency.path).where(Agency.code == "GD"))
    while not stop.is_set() or checks < 3:
        with core.db.engine.connect() as connection:
            connection.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ")
            fast = connection.execute(overdue.statement([Agency.path.startswith(path)], core.clock.now())).scalar()
            exact = connection.execute(text(
                "SELECT count(*) FROM timers t JOIN agencies a ON a.id = t.agency_id WHERE a.path LIKE :p "
                "AND (t.status = 'overdue' OR (t.status = 'waiting' AND t.due_at <= :now))"
            ), {"p": f"{path}%", "now": core.clock.now()}).scalar()
            connection.exec_driver_sql("COMMIT")
        assert fast == exact
        checks += 1
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert check(core) == 0  # every deadline breached in the end

"""The timer sweep: fires what is due as of the clock, once, and steps around cases another
transaction holds (FOR UPDATE SKIP LOCKED) instead of waiting for them."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.db import Database
from engine.demo import open_demo_case
from engine.models import Case, TimerRow
from engine.settings import from_env
from engine.timers import run_due
from tests.conftest import START, empty_case_tables

PARTY = {"type": "person", "name": "王小明", "id_number": "11010519491231002X"}


@pytest.fixture
def pg_core(postgres_db: Database, tmp_path: Path) -> Iterator[Core]:
    settings = replace(from_env({}), database_url=postgres_db.url, data_dir=tmp_path)
    yield Core(settings, clock=FrozenClock(START), db=postgres_db)
    with postgres_db.transaction() as session:
        empty_case_tables(session)


def p2_status(core: Core, case_id: int) -> str:
    with core.unit() as unit:
        return unit.session.scalar(
            select(TimerRow.status).where(TimerRow.case_id == case_id, TimerRow.bpmn_id == "timer_p2_filing")
        )


def test_sweep_skips_a_locked_case_and_fires_it_later(pg_core: Core) -> None:
    case_id = open_demo_case(pg_core, "440201004001", PARTY, "网店未公示执照")
    pg_core.clock.set(datetime(2026, 3, 24, 0, 0, 1, tzinfo=CHINA_TZ))  # P2 ended 2026-03-23 24:00
    with pg_core.db.transaction() as held:
        held.execute(select(Case).where(Case.id == case_id).with_for_update())
        assert run_due(pg_core) == 0  # does not wait for the lock
        assert p2_status(pg_core, case_id) == "waiting"
    assert run_due(pg_core) == 1
    assert p2_status(pg_core, case_id) == "overdue"
    assert run_due(pg_core) == 0


def test_nothing_fires_before_it_is_due(pg_core: Core) -> None:
    case_id = open_demo_case(pg_core, "440201004001", PARTY, "网店未公示执照")
    pg_core.clock.set(datetime(2026, 3, 23, 23, 59, 0, tzinfo=CHINA_TZ))
    assert run_due(pg_core) == 0
    assert p2_status(pg_core, case_id) == "waiting"

"""`zhifa bench generate`: Guangdong's agency tree (21 cities, 120 counties, 1,600 townships), certified
officers, and cases the supervision queries see; the same seed writes the same cases."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from engine.models import Agency, Case, CaseOfficer, TimerRow
from engine.supervision.generator import _spread
from tests.integration.test_cli import Zhifa


def test_generate_a_province(tmp_path: Path) -> None:
    zhifa = Zhifa(tmp_path / "bench.db", now="2026-06-01T09:00:00+08:00")
    result = zhifa("bench", "generate", "--cases", "300")
    assert result.exit_code == 0, result.output
    assert "300 cases, 300 timers over 1741 enforcement agencies (3482 officers)" in result.output
    levels = dict(zhifa.query(
        select(Agency.level, func.count()).where(Agency.code.like("GEN-%"), Agency.kind == "government").group_by(Agency.level)
    ))
    assert levels == {"city": 21, "county": 120}
    assert zhifa.query(select(func.count()).where(Agency.level == "township"))[0][0] == 1600
    assert zhifa.query(select(func.count()).select_from(CaseOfficer))[0][0] == 600
    statuses = dict(zhifa.query(select(TimerRow.status, func.count()).group_by(TimerRow.status)))
    assert set(statuses) == {"waiting", "overdue", "met"}
    first = zhifa.query(select(Case.agency_id, Case.opened_at).order_by(Case.id).limit(20))
    again = Zhifa(tmp_path / "again.db", now="2026-06-01T09:00:00+08:00")
    assert again("bench", "generate", "--cases", "20").exit_code == 0
    assert again.query(select(Case.agency_id, Case.opened_at).order_by(Case.id)) == first
    more = zhifa("bench", "generate", "--cases", "10")  # the tree is made once; cases are added
    assert more.exit_code == 0 and zhifa.query(select(func.count()).select_from(Case))[0][0] == 310


def test_spread_is_even() -> None:
    assert _spread(120, 21) == [6] * 15 + [5] * 6 and sum(_spread(1600, 120)) == 1600

"""The `zhifa` command, run in-process with click's CliRunner against fresh SQLite files.

Every invocation gets ZHIFA_DATABASE_URL (a throw-away database) and ZHIFA_NOW (a frozen clock),
so nothing depends on the real date.
"""
from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, pool, select
from sqlalchemy.orm import Session

from engine.cli import main
from engine.db import upgrade
from engine.models import AuditEvent, Case, ProcessDefinition, TimerRow
from tests.conftest import PASSWORD
from tests.support.bpmn_samples import minimal_bpmn as sample_bpmn

ROOT = Path(__file__).resolve().parents[2]
GENERAL = ROOT / "processes" / "general_punishment.bpmn"
MONDAY = "2026-03-02T09:00:00+08:00"


def minimal_bpmn(process_id: str, **kwargs: str) -> str:
    return sample_bpmn(process_id, **kwargs).decode()


class Zhifa:
    """Runs `zhifa ...` against one database with a frozen clock."""

    def __init__(self, db_file: Path, now: str = MONDAY):
        self.db_file = db_file
        self.url = f"sqlite:///{db_file}"
        self.now = now

    def __call__(self, *args: str, now: str | None = None) -> Result:
        env = {
            "ZHIFA_DATABASE_URL": self.url,
            "ZHIFA_DATA_DIR": str(self.db_file.parent),
            "ZHIFA_NOW": now or self.now,
            "ZHIFA_DEMO_PASSWORD": PASSWORD,
        }
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    def query(self, statement: Any) -> list[Any]:
        engine = create_engine(self.url, poolclass=pool.NullPool)
        try:
            with Session(engine) as session:
                return list(session.execute(statement).all())
        finally:
            engine.dispose()


def copy_database(source: Path, target: Path) -> None:
    """SQLite's backup API: a consistent copy including what is still in the write-ahead log."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-template") / "migrated.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> Path:
    path = tmp_path_factory.mktemp("cli-seeded") / "seeded.db"
    copy_database(migrated_template, path)
    result = Zhifa(path)("seed-demo")
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def zhifa(tmp_path: Path, migrated_template: Path) -> Zhifa:
    """A freshly migrated, empty database."""
    copy_database(migrated_template, tmp_path / "zhifa.db")
    return Zhifa(tmp_path / "zhifa.db")


@pytest.fixture
def demo(tmp_path: Path, seeded_template: Path) -> Zhifa:
    """A database with the demo data (three cases at different stages, opened Monday 2026-03-02)."""
    copy_database(seeded_template, tmp_path / "zhifa.db")
    return Zhifa(tmp_path / "zhifa.db")


# -- calendar ------------------------------------------------------------------------------------------
def test_calendar_working_days(zhifa: Zhifa) -> None:
    result = zhifa("calendar", "due", "2026-03-02", "15", "--working")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2026-03-23"


def test_calendar_days_into_a_year_without_holiday_data_are_provisional(zhifa: Zhifa) -> None:
    result = zhifa("calendar", "due", "2026-12-07", "60", "--calendar")
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("(provisional)")
    assert result.output.strip().startswith("2027-02-0")


def test_calendar_days_in_a_known_year_are_not_provisional(zhifa: Zhifa) -> None:
    # 90 days from 2026-03-02 is Sunday 2026-05-31: the last day moves to Monday 2026-06-01.
    result = zhifa("calendar", "due", "2026-03-02", "90", "--calendar")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2026-06-01"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["calendar", "due", "2026-03-02", "15"], id="no-unit"),
        pytest.param(["calendar", "due", "2026-03-02", "many", "--working"], id="amount-not-a-number"),
        pytest.param(["calendar", "due", "2026-02-30", "15", "--working"], id="no-such-date"),
    ],
)
def test_calendar_usage_errors(zhifa: Zhifa, args: list[str]) -> None:
    result = zhifa(*args)
    assert result.exit_code == 2, result.output
    assert "Error" in result.output


# -- database and demo --------------------------------------------------------------------------------
def test_db_upgrade_builds_a_new_database_and_is_repeatable(tmp_path: Path) -> None:
    zhifa = Zhifa(tmp_path / "new" / "zhifa.db")
    first = zhifa("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert "newest schema" in first.output
    assert zhifa.db_file.is_file()
    assert zhifa.query(select(func.count()).select_from(Case)) == [(0,)]
    again = zhifa("db", "upgrade")
    assert again.exit_code == 0 and "newest schema" in again.output


def test_seed_demo_once(zhifa: Zhifa) -> None:
    first = zhifa("seed-demo")
    assert first.exit_code == 0, first.output
    assert "demo data created" in first.output
    numbers = [n for (n,) in zhifa.query(select(Case.number).order_by(Case.id))]
    assert numbers[:3] == ["穗天市监〔2026〕1号", "穗天市监〔2026〕2号", "穗天市监〔2026〕3号"]  # then the published ones
    second = zhifa("seed-demo")
    assert second.exit_code == 0, second.output
    assert "already present" in second.output
    assert [n for (n,) in zhifa.query(select(Case.number).order_by(Case.id))] == numbers
    # Every procedure once; hearing.bpmn is only called (by the general procedure) and is deployed with it.
    entry_procedures = [p for p in GENERAL.parent.glob("*.bpmn") if p.name != "hearing.bpmn"]
    assert zhifa.query(select(func.count()).select_from(ProcessDefinition)) == [(len(entry_procedures),)]


# -- timers -------------------------------------------------------------------------------------------
def _p2_of_first_case(demo: Zhifa) -> str:
    [(status,)] = demo.query(
        select(TimerRow.status).join(Case, Case.id == TimerRow.case_id)
        .where(Case.number == "穗天市监〔2026〕1号", TimerRow.bpmn_id == "timer_p2_filing")
    )
    return status


def test_timers_run_once_fires_what_is_due(demo: Zhifa) -> None:
    # Case 1 waits at verify_clue; its 15-working-day filing limit (P2) ends Monday 2026-03-23 24:00.
    before = demo("timers", "run", "--once", now="2026-03-23T12:00:00+08:00")
    assert before.exit_code == 0, before.output
    assert _p2_of_first_case(demo) == "waiting"

    result = demo("timers", "run", "--once", now="2026-03-24T00:00:01+08:00")
    assert result.exit_code == 0, result.output
    match = re.search(r"fired timers in (\d+) case", result.output)
    assert match and int(match.group(1)) >= 1, result.output
    # A non-interrupting deadline that fired stays "overdue" while the filing work is still open.
    assert _p2_of_first_case(demo) == "overdue"
    fired = demo.query(select(AuditEvent.detail).where(AuditEvent.action == "timer.fired"))
    assert any(d["bpmn_id"] == "timer_p2_filing" for (d,) in fired)

    again = demo("timers", "run", "--once", now="2026-03-24T00:00:01+08:00")
    assert again.exit_code == 0
    assert "fired timers in 0 case(s)" in again.output


# -- process validate / deploy -----------------------------------------------------------------------------
def test_process_validate_the_general_procedure(zhifa: Zhifa) -> None:
    result = zhifa("process", "validate", str(GENERAL))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok: general_punishment (executable)"


def test_process_validate_a_broken_bpmn_names_file_line_and_element(zhifa: Zhifa, tmp_path: Path) -> None:
    text = minimal_bpmn("zz_cli_broken", task_tag="serviceTask")
    path = tmp_path / "broken.bpmn"
    path.write_text(text, encoding="utf-8")
    line = text[: text.index("<bpmn:serviceTask")].count("\n") + 1
    result = zhifa("process", "validate", str(path))
    assert result.exit_code == 1, result.output
    assert "service tasks are not supported" in result.output
    assert f"broken.bpmn:{line} [check]" in result.output


def test_process_validate_refuses_an_external_entity(zhifa: Zhifa, tmp_path: Path) -> None:
    path = tmp_path / "xxe.bpmn"
    path.write_bytes(b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&xxe;</bpmn:definitions>
""")
    result = zhifa("process", "validate", str(path))
    assert result.exit_code == 1, result.output
    assert "xxe.bpmn:2" in result.output and "DOCTYPE" in result.output
    assert "root:" not in result.output


def test_process_validate_needs_an_existing_file(zhifa: Zhifa, tmp_path: Path) -> None:
    result = zhifa("process", "validate", str(tmp_path / "missing.bpmn"))
    assert result.exit_code == 2


def test_process_deploy_versions(demo: Zhifa, tmp_path: Path) -> None:
    same = demo("process", "deploy", str(GENERAL))
    assert same.exit_code == 0, same.output
    assert "deployed general_punishment version 1" in same.output  # unchanged: no new version

    path = tmp_path / "screening.bpmn"
    path.write_text(minimal_bpmn("zz_cli_screening"), encoding="utf-8")
    first = demo("process", "deploy", str(path))
    assert first.exit_code == 0, first.output
    assert "deployed zz_cli_screening version 1" in first.output
    path.write_text(minimal_bpmn("zz_cli_screening", task_name="核查线索"), encoding="utf-8")
    second = demo("process", "deploy", str(path))
    assert second.exit_code == 0, second.output
    assert "deployed zz_cli_screening version 2" in second.output
    versions = demo.query(
        select(ProcessDefinition.process_id, ProcessDefinition.version)
        .where(ProcessDefinition.process_id.in_(["general_punishment", "zz_cli_screening"])).order_by(ProcessDefinition.id)
    )
    assert [tuple(v) for v in versions] == [("general_punishment", 1), ("zz_cli_screening", 1), ("zz_cli_screening", 2)]


def test_process_deploy_of_a_broken_bpmn_stores_nothing(demo: Zhifa, tmp_path: Path) -> None:
    path = tmp_path / "broken.bpmn"
    path.write_text(minimal_bpmn("zz_cli_broken", task_tag="serviceTask"), encoding="utf-8")
    before = demo.query(select(func.count()).select_from(ProcessDefinition))
    audit_before = demo.query(select(func.count()).select_from(AuditEvent))
    result = demo("process", "deploy", str(path))
    assert result.exit_code == 1, result.output
    assert "[check]" in result.output
    assert demo.query(select(func.count()).select_from(ProcessDefinition)) == before
    assert demo.query(select(func.count()).select_from(AuditEvent)) == audit_before


# -- calendar import ----------------------------------------------------------------------------------
def _year_2027(tmp_path: Path, **changes: Any) -> Path:
    import json

    entry = {"year": 2027, "papers": ["test fixture, not the real notice"],
             "days": [{"name": "春节", "date": f"2027-02-{d:02d}", "isOffDay": True} for d in range(6, 16)]}
    entry.update(changes)
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
    return path


def test_calendar_import_makes_2027_official_for_calendar_due(zhifa: Zhifa, tmp_path: Path) -> None:
    before = zhifa("calendar", "due", "2026-11-16", "90", "--calendar")
    assert before.output.strip() == "2027-02-15 (provisional)"
    result = zhifa("calendar", "import", str(_year_2027(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "imported 2027" in result.output and "replaced the provisional year" in result.output
    after = zhifa("calendar", "due", "2026-11-16", "90", "--calendar")
    assert after.output.strip() == "2027-02-16"
    events = zhifa.query(select(AuditEvent.action).where(AuditEvent.action == "calendar.year_imported"))
    assert len(events) == 1


def test_calendar_import_moves_the_open_timers_of_the_demo(demo: Zhifa, tmp_path: Path) -> None:
    # The demo's cases were opened on 2026-03-02: nothing of theirs runs into 2027, nothing moves.
    result = demo("calendar", "import", str(_year_2027(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "moved 0 open timer(s)" in result.output


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"days": [{"name": "春节", "date": "2027-13-01", "isOffDay": True}]}, "days[0]"),
        ({"papers": []}, "source"),
    ],
)
def test_calendar_import_refuses_malformed_data_naming_the_entry(
    zhifa: Zhifa, tmp_path: Path, changes: dict[str, Any], says: str
) -> None:
    result = zhifa("calendar", "import", str(_year_2027(tmp_path, **changes)))
    assert result.exit_code == 1
    assert says in result.output
    assert zhifa("calendar", "due", "2026-11-16", "90", "--calendar").output.strip().endswith("(provisional)")


def test_calendar_import_of_a_file_that_is_not_json(zhifa: Zhifa, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"year": 2027,', encoding="utf-8")
    result = zhifa("calendar", "import", str(path))
    assert result.exit_code == 1 and "not JSON" in result.output


def test_the_interpretive_choices_are_configuration(zhifa: Zhifa) -> None:
    # 2025-08-31 + 6 months = 2026-02-28, a 调休 working Saturday (time-limits.md 1G).
    assert zhifa("calendar", "due", "2025-08-31", "6", "--months").output.strip() == "2026-02-28"
    env = {"ZHIFA_DATABASE_URL": zhifa.url, "ZHIFA_NOW": zhifa.now, "ZHIFA_ADJUSTED_WEEKEND_IS_WORKING": "false"}
    strict = CliRunner().invoke(main, ["calendar", "due", "2025-08-31", "6", "--months"], env=env)
    assert strict.output.strip() == "2026-03-02"
    # 2026-03-02 + 12 days = Saturday 03-14: moved to Monday unless weekends are not rest days for the rule.
    env = {"ZHIFA_DATABASE_URL": zhifa.url, "ZHIFA_NOW": zhifa.now, "ZHIFA_WEEKEND_IS_REST_FOR_LAST_DAY": "no"}
    lenient = CliRunner().invoke(main, ["calendar", "due", "2026-03-02", "12", "--calendar"], env=env)
    assert lenient.output.strip() == "2026-03-14"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # time-limits.md 1G and section 2, counted by hand
        (["2024-08-30", "15", "--calendar"], "2024-09-14"),  # ends on the 调休 working Saturday
        (["2024-02-08", "3", "--working"], "2024-02-19"),  # 02-09 worked, 02-10..17 off, Sunday 02-18 worked
        (["2025-01-27", "5", "--working"], "2025-02-10"),  # 01-28..02-04 off, Saturday 02-08 worked
        (["2025-08-31", "6", "--months"], "2026-02-28"),  # month end on a 调休 working Saturday
        (["2026-03-02", "60", "--calendar"], "2026-05-06"),  # 05-01 is a holiday: after the 劳动节 block
        (["2026-09-03", "10", "--working"], "2026-09-17"),
        (["2026-03-02T09:00:00+08:00", "24", "--hours"], "2026-03-03T09:00:00+08:00"),
        (["2026-12-20", "10", "--working"], "2027-01-04 (provisional)"),  # 2027-01-01 from 放假办法 Art. 2
        (["2026-11-15", "90", "--calendar"], "2027-02-15 (provisional)"),
    ],
)
def test_calendar_due_answers_the_counting_rules(zhifa: Zhifa, args: list[str], expected: str) -> None:
    result = zhifa("calendar", "due", *args)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == expected


def test_the_demo_seeds_whatever_the_date(zhifa: Zhifa) -> None:
    """`make demo` runs on the real clock, months after the sample dates of the demo's steps."""
    from engine.publicity.models import Publication

    result = zhifa("seed-demo", now="2026-12-01T09:00:00+08:00")
    assert result.exit_code == 0, result.output
    assert [s for (s,) in zhifa.query(select(Publication.status))] == ["published", "published"]


def test_the_demo_has_published_decisions_against_a_person_and_an_organisation(demo: Zhifa) -> None:
    from engine.publicity.models import Publication

    rows = demo.query(select(Publication.party_name, Publication.credit_code, Publication.status).order_by(Publication.id))
    assert rows == [("广州市天河区示例百货有限公司", "91440106MA59XYW00C", "published"), ("李某某", None, "published")]


def test_publicity_sweep_ends_publications_after_their_period(demo: Zhifa) -> None:
    from engine.publicity.models import Publication

    assert demo("publicity", "sweep").output.strip() == "0 publication(s) changed, 0 webhook(s) delivered"
    result = demo("publicity", "sweep", now="2026-12-01T09:00:00+08:00")  # both fines are low: 3 months (D5)
    assert result.exit_code == 0 and result.output.strip() == "2 publication(s) changed, 0 webhook(s) delivered"
    assert demo.query(select(Publication.status)) == [("expired",), ("expired",)]

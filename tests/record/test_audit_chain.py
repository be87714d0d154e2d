"""The audit trail: canonical hashing, one chain per case plus the system chain, and `verify` finding
any changed, deleted or reordered row. On PostgreSQL the table itself refuses UPDATE and DELETE, so the
tampering tests there act as the table's owner would, with the trigger switched off for the moment.
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from engine import audit
from engine.accounts import issue_token
from engine.cli import main
from engine.clock import FrozenClock
from engine.core import Core
from engine.db import Database
from engine.demo import open_demo_case, run_steps
from engine.models import AuditEvent, Case
from engine.settings import from_env
from tests.conftest import PASSWORD, START, empty_case_tables

PARTY = {"type": "person", "name": "王小明", "id_number": "11010519491231002X"}


def a_case(core: Core) -> int:
    case_id = open_demo_case(core, "440201004001", PARTY, "网店未公示执照")
    run_steps(core, case_id, ["verify_clue", "approve_filing"])
    return case_id


def events(core: Core, case_id: int | None) -> list[AuditEvent]:
    with core.unit() as unit:
        where = AuditEvent.case_id == case_id if case_id is not None else AuditEvent.case_id.is_(None)
        return list(unit.session.scalars(select(AuditEvent).where(where).order_by(AuditEvent.id)))


def verify(core: Core, case_id: int | None = None) -> audit.Verified:
    with core.unit() as unit:
        return audit.verify(unit, case_id)


@contextmanager
def tampering(core: Core) -> Iterator[Any]:
    """A session that may change audit rows: on PostgreSQL the owner switches the trigger off for it."""
    with core.db.transaction() as session:
        postgres = session.bind.dialect.name == "postgresql"
        if postgres:
            session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        yield session
        if postgres:
            session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


# -- canonical form -----------------------------------------------------------------------------------------
def test_canonical_json_ignores_key_order_whole_floats_and_time_zones() -> None:
    china = datetime(2026, 3, 2, 9, 0, tzinfo=START.tzinfo)
    a = audit.digest({"b": 1, "a": [2.0, "税"], "at": china})
    b = audit.digest({"at": china.astimezone(UTC), "a": [2, "税"], "b": 1.0})
    assert a == b
    assert audit.canonical_bytes({"b": 1, "a": "税"}) == '{"a":"税","b":1}'.encode()
    assert audit.digest({"a": 1}) != audit.digest({"a": "1"})
    with pytest.raises(TypeError):
        audit.canonical({"x": object()})
    with pytest.raises(ValueError):
        audit.canonical(float("nan"))


# -- a sound chain -------------------------------------------------------------------------------------------
def test_a_case_chain_links_every_event_and_verifies(core: Core) -> None:
    case_id = a_case(core)
    rows = events(core, case_id)
    assert [e.action for e in rows][:2] == ["case.opened", "task.completed"]
    assert rows[0].prev_hash == audit.GENESIS
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(rows))
    assert all(e.data_digest == audit.digest(e.detail) for e in rows)
    completed = [e for e in rows if e.action == "task.completed"]
    assert completed and all(e.task_id == e.detail["task_id"] for e in completed)
    with core.unit() as unit:
        assert unit.session.get(Case, case_id).last_audit_hash == rows[-1].hash
    result = verify(core)
    assert result.ok and result.events >= len(rows)


def test_logins_and_deployments_chain_in_the_system_chain(core: Core) -> None:
    with core.unit() as unit:
        issue_token(unit, "officer1", PASSWORD)
    with core.unit() as unit:
        issue_token(unit, "head1", PASSWORD)
    logins = [e for e in events(core, None) if e.action == "auth.login"]
    assert [e.detail["username"] for e in logins] == ["officer1", "head1"]
    assert logins[0].actor_id is not None and logins[1].prev_hash == logins[0].hash
    assert verify(core).ok


# -- tampering is detected ---------------------------------------------------------------------------------
def test_a_changed_row_is_named(core: Core) -> None:
    case_id = a_case(core)
    victim = events(core, case_id)[1]
    with tampering(core) as session:
        changed = dict(victim.detail, data={**victim.detail["data"], "verification_summary": "改过的"})
        session.execute(update(AuditEvent).where(AuditEvent.id == victim.id).values(detail=changed))
    result = verify(core, case_id)
    assert not result.ok
    assert result.broken[0].event_id == victim.id and "data" in result.broken[0].reason


def test_a_changed_row_with_a_recomputed_digest_is_still_caught(core: Core) -> None:
    case_id = a_case(core)
    victim = events(core, case_id)[1]
    with tampering(core) as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == victim.id).values(actor_id=None))
    broken = verify(core, case_id).broken
    assert broken and broken[0].event_id == victim.id and "hash" in broken[0].reason


def test_a_deleted_row_is_named(core: Core) -> None:
    case_id = a_case(core)
    rows = events(core, case_id)
    with tampering(core) as session:
        session.execute(AuditEvent.__table__.delete().where(AuditEvent.id == rows[1].id))
    broken = verify(core, case_id).broken
    assert broken and broken[0].event_id == rows[2].id and "does not follow" in broken[0].reason


def test_a_deleted_last_row_is_caught_by_the_head(core: Core) -> None:
    case_id = a_case(core)
    rows = events(core, case_id)
    with tampering(core) as session:
        session.execute(AuditEvent.__table__.delete().where(AuditEvent.id == rows[-1].id))
    broken = verify(core, case_id).broken
    assert broken and "head" in broken[0].reason and broken[0].event_id == rows[-2].id


def test_reordered_rows_are_named(core: Core) -> None:
    case_id = a_case(core)
    first, second = events(core, case_id)[1:3]
    columns = ("action", "detail", "at", "prev_hash", "hash", "task_id", "data_digest", "actor_id")
    with tampering(core) as session:
        for row, other in ((first, second), (second, first)):
            session.execute(update(AuditEvent).where(AuditEvent.id == row.id).values({c: getattr(other, c) for c in columns}))
    broken = verify(core, case_id).broken
    assert broken and broken[0].event_id == first.id and "does not follow" in broken[0].reason


def test_cli_verify_exits_1_naming_the_event(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = a_case(core)
    monkeypatch.setenv("ZHIFA_DATABASE_URL", core.db.url)
    monkeypatch.setenv("ZHIFA_NOW", START.isoformat())
    ok = CliRunner().invoke(main, ["audit", "verify", "--case", str(case_id)], catch_exceptions=False)
    assert ok.exit_code == 0 and ok.output.startswith("ok:"), ok.output
    victim = events(core, case_id)[0]
    with tampering(core) as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == victim.id).values(action="case.reopened"))
    bad = CliRunner().invoke(main, ["audit", "verify"], catch_exceptions=False)
    assert bad.exit_code == 1
    assert f"event {victim.id} (case.reopened)" in bad.output


# -- the database refuses -------------------------------------------------------------------------------------
@pytest.mark.postgres
def test_postgres_refuses_update_and_delete_of_audit_rows(pg_core_case: tuple[Core, int]) -> None:
    core, case_id = pg_core_case
    victim = events(core, case_id)[0]
    for statement in (
        update(AuditEvent).where(AuditEvent.id == victim.id).values(action="x"),
        AuditEvent.__table__.delete().where(AuditEvent.id == victim.id),
    ):
        with pytest.raises(DBAPIError, match="append-only"), core.db.transaction() as session:
            session.execute(statement)
    assert events(core, case_id)[0].action == victim.action


@pytest.fixture
def pg_core_case(postgres_db: Database, tmp_path: Path) -> Iterator[tuple[Core, int]]:
    settings = replace(from_env({}), database_url=postgres_db.url, data_dir=tmp_path)
    core = Core(settings, clock=FrozenClock(START), db=postgres_db)
    yield core, a_case(core)
    with postgres_db.transaction() as session:
        empty_case_tables(session)


# -- daily heads ----------------------------------------------------------------------------------------------
def test_daily_heads_name_each_chain_and_a_root(core: Core, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    case_id = a_case(core)
    with core.unit() as unit:
        heads = audit.daily_heads(unit, date(2026, 3, 2))
        number = unit.session.get(Case, case_id).number
    chains = {h["chain"]: h for h in heads["heads"]}
    assert chains[f"case:{case_id}"]["hash"] == events(core, case_id)[-1].hash
    assert chains[f"case:{case_id}"]["case_number"] == number
    assert heads["root"] == audit.digest([[h["chain"], h["hash"]] for h in heads["heads"]])
    with core.unit() as unit:
        assert audit.daily_heads(unit, date(2026, 3, 1))["heads"] == []
    monkeypatch.setenv("ZHIFA_DATABASE_URL", core.db.url)
    monkeypatch.setenv("ZHIFA_NOW", "2026-03-03T08:00:00+08:00")
    out = tmp_path / "heads.json"
    result = CliRunner().invoke(main, ["audit", "heads", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["root"] == heads["root"]
    assert events(core, None)[-1].action == "audit.heads_exported"


def test_daily_heads_over_the_api_for_supervisors(core: Core, login: Any) -> None:
    case_id = a_case(core)
    supervisor, officer = login("supervisor1"), login("officer1")
    assert officer.get("/api/v1/audit/heads?date=2026-03-02").status_code == 403
    assert supervisor.get("/api/v1/audit/heads?date=March").status_code == 422
    body = supervisor.get("/api/v1/audit/heads?date=2026-03-02").get_json()
    assert body["date"] == "2026-03-02" and f"case:{case_id}" in {h["chain"] for h in body["heads"]}
    assert events(core, None)[-1].action == "audit.heads_exported"
    assert verify(core).ok

"""Shared fixtures for the integration and API tiers.

Each database (an SQLite file and a real PostgreSQL server the suite starts itself) is built once per
run by the Alembic migrations and seeded with the demo agencies, accounts, catalogue and procedures.
After every test the case tables are emptied, so tests do not see each other's cases. The clock is
always frozen and moved by the tests; nothing sleeps.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, text

from engine.calendar_models import CalendarYear
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.db import Database, upgrade
from engine.discretion_models import DiscretionDeviation
from engine.discretion_store import DiscretionTableVersion
from engine.documents.models import Document, DocumentContent, DocumentSequence
from engine.inspection_models import (
    InspectionDraw,
    InspectionReferral,
    InspectionSubject,
)
from engine.models import (
    AccessToken,
    AuditEvent,
    Case,
    CaseOfficer,
    CaseSequence,
    ProcessInstance,
    TaskRow,
    TimerRow,
)
from engine.publicity import models as publicity_models
from engine.record_models import (
    AuditChain,
    CaseArchive,
    CustodyEvent,
    CustodyItem,
    Evidence,
    EvidenceUpload,
)
from engine.seed import seed_demo
from engine.settings import from_env
from engine.supervision.matter_models import SupervisionMatter, SupervisionSequence
from engine.supervision.models import (
    ComplianceAlert,
    OverdueCount,
    OverdueDelta,
    ReviewCase,
    ReviewChecklist,
    ReviewSample,
    TimerFiring,
    TimerIncident,
)

PASSWORD = "test-password"
START = datetime(2026, 3, 2, 9, 0, tzinfo=CHINA_TZ)  # a Monday
CASE_TABLES = (
    # rows that refer to cases first
    SupervisionMatter, SupervisionSequence, ReviewCase, ReviewSample, ReviewChecklist, TimerFiring, TimerIncident, ComplianceAlert,
    CustodyEvent, CustodyItem, EvidenceUpload, Evidence, CaseArchive, DocumentContent, Document, DocumentSequence,
    *publicity_models.CASE_OWNED,
    TimerRow, TaskRow, ProcessInstance, CaseOfficer, AuditEvent, AccessToken, Case, CaseSequence, AuditChain,
    CalendarYear, DiscretionDeviation, InspectionDraw, InspectionSubject, InspectionReferral,
    DiscretionTableVersion,  # edited benchmark tables: each test starts from the shipped files
    OverdueCount, OverdueDelta,  # after TimerRow: deleting timers appends deltas (triggers, migration 0012_supervision_scale)
)
# Append-only tables (audit_events, evidence, custody_events: on PostgreSQL a trigger refuses UPDATE and DELETE)
# and the tables that refer to them: the tests reset them with TRUNCATE, which the trigger does not see. It is
# a privilege of the tables' owner, not something the application ever does.
APPEND_ONLY_TABLES = ("audit_events", "evidence", "evidence_uploads", "custody_events", "custody_items")


def empty_case_tables(session: Any) -> None:
    """Remove every case, its record and the audit chains: the state right after seeding, minus its events."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text(f"TRUNCATE {', '.join(APPEND_ONLY_TABLES)}"))
    for table in CASE_TABLES:
        session.execute(delete(table))

# Fast password hashing in tests only: the production parameters are argon2's defaults.
from argon2 import PasswordHasher

import engine.accounts as _accounts

_accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    from tests.support.postgres import start_postgres

    server = start_postgres()
    yield server
    server.stop()


def _prepared(url: str, data_dir: Path) -> Database:
    upgrade(url)
    settings = replace(from_env({}), database_url=url, data_dir=data_dir)
    db = Database(url)
    core = Core(settings, clock=FrozenClock(START), db=db)
    seed_demo(core, PASSWORD)
    return db


@pytest.fixture(scope="session")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    directory = tmp_path_factory.mktemp("sqlite")
    db = _prepared(f"sqlite:///{directory / 'zhifa.db'}", directory)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def postgres_db(postgres_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = postgres_server.create_database("zhifa_suite")
    db = _prepared(url, tmp_path_factory.mktemp("pgdata"))
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    db: Database = request.getfixturevalue(f"{request.param}_db")
    yield db
    with db.transaction() as session:
        empty_case_tables(session)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def core(database: Database, clock: FrozenClock, tmp_path: Path) -> Core:
    # Tokens outlive the weeks the tests move the clock through; expiry has its own test.
    settings = replace(from_env({}), database_url=database.url, data_dir=tmp_path, token_ttl_seconds=400 * 86400)
    return Core(settings, clock=clock, db=database)


@pytest.fixture(autouse=True)
def _no_real_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZHIFA_NOW", raising=False)
    os.environ.setdefault("ZHIFA_DEMO_PASSWORD", PASSWORD)

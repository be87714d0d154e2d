"""The Alembic migrations are the only way the schema is made, so they must build exactly what
`engine.models` declares, on SQLite and on PostgreSQL, from one linear history with one head.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool

from engine.db import alembic_config, upgrade
from engine.models import Base
from engine.publicity.models import schema_filter


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def test_one_head_and_a_linear_history() -> None:
    script = script_directory()
    heads = script.get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}; merge them"
    revisions = list(script.walk_revisions())
    assert revisions, "no migrations"
    assert [r for r in revisions if r.down_revision is None] == [revisions[-1]]  # one base
    for revision in revisions:
        assert not isinstance(revision.down_revision, (tuple, list)), f"{revision.revision} is a merge point"
        assert revision.doc, f"{revision.revision} has no description"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'nested' / 'fresh.db'}"  # the folder does not exist yet


@pytest.fixture
def postgres_url(postgres_server: Any) -> Iterator[str]:
    name = f"zhifa_migrations_{uuid.uuid4().hex[:8]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def differences(url: str) -> list[Any]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            opts = {"compare_type": True, "compare_server_default": True,
                    "include_object": schema_filter(connection.dialect.name)}  # per-dialect full-text objects
            context = MigrationContext.configure(connection, opts=opts)
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def test_migrations_build_exactly_the_models(fresh_url: str) -> None:
    upgrade(fresh_url)
    assert differences(fresh_url) == []
    assert current_revision(fresh_url) == script_directory().get_current_head()


def test_every_model_table_exists(fresh_url: str) -> None:
    upgrade(fresh_url)
    engine = create_engine(fresh_url, poolclass=pool.NullPool)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrading_again_changes_nothing(fresh_url: str) -> None:
    upgrade(fresh_url)
    upgrade(fresh_url)
    assert current_revision(fresh_url) == script_directory().get_current_head()
    assert differences(fresh_url) == []


def test_downgrade_to_base_and_up_again(fresh_url: str) -> None:
    from alembic import command

    upgrade(fresh_url)
    command.downgrade(alembic_config(fresh_url), "base")
    engine = create_engine(fresh_url, poolclass=pool.NullPool)
    try:
        left = set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    assert left == set()
    upgrade(fresh_url)
    assert differences(fresh_url) == []


def test_the_comparison_notices_a_missing_column_and_a_changed_type(sqlite_url: str) -> None:
    """Guards the guard: an empty diff above means something only if a real difference shows."""
    from sqlalchemy import Column, MetaData, String, Text

    upgrade(sqlite_url)
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["cases"].append_column(Column("extra_note", Text, nullable=True))
    changed.tables["agencies"].c.code.type = String(41)
    engine = create_engine(sqlite_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), changed)
    finally:
        engine.dispose()
    kinds = {d[0] if isinstance(d, tuple) else d[0][0] for d in diff}
    assert "add_column" in kinds and "modify_type" in kinds, diff

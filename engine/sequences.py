"""Gapless counters (case numbers, document numbers): one row per key, incremented under a row lock.

One statement, INSERT ... ON CONFLICT DO UPDATE SET last_value = last_value + 1 RETURNING last_value:
the first user of a key creates the row with 1, later ones increment it. The row stays locked until
the caller's transaction ends, so a second caller waits until the first commits (and gets the next
number) or rolls back (and gets the same one): numbers are neither skipped nor given twice.
"""
from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine import prepared
from engine.core import Unit


def next_value(unit: Unit, model: Any, **key: Any) -> int:
    """The next value of the counter `model` (a table with the key columns and `last_value`)."""
    query = _upsert(unit.session.bind.dialect.name, model, tuple(key))
    statement = query.statement(unit.session.connection())
    return int(unit.execute(statement, {f"key_{name}": value for name, value in key.items()}).scalar_one())


@functools.cache
def _upsert(dialect: str, model: Any, names: tuple[str, ...]) -> prepared.Query:
    """The statement for one counter table and key, built once (and prepared on PostgreSQL)."""
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = model.__table__
    values = {name: bindparam(f"key_{name}", type_=table.c[name].type) for name in names}
    return prepared.Query(upsert(table).values(**values, last_value=1).on_conflict_do_update(
        index_elements=[table.c[name] for name in names], set_={"last_value": table.c.last_value + 1},
    ).returning(table.c.last_value))

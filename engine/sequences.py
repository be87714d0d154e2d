"""Gapless counters (case numbers, document numbers): one row per key, incremented under a row lock.

One statement, INSERT ... ON CONFLICT DO UPDATE SET last_value = last_value + 1 RETURNING last_value:
the first user of a key creates the row with 1, later ones increment it. The row stays locked until
the caller's transaction ends, so a second caller waits until the first commits (and gets the next
number) or rolls back (and gets the same one): numbers are neither skipped nor given twice.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.core import Unit


def next_value(unit: Unit, model: Any, **key: Any) -> int:
    """The next value of the counter `model` (a table with the key columns and `last_value`)."""
    upsert = pg_insert if unit.session.bind.dialect.name == "postgresql" else sqlite_insert
    table = model.__table__
    statement = upsert(table).values(**key, last_value=1).on_conflict_do_update(
        index_elements=[table.c[name] for name in key], set_={"last_value": table.c.last_value + 1},
    ).returning(table.c.last_value)
    return int(unit.execute(statement).scalar_one())

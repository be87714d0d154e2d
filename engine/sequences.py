"""Gapless counters (case numbers, document numbers): one row per key, incremented under a row lock.

The row is created if missing (INSERT ... ON CONFLICT DO NOTHING, so two first users do not collide),
then locked (SELECT ... FOR UPDATE) and incremented inside the caller's transaction: a second caller
waits until the first commits or rolls back, so numbers are neither skipped nor given twice.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.core import Unit


def next_value(unit: Unit, model: Any, **key: Any) -> int:
    """The next value of the counter `model` (a table with the key columns and `last_value`)."""
    insert = pg_insert if unit.session.bind.dialect.name == "postgresql" else sqlite_insert
    unit.session.execute(insert(model).values(**key, last_value=0).on_conflict_do_nothing())
    row = unit.session.scalar(select(model).filter_by(**key).with_for_update())
    row.last_value += 1
    return int(row.last_value)

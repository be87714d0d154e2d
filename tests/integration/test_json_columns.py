"""JSON and JSONB columns are written by `engine.db.json_dumps` (orjson, with the standard library for what
orjson refuses) and read by the standard library: what is written comes back equal, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from engine.db import json_dumps
from engine.models import ProcessInstance


def test_values_come_back_as_written(database):  # type: ignore[no-untyped-def]
    value = {"名称": "广州市天河区市场监督管理局", "n": 3, "neg": -1.5, "none": None,
             "nested": [{"ok": True}, [], {}], "esc": 'quote " backslash \\ newline \n'}
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TEMPORARY TABLE j (v TEXT)"))
        conn.execute(text("INSERT INTO j (v) VALUES (:v)"), {"v": json_dumps(value)})
        stored = conn.execute(text("SELECT v FROM j")).scalar_one()
    assert json.loads(stored) == value
    assert "广州市" in stored  # UTF-8, not \\u escapes


def test_an_integer_beyond_64_bits_is_written_too(database):  # type: ignore[no-untyped-def]
    value = {"名称": "罚没款", "big": 2**70}  # orjson refuses it; the standard library writes it
    with database.engine.connect() as conn:
        stored = conn.execute(text("SELECT :v"), {"v": json_dumps(value)}).scalar_one()
    assert json.loads(stored) == value
    assert type(json.loads(stored)["big"]) is int  # orjson alone would read a float


def test_the_state_column_round_trips(database):  # type: ignore[no-untyped-def]
    column = ProcessInstance.__table__.c.state
    with database.engine.connect() as conn:
        process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    assert json.loads(process({1: "整数键"})) == {"1": "整数键"}  # keys become strings, as json.dumps does


def test_what_neither_library_can_write_is_refused():
    with pytest.raises(TypeError):
        json_dumps({"amount": object()})

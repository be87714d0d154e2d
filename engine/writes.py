"""The writes of one unit of work, sent together: one round trip on PostgreSQL.

A task completion writes to five tables (tasks, timers, process state, case, audit). Issued one by
one through the ORM that is five or more round trips and a unit-of-work flush; here the hot path
queues plain INSERT/UPDATE statements and they go to PostgreSQL as one multi-statement string
(psycopg2 binds parameters on the client, so this is the same as sending them one by one, minus the
waits). SQLite takes them one at a time (its driver runs one statement per call; there is no
network to save).

The queue is flushed before the session commits and before any other statement the session runs,
so a read later in the same unit always sees what was queued (`_flush_before_reading`,
`_flush_before_commit`).
Parameter types come from the table definitions: datetimes and JSON are bound exactly as the ORM
binds them. On PostgreSQL each statement of the batch is an EXECUTE of the statement of its shape (table,
columns, number of rows), prepared once per connection (engine/prepared.py): the server neither parses
nor plans it again.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import Table, event, inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine import prepared

_KEY = "zhifa.writes"


class Writes:
    def __init__(self, session: Session):
        self.session = session
        # ("insert", table, rows) or ("update", table, key, values); rendered when flushed
        self._queue: list[tuple[Any, ...]] = []
        self._updates: dict[tuple[str, tuple[Any, ...]], dict[str, Any]] = {}
        self._inserted: dict[str, list[dict[str, Any]]] = {}  # table name -> rows this unit inserted
        session.info[_KEY] = self

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """INSERT of one or more rows (all with the keys of the first)."""
        if rows:
            self._queue.append(("insert", table, rows))
            self._inserted.setdefault(table.name, []).extend(rows)

    def inserted(self, table: Table) -> list[dict[str, Any]]:
        """The rows this unit queued for `table` (sent or not): what the unit is adding, for hooks that
        look at a transaction before it commits (compliance rules read its audit events)."""
        return self._inserted.get(table.name, [])

    def update(self, table: Table, key: dict[str, Any], values: dict[str, Any]) -> None:
        """UPDATE of the row matching `key`. Updates of one row queued in one unit become one statement."""
        ident = (table.name, tuple(sorted(key.items())))
        queued = self._updates.get(ident)
        if queued is not None:
            queued.update(values)
            return
        self._updates[ident] = values = dict(values)
        self._queue.append(("update", table, key, values))

    def update_loaded(self, obj: Any, values: dict[str, Any]) -> None:
        """Queue an UPDATE of a loaded (and locked) ORM object's row and show the values on it at once,
        without making it dirty (the ORM would write them a second time)."""
        mapper = inspect(obj).mapper
        key = {column.name: getattr(obj, mapper.get_property_by_column(column).key) for column in mapper.primary_key}
        self.update(mapper.local_table, key, values)
        for name, value in values.items():
            set_committed_value(obj, name, value)

    def flush(self) -> None:
        """Send what is queued (after the ORM's own pending changes, which queued rows may refer to)."""
        if not self._queue:
            return
        queue, self._queue, self._updates = self._queue, [], {}
        self.session.flush()
        connection = self.session.connection()
        statements = [_Statement(connection, n, item) for n, item in enumerate(queue)]
        if connection.dialect.name == "postgresql":  # one round trip; psycopg2 binds on the client
            params = {k: v for s in statements for k, v in s.params.items()}
            prepared.run_raw(connection, ";\n".join(s.sql for s in statements), params)
        else:  # sqlite3 runs one statement per call
            for statement in statements:
                connection.exec_driver_sql(statement.sql, statement.params)


class _Statement:
    """One queued write as driver-level SQL with uniquely named parameters, each already converted by
    its column type's bind processor (as SQLAlchemy would: UTC datetimes, JSON). On PostgreSQL it is an
    EXECUTE of the statement of its shape (table, columns, rows), prepared once per connection
    (engine/prepared.py)."""

    def __init__(self, connection: Connection, n: int, item: tuple[Any, ...]):
        dialect, table = connection.dialect, item[1]
        if item[0] == "insert":
            rows = item[2]
            columns = tuple(rows[0])
            shape: tuple[Any, ...] = ("insert", columns, len(rows))
            values = [row[c] for row in rows for c in columns]
        else:
            key, changes = item[2], item[3]
            shape = ("update", tuple(changes), tuple(key))
            values = [*changes.values(), *key.values()]
        template = _template(dialect, table, shape)
        self.params = {
            f"w{n}_{i}": process(value) if process is not None and value is not None else value
            for i, (process, value) in enumerate(zip(template.processors, values, strict=True))
        }
        marks = [f"%({p})s" if dialect.paramstyle == "pyformat" else f":{p}" for p in self.params]
        if template.prepared is not None:
            prepared.ensure(connection, template.prepared, template.body, template.types)
            self.sql = f"EXECUTE {template.prepared}({', '.join(marks)})"
        else:
            self.sql = template.text.format(*marks)


class _Template(NamedTuple):
    text: str  # the statement with a `{}` for each parameter
    prepared: str | None  # the name of its prepared statement (PostgreSQL), if it has one
    body: str  # the statement with `$1`, `$2`, ... (what PREPARE gets)
    types: tuple[str, ...]  # the parameters' SQL types
    processors: tuple[Callable[[Any], Any] | None, ...]  # the parameters' bind processors


_PREPARED_ROWS = 8  # inserts of more rows at once are rare (imports, seeds): sent as text


@functools.cache
def _template(dialect: Dialect, table: Table, shape: tuple[Any, ...]) -> _Template:
    q = dialect.identifier_preparer.quote
    if shape[0] == "insert":
        _, columns, nrows = shape
        row = "(" + ", ".join("{}" for _ in columns) + ")"
        text = f"INSERT INTO {q(table.name)} ({', '.join(map(q, columns))}) VALUES {', '.join([row] * nrows)}"
        bound = list(columns) * nrows
    else:
        _, changes, key = shape
        assign = ", ".join(f"{q(c)} = {{}}" for c in changes)
        where = " AND ".join(f"{q(c)} = {{}}" for c in key)
        text = f"UPDATE {q(table.name)} SET {assign} WHERE {where}"
        bound = [*changes, *key]
    body = text.format(*(f"${i + 1}" for i in range(len(bound))))
    types = tuple(prepared.sql_type(dialect, table.c[c].type) for c in bound)
    name = None
    if dialect.name == "postgresql" and (shape[0] == "update" or shape[2] <= _PREPARED_ROWS):
        name = prepared.name(body, types)
    return _Template(text, name, body, types, tuple(_processor(dialect, table, c) for c in bound))


@functools.cache
def _processor(dialect: Dialect, table: Table, column: str) -> Callable[[Any], Any] | None:
    return table.c[column].type.dialect_impl(dialect).bind_processor(dialect)


def writes_of(session: Session) -> Writes:
    found = session.info.get(_KEY)
    return found if found is not None else Writes(session)


@event.listens_for(Session, "do_orm_execute")
def _flush_before_reading(state: Any) -> None:
    queued = state.session.info.get(_KEY)
    if queued is not None:
        queued.flush()


@event.listens_for(Session, "before_commit")
def _flush_before_commit(session: Session) -> None:
    queued = session.info.get(_KEY)
    if queued is not None:
        queued.flush()

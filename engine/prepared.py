"""Server-side prepared statements for the hot path's fixed statements (PostgreSQL only).

psycopg2 sends every statement as text and PostgreSQL parses, analyses and plans it each time; for the
lock-and-read join of a task completion the planning alone cost more than running it. A statement here
is prepared once per connection, `PREPARE zh_<n> (<types>) AS ...` with every parameter's type given
explicitly (from the column types, so nothing is left to inference), and then run as
`EXECUTE zh_<n>(...)`. After five executions PostgreSQL may switch to a generic plan; every statement
prepared here finds its rows by primary key or a unique key, so the generic plan is the custom one.
Queries that filter on a partial index's condition (the timer lists) are not prepared.

Which statements a connection has is kept in the pool's `info` of the DBAPI connection: it lives as long
as the connection and is emptied when the pool invalidates or recycles it. PREPARE is sent on its own,
before the statement that needs it, and recorded once it has succeeded. (PREPARE is not transactional:
it stays when the transaction rolls back, so recording it at once is right.) Nothing in Zhifa runs
DISCARD ALL or DEALLOCATE, and the pool resets connections by ROLLBACK only, which keeps them; a pooler
in transaction mode (pgbouncer) in front of the server would need its own prepared-statement support.

The hottest of them (a completion's lock-and-read, its batch of writes, case opening's context) run on the
DBAPI cursor itself (`Query.first`, `run_raw`), their parameters and columns converted by their types as
SQLAlchemy would: SQLAlchemy's execution layer cost more CPU than psycopg2's own work for them.

SQLite (and any other database) runs the original statements unchanged.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.orm.util import identity_key

_KEY = "zhifa.prepared"  # in the DBAPI connection's pool info: names prepared on that connection
_LIMIT = 200  # distinct statements prepared by a process, at most (each connection holds those it used)
_names: dict[tuple[str, tuple[str, ...]], str] = {}  # (body, types) -> name, the same on every connection
_lock = threading.Lock()


def name(body: str, types: tuple[str, ...]) -> str | None:
    """The name of a statement (`$1`-style parameters of the given SQL types), or None past the limit."""
    key = (body, types)
    found = _names.get(key)
    if found is None:
        with _lock:
            found = _names.get(key)
            if found is None:
                if len(_names) >= _LIMIT:
                    return None
                found = _names[key] = f"zh_{len(_names) + 1}"
    return found


def ensure(connection: Connection, statement: str, body: str, types: tuple[str, ...]) -> None:
    """PREPARE `statement` on this connection unless it already has it."""
    prepared = connection.connection.info.setdefault(_KEY, set())
    if statement in prepared:
        return
    # no_parameters: the driver gets no parameter collection, so the body's `%` signs go as they are
    sql = f"PREPARE {statement} ({', '.join(types)}) AS {body}"
    connection.exec_driver_sql(sql, execution_options={"no_parameters": True})
    prepared.add(statement)


def sql_type(dialect: Dialect, type_: Any) -> str:
    """The SQL name of a column type, as PREPARE's parameter list wants it ("unknown" when it has none)."""
    return "unknown" if type_._isnull else type_.compile(dialect=dialect)


class Query:
    """A fixed Core or ORM statement with named parameters, run prepared on PostgreSQL.

    `statement(connection)` gives what to execute on that connection: on PostgreSQL an
    `EXECUTE zh_<n>(:a, :b)` text whose result columns are the original statement's (matched by
    position, so ORM entities load from it as from the original) and whose parameters keep their types
    (bind processors still convert them); elsewhere the original statement. With `orm=True` it is for
    `Session.execute` and loads the original select's ORM entities (identity map and all) from the result."""

    def __init__(self, original: Any, *, orm: bool = False):
        self.original, self.orm = original, orm  # orm: run by a Session, loading the select's entities
        self._compiled: dict[str, tuple[str, str, tuple[str, ...], Any] | None] = {}
        self._driver: dict[str, _Driver] = {}  # the same as driver-level SQL (`first`), by dialect

    def statement(self, connection: Connection) -> Any:
        dialect = connection.dialect
        if dialect.name != "postgresql":
            return self.original
        if dialect.name not in self._compiled:
            self._compiled[dialect.name] = self._compile(dialect)
        found = self._compiled[dialect.name]
        if found is None:  # past the limit
            return self.original
        statement, body, types, executed = found
        ensure(connection, statement, body, types)
        return executed

    def _compile(self, dialect: Dialect) -> tuple[str, str, tuple[str, ...], Any] | None:
        compiled = self.original.compile(dialect=dialect)
        order: list[str] = []

        def positional(match: re.Match[str]) -> str:
            if match.group(1) is None:
                return "%"  # `%%` is an escaped `%`
            if match.group(1) not in order:
                order.append(match.group(1))
            return f"${order.index(match.group(1)) + 1}"

        body = re.sub(r"%\((\w+)\)s|%%", positional, compiled.string)
        types = tuple(sql_type(dialect, compiled.binds[n].type) for n in order)
        statement = name(body, types)
        if statement is None:
            return None
        executed = text(f"EXECUTE {statement}({', '.join(f':{n}' for n in order)})").bindparams(
            *(_same_parameter(n, compiled.binds[n]) for n in order)
        )
        columns = list(self.original.exported_columns)
        if columns:
            executed = executed.columns(*columns)
        if self.orm:
            executed = self.original.from_statement(executed)  # loads the ORM entities as the original would
        self._driver[dialect.name] = _Driver(
            f"EXECUTE {statement}({', '.join(f'%({n})s' for n in order)})",
            tuple((n, compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect),
                   compiled.binds[n].effective_value if not compiled.binds[n].required else _REQUIRED)
                  for n in order),
            tuple(c[3].dialect_impl(dialect).result_processor(dialect, None) for c in compiled._result_columns),
        )
        return statement, body, types, executed

    def first(self, connection: Connection, params: dict[str, Any]) -> Any:
        """The first row of a Core query (None when there is none): on PostgreSQL the prepared statement
        run on the DBAPI cursor (`run_raw`), its parameters and columns converted by their types as
        SQLAlchemy would; elsewhere `connection.execute(...).first()`."""
        statement = self.statement(connection)  # PREPAREs it on this connection if need be
        driver = self._driver.get(connection.dialect.name)
        if driver is None or self.orm:
            return connection.execute(statement, params).first()
        bound = {}
        for name, process, constant in driver.binds:
            value = params[name] if constant is _REQUIRED else constant
            bound[name] = process(value) if process is not None and value is not None else value
        rows = run_raw(connection, driver.sql, bound, fetch=True)
        if not rows:
            return None
        return tuple(p(v) if p is not None else v for p, v in zip(driver.results, rows[0], strict=True))


_REQUIRED = object()


class _Driver(NamedTuple):
    sql: str  # EXECUTE zh_<n>(%(a)s, ...)
    binds: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]  # name, bind processor, constant value
    results: tuple[Callable[[Any], Any] | None, ...]  # each result column's processor


def run_raw(connection: Connection, sql: str, params: dict[str, Any], *, fetch: bool = False) -> list[Any] | None:
    """Run driver-level SQL (parameters already converted) on the DBAPI cursor of `connection`, in its
    transaction, without SQLAlchemy's execution layer: that layer costs about 0.1 ms of CPU a statement,
    several per cent of a task completion, whose two statements (the lock-and-read and the batch of writes)
    come here. What callers see stays as SQLAlchemy does it: the `before_cursor_execute` and
    `after_cursor_execute` events are fired (listeners that rewrite the statement are not honoured), and a
    DBAPI error is raised wrapped as SQLAlchemy wraps it, the connection invalidated when the server is gone.
    Returns the rows (tuples) with `fetch`, else None."""
    dbapi_connection = connection.connection.dbapi_connection
    cursor = dbapi_connection.cursor()
    dispatch = connection.dispatch
    try:
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(connection, cursor, sql, params, None, False)
        cursor.execute(sql, params)
        rows = cursor.fetchall() if fetch else None
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(connection, cursor, sql, params, None, False)
        return rows
    except connection.dialect.loaded_dbapi.Error as exc:
        gone = connection.dialect.is_disconnect(exc, dbapi_connection, cursor)
        if gone:
            connection.invalidate(exc)
        raise DBAPIError.instance(sql, params, exc, connection.dialect.loaded_dbapi.Error,
                                  connection_invalidated=gone, dialect=connection.dialect) from exc
    finally:
        if not cursor.closed:
            cursor.close()


def _same_parameter(name: str, original: Any) -> Any:
    """A parameter of the EXECUTE as the original statement has it: its type and, for a value written
    into the statement (an anonymous parameter), that value."""
    if original.required or original.callable is not None:
        return bindparam(name, type_=original.type)
    return bindparam(name, value=original.value, type_=original.type)


def adopt(session: Any, cls: type, values: dict[str, Any]) -> Any:
    """The session's object for a row that a Core statement read (every column of `cls`'s table, by column
    name): the object the session holds for that identity already, else one made from the values and held
    as if the ORM had loaded it (identity map, no pending changes). The hot paths read their rows as plain
    rows, which skips the ORM's per-statement and per-row loading machinery."""
    mapper = cls.__mapper__  # type: ignore[attr-defined]
    ident = tuple(values[c.name] for c in mapper.primary_key)
    held = session.identity_map.get(identity_key(cls, ident))
    if held is not None:
        return held
    obj = mapper.class_manager.new_instance()  # the values go in as loaded ones: no attribute events
    instance_dict(obj).update({prop.key: values[prop.columns[0].name] for prop in mapper.column_attrs})
    make_transient_to_detached(obj)  # the values become its committed state, with the identity key
    session.add(obj)
    return obj


def adopt_leading(session: Any, cls: type, row: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """`adopt` for a row whose leading columns are every column of `cls`'s table, in table order (a
    statement selecting `*table.c` first): the session's object for them and the row's other columns."""
    columns = cls.__table__.c  # type: ignore[attr-defined]
    width = len(columns)
    return adopt(session, cls, dict(zip(columns.keys(), row[:width]))), row[width:]


"""Prepared statements on PostgreSQL (engine/prepared.py): the completion path and case opening run their
fixed statements as EXECUTEs, prepared once per connection; SQLite runs the statements as before.

What must hold whatever the connection has seen: a rolled-back unit, a failed write batch, a connection
the pool replaced. Results are the same as unprepared (the other tests of the suite run the same paths).
"""
from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from engine import cases, prepared, tasks
from engine.accounts import principal_for_username
from engine.core import Core
from engine.db import Database
from engine.demo import STEP_DATA
from engine.models import AuditEvent, Case, TaskRow, User

ORGANIZATION = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}


@pytest.fixture
def statements(core: Core) -> Iterator[list[str]]:
    """Every SQL string sent to the database while the test runs."""
    sent: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(core.db.engine, "before_cursor_execute", seen)
    yield sent
    event.remove(core.db.engine, "before_cursor_execute", seen)


def open_case(core: Core) -> int:
    with core.unit() as unit:
        actor = principal_for_username(unit, "officer1")
        officers = list(unit.session.scalars(select(User.id).where(User.username.in_(["officer1", "officer2"]))))
    with core.unit(actor) as unit:
        return cases.open_case(unit, "440201003001", ORGANIZATION, officers, "预备语句").id


def complete(core: Core, case_id: int, bpmn_id: str, username: str = "officer1") -> tasks.Completed:
    with core.unit() as unit:
        actor = principal_for_username(unit, username)
        task_id = unit.session.scalar(select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == bpmn_id))
    with core.unit(actor) as unit:
        return tasks.complete(unit, task_id, STEP_DATA[bpmn_id])


def trail(core: Core, case_id: int) -> list[tuple[str, str, str]]:
    with core.unit() as unit:
        return [tuple(r) for r in unit.session.execute(
            select(AuditEvent.action, AuditEvent.prev_hash, AuditEvent.hash)
            .where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)
        )]


def test_a_completion_runs_prepared_statements_on_postgresql_only(core: Core, statements: list[str]) -> None:
    core.db.engine.dispose()  # one connection from here on (units run one after another)
    first, case_id = open_case(core), open_case(core)
    complete(core, first, "verify_clue")  # the connection prepares what this step needs
    statements.clear()

    done = complete(core, case_id, "verify_clue")  # the same step of another case

    executed = [s for s in statements if s.lstrip().startswith("EXECUTE")]
    if core.db.engine.dialect.name == "postgresql":
        # the lock-and-read and every write of the batch; the principal's lookup is not on the hot path
        lock_and_read = [s for s in executed if ";" not in s]
        batch = [s for s in executed if ";" in s]
        assert len(lock_and_read) == 1 and len(batch) == 1, statements
        assert all(part.strip().startswith("EXECUTE zh_") for part in batch[0].split(";")), batch
        assert not [s for s in statements if s.startswith("PREPARE")]  # prepared once, not again
    else:
        assert executed == [] and not [s for s in statements if "PREPARE" in s]
    with core.unit() as unit:
        states = dict(unit.session.execute(select(TaskRow.bpmn_id, TaskRow.state).where(TaskRow.case_id == case_id)).all())
    assert states == {"verify_clue": "completed", "approve_filing": "ready"}
    assert done.ready_task_ids and done.case_status == "open"
    events = trail(core, case_id)
    assert [e[0] for e in events] == ["case.opened", "task.completed"]
    assert all(later[1] == earlier[2] for earlier, later in pairwise(events))


def test_a_rolled_back_unit_leaves_the_connection_usable(core: Core) -> None:
    case_id = open_case(core)
    with core.unit() as unit:
        actor = principal_for_username(unit, "officer1")
        task_id = unit.session.scalar(select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == "verify_clue"))
    with pytest.raises(RuntimeError), core.unit(actor) as unit:
        tasks.complete(unit, task_id, STEP_DATA["verify_clue"])
        unit.writes.flush()  # the batch ran (statements prepared) inside the transaction that now rolls back
        raise RuntimeError("the request failed after the writes")

    complete(core, case_id, "verify_clue")  # the same pooled connection: its statements are still there

    assert [e[0] for e in trail(core, case_id)] == ["case.opened", "task.completed"]


def test_a_failed_batch_then_the_next_unit_works(core: Core) -> None:
    case_id = open_case(core)
    with core.unit() as unit:
        actor = principal_for_username(unit, "officer1")
        task_id = unit.session.scalar(select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == "verify_clue"))
        existing = dict(unit.session.execute(select(TaskRow.__table__).where(TaskRow.id == task_id)).one()._mapping)
    # raised as SQLAlchemy raises it, whether the batch ran through SQLAlchemy (SQLite) or on the cursor
    with pytest.raises(IntegrityError, match="(?i)unique|duplicate"), core.unit(actor) as unit:
        tasks.complete(unit, task_id, STEP_DATA["verify_clue"])
        unit.writes.insert(TaskRow.__table__, [existing])  # last in the batch: the statements before it have run

    complete(core, case_id, "verify_clue")

    assert [e[0] for e in trail(core, case_id)] == ["case.opened", "task.completed"]


def test_a_new_connection_prepares_again(core: Core, statements: list[str]) -> None:
    case_id = open_case(core)
    complete(core, case_id, "verify_clue")
    core.db.engine.dispose()  # the pool's connections (and what they had prepared) are gone
    statements.clear()

    complete(core, case_id, "approve_filing", "head1")

    if core.db.engine.dialect.name == "postgresql":
        assert [s for s in statements if s.startswith("PREPARE")]  # the statements of the step, again
        with core.db.engine.connect() as conn:
            names = set(conn.execute(text("SELECT name FROM pg_prepared_statements")).scalars())
            assert names and names == conn.connection.info[prepared._KEY]
    assert [e[0] for e in trail(core, case_id)] == ["case.opened", "task.completed", "task.completed"]


def test_a_prepared_query_keeps_its_constants_and_percent_signs(core: Core) -> None:
    query = prepared.Query(select(Case.number).where(Case.number.like("%〔2026〕%"), Case.id == Case.id + 0))
    case_id = open_case(core)
    with core.unit() as unit:
        connection = unit.session.connection()
        assert list(unit.execute(query.statement(connection)).scalars()) == [
            unit.session.get(Case, case_id).number
        ]


def test_an_adopted_row_is_the_sessions_object_with_nothing_to_write(core: Core, statements: list[str]) -> None:
    """`prepared.adopt`: a row read by a Core statement becomes the case object as if the ORM had loaded it."""
    case_id = open_case(core)
    with core.unit() as unit:
        row = unit.session.execute(select(*Case.__table__.c).where(Case.id == case_id)).one()
        case = prepared.adopt(unit.session, Case, dict(row._mapping))
        assert (case.number, case.party, case.revision) == (row.number, row.party, row.revision)
        assert unit.session.get(Case, case_id) is case  # in the identity map
        assert prepared.adopt(unit.session, Case, dict(row._mapping)) is case  # held already: the same object
        assert not unit.session.dirty and not unit.session.new
        sent = len(statements)
    assert len(statements) == sent  # committing wrote nothing for it



def test_a_lost_server_connection_is_dropped_and_the_next_unit_works(postgres_db: Database) -> None:
    """`run_raw` (the lock-and-read and the batch of a completion, on the DBAPI cursor): when the server has
    ended the connection, the error is SQLAlchemy's with the connection invalidated, so the pool does not
    hand the dead connection out again; the next unit gets a new one."""
    with postgres_db.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = postgres_db.engine.raw_connection()  # another pooled connection: conn is checked out
        try:
            with admin.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
            admin.commit()
        finally:
            admin.close()

        with pytest.raises(DBAPIError) as raised:
            prepared.run_raw(conn, "SELECT 1", {}, fetch=True)
        assert raised.value.connection_invalidated and conn.invalidated

    with postgres_db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        assert prepared.run_raw(conn, "SELECT %(n)s + 1", {"n": 41}, fetch=True) == [(42,)]

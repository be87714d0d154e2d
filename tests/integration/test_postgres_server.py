"""The suite's own PostgreSQL server starts, is PostgreSQL 15+, and stops."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

try:
    from tests.support.postgres import PostgresServer, start_postgres
except ModuleNotFoundError:  # pytest started without the repository root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.support.postgres import PostgresServer, start_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_server():
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


def _connect(server: PostgresServer, dbname: str | None = None):
    return psycopg2.connect(server.dsn(dbname), connect_timeout=10)


def test_server_is_postgresql_15_or_newer(pg_server):
    assert (
        pg_server.url
        == f"postgresql+psycopg2://postgres@127.0.0.1:{pg_server.port}/zhifa_test"
    )
    conn = _connect(pg_server)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select version(), current_setting('server_version_num')::int, current_database()"
            )
            version, version_num, database = cur.fetchone()
    finally:
        conn.close()
    assert version.startswith("PostgreSQL ")
    assert version_num >= 150000, version
    assert database == "zhifa_test"


def test_fast_settings_and_unprivileged_server(pg_server):
    conn = _connect(pg_server)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select current_setting('fsync'), current_setting('max_connections')"
            )
            assert cur.fetchone() == ("off", "50")
    finally:
        conn.close()
    pid = int((pg_server.data_dir / "postmaster.pid").read_text().splitlines()[0])
    assert Path(f"/proc/{pid}").stat().st_uid != 0


def test_for_update_skip_locked(pg_server):
    setup = _connect(pg_server)
    first = _connect(pg_server)
    second = _connect(pg_server)
    try:
        setup.autocommit = True
        with setup.cursor() as cur:
            cur.execute("create table job_queue (id int primary key, taken_by text)")
            cur.execute("insert into job_queue (id) select generate_series(1, 3)")

        claim = "select id from job_queue order by id limit 1 for update skip locked"
        with first.cursor() as cur1, second.cursor() as cur2:
            cur1.execute(claim)
            assert cur1.fetchone() == (1,)
            # Row 1 is locked by the first transaction: the second one skips it.
            cur2.execute(claim)
            assert cur2.fetchone() == (2,)
            # Without SKIP LOCKED the second transaction would wait; NOWAIT proves the lock.
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                cur2.execute("select id from job_queue where id = 1 for update nowait")
        second.rollback()
        first.rollback()
    finally:
        for conn in (first, second, setup):
            conn.close()


def test_create_and_drop_extra_database(pg_server):
    url = pg_server.create_database("zhifa_extra")
    assert url.endswith(f":{pg_server.port}/zhifa_extra")
    conn = _connect(pg_server, "zhifa_extra")
    try:
        with conn.cursor() as cur:
            cur.execute("select current_database()")
            assert cur.fetchone() == ("zhifa_extra",)
    finally:
        conn.close()
    pg_server.drop_database("zhifa_extra")


def test_stop_removes_everything():
    server = start_postgres(dbname="zhifa_throwaway")
    base_dir = server.base_dir
    assert server.running
    server.stop()
    assert not server.running
    assert not base_dir.exists()
    server.stop()  # idempotent

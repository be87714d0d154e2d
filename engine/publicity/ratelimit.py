"""The public surface's rate limit, shared by every server process on one database: a fixed-window
counter per client key (`public_rate_windows`), one upsert per request in its own short transaction.

`INSERT … ON CONFLICT (client_key, window_start) DO UPDATE SET hits = hits + 1 RETURNING hits` is atomic
on PostgreSQL (the row lock serialises concurrent requests of one client) and on SQLite (the write lock is
taken at BEGIN, engine/db.py). A client's earlier windows are deleted when its new window starts; windows
of clients who never came back are deleted by the publicity sweep (`forget_finished`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, text
from sqlalchemy.dialects import postgresql, sqlite

from engine.db import Database
from engine.publicity.models import PublicRateWindow


def window_of(now: datetime, window_seconds: int) -> int:
    """The start (unix seconds) of the fixed window `now` falls in."""
    return int(now.timestamp()) // window_seconds * window_seconds


def count(db: Database, client_key: str, now: datetime, window_seconds: int) -> int:
    """Count one request of `client_key` in the window of `now`; returns the hits so far, this one included."""
    start = window_of(now, window_seconds)
    dialect = postgresql if not db.is_sqlite else sqlite
    table = PublicRateWindow.__table__
    stmt = dialect.insert(table).values(client_key=client_key[:100], window_start=start, hits=1)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.client_key, table.c.window_start],
                                      set_={"hits": table.c.hits + 1}).returning(table.c.hits)
    with db.transaction() as session:
        if not db.is_sqlite:  # a counter lost in a crash is harmless: do not wait for the WAL flush
            session.execute(text("SET LOCAL synchronous_commit = off"))
        hits = int(session.execute(stmt).scalar_one())
        if hits == 1:  # a new window for this client: its earlier ones are finished
            session.execute(delete(table).where(table.c.client_key == client_key[:100], table.c.window_start < start))
    return hits


def forget_finished(db: Database, now: datetime, window_seconds: int) -> int:
    """Delete every window that ended before the current one; returns how many."""
    with db.transaction() as session:
        result = session.execute(delete(PublicRateWindow).where(PublicRateWindow.window_start < window_of(now, window_seconds)))
        return int(result.rowcount or 0)

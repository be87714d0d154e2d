"""The exact number of overdue timers of any agency subtree, as of any instant, without counting them.

A timer is overdue as of T (engine.timers) when its status is `overdue` (a fired deadline whose work is
still open) or when it is `waiting` with `due_at <= T`. So

    total(T) = #status overdue in scope + #waiting in scope with due_at <= T

- The first term is the big one (about 200,000 timers province-wide at 1,000,000 cases) and does not
  depend on T: it is Σ `overdue_counts` + Σ `overdue_deltas` over the agencies in scope. Triggers on
  `timers` (migration 0012_supervision_scale) append -1/+1 to `overdue_deltas` in the transaction that changes a row's
  status to or from `overdue`, so the sum equals the direct count at every committed state; nothing
  updates a shared row when a task completes. `compact` folds the deltas into the counts in one
  statement (one snapshot), under an advisory lock; `recount` rebuilds the counts from the timers
  (the safety net the timer process runs hourly).
- The second term counts the waiting timers due by T, and only when the earliest waiting due instant
  (one index probe) is not after T. For T = now it holds only what the timer process has not fired yet
  (seconds' worth, usually nothing); for a future T it is what falls due by then, which the direct count
  reads too; a past T only narrows it.

All three sums run as one statement: on PostgreSQL one snapshot, so a compaction committing meanwhile
moves deltas into counts without the total seeing either twice or neither.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, literal, select, text

from engine.core import Core, Unit
from engine.models import Agency, TimerRow
from engine.supervision.models import OverdueCount, OverdueDelta

log = logging.getLogger("zhifa.timers")
LOCK_KEY = 0x7A686966_6F64  # pg advisory lock: one compaction or recount at a time ("zhifod")


def total(unit: Unit, agency_filters: list[Any], as_of: datetime) -> int:
    """Overdue timers as of `as_of` among the agencies the filters (on `Agency`) select."""
    return int(unit.session.scalar(statement(agency_filters, as_of)) or 0)


def statement(agency_filters: list[Any], as_of: datetime) -> Any:
    """SELECT Σ counts + Σ deltas + waiting timers due by `as_of`, in the agencies selected: one statement."""
    counted = select(func.coalesce(func.sum(OverdueCount.n), 0)).join(Agency, Agency.id == OverdueCount.agency_id)
    changed = select(func.coalesce(func.sum(OverdueDelta.delta), 0)).join(Agency, Agency.id == OverdueDelta.agency_id)
    waiting = (
        select(func.count()).select_from(TimerRow).join(Agency, Agency.id == TimerRow.agency_id)
        .where(TimerRow.status == "waiting", TimerRow.due_at <= as_of)
    )
    # correlate(None): never bound to an enclosing query's timers or agencies (the page carries this total)
    parts = [q.where(*agency_filters).correlate(None).scalar_subquery() for q in (counted, changed, waiting)]
    # Counted only if some waiting timer is due by then at all: one probe of ix_timers_status_due (the
    # earliest waiting due instant). PostgreSQL's estimate for "waiting and due by T" is far off (it takes the
    # two conditions as independent: a quarter of the table, where the truth is a few rows), which makes it
    # scan every open timer; with the probe that count runs only when its answer is not 0.
    earliest = select(func.min(TimerRow.due_at)).where(TimerRow.status == "waiting").correlate(None).scalar_subquery()
    return select(literal(0) + parts[0] + parts[1] + case((earliest <= as_of, parts[2]), else_=0))


def compact(core: Core) -> int:
    """Fold the deltas into the per-agency counts; returns how many deltas were folded (0 when another
    process holds the lock)."""
    with core.unit() as unit:
        s = unit.session
        if s.bind.dialect.name == "postgresql":
            if not s.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}):
                return 0
            # One statement, one snapshot: the deltas deleted are exactly those summed; a delta committed
            # meanwhile is not visible to the DELETE and stays for the next compaction.
            folded = s.execute(text(
                "WITH gone AS (DELETE FROM overdue_deltas RETURNING agency_id, delta), "
                "sums AS (SELECT agency_id, sum(delta) AS n, count(*) AS k FROM gone GROUP BY agency_id), "
                "up AS (INSERT INTO overdue_counts (agency_id, n) SELECT agency_id, n FROM sums "
                "       ON CONFLICT (agency_id) DO UPDATE SET n = overdue_counts.n + EXCLUDED.n) "
                "SELECT coalesce(sum(k), 0) FROM sums"
            )).scalar()
            return int(folded or 0)
        # SQLite: every write transaction holds the database's write lock (BEGIN IMMEDIATE): nothing else
        # writes between these statements.
        sums = s.execute(select(OverdueDelta.agency_id, func.sum(OverdueDelta.delta), func.count()).group_by(OverdueDelta.agency_id)).all()
        for agency_id, n, _ in sums:
            s.execute(text(
                "INSERT INTO overdue_counts (agency_id, n) VALUES (:a, :n) "
                "ON CONFLICT (agency_id) DO UPDATE SET n = overdue_counts.n + excluded.n"
            ), {"a": agency_id, "n": int(n)})
        s.execute(OverdueDelta.__table__.delete())
        return sum(k for _, _, k in sums)


def recount(core: Core) -> int:
    """Rebuild the counts from the timers themselves (and drop the deltas they already include).

    Returns how many agencies' totals were wrong before: 0 unless something wrote the timers around the
    triggers (logged as a warning)."""
    with core.unit() as unit:
        s = unit.session
        postgres = s.bind.dialect.name == "postgresql"
        if postgres:
            # One snapshot for the whole transaction: the comparison, the count and the deletion of the
            # deltas see the same committed state (deltas committed later stay: the count lacks them).
            s.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            if not s.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}):
                return 0
        kept = dict(s.execute(text(
            "SELECT agency_id, sum(n) FROM (SELECT agency_id, n FROM overdue_counts "
            "UNION ALL SELECT agency_id, delta FROM overdue_deltas) t GROUP BY agency_id"
        )).all())
        fresh = dict(s.execute(
            select(TimerRow.agency_id, func.count()).where(TimerRow.status == "overdue").group_by(TimerRow.agency_id)
        ).all())
        wrong = sum(1 for a in set(kept) | set(fresh) if int(kept.get(a) or 0) != int(fresh.get(a) or 0))
        s.execute(OverdueCount.__table__.delete())
        s.execute(OverdueDelta.__table__.delete())
        if fresh:
            s.execute(OverdueCount.__table__.insert(), [{"agency_id": a, "n": n} for a, n in fresh.items()])
        if wrong:
            log.warning("overdue counts of %d agencies were wrong; rebuilt from the timers", wrong)
        return wrong

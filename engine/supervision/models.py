"""Tables of the supervision platform (imported at the end of engine.models)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, TimerRow, UTCDateTime

JSONType = JSON().with_variant(JSONB(), "postgresql")


class TimerFiring(Base):
    """One per timer the sweep fired: exactly once (unique timer id), with its lateness."""

    __tablename__ = "timer_firings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timer_id: Mapped[str] = mapped_column(String(36), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    lateness_ms: Mapped[int] = mapped_column(Integer)  # fired_at - due_at
    worker: Mapped[str] = mapped_column(String(120))


class TimerIncident(Base):
    """A case whose due timers could not fire: retried with backoff; an incident once attempts run out."""

    __tablename__ = "timer_incidents"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # retrying | incident | resolved
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ComplianceAlert(Base):
    """A violation a compliance rule found on a case (one per rule, case and subject)."""

    __tablename__ = "compliance_alerts"
    __table_args__ = (
        UniqueConstraint("rule", "case_id", "subject", name="uq_compliance_alerts_rule_case_subject"),
        Index("ix_compliance_alerts_agency_status", "agency_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(100))  # what in the case it is about (task, timer, event)
    severity: Mapped[str] = mapped_column(String(10))  # low | medium | high
    basis: Mapped[str] = mapped_column(Text)  # the citation
    message: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # open | acknowledged | dismissed | escalated
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    escalated_to: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)


class ReviewChecklist(Base):
    """A version of the post-case review (案卷评查) checklist: items with their maximum scores."""

    __tablename__ = "review_checklists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    items: Mapped[list[Any]] = mapped_column(JSONType)  # [{code, text, max_score}]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewSample(Base):
    """Closed cases drawn at random per agency for a period, reproducible from the recorded seed."""

    __tablename__ = "review_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    per_agency: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("review_checklists.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewCase(Base):
    """One sampled case: its reviewer, scores per checklist item, total and findings."""

    __tablename__ = "review_cases"
    __table_args__ = (UniqueConstraint("sample_id", "case_id", name="uq_review_cases_sample_case"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("review_samples.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    total: Mapped[int | None] = mapped_column(Integer)
    findings: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# The monitoring queries' index: open (waiting or fired-but-open) timers in due order, for every scope.
OPEN_TIMERS = text("status IN ('waiting', 'overdue')")
Index("ix_timers_open_due", TimerRow.due_at, TimerRow.agency_id, TimerRow.status, postgresql_where=OPEN_TIMERS, sqlite_where=OPEN_TIMERS)


# -- the exact overdue total at provincial scale (engine.supervision.overdue, migration 0012_supervision_scale) ---------------
class OverdueCount(Base):
    """Timers in status `overdue` (fired, their work still open) per agency, as of the last compaction.

    Written only by the compaction and the recount (engine.supervision.overdue), never by a request."""

    __tablename__ = "overdue_counts"

    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)


class OverdueDelta(Base):
    """Append-only: +1 when a timer row enters status `overdue`, -1 when it leaves it (or its agency).

    Inserted by database triggers on `timers` (migration 0012_supervision_scale), so every writer keeps the counts exact;
    compaction folds them into `overdue_counts`."""

    __tablename__ = "overdue_deltas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer)
    delta: Mapped[int] = mapped_column(Integer)


# The page of overdue timers of a subtree: those in status `overdue` of each agency in page order, read from
# the index alone (a county's 1,800 at 1,000,000 cases: no table read to sort them). Rows enter it only when
# a deadline fires; a task completion that meets a deadline writes nothing here.
OVERDUE_TIMERS = text("status = 'overdue'")
Index("ix_timers_overdue_page", TimerRow.agency_id, TimerRow.due_at, TimerRow.id,
      postgresql_where=OVERDUE_TIMERS, sqlite_where=OVERDUE_TIMERS)

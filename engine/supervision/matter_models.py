"""Tables of the supervision procedure (imported at the end of engine.models).

A supervision matter (监督事项) is a case of the internal matter `SUPERVISION` owned by the supervising
bureau, so its workflow, tasks, timers, documents and audit trail use the engine's case machinery;
this row says what makes it a supervision matter: the supervised agency (the one that rectifies), where
it came from (a compliance alert, a conduct complaint, the supervisor's own initiative) and the
enforcement case it is about, if any. Matters are numbered in their own series per bureau and year.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class SupervisionMatter(Base):
    __tablename__ = "supervision_matters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)  # the matter's own workflow case
    supervised_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # alert | complaint | initiative
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("compliance_alerts.id"), unique=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), unique=True)
    subject_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)  # the enforcement case
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class SupervisionSequence(Base):
    """Gapless matter numbers per supervising bureau and year (not the bureau's case numbers)."""

    __tablename__ = "supervision_sequences"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)

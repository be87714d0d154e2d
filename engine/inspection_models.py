"""The inspection directory (检查对象名录) and the recorded random draws (双随机抽取)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, JSONType, UTCDateTime


class InspectionSubject(Base):
    """A market entity in an agency's directory of inspection subjects."""

    __tablename__ = "inspection_subjects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    party: Mapped[dict[str, Any]] = mapped_column(JSONType)
    category: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InspectionDraw(Base):
    """One draw: the seed and the pools it drew from, so anyone can reproduce it."""

    __tablename__ = "inspection_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    plan_name: Mapped[str] = mapped_column(String(200))
    matter_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(60))
    seed: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(200))
    subject_pool: Mapped[list[Any]] = mapped_column(JSONType)
    inspector_pool: Mapped[list[Any]] = mapped_column(JSONType)
    subject_count: Mapped[int] = mapped_column(Integer)
    result: Mapped[list[Any]] = mapped_column(JSONType)
    drawn_by: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InspectionReferral(Base):
    """A punishment case opened from an inspection that found a violation, with the inspection's evidence."""

    __tablename__ = "inspection_referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    punishment_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType)
    referred_by: Mapped[int] = mapped_column(Integer)
    referred_at: Mapped[datetime] = mapped_column(UTCDateTime())

"""Deviations from the discretion benchmark: a fine outside the band of its tier, with the written reason.

A projection supervision reads (APL Art. 34: the benchmarks are published; leaving them needs reasons).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class DiscretionDeviation(Base):
    __tablename__ = "discretion_deviations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    matter_code: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    tier: Mapped[str] = mapped_column(String(20))
    band_low: Mapped[str] = mapped_column(String(40))  # decimal strings, yuan
    band_high: Mapped[str] = mapped_column(String(40))
    fine_amount: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(10))  # below | above
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Edited discretion tables (engine/discretion_store.py): each save an immutable version.
class DiscretionTableVersion(Base):
    __tablename__ = "discretion_table_versions"
    __table_args__ = (UniqueConstraint("table_name", "version", name="uq_discretion_table_versions_table_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    saved_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TableVersionImmutable(Exception):
    """A stored version of a discretion table was about to be changed or deleted by the application."""


@event.listens_for(DiscretionTableVersion, "before_update")
@event.listens_for(DiscretionTableVersion, "before_delete")
def _refuse_change(mapper, connection, target):  # type: ignore[no-untyped-def]
    raise TableVersionImmutable(f"discretion table version {target.id} is immutable")

"""Tables of the full-process record (全过程记录): audit chain heads, evidence, resumable uploads,
archives and the chain of custody. Evidence and audit rows are append-only: nothing in the code
updates or deletes them, and on PostgreSQL a trigger (migration 0006_evidence) refuses it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, JSONType, UTCDateTime

SYSTEM_CHAIN = "system"  # the chain of events that belong to no case: deployments, logins, exports


class AuditChain(Base):
    """The head of a chain of audit events that is not a case's (a case keeps its own head)."""

    __tablename__ = "audit_chains"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Evidence(Base):
    """One item of evidence, solidified when received: its bytes are addressed by their SHA-256."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(120))
    filename: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    device_id: Mapped[str | None] = mapped_column(String(120))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # who captured it
    task_id: Mapped[str | None] = mapped_column(String(36))  # the task it belongs to
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))  # the item this one corrects
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EvidenceUpload(Base):
    """A resumable upload in progress: the bytes received so far are spooled under ZHIFA_DATA_DIR."""

    __tablename__ = "evidence_uploads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    length: Mapped[int] = mapped_column(BigInteger)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(20))  # receiving | finished | expired
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))


class CaseArchive(Base):
    """归档: the electronic case file frozen when the case was archived, with its hash."""

    __tablename__ = "case_archives"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime())
    archived_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class CustodyItem(Base):
    """A seized or preserved item (查封扣押 / 先行登记保存) of a case; its history is in CustodyEvent."""

    __tablename__ = "custody_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    measure: Mapped[str] = mapped_column(String(20))  # seizure | preservation
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))  # the last event's action
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class CustodyEvent(Base):
    """One link of an item's chain of custody: who, when, where, with evidence attached. Append-only."""

    __tablename__ = "custody_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("custody_items.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    action: Mapped[str] = mapped_column(String(20))  # taken | stored | moved | appraised | returned | confiscated | destroyed
    at: Mapped[datetime] = mapped_column(UTCDateTime())  # when it happened
    place: Mapped[str] = mapped_column(String(300))
    handled_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text)
    evidence_ids: Mapped[list[Any]] = mapped_column(JSONType)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

"""Issued documents (执法文书): one row per document, its content in a separate row, and the
gapless counters behind document numbers.

A document is immutable once issued: the ORM refuses updates and deletes of its rows (the PDF and its
SHA-256 must stay what was served on the party). Content is kept in the database, in the same
transaction as the number and the audit event, so a number never exists without its PDF or the
other way round.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class DocumentSequence(Base):
    """Gapless document numbers per agency, document type and year."""

    __tablename__ = "document_sequences"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(60), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("agency_id", "doc_type", "year", "serial", name="uq_documents_agency_type_year_serial"),
        UniqueConstraint("case_id", "task_id", "template", name="uq_documents_case_task_template"),
        Index("ix_documents_case_issued", "case_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))  # the user task whose form data it was made from
    task_bpmn_id: Mapped[str | None] = mapped_column(String(100))
    template: Mapped[str] = mapped_column(String(200))
    template_sha256: Mapped[str] = mapped_column(String(64))
    doc_type: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(120), index=True)
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    # Random, unguessable; printed on the document and checked by the public verification page.
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))  # of the PDF bytes
    size: Mapped[int] = mapped_column(Integer)
    docx_sha256: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class DocumentContent(Base):
    """The rendered HTML, the PDF and (for documents officers edit) the DOCX of one document."""

    __tablename__ = "document_contents"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    docx: Mapped[bytes | None] = mapped_column(LargeBinary)


class DocumentImmutable(Exception):
    """Raised when code tries to change or delete an issued document."""


@event.listens_for(Document, "before_update")
@event.listens_for(DocumentContent, "before_update")
@event.listens_for(Document, "before_delete")
@event.listens_for(DocumentContent, "before_delete")
def _refuse_change(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise DocumentImmutable(f"issued documents are immutable ({type(target).__name__} {target!r})")

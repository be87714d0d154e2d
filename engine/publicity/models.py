"""Tables of the publicity platform: frozen publication records, complaints with their attachments,
webhook subscriptions and their delivery log.

Public endpoints read `publications` (only rows whose status is `published`) and the public catalogue
and roster data; nothing else. A publication row is frozen: once written, only its status columns
(publication, withdrawal, expiry) may change (enforced by a before-update hook below).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, JSONType, UTCDateTime

# Columns of a publication that may change after it is written; everything else is frozen.
PUBLICATION_STATUS_COLUMNS = frozenset(
    {"status", "published_at", "expires_at", "withdrawal_due_at", "withdrawn_at", "withdrawal_reason", "ended_at",
     "withdrawal_notice"}
)
# SQLite FTS5 tables (trigram tokenizer) made by the migration, outside the ORM metadata.
SQLITE_FTS_TABLE = "publications_fts"


class Publication(Base):
    """One published (or to-be-published) decision: masked, frozen, with its statutory due date."""

    __tablename__ = "publications"
    __table_args__ = (
        Index("ix_publications_status_due", "status", "due_at"),
        Index("ix_publications_status_published", "status", "published_at"),
        # Chinese substring search (ILIKE '%…%') over the masked text; SQLite uses an FTS5 trigram table instead.
        Index("ix_publications_search_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    number: Mapped[str] = mapped_column(String(200))
    agency_name: Mapped[str] = mapped_column(String(200))
    region_path: Mapped[str] = mapped_column(String(400))  # "/GD/GZ/GZ-TH/GZ-TH-SJJ/": region = code prefix
    party_kind: Mapped[str] = mapped_column(String(20))  # person | organization
    party_name: Mapped[str] = mapped_column(String(300))  # masked for a natural person
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    matter_code: Mapped[str] = mapped_column(String(40), index=True)
    matter_name: Mapped[str] = mapped_column(String(300))
    decision: Mapped[str] = mapped_column(Text)  # generated summary, never the officer's free text
    penalties: Mapped[list[Any]] = mapped_column(JSONType)
    fine_amount: Mapped[float] = mapped_column(Numeric(14, 2))
    sector: Mapped[str] = mapped_column(String(60))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # D3: publish by then
    legal_basis: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)  # masked public text only (pg_trgm GIN / FTS5 trigram)
    status: Mapped[str] = mapped_column(String(20))  # scheduled | published | not_published | withdrawn | cancelled | expired
    status_basis: Mapped[str | None] = mapped_column(Text)  # why not published (e.g. warnings only)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawal_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    # The public explanation of a withdrawal (APL Art. 48(2) "公开说明理由"): masked, shown on the public page.
    withdrawal_notice: Mapped[str | None] = mapped_column(Text)


class Complaint(Base):
    """A complaint or report (投诉举报) from the public; the complainant is seen only by its handlers."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_agency_status", "agency_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # violation | conduct
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))  # handling agency (inbox)
    about_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))  # agency complained to / about
    matter_code: Mapped[str | None] = mapped_column(ForeignKey("matters.code"))
    subject: Mapped[str] = mapped_column(String(300))  # who or what the complaint is about
    content: Mapped[str] = mapped_column(Text)
    complainant: Mapped[dict[str, Any]] = mapped_column(JSONType)  # name, phone, email, id_number (optional)
    status: Mapped[str] = mapped_column(String(20))  # received | case_opened | not_filed | closed
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verify_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # P2 for violation complaints
    legal_basis: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    reply: Mapped[str | None] = mapped_column(Text)  # shown on the public status page
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComplaintAttachment(Base):
    __tablename__ = "complaint_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class WebhookSubscription(Base):
    """An enterprise's webhook: publications matching its filters are POSTed, HMAC-signed, to its URL."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    region: Mapped[str | None] = mapped_column(String(40))
    matter_code: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class WebhookDelivery(Base):
    """One event to deliver to one subscription, retried with backoff; each try is logged."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))  # decision.published | decision.withdrawn
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


@event.listens_for(Publication, "before_update")
def _frozen(_mapper: Any, _connection: Any, target: Publication) -> None:
    state = inspect(target)
    changed = {a.key for a in state.attrs if a.history.has_changes()}
    if changed - PUBLICATION_STATUS_COLUMNS:
        raise ValueError(f"a publication record is frozen; cannot change {sorted(changed - PUBLICATION_STATUS_COLUMNS)}")



def schema_filter(dialect: str) -> Any:
    """Alembic `include_object` filter for `dialect`: leaves out the full-text objects the migration makes
    per dialect (SQLite's FTS5 table and its shadow tables; the PostgreSQL-only trigram index elsewhere)."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table" and reflected and (name or "").startswith(SQLITE_FTS_TABLE):
            return False
        return not (type_ == "index" and name == "ix_publications_search_trgm" and dialect != "postgresql")

    return include


class DecisionChange(Base):
    """A published decision changed, revoked, or held illegal or void (by the agency itself, a
    reconsideration or a court): a timer-like row (`due_at`, `legal_basis`: D7) that the publicity sweep
    acts on by withdrawing the case's publications (engine/publicity/changes.py)."""

    __tablename__ = "decision_changes"
    __table_args__ = (Index("ix_decision_changes_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # self | reconsideration | litigation
    result: Mapped[str] = mapped_column(String(30))  # altered | revoked | confirmed_illegal | confirmed_void
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when the change took effect: D7 counts from it
    reason: Mapped[str] = mapped_column(Text)  # internal (the agency's words)
    notice: Mapped[str] = mapped_column(Text)  # public explanation, masked
    limit_amount: Mapped[int] = mapped_column(Integer)
    limit_unit: Mapped[str] = mapped_column(String(20))
    legal_basis: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # pending | done
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PublicRateWindow(Base):
    """Shared rate limit of the public surface: one fixed-window counter per client key and window, so
    every server process on the database counts together (api/public_http.py; one upsert per request)."""

    __tablename__ = "public_rate_windows"

    client_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # unix seconds
    hits: Mapped[int] = mapped_column(Integer)


# Emptied after every test (tests/conftest.py), children first.
CASE_OWNED = (WebhookAttempt, WebhookDelivery, WebhookSubscription, ComplaintAttachment, Complaint, DecisionChange,
              Publication, PublicRateWindow)

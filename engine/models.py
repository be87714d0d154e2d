"""The database schema (SQLAlchemy 2.x). Alembic migrations in migrations/ are the only way it is made.

Process state lives in `process_instances` (JSON; JSONB on PostgreSQL) without the spec. `tasks` and
`timers` are projections rewritten from the workflow on every save and indexed for the questions
supervisors and task lists ask; nothing reads workflow state to answer those.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar = {dict[str, Any]: JSONType, list[Any]: JSONType, datetime: UTCDateTime()}


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    abbreviation: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(20))  # province | city | county | township
    kind: Mapped[str] = mapped_column(String(20))  # enforcement | supervision | government
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    path: Mapped[str] = mapped_column(String(400), index=True)  # "/1/2/5/": subtree = prefix match


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[Any]] = mapped_column(JSONType)
    certificate_no: Mapped[str | None] = mapped_column(String(60))
    certificate_valid_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AccessToken(Base):
    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Matter(Base):
    """One item of the enforcement catalogue (执法事项)."""

    __tablename__ = "matters"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(20))  # punishment | coercion | inspection
    legal_basis: Mapped[str] = mapped_column(Text)
    penalty_basis: Mapped[str | None] = mapped_column(Text)
    process_id: Mapped[str] = mapped_column(String(100))
    domain: Mapped[str] = mapped_column(String(60))


class AgencyMatter(Base):
    """Competence: the agency may enforce the matter."""

    __tablename__ = "agency_matters"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    matter_code: Mapped[str] = mapped_column(ForeignKey("matters.code"), primary_key=True)


class ProcessDefinition(Base):
    """An immutable, versioned deployment of a procedure with the forms and templates it names."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("process_id", "version", name="uq_process_definitions_process_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    executable: Mapped[bool] = mapped_column(Boolean)
    checksum: Mapped[str] = mapped_column(String(64))
    spec_state: Mapped[dict[str, Any]] = mapped_column(JSONType)
    serializer_version: Mapped[str] = mapped_column(String(10))
    tasks_meta: Mapped[dict[str, Any]] = mapped_column(JSONType)  # bpmn_id -> form, ui, template, lane
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DefinitionFile(Base):
    __tablename__ = "definition_files"
    __table_args__ = (UniqueConstraint("definition_id", "filename", name="uq_definition_files_definition_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # bpmn | dmn | form | template
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class CaseSequence(Base):
    """Gapless case numbers per agency and year: incremented inside the case-opening transaction."""

    __tablename__ = "case_sequences"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    matter_code: Mapped[str] = mapped_column(ForeignKey("matters.code"))
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    party: Mapped[dict[str, Any]] = mapped_column(JSONType)
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)  # open | closed
    outcome: Mapped[str | None] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer)
    last_audit_hash: Mapped[str] = mapped_column(String(64))


class CaseOfficer(Base):
    __tablename__ = "case_officers"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class ProcessInstance(Base):
    """SpiffWorkflow state of a case, without the spec, with the serializer version.

    Both documents are only ever read and written whole by the application, never queried, so on PostgreSQL
    they are `json` (text, checked), not `jsonb`: every step reads and rewrites the state, and jsonb would
    parse it into its binary form and print it back each time. The state is kept in the row, lz4-compressed,
    with room on the page for its next version (migration 0011_perf): the update of every step is a HOT
    update and writes no TOAST rows."""

    __tablename__ = "process_instances"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    serializer_version: Mapped[str] = mapped_column(String(10))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    completed: Mapped[bool] = mapped_column(Boolean)
    # What the task and timer projections last got for the tasks still in the tree: id -> [state, due].
    projected: Mapped[dict[str, Any]] = mapped_column(JSON)


class TaskRow(Base):
    """Projection of the case's user tasks."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_agency_state_lane", "agency_id", "state", "lane"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(20))
    form: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TimerRow(Base):
    """Projection of every armed or fired timer, with its statutory basis."""

    __tablename__ = "timers"
    __table_args__ = (
        # Waiting timers by due date: the sweep's due timers and the earliest waiting due instant (one probe;
        # ix_timers_open_due would walk every overdue timer first). Open timers by due date for the overdue
        # lists: ix_timers_open_due and ix_timers_overdue_page (engine/supervision/models.py).
        Index("ix_timers_status_due", "status", "due_at"),
        Index("ix_timers_agency_status_due", "agency_id", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    task_name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(20))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    limit_amount: Mapped[int | None] = mapped_column(Integer)
    limit_unit: Mapped[str | None] = mapped_column(String(20))
    started_at: Mapped[str | None] = mapped_column(String(40))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # waiting | overdue | fired | met | breached
    interrupting: Mapped[bool] = mapped_column(Boolean)
    # Due date computed through a year with no published holiday notice (a provisional calendar).
    provisional: Mapped[bool] = mapped_column(Boolean)
    # A limit that fired on a provisional count, recounted when the year's notice was imported
    # (engine/fired_limits.py): its last day under the official calendar, where that differs from due_at
    # (which stays the instant the workflow acted on). None otherwise.
    recounted_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """One per action; hash-chained per case (prev_hash -> hash)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[str | None] = mapped_column(String(36))
    data_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical JSON of detail


from engine import (
    calendar_models,  # noqa: F401
    discretion_models,  # noqa: F401
    inspection_models,  # noqa: F401
    record_models,  # noqa: F401  (full-process record: evidence, archives, chain heads)
)
from engine.documents import models as _document_models  # noqa: F401
from engine.publicity import models as publicity_models  # noqa: F401
from engine.supervision import matter_models as supervision_matter_models  # noqa: F401
from engine.supervision import models as supervision_models  # noqa: F401

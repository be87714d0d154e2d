"""Evidence of a case: add (from a received file), list, read, and resumable uploads.

An item is immutable once added: there is no update and no delete; a correction is a new item that
names the one it corrects (`corrects_id`). Evidence of a case the user may not see does not exist for
them (404). Receiving the bytes happens outside any transaction (a 2 GB video must not hold the case
lock); the checks run once before receiving and again in the unit of work that adds the item.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select

from engine import audit, instances
from engine.cases import check_visible
from engine.clock import parse_instant
from engine.core import Core, Unit
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem, TooLarge
from engine.evidence.spool import Received, scan
from engine.evidence.storage import hash_stream, storage_for
from engine.models import Case, TaskRow, User
from engine.record_models import Evidence, EvidenceUpload

ADDING_ROLES = ("officer", "agency_head")
THUMBNAIL_SIZE = (320, 320)
META_FIELDS = ("title", "description", "captured_at", "device_id", "latitude", "longitude", "officer_id", "task_id", "corrects_id")


@dataclass(frozen=True)
class EvidenceView:
    id: int
    case_id: int
    sha256: str
    size: int
    content_type: str
    filename: str
    title: str
    description: str
    captured_at: datetime | None
    device_id: str | None
    latitude: float | None
    longitude: float | None
    officer_id: int | None
    task_id: str | None
    corrects_id: int | None
    corrected_by: list[int]
    thumbnail_sha256: str | None
    uploaded_by: int
    uploaded_at: datetime


@dataclass(frozen=True)
class UploadView:
    id: str
    case_id: int
    length: int
    offset: int
    status: str


def spool_dir(core: Core) -> Path:
    return core.settings.data_dir / "spool"


# -- who may see and add ---------------------------------------------------------------------------------------


def readable_case(unit: Unit, case_id: int) -> Case:
    """The case if the user may see it; otherwise it does not exist for them."""
    case = unit.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    try:
        check_visible(unit, case.agency_id)
    except Forbidden:
        raise NotFound(f"case {case_id} does not exist") from None
    return case


def check_may_add(unit: Unit, case_id: int) -> Case:
    case = readable_case(unit, case_id)
    if unit.actor.agency_id != case.agency_id or not unit.actor.has_role(*ADDING_ROLES):
        raise Forbidden("only officers and the head of the case's own agency add evidence")
    if case.status == "archived":
        raise Conflict(f"case {case.number} is archived; nothing can be added")
    return case


# -- adding ------------------------------------------------------------------------------------------------------


def clean_meta(unit: Unit, case: Case, raw: dict[str, Any], filename: str) -> dict[str, Any]:
    """The capture metadata, checked; problems name the field."""
    problems = [Problem("unknown field", field=k) for k in raw if k not in META_FIELDS]
    out: dict[str, Any] = {}

    def text(name: str, limit: int, default: str | None) -> str | None:
        value = raw.get(name)
        if value is None or value == "":
            return default
        if not isinstance(value, str) or len(value) > limit:
            problems.append(Problem(f"text of at most {limit} characters", field=name))
            return default
        return value.strip()

    def integer(name: str) -> int | None:
        value = raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if type(value) is int:
            return value
        problems.append(Problem("must be an integer id", field=name))
        return None

    def number(name: str, bound: float) -> float | None:
        value = raw.get(name)
        if value is None or value == "":
            return None
        try:
            parsed = float(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
        except ValueError:
            parsed = None
        if parsed is None or not -bound <= parsed <= bound:
            problems.append(Problem(f"a number between -{bound:g} and {bound:g}", field=name))
            return None
        return parsed

    out["title"] = text("title", 300, filename or "证据") or "证据"
    out["description"] = text("description", 10_000, "") or ""
    out["device_id"] = text("device_id", 120, None)
    out["latitude"], out["longitude"] = number("latitude", 90), number("longitude", 180)
    if (out["latitude"] is None) != (out["longitude"] is None) and not problems:
        problems.append(Problem("give both latitude and longitude, or neither", field="longitude" if out["latitude"] is not None else "latitude"))
    captured = raw.get("captured_at")
    out["captured_at"] = None
    if captured not in (None, ""):
        try:
            at = parse_instant(captured) if isinstance(captured, str) else None
        except ValueError:
            at = None
        if at is None or at > unit.now:
            problems.append(Problem("ISO 8601 with a UTC offset, not in the future", field="captured_at"))
        else:
            out["captured_at"] = at
    officer_id = integer("officer_id")
    if officer_id is None and unit.actor.has_role("officer"):
        officer_id = unit.actor.user_id
    if officer_id is not None:
        user = unit.session.get(User, officer_id)
        if user is None or user.agency_id != case.agency_id or "officer" not in user.roles:
            problems.append(Problem(f"user {officer_id} is not an officer of the case's agency", field="officer_id"))
    out["officer_id"] = officer_id
    out["task_id"] = text("task_id", 36, None)
    if out["task_id"] is not None:
        task = unit.session.get(TaskRow, out["task_id"])
        if task is None or task.case_id != case.id:
            problems.append(Problem("not a task of this case", field="task_id"))
    out["corrects_id"] = integer("corrects_id")
    if out["corrects_id"] is not None:
        corrected = unit.session.get(Evidence, out["corrects_id"])
        if corrected is None or corrected.case_id != case.id:
            problems.append(Problem("not an evidence item of this case", field="corrects_id"))
    if problems:
        raise InvalidInput("the evidence metadata is not acceptable", problems)
    return out


def add(unit: Unit, case_id: int, received: Received, raw_meta: dict[str, Any]) -> EvidenceView:
    """Solidify a received file as evidence of the case: store its bytes, record the item and an audit event."""
    check_may_add(unit, case_id)
    case = instances.lock_case(unit, case_id)
    check_may_add(unit, case_id)  # archived meanwhile?
    meta = clean_meta(unit, case, raw_meta, received.filename)
    storage = storage_for(unit.core)
    storage.put(received.path, received.sha256)
    thumbnail = _thumbnail(unit.core, received) if received.content_type.startswith("image/") else None
    row = Evidence(
        case_id=case.id, agency_id=case.agency_id, sha256=received.sha256, size=received.size,
        content_type=received.content_type, filename=_safe_name(received.filename), thumbnail_sha256=thumbnail,
        uploaded_by=unit.actor.user_id, uploaded_at=unit.now, **meta,
    )
    unit.session.add(row)
    unit.session.flush()
    audit.record(unit, "evidence.added", {
        "evidence_id": row.id, "sha256": row.sha256, "size": row.size, "content_type": row.content_type,
        "filename": row.filename, "corrects_id": row.corrects_id, "task_id": row.task_id,
        "captured_at": row.captured_at, "device_id": row.device_id, "officer_id": row.officer_id,
        "position": [row.latitude, row.longitude] if row.latitude is not None else None,
    }, case=case, task_id=row.task_id)
    return _view(row, [])


def _safe_name(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(c for c in name if c.isprintable())[:255] or "evidence"


def _thumbnail(core: Core, received: Received) -> str | None:
    """A small JPEG of an image, stored like evidence; None when Pillow cannot read it (or it is a bomb)."""
    from PIL import Image

    directory = spool_dir(core)
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, suffix=".thumb")
    os.close(fd)
    path = Path(name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(received.path) as image:
                image.thumbnail(THUMBNAIL_SIZE)
                image.convert("RGB").save(path, "JPEG", quality=80)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        storage_for(core).put(path, sha)
        return sha
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None  # Pillow raises SyntaxError for a damaged PNG: the file is evidence as received, without a thumbnail
    finally:
        path.unlink(missing_ok=True)


# -- reading ------------------------------------------------------------------------------------------------------


def list_for_case(unit: Unit, case_id: int) -> list[EvidenceView]:
    readable_case(unit, case_id)
    rows = list(unit.session.scalars(select(Evidence).where(Evidence.case_id == case_id).order_by(Evidence.id)))
    corrections: dict[int, list[int]] = {}
    for r in rows:
        if r.corrects_id is not None:
            corrections.setdefault(r.corrects_id, []).append(r.id)
    return [_view(r, corrections.get(r.id, [])) for r in rows]


def get(unit: Unit, evidence_id: int) -> EvidenceView:
    row = _visible(unit, evidence_id)
    later = list(unit.session.scalars(select(Evidence.id).where(Evidence.corrects_id == row.id).order_by(Evidence.id)))
    return _view(row, later)


def _visible(unit: Unit, evidence_id: int) -> Evidence:
    row = unit.session.get(Evidence, evidence_id)
    if row is None:
        raise NotFound(f"evidence {evidence_id} does not exist")
    readable_case(unit, row.case_id)
    return row


def open_content(core: Core, view: EvidenceView, *, thumbnail: bool = False) -> BinaryIO:
    sha = view.sha256
    if thumbnail:
        if not view.thumbnail_sha256:
            raise NotFound(f"evidence {view.id} has no thumbnail")
        sha = view.thumbnail_sha256
    return storage_for(core).open(sha)


def _view(row: Evidence, corrected_by: list[int]) -> EvidenceView:
    return EvidenceView(
        id=row.id, case_id=row.case_id, sha256=row.sha256, size=row.size, content_type=row.content_type,
        filename=row.filename, title=row.title, description=row.description, captured_at=_utc(row.captured_at),
        device_id=row.device_id, latitude=row.latitude, longitude=row.longitude, officer_id=row.officer_id,
        task_id=row.task_id, corrects_id=row.corrects_id, corrected_by=corrected_by,
        thumbnail_sha256=row.thumbnail_sha256, uploaded_by=row.uploaded_by, uploaded_at=_utc(row.uploaded_at),
    )


def _utc(at: datetime | None) -> datetime | None:
    return at.astimezone(UTC) if at is not None else None


# -- resumable uploads --------------------------------------------------------------------------------------------
# Create (declared length + metadata) -> PATCH chunks at the current offset -> HEAD tells the offset after
# an interruption -> finish: the file is hashed and typed from its bytes and becomes evidence.


def part_path(core: Core, upload_id: str) -> Path:
    return core.settings.data_dir / "uploads" / f"{uuid.UUID(upload_id)}.part"


def create_upload(unit: Unit, case_id: int, length: Any, raw_meta: dict[str, Any], filename: Any) -> UploadView:
    case = check_may_add(unit, case_id)
    limit = unit.core.settings.max_evidence_bytes
    if type(length) is not int or length < 1:
        raise InvalidInput("length must be the file's size in bytes", [Problem("a positive integer", field="length")])
    if length > limit:
        raise TooLarge(f"{length} bytes is more than the limit of {limit} bytes")
    if not isinstance(filename, str) or not filename.strip():
        raise InvalidInput("filename is required", [Problem("the file's name", field="filename")])
    clean_meta(unit, case, raw_meta, filename)  # refused now rather than after gigabytes
    upload = EvidenceUpload(
        id=str(uuid.uuid4()), case_id=case.id, created_by=unit.actor.user_id, created_at=unit.now, length=length,
        meta={"filename": _safe_name(filename), "fields": raw_meta}, status="receiving",
    )
    unit.session.add(upload)
    path = part_path(unit.core, upload.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return UploadView(upload.id, case.id, length, 0, upload.status)


def upload_of(unit: Unit, upload_id: str) -> UploadView:
    """The upload if it is the user's own (in a case they may see); otherwise it does not exist."""
    upload = _own_upload(unit, upload_id)
    offset = _offset(unit.core, upload)
    return UploadView(upload.id, upload.case_id, upload.length, offset, upload.status)


def _own_upload(unit: Unit, upload_id: str) -> EvidenceUpload:
    try:
        uuid.UUID(upload_id)
    except ValueError:
        raise NotFound(f"upload {upload_id} does not exist") from None
    upload = unit.session.get(EvidenceUpload, upload_id)
    if upload is None or upload.created_by != unit.actor.user_id:
        raise NotFound(f"upload {upload_id} does not exist")
    readable_case(unit, upload.case_id)
    return upload


def _offset(core: Core, upload: EvidenceUpload) -> int:
    if upload.status != "receiving":
        return upload.length if upload.status == "finished" else 0
    path = part_path(core, upload.id)
    return path.stat().st_size if path.exists() else 0


def receive_chunk(core: Core, upload: UploadView, offset: Any, stream: BinaryIO) -> int:
    """Append the request body at `offset` (which must be where the upload stands); the new offset.

    Whatever arrived before a connection drops is kept, so the client resumes from HEAD's offset.
    """
    if upload.status != "receiving":
        raise Conflict(f"upload {upload.id} is {upload.status}")
    try:
        at = int(offset)
    except (TypeError, ValueError):
        raise InvalidInput("Upload-Offset must be the byte offset", [Problem("an integer", field="Upload-Offset")]) from None
    path = part_path(core, upload.id)
    with open(path, "ab") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(f"another request is sending upload {upload.id}") from None
        current = os.fstat(f.fileno()).st_size
        if at != current:
            raise Conflict(f"upload {upload.id} stands at offset {current}, not {at}")
        room = upload.length - current
        try:
            while block := stream.read(1024 * 1024):
                if len(block) > room:
                    f.write(block[:room])
                    raise TooLarge(f"upload {upload.id} is declared as {upload.length} bytes; the rest was refused")
                f.write(block)
                room -= len(block)
        finally:
            f.flush()
            os.fsync(f.fileno())
        return upload.length - room


def finish_upload(unit: Unit, upload_id: str) -> EvidenceView:
    upload = _own_upload(unit, upload_id)
    if upload.status != "receiving":
        raise Conflict(f"upload {upload_id} is {upload.status}")
    offset = _offset(unit.core, upload)
    if offset != upload.length:
        raise Conflict(f"upload {upload_id} has {offset} of {upload.length} bytes; send the rest first")
    path = part_path(unit.core, upload.id)
    filename = upload.meta.get("filename", "")
    try:
        received = scan(path, unit.core.settings.max_evidence_bytes, filename)
    except Exception:
        path.unlink(missing_ok=True)  # a type not allowed: nothing is kept
        raise
    view = add(unit, upload.case_id, received, upload.meta.get("fields", {}))
    upload.status, upload.evidence_id = "finished", view.id
    unit.session.flush()
    return view


def discard_part(core: Core, upload_id: str) -> None:
    """After the unit that finished the upload committed: the spooled bytes are evidence now."""
    part_path(core, upload_id).unlink(missing_ok=True)


# -- verification ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredMismatch:
    evidence_id: int
    case_id: int
    filename: str
    reason: str

    def __str__(self) -> str:
        return f"evidence {self.evidence_id} ({self.filename}, case {self.case_id}): {self.reason}"


def verify_storage(core: Core, case_id: int | None = None) -> tuple[int, list[StoredMismatch]]:
    """Re-read every stored item (or one case's) and compare its SHA-256 and size with the record."""
    with core.unit() as unit:
        query = select(Evidence.id, Evidence.case_id, Evidence.filename, Evidence.sha256, Evidence.size).order_by(Evidence.id)
        if case_id is not None:
            query = query.where(Evidence.case_id == case_id)
        rows = unit.session.execute(query).all()
    storage = storage_for(core)
    problems = []
    for evidence_id, owner, filename, sha, size in rows:
        try:
            found_sha, found_size = hash_stream(storage.open(sha))
        except Exception as exc:  # noqa: BLE001 (a missing file, or any of the S3 client's errors)
            problems.append(StoredMismatch(evidence_id, owner, filename, f"cannot be read from storage ({type(exc).__name__})"))
            continue
        if found_sha != sha or found_size != size:
            problems.append(StoredMismatch(evidence_id, owner, filename,
                                           f"stored bytes have SHA-256 {found_sha} ({found_size} bytes), recorded {sha} ({size} bytes)"))
    return len(rows), problems


def expire_uploads(core: Core, older_than_hours: int) -> int:
    """Give up resumable uploads not finished within the time: their spooled bytes are removed."""
    from datetime import timedelta

    with core.unit() as unit:
        cutoff = unit.now - timedelta(hours=older_than_hours)
        stale = list(unit.session.scalars(
            select(EvidenceUpload).where(EvidenceUpload.status == "receiving", EvidenceUpload.created_at < cutoff)
        ))
        for upload in stale:
            upload.status = "expired"
        ids = [u.id for u in stale]
    for upload_id in ids:  # after the commit: a failed unit leaves the bytes for the next run
        discard_part(core, upload_id)
    return len(ids)

"""The electronic case file (电子卷宗): one ZIP with `manifest.json` (the case, the party, every document and
evidence item with its SHA-256, the audit events with their chain, the procedure version and the path the
case took), the document PDFs, the evidence files and an `index.html` that reads offline.

`verify_zip` checks every member's hash, the chain, the evidence recorded in the chain and the manifest's own
digest. Archiving (归档) a closed case stores its file, records the file's hash and freezes the case.

The case's issued documents (engine/documents) are listed in the manifest with their numbers and SHA-256,
and their PDFs put under `documents/`.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from engine import audit, custody, instances
from engine.accounts import require_role
from engine.cases import case_view, visible_case
from engine.core import Core, Unit
from engine.errors import Conflict, Forbidden, NotFound
from engine.evidence.storage import CHUNK, storage_for
from engine.models import Case, ProcessDefinition, TaskRow, TimerRow, User
from engine.record_models import CaseArchive, Evidence

FORMAT = "zhifa-efile/1"
MANIFEST = "manifest.json"
INDEX = "index.html"
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "data"), autoescape=select_autoescape(["html"]), keep_trailing_newline=True
)


@dataclass(frozen=True)
class EfileDocument:
    """A document (文书) of the case as the document feature provides it."""

    number: str  # its document number (文号), e.g. 穗天市监罚〔2026〕1号
    title: str
    kind: str  # the template / document type
    filename: str  # under documents/ in the ZIP
    sha256: str
    size: int
    issued_at: datetime | None
    open: Callable[[], BinaryIO]  # the PDF's bytes


def issued_documents(unit: Unit, case: Case) -> list[EfileDocument]:
    """The case's issued documents, oldest first, each with its stored PDF."""
    from engine.documents import service as documents

    found = []
    for view in documents.list_documents(unit, case.id):
        pdf = documents.pdf_of(unit, view.id)[1]
        found.append(EfileDocument(
            number=view.number, title=view.title, kind=view.doc_type, filename=f"{view.id:06d}_{view.template}.pdf",
            sha256=view.sha256, size=len(pdf), issued_at=view.issued_at, open=lambda pdf=pdf: io.BytesIO(pdf),
        ))
    return found


# -- building --------------------------------------------------------------------------------------------------


def manifest(unit: Unit, case: Case) -> tuple[dict[str, Any], list[tuple[str, Callable[[], BinaryIO]]]]:
    """The manifest and the files to put beside it (ZIP name, opener)."""
    view = case_view(unit, case)
    definition = unit.session.get(ProcessDefinition, case.definition_id)
    storage = storage_for(unit.core)
    files: list[tuple[str, Callable[[], BinaryIO]]] = []

    documents = []
    for doc in issued_documents(unit, case):
        name = f"documents/{_zip_name(doc.filename)}"
        documents.append({"number": doc.number, "title": doc.title, "kind": doc.kind, "file": name,
                          "sha256": doc.sha256, "size": doc.size, "issued_at": doc.issued_at})
        files.append((name, doc.open))

    evidence = []
    for row in unit.session.scalars(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)):
        name = f"evidence/{row.id:06d}_{_zip_name(row.filename)}"
        evidence.append({
            "id": row.id, "file": name, "sha256": row.sha256, "size": row.size, "content_type": row.content_type,
            "filename": row.filename, "title": row.title, "description": row.description, "captured_at": row.captured_at,
            "device_id": row.device_id, "latitude": row.latitude, "longitude": row.longitude,
            "officer_id": row.officer_id, "task_id": row.task_id, "corrects_id": row.corrects_id,
            "uploaded_by": row.uploaded_by, "uploaded_at": row.uploaded_at,
        })
        files.append((name, lambda sha=row.sha256: storage.open(sha)))

    rows = _case_events(unit, case.id)
    events = [dict(audit.event_dict(e), case_id=e.case_id) for e in rows]
    names = dict(unit.session.execute(select(User.id, User.name)).all())
    done_order = {e.task_id: e.id for e in rows if e.action == "task.completed"}
    body = {
        "format": FORMAT,
        "generated_at": unit.now,
        "generated_by": {"id": unit.actor.user_id or None, "name": unit.actor.name},
        "case": {
            "id": case.id, "number": case.number, "summary": case.summary, "status": case.status, "outcome": case.outcome,
            "matter": {"code": view.matter.code, "name": view.matter.name, "legal_basis": view.matter.legal_basis},
            "agency": view.agency, "officers": view.officers, "opened_at": case.opened_at, "closed_at": case.closed_at,
        },
        "party": case.party,
        "procedure": {
            "definition_id": definition.id, "process_id": definition.process_id, "name": definition.name,
            "version": definition.version, "checksum": definition.checksum,
        },
        "path": _path(unit, case, names, done_order),
        "documents": documents,
        "evidence": evidence,
        "custody": [render_dataclass(v) for v in custody.list_items(unit, case.id)],
        "audit": {"genesis": audit.GENESIS, "head": case.last_audit_hash, "events": events},
    }
    return audit.canonical(body), files


def render_dataclass(value: Any) -> Any:
    from dataclasses import asdict

    return asdict(value)


def _case_events(unit: Unit, case_id: int) -> list[Any]:
    from engine.models import AuditEvent

    return list(unit.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)))


def _path(unit: Unit, case: Case, names: dict[int, str], done_order: dict[str | None, int]) -> list[dict[str, Any]]:
    """The steps the case went through, in order: tasks done (or cancelled) and statutory timers that ran out.
    Steps at the same instant keep the order of their audit events."""
    steps = [
        ({"kind": "task", "bpmn_id": t.bpmn_id, "name": t.name, "lane": t.lane, "state": t.state,
          "at": t.completed_at or t.created_at, "by": names.get(t.completed_by) if t.completed_by else None},
         done_order.get(t.id, 1 << 62))
        for t in unit.session.scalars(select(TaskRow).where(TaskRow.case_id == case.id))
        if t.state != "ready"
    ]
    steps += [
        ({"kind": "timer", "bpmn_id": t.bpmn_id, "name": t.name, "lane": None, "state": t.status, "at": t.due_at,
          "by": None, "legal_basis": t.legal_basis}, 1 << 62)
        for t in unit.session.scalars(select(TimerRow).where(TimerRow.case_id == case.id, TimerRow.status == "fired"))
    ]
    earliest = datetime.min.replace(tzinfo=case.opened_at.tzinfo)
    ordered = sorted(steps, key=lambda s: (s[0]["at"] is None, s[0]["at"] or earliest, s[1], s[0]["bpmn_id"]))
    return [step for step, _ in ordered]


def _zip_name(filename: str) -> str:
    name = re.sub(r"[\x00-\x1f/\\:*?\"<>|]", "_", filename).strip(". ") or "file"
    return name[:150]


def write_zip(unit: Unit, case: Case, target: BinaryIO) -> dict[str, Any]:
    """Write the case's file into `target`; the manifest."""
    body, files = manifest(unit, case)
    body["index_sha256"] = hashlib.sha256(render_index(body)).hexdigest()
    body["manifest_sha256"] = audit.digest({k: v for k, v in body.items() if k != "manifest_sha256"})
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
        z.writestr(MANIFEST, json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True))
        z.writestr(INDEX, render_index(body))
        for name, opener in files:
            with z.open(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), "w", force_zip64=True) as out:
                stream = opener()
                try:
                    while block := stream.read(CHUNK):
                        out.write(block)
                finally:
                    stream.close()
    return body


def render_index(body: dict[str, Any]) -> bytes:
    view = {k: v for k, v in body.items() if k not in ("index_sha256", "manifest_sha256")}
    return _templates.get_template("efile_index.html").render(m=view).encode("utf-8")


@dataclass(frozen=True)
class Exported:
    path: Path
    sha256: str
    size: int
    case_number: str


def export(unit: Unit, case_id: int, directory: Path) -> Exported:
    """The case's file as a ZIP in `directory` (the caller removes it); the export is an audit event."""
    case = visible_case(unit, case_id)
    return _export(unit, case, directory, "efile.exported")


def _export(unit: Unit, case: Case, directory: Path, action: str) -> Exported:
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, suffix=".zip")
    path = Path(name)
    try:
        with open(fd, "w+b") as f:
            write_zip(unit, case, f)
            f.seek(0)
            sha, size = hashlib.sha256(), 0
            while block := f.read(CHUNK):
                sha.update(block)
                size += len(block)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    exported = Exported(path, sha.hexdigest(), size, case.number)
    if action:
        audit.record(unit, action, {"case_id": case.id, "case_number": case.number, "sha256": exported.sha256, "size": size},
                     agency_id=case.agency_id)
    return exported


# -- archiving ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveView:
    case_id: int
    case_number: str
    sha256: str
    size: int
    archived_at: datetime
    archived_by: int


def archive(unit: Unit, case_id: int, directory: Path) -> ArchiveView:
    """归档: a closed case's file is stored, its hash recorded, and the case frozen (status archived)."""
    case = visible_case(unit, case_id)
    require_role(unit.actor, "officer", "agency_head")
    if unit.actor.agency_id != case.agency_id:
        raise Forbidden("only the case's own agency archives it")
    case = instances.lock_case(unit, case_id)
    if case.status == "archived":
        raise Conflict(f"case {case.number} is archived already")
    if case.status != "closed":
        raise Conflict(f"case {case.number} is {case.status}; only a closed case is archived")
    exported = _export(unit, case, directory, "")
    try:
        storage_for(unit.core).put(exported.path, exported.sha256)
    finally:
        exported.path.unlink(missing_ok=True)
    row = CaseArchive(case_id=case.id, sha256=exported.sha256, size=exported.size, archived_at=unit.now,
                      archived_by=unit.actor.user_id)
    unit.session.add(row)
    audit.record(unit, "case.archived", {"sha256": exported.sha256, "size": exported.size}, case=case)
    case.status = "archived"
    case.updated_at = unit.now
    return _archive_view(row, case)


def get_archive(unit: Unit, case_id: int) -> ArchiveView:
    case = visible_case(unit, case_id)
    row = unit.session.get(CaseArchive, case.id)
    if row is None:
        raise NotFound(f"case {case.number} is not archived")
    return _archive_view(row, case)


def open_archive(core: Core, view: ArchiveView) -> BinaryIO:
    return storage_for(core).open(view.sha256)


def _archive_view(row: CaseArchive, case: Case) -> ArchiveView:
    return ArchiveView(row.case_id, case.number, row.sha256, row.size, row.archived_at, row.archived_by)


# -- verification ------------------------------------------------------------------------------------------------


def verify_zip(path: Path) -> list[str]:
    """Every problem found in an exported file, each naming the member or the event; empty when it holds."""
    try:
        z = zipfile.ZipFile(path)
    except Exception as exc:  # noqa: BLE001 (a damaged directory fails in many ways: bad magic, bad UTF-8 names)
        return [f"{path.name}: not a readable ZIP ({exc})"]
    with z:
        try:
            body = json.loads(z.read(MANIFEST))
        except KeyError:
            return [f"{MANIFEST}: missing"]
        except Exception as exc:  # noqa: BLE001 (bad CRC, bad deflate stream, bad JSON)
            return [f"{MANIFEST}: unreadable or damaged ({exc})"]
        problems = []
        if body.get("format") != FORMAT:
            return [f"{MANIFEST}: not a {FORMAT} manifest"]
        if audit.digest({k: v for k, v in body.items() if k != "manifest_sha256"}) != body.get("manifest_sha256"):
            problems.append(f"{MANIFEST}: its content does not match its manifest_sha256")
        expected = {MANIFEST: None, INDEX: body.get("index_sha256")}
        for item in body.get("documents", []) + body.get("evidence", []):
            expected[item["file"]] = item["sha256"]
        for name in z.namelist():
            if name not in expected:
                problems.append(f"{name}: not listed in the manifest")
        for name, sha in expected.items():
            if sha is None:
                continue
            try:
                found = _member_sha(z, name)
            except KeyError:
                problems.append(f"{name}: missing from the ZIP")
                continue
            except Exception as exc:  # noqa: BLE001 (bad CRC or deflate stream)
                problems.append(f"{name}: damaged in the ZIP ({exc})")
                continue
            if found != sha:
                problems.append(f"{name}: SHA-256 {found}, the manifest says {sha}")
        trail = body.get("audit", {})
        broken = audit.check_chain(trail.get("events", []), chain=f"case {body['case']['number']}", head=trail.get("head"))
        if broken:
            problems.append(f"audit: {broken}")
        recorded = {e["detail"].get("evidence_id"): e["detail"].get("sha256") for e in trail.get("events", [])
                    if e["action"] == "evidence.added"}
        for item in body.get("evidence", []):
            if recorded.get(item["id"]) != item["sha256"]:
                problems.append(f"{item['file']}: SHA-256 {item['sha256']} is not what the audit trail recorded for evidence {item['id']}")
        return problems


def _member_sha(z: zipfile.ZipFile, name: str) -> str:
    sha = hashlib.sha256()
    with z.open(name) as f:
        while block := f.read(CHUNK):
            sha.update(block)
    return sha.hexdigest()


def recorded(unit: Unit, sha256: str) -> str | None:
    """Where this system recorded a file with this SHA-256 (an export event or an archive), or None."""
    from engine.models import AuditEvent

    archived = unit.session.scalar(select(CaseArchive.case_id).where(CaseArchive.sha256 == sha256))
    if archived is not None:
        return f"the archive of case {archived}"
    event = unit.session.scalar(
        select(AuditEvent.id).where(AuditEvent.action == "efile.exported", AuditEvent.detail["sha256"].as_string() == sha256)
    )
    return f"export event {event}" if event is not None else None


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            sha.update(block)
    return sha.hexdigest()

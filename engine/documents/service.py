"""Issuing and reading documents.

A document is made from a case: either from a completed user task whose BPMN names a template
(`documentTemplate`; the data are the case, the workflow data and that task's form data as submitted)
or, for case documents no task names (询问笔录, 现场检查笔录, 证据清单 …), from a library template and
the data the officer sends. Issuing numbers it gaplessly per agency, type and year, renders the PDF
(and DOCX where the template offers it), stores both with their SHA-256 and a random verification
code, and appends an audit event: one transaction, under the case lock.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine import audit, definitions, instances, sequences
from engine.accounts import require_role
from engine.cases import check_visible, visible_case
from engine.catalogue import competent_matter
from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.models import Agency, AuditEvent, Case, CaseOfficer, TaskRow, User
from engine.supervision import matter_access

from . import library, qr, rendering
from .docx import to_docx
from .models import Document, DocumentContent, DocumentSequence

ISSUER_ROLES = ("officer", "agency_head", "legal_reviewer", "supervisor")  # supervisor: of a supervision matter
TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,80}(\.html\.j2)?$")
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_GROUPS, CODE_GROUP = 5, 4  # 20 symbols = 100 random bits, e.g. 7K2M-QX9D-…
PREVIEW_NUMBER = "（预览，未编号）"
MAX_DATA_CHARS = 200_000  # a record of several hundred questions; more is not a document but a load


@dataclass(frozen=True)
class DocumentView:
    id: int
    case_id: int
    case_number: str
    task_id: str | None
    task_bpmn_id: str | None
    template: str
    doc_type: str
    title: str
    number: str
    verification_code: str
    sha256: str
    size: int
    docx: bool
    docx_sha256: str | None
    issued_at: datetime
    issued_by: int
    issued_by_name: str


@dataclass(frozen=True)
class _Source:
    name: str
    text: str
    sha256: str
    task: TaskRow | None
    data: dict[str, Any]


# -- issuing ----------------------------------------------------------------------------------
def issue(unit: Unit, case_id: int, *, task_id: Any = None, template: Any = None, data: Any = None) -> DocumentView:
    case = instances.lock_case(unit, case_id)
    _check_may_issue(unit, case)
    source = _source(unit, case, task_id, template, data)
    if source.task is not None:
        _refuse_second_issue(unit, case, source)
    code = new_verification_code()
    issued_on = unit.now.astimezone(CHINA_TZ).date()
    context = _context(unit, case, source)
    draft = _render(source, context, {"number": PREVIEW_NUMBER, "verification_code": code, "issued_on": issued_on.isoformat()})
    agency = unit.session.get(Agency, case.agency_id)
    serial = sequences.next_value(unit, DocumentSequence, agency_id=agency.id, doc_type=draft.doc_type, year=issued_on.year)
    number = f"{agency.abbreviation}{draft.number_word}〔{issued_on.year}〕{serial}号"
    final = _render(source, context, {"number": number, "verification_code": code, "issued_on": issued_on.isoformat()})
    footer = f"验证码 {code}"
    pdf = rendering.to_pdf(final.html, footer, qr.verification_url(unit.core.settings.public_base_url, code))
    docx = to_docx(final.html, footer) if final.docx else None
    row = Document(
        case_id=case.id, agency_id=case.agency_id, task_id=source.task.id if source.task else None,
        task_bpmn_id=source.task.bpmn_id if source.task else None, template=source.name, template_sha256=source.sha256,
        doc_type=final.doc_type, title=final.title, number=number, year=issued_on.year, serial=serial,
        verification_code=code, sha256=_sha(pdf), size=len(pdf), docx_sha256=_sha(docx) if docx else None,
        issued_at=unit.now, issued_by=unit.actor.user_id,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.session.add(DocumentContent(document_id=row.id, html=final.html, pdf=pdf, docx=docx))
    audit.record(unit, "document.issued", {
        "document_id": row.id, "number": number, "title": final.title, "template": source.name,
        "task_id": row.task_id, "sha256": row.sha256, "docx_sha256": row.docx_sha256,
    }, case=case)
    if source.task is not None:  # a decision's public record carries its document's number
        from engine.publicity import publications

        publications.after_document_issued(unit, case, source.data, final.doc_type, number)
    return _view(unit, row, case.number)


def preview(unit: Unit, case_id: int, *, task_id: Any = None, template: Any = None, data: Any = None) -> bytes:
    """The PDF the document would be, without a number, stored nothing."""
    case = visible_case(unit, case_id)
    _check_may_issue(unit, case)
    source = _source(unit, case, task_id, template, data)
    today = unit.now.astimezone(CHINA_TZ).date().isoformat()
    rendered = _render(source, _context(unit, case, source), {"number": PREVIEW_NUMBER, "verification_code": "（预览）", "issued_on": today})
    return rendering.to_pdf(rendered.html, "预览，不具法律效力")


def new_verification_code() -> str:
    symbols = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP))
    return "-".join(symbols[i:i + CODE_GROUP] for i in range(0, len(symbols), CODE_GROUP))


def normalise_code(text: str) -> str:
    """What a person typed (any case, with or without dashes; O→0, I/L→1) in the stored form."""
    cleaned = str(text).upper().replace("O", "0").replace("I", "1").replace("L", "1")
    symbols = "".join(ch for ch in cleaned if ch in CODE_ALPHABET)
    return "-".join(symbols[i:i + CODE_GROUP] for i in range(0, len(symbols), CODE_GROUP))


# -- reading ----------------------------------------------------------------------------------
def list_documents(unit: Unit, case_id: int) -> list[DocumentView]:
    case = visible_case(unit, case_id)
    rows = unit.session.scalars(select(Document).where(Document.case_id == case.id).order_by(Document.id))
    return [_view(unit, r, case.number) for r in rows]


def get_document(unit: Unit, document_id: int) -> DocumentView:
    row = _visible(unit, document_id)
    return _view(unit, row, unit.session.get(Case, row.case_id).number)


def pdf_of(unit: Unit, document_id: int) -> tuple[DocumentView, bytes]:
    view = get_document(unit, document_id)
    return view, _content(unit, document_id).pdf


def docx_of(unit: Unit, document_id: int) -> tuple[DocumentView, bytes]:
    view = get_document(unit, document_id)
    content = _content(unit, document_id).docx
    if content is None:
        raise NotFound(f"{view.title} {view.number} has no DOCX (its template does not offer one)")
    return view, content


def find_by_code(unit: Unit, code: str) -> DocumentView | None:
    """The document a verification code belongs to (for the public verification page: no scope check)."""
    row = unit.session.scalar(select(Document).where(Document.verification_code == normalise_code(code)))
    return _view(unit, row, unit.session.get(Case, row.case_id).number) if row is not None else None


def verification_facts(unit: Unit, code: str) -> tuple[DocumentView, str, str] | None:
    """For the public verification page (no scope check): the document a code belongs to, its agency's
    name and the SHA-256 of the PDF as stored now (compared with the hash recorded at issue)."""
    found = find_by_code(unit, code)
    if found is None:
        return None
    row = unit.session.get(Document, found.id)
    agency = unit.session.get(Agency, row.agency_id)
    return found, agency.name, hashlib.sha256(_content(unit, found.id).pdf).hexdigest()


# -- helpers ----------------------------------------------------------------------------------
def check_may_issue(unit: Unit, case_id: int) -> None:
    """Forbidden unless the actor may issue the case's documents (what issue and preview check)."""
    _check_may_issue(unit, visible_case(unit, case_id))


def _check_may_issue(unit: Unit, case: Case) -> None:
    check_visible(unit, case.agency_id)
    if unit.actor.agency_id != case.agency_id:
        raise Forbidden("only the case's own agency issues its documents")
    require_role(unit.actor, *ISSUER_ROLES)
    assigned = unit.session.get(CaseOfficer, (case.id, unit.actor.user_id)) is not None
    if not (assigned or unit.actor.has_role("agency_head", "legal_reviewer")):
        raise Forbidden("documents of a case are issued by its assigned officers, its reviewer or the agency head")


def _source(unit: Unit, case: Case, task_id: Any, template: Any, data: Any) -> _Source:
    if template is not None and (not isinstance(template, str) or not TEMPLATE_NAME.match(template)):
        raise InvalidInput("template must be a template name such as inquiry_record",
                           [Problem("lower-case letters, digits and _", field="template")])
    if task_id is not None:
        return _task_source(unit, case, task_id, template, data)
    if template is None:
        raise InvalidInput("say which document: task_id (a completed task that names a template) or template",
                           [Problem("give task_id or template", field="template")])
    return _library_source(unit, case, rendering.template_name(template), data)


def _task_source(unit: Unit, case: Case, task_id: Any, template: str | None, data: Any) -> _Source:
    row = unit.session.get(TaskRow, str(task_id)) if isinstance(task_id, str) else None
    if row is None or row.case_id != case.id:
        raise InvalidInput(f"case {case.number} has no task {task_id}", [Problem("not a task of this case", field="task_id")])
    named = definitions.deployed(unit, case.definition_id).tasks_meta.get(row.bpmn_id, {}).get("template")
    if not named:
        raise InvalidInput(f"task {row.name} ({row.bpmn_id}) has no document",
                           [Problem("this task names no document template", field="task_id", element_id=row.bpmn_id)])
    if template is not None and rendering.template_name(template) != named:
        raise InvalidInput(f"the document of task {row.name} is {named}, not {template}",
                           [Problem(f"task {row.bpmn_id} makes {named}", field="template", element_id=row.bpmn_id)])
    if data is not None:
        raise InvalidInput("a task's document is made from the task's form data; send no data",
                           [Problem("not allowed with task_id", field="data")])
    if row.state != "completed":
        raise Conflict(f"task {row.name} is {row.state}: its document is made from its completed form data")
    content = definitions.file_content(unit, case.definition_id, named)
    return _Source(named, content.decode("utf-8"), _sha(content), row, _form_data(unit, case, row.id))


def _library_source(unit: Unit, case: Case, name: str, data: Any) -> _Source:
    named = {m.get("template") for m in definitions.deployed(unit, case.definition_id).tasks_meta.values()}
    if name in named:
        task = next(b for b, m in definitions.deployed(unit, case.definition_id).tasks_meta.items() if m.get("template") == name)
        raise InvalidInput(f"{name} is the document of task {task}: issue it with that task's task_id",
                           [Problem("issued from its task", field="template", element_id=task)])
    path = Path(unit.core.settings.templates_dir) / name
    if not path.is_file():
        raise InvalidInput(f"there is no document template {name}", [Problem("unknown template", field="template")])
    if data is not None and not isinstance(data, dict):
        raise InvalidInput("data must be an object", [Problem("must be an object", field="data")])
    if len(json.dumps(data or {}, ensure_ascii=False)) > MAX_DATA_CHARS:
        raise InvalidInput("the document's data are too long", [Problem(f"at most {MAX_DATA_CHARS} characters", field="data")])
    library.check_data(unit.core.settings, name, dict(data or {}))
    content = path.read_bytes()
    return _Source(name, content.decode("utf-8"), _sha(content), None, dict(data or {}))


def _refuse_second_issue(unit: Unit, case: Case, source: _Source) -> None:
    number = unit.session.scalar(select(Document.number).where(
        Document.case_id == case.id, Document.task_id == source.task.id, Document.template == source.name))
    if number is not None:
        raise Conflict(f"this task's document was issued already as {number}")


def _form_data(unit: Unit, case: Case, task_id: str) -> dict[str, Any]:
    """What the user submitted when completing the task (kept with the audit event)."""
    events = unit.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.case_id == case.id, AuditEvent.action == "task.completed")
        .order_by(AuditEvent.id.desc())
    )
    return next((dict(d.get("data") or {}) for d in events if d.get("task_id") == task_id), {})


def _context(unit: Unit, case: Case, source: _Source) -> dict[str, Any]:
    return {**_workflow_data(unit, case), **source.data, **base_context(unit, case)}


def _render(source: _Source, context: dict[str, Any], document: dict[str, Any]) -> rendering.Rendered:
    return rendering.render_html(source.name, source.text, {**context, "document": document})


def case_context(unit: Unit, case: Case, template: str) -> dict[str, Any]:
    """What issuing `template` in this case would render with now (no `document`): the workflow data,
    the form data of the newest completed task of the case that names it, and the case itself."""
    meta = definitions.deployed(unit, case.definition_id).tasks_meta
    bpmn_ids = [b for b, m in meta.items() if m.get("template") == template]
    task = unit.session.scalar(
        select(TaskRow).where(TaskRow.case_id == case.id, TaskRow.bpmn_id.in_(bpmn_ids), TaskRow.state == "completed")
        .order_by(TaskRow.completed_at.desc(), TaskRow.id.desc()).limit(1)
    ) if bpmn_ids else None
    form = _form_data(unit, case, task.id) if task is not None else {}
    return {**_workflow_data(unit, case), **form, **base_context(unit, case)}


def _workflow_data(unit: Unit, case: Case) -> dict[str, Any]:
    """The case's current workflow data (what the steps so far recorded and computed)."""
    instance = instances.load(unit, case)
    ready = instance.ready_tasks()
    if not ready:
        return dict(instance.data)
    merged: dict[str, Any] = {}
    for task in ready:
        merged.update(task.data)
    return merged


def base_context(unit: Unit, case: Case) -> dict[str, Any]:
    """What every template gets from the case itself (templates/samples/_base.json mirrors it)."""
    agency = unit.session.get(Agency, case.agency_id)
    parent = unit.session.get(Agency, agency.parent_id) if agency.parent_id else None
    matter = competent_matter(unit, None, case.matter_code)
    officers = unit.session.execute(
        select(User.name, User.certificate_no).join(CaseOfficer, CaseOfficer.user_id == User.id)
        .where(CaseOfficer.case_id == case.id).order_by(User.id)
    ).all()
    issued = unit.session.execute(select(Document.doc_type, Document.number).where(Document.case_id == case.id).order_by(Document.id))
    return {
        "case_id": case.id,
        "case_number": case.number,
        "agency_name": agency.name,
        "agency": {"name": agency.name, "abbreviation": agency.abbreviation},
        "party": case.party,
        "matter": {"code": matter.code, "name": matter.name, "legal_basis": matter.legal_basis, "category": matter.category},
        "officers": [{"name": n, "certificate_no": c or ""} for n, c in officers],
        # 行政复议法 (2023) Art. 24(1): the people's government of the level whose department acted.
        "remedy": {"reconsideration_body": parent.name if parent is not None and parent.kind == "government" else ""},
        "issued": {doc_type: number for doc_type, number in issued},
    }


def _visible(unit: Unit, document_id: int) -> Document:
    row = unit.session.get(Document, document_id)
    if row is None:
        raise NotFound(f"document {document_id} does not exist")
    try:
        check_visible(unit, row.agency_id)
    except Forbidden:  # a supervision notice: its addressee, the supervised agency's head, reads it too
        if not matter_access.may_read_case(unit, unit.session.get(Case, row.case_id)):
            raise
    return row


def _content(unit: Unit, document_id: int) -> DocumentContent:
    return unit.session.get(DocumentContent, document_id)


def _view(unit: Unit, row: Document, case_number: str) -> DocumentView:
    issuer = unit.session.get(User, row.issued_by)
    return DocumentView(
        id=row.id, case_id=row.case_id, case_number=case_number, task_id=row.task_id, task_bpmn_id=row.task_bpmn_id,
        template=row.template, doc_type=row.doc_type, title=row.title, number=row.number,
        verification_code=row.verification_code, sha256=row.sha256, size=row.size, docx=row.docx_sha256 is not None,
        docx_sha256=row.docx_sha256, issued_at=row.issued_at.astimezone(UTC), issued_by=row.issued_by,
        issued_by_name=issuer.name if issuer else "",
    )


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()

"""Documents on the case page: the case's issued documents (number, title, date, verification code)
with PDF download and preview, and issuing the document of a completed task (engine/documents)."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _

from engine import definitions
from engine.documents import service
from engine.documents.service import ISSUER_ROLES

from .. import extensions
from ..blueprint import web
from ..websession import login_required, web_unit


def _section_data(u: Any, case: Any) -> dict[str, Any]:
    """The issued documents, and the completed tasks whose document may be issued now."""
    issued = service.list_documents(u, case.id)
    done = {d.task_id for d in issued if d.task_id}
    meta = definitions.deployed(u, case.definition_id).tasks_meta
    issuable = [t for t in case.tasks if t.state == "completed" and meta.get(t.bpmn_id, {}).get("template") and t.id not in done]
    may_issue = u.actor.has_role(*ISSUER_ROLES) and u.actor.agency_id == case.agency["id"]
    return {"documents": issued, "issuable": issuable if may_issue else []}


extensions.case_sections.append(extensions.CaseSection("documents", "documents/_case_section.html", lambda u, case: True, _section_data))


def _pdf(content: bytes, filename: str, *, download: bool) -> Response:
    response = Response(content, mimetype="application/pdf")
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    return response


@web.get("/documents/<int:document_id>.pdf")
@login_required
def document_pdf(document_id: int):  # type: ignore[no-untyped-def]
    """The issued PDF byte for byte: shown in the browser, or downloaded with ?download=1."""
    with web_unit() as u:
        view, content = service.pdf_of(u, document_id)
    return _pdf(content, f"{view.title}{view.number}.pdf", download=request.args.get("download") == "1")


@web.get("/cases/<int:case_id>/documents/preview")
@login_required
def document_preview(case_id: int):  # type: ignore[no-untyped-def]
    """The PDF a completed task's document would be, unnumbered; nothing is stored."""
    with web_unit() as u:
        content = service.preview(u, case_id, task_id=request.args.get("task_id", ""))
    return _pdf(content, "preview.pdf", download=False)


@web.post("/cases/<int:case_id>/documents")
@login_required
def document_issue(case_id: int):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        issued = service.issue(u, case_id, task_id=request.form.get("task_id", ""))
    flash(_("%(title)s issued as %(number)s.", title=issued.title, number=issued.number), "success")
    return redirect(url_for("web.case_page", case_id=case_id, _anchor="h-documents"))

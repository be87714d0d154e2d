"""Documents on the case page: the case's issued documents (number, title, date, verification code)
with PDF download and preview, issuing the document of a completed task, and issuing a library document
(询问笔录 …) from a form generated from its schema in forms/documents (engine/documents)."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import cases, definitions
from engine.documents import library, service
from engine.documents.service import ISSUER_ROLES
from engine.errors import InvalidInput, NotFound, Problem

from .. import extensions
from ..blueprint import web
from ..forms import attach_errors, data_from, fields_of
from ..refusals import explain
from ..websession import login_required, web_unit


def _section_data(u: Any, case: Any) -> dict[str, Any]:
    """The issued documents, and the completed tasks whose document may be issued now."""
    issued = service.list_documents(u, case.id)
    done = {d.task_id for d in issued if d.task_id}
    meta = definitions.deployed(u, case.definition_id).tasks_meta
    issuable = [t for t in case.tasks if t.state == "completed" and meta.get(t.bpmn_id, {}).get("template") and t.id not in done]
    may_issue = u.actor.has_role(*ISSUER_ROLES) and u.actor.agency_id == case.agency["id"]
    return {"documents": issued, "issuable": issuable if may_issue else [],
            "library_forms": library.library_forms(u, case.id) if may_issue else []}


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


# -- library documents (询问笔录, 现场检查笔录 …): the officer's own data, no task -------------------------
def _library_form(u: Any, case_id: int, template: str) -> library.LibraryForm:
    form = next((f for f in library.library_forms(u, case_id) if f.template == template), None)
    if form is None:
        raise NotFound(f"{template} is not a document this case issues from its own data")
    return form


def _library_page(u: Any, case_id: int, template: str, values: dict[str, Any], problems: list[Problem]):  # type: ignore[no-untyped-def]
    form = _library_form(u, case_id, template)
    service.check_may_issue(u, case_id)
    fields = fields_of(form.schema, form.ui_schema, values)
    loose = attach_errors(fields, [Problem(explain(p.message, p.field), field=p.field) for p in problems])
    return render_template("documents/library_form.html", case=cases.get_case(u, case_id), form=form, fields=fields,
                           loose=loose, invalid=bool(problems))


@web.get("/cases/<int:case_id>/documents/library/<string:template>")
@login_required
def library_document(case_id: int, template: str):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        return _library_page(u, case_id, template, {}, [])


def _posted(case_id: int, template: str) -> dict[str, Any]:
    with web_unit() as u:
        schema = _library_form(u, case_id, template).schema
    return data_from(schema, request.form)


@web.post("/cases/<int:case_id>/documents/library/<string:template>/preview")
@login_required
def library_document_preview(case_id: int, template: str):  # type: ignore[no-untyped-def]
    """The PDF the document would be, unnumbered, nothing stored; refused data come back in the form."""
    data = _posted(case_id, template)
    try:
        with web_unit() as u:
            content = service.preview(u, case_id, template=template, data=data)
    except InvalidInput as exc:
        with web_unit() as u:
            return _library_page(u, case_id, template, data, exc.problems or [Problem(exc.detail)])
    return _pdf(content, "preview.pdf", download=False)


@web.post("/cases/<int:case_id>/documents/library/<string:template>")
@login_required
def library_document_issue(case_id: int, template: str):  # type: ignore[no-untyped-def]
    data = _posted(case_id, template)
    try:
        with web_unit() as u:
            issued = service.issue(u, case_id, template=template, data=data)
    except InvalidInput as exc:
        with web_unit() as u:
            return _library_page(u, case_id, template, data, exc.problems or [Problem(exc.detail)])
    flash(_("%(title)s issued as %(number)s.", title=issued.title, number=issued.number), "success")
    return redirect(url_for("web.case_page", case_id=case_id, _anchor="h-documents"))

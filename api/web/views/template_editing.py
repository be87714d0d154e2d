"""Legal staff: a procedure's document templates, edited with a preview rendered against a sample case
(engine/documents/editing.py) and deployed as a new version of the procedure."""
from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import definitions
from engine.documents import editing, rendering
from engine.errors import InvalidInput

from ..blueprint import web
from ..websession import login_required, web_unit


def _case_id() -> int | None:
    raw = request.values.get("case_id", "")
    return int(raw) if raw.isdigit() else None


def _problems(exc: InvalidInput) -> list[dict[str, Any]]:
    return [p.as_dict() for p in exc.problems] or [{"message": exc.detail}]


def _preview(u: Any, definition_id: int, filename: str, source: str, case_id: int | None) -> dict[str, Any]:
    try:
        found = editing.render(u, definition_id, filename, source, case_id)
    except InvalidInput as exc:  # DocumentTemplateError included: syntax, undefined names, the sandbox
        return {"preview": None, "preview_errors": _problems(exc)}
    # The page's look (A4 margins aside) inside the preview frame: the stylesheet PDFs are made with.
    styled = found.html.replace("</head>", f"<style>{rendering.BASE_CSS}</style></head>", 1)
    return {"preview": found, "preview_html": styled, "preview_errors": []}


@web.get("/procedures/<int:definition_id>/templates/<filename>")
@login_required
def template_edit(definition_id: int, filename: str):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        source = editing.template_source(u, definition_id, filename)
        return _editor(u, definition_id, filename, source, _case_id(), [])


def _editor(u: Any, definition_id: int, filename: str, source: str, case_id: int | None, problems: list) -> str:  # type: ignore[type-arg]
    view = definitions.get_view(u, definition_id)
    tasks = [b for b, m in definitions.deployed(u, definition_id).tasks_meta.items() if m.get("template") == filename]
    return render_template(
        "procedures/template_edit.html", definition=view, filename=filename, source=source, tasks=tasks,
        cases=editing.sample_cases(u, definition_id), case_id=case_id, problems=problems,
        **_preview(u, definition_id, filename, source, case_id),
    )


@web.post("/procedures/<int:definition_id>/templates/<filename>/preview")
@login_required
def template_preview(definition_id: int, filename: str):  # type: ignore[no-untyped-def]
    """The htmx preview: the rendered document (HTML) or what is wrong, located."""
    with web_unit() as u:
        found = _preview(u, definition_id, filename, request.form.get("source", ""), _case_id())
    return render_template("procedures/_template_preview.html", **found)


@web.post("/procedures/<int:definition_id>/templates/<filename>/preview.pdf")
@login_required
def template_preview_pdf(definition_id: int, filename: str):  # type: ignore[no-untyped-def]
    try:
        with web_unit() as u:
            pdf = editing.render_pdf(u, definition_id, filename, request.form.get("source", ""), _case_id())
    except InvalidInput as exc:
        return render_template("procedures/template_pdf_refused.html", filename=filename, preview_errors=_problems(exc))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = "inline; filename=preview.pdf"
    return response


@web.post("/procedures/<int:definition_id>/templates/<filename>")
@login_required
def template_deploy(definition_id: int, filename: str):  # type: ignore[no-untyped-def]
    """Deploy the procedure again with the edited template: a new version."""
    source, case_id = request.form.get("source", ""), _case_id()
    try:
        with web_unit() as u:
            view = editing.save(u, definition_id, filename, source)
    except InvalidInput as exc:  # DeploymentInvalid included
        with web_unit() as u:
            return _editor(u, definition_id, filename, source, case_id, _problems(exc))
    flash(_("Deployed as version %(version)d.", version=view.version) if view.created else
          _("Nothing changed: this is version %(version)d.", version=view.version), "success")
    return redirect(url_for("web.procedure_page", definition_id=view.id))

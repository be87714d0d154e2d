"""Legal staff: the procedure library, version history, the modeler and deployment."""
from __future__ import annotations

import re
from itertools import groupby

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from engine import definitions, versions
from engine.accounts import require_role
from engine.errors import DeploymentInvalid, InvalidInput, NotFound, Problem

from ..blueprint import web
from ..forms import fields_of
from ..websession import login_required, web_unit

DESIGNERS = ("process_designer", "admin")
_FILENAME = re.compile(r"^[A-Za-z0-9_.-]{1,120}\.bpmn$")
_FORM_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")
LIMIT_UNIT_LABELS = [("working_days", lazy_gettext("working days")), ("calendar_days", lazy_gettext("days")),
                     ("months", lazy_gettext("months")), ("years", lazy_gettext("years")), ("hours", lazy_gettext("hours"))]


@web.get("/procedures")
@login_required
def procedures():  # type: ignore[no-untyped-def]
    with web_unit() as u:
        views = definitions.list_definitions(u)
        library = [
            {"process_id": pid, "versions": sorted(group, key=lambda v: v.version, reverse=True)}
            for pid, group in groupby(views, key=lambda v: v.process_id)
        ]
        return render_template("procedures/list.html", library=library, may_edit=u.actor.has_role(*DESIGNERS))


@web.get("/procedures/<int:definition_id>")
@login_required
def procedure_page(definition_id: int):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        view = definitions.get_view(u, definition_id)
        history = [v for v in definitions.list_definitions(u) if v.process_id == view.process_id]
        return render_template(
            "procedures/page.html", definition=view, history=sorted(history, key=lambda v: v.version, reverse=True),
            xml_url=url_for("web.definition_xml", definition_id=definition_id), may_edit=u.actor.has_role(*DESIGNERS),
        )


@web.get("/procedures/<int:definition_id>/edit")
@login_required
def procedure_edit(definition_id: int):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        require_role(u.actor, *DESIGNERS)
        view = definitions.get_view(u, definition_id)
        filename, _ = definitions.main_xml(u, definition_id)
        templates_dir = u.core.settings.templates_dir
        return render_template(
            "procedures/edit.html", definition=view, filename=filename,
            xml_url=url_for("web.definition_xml", definition_id=definition_id),
            templates=sorted(p.name for p in templates_dir.glob("*.html.j2")) if templates_dir.is_dir() else [],
            limit_units=[(value, str(label)) for value, label in LIMIT_UNIT_LABELS],
        )


@web.post("/procedures/deploy")
@login_required
def procedure_deploy():  # type: ignore[no-untyped-def]
    """The modeler posts its XML here; errors come back located (file, line, BPMN element). Refusals
    answer 200 with `deployed: false` (a 4xx response is an error in the browser console)."""
    body = request.get_json(silent=True) or {}
    filename, xml = body.get("filename"), body.get("xml")
    try:
        if not isinstance(filename, str) or not _FILENAME.match(filename):
            raise InvalidInput("bad file name", [Problem("a plain name ending in .bpmn", field="filename")])
        if not isinstance(xml, str) or not xml.strip():
            raise InvalidInput("no diagram", [Problem("the BPMN XML is empty", field="xml")])
        based_on = body.get("based_on")
        with web_unit() as u:
            if isinstance(based_on, int) and not isinstance(based_on, bool) and definitions.main_xml(u, based_on)[0] == filename:
                # the version the modeler opened: its edited forms and templates go with the new diagram
                view = definitions.redeploy(u, based_on, {filename: xml.encode("utf-8")})
            else:
                view = definitions.deploy(u, {filename: xml.encode("utf-8")})
    except (DeploymentInvalid, InvalidInput) as exc:
        return jsonify(deployed=False, detail=exc.detail, errors=[p.as_dict() for p in exc.problems])
    return jsonify(
        deployed=True, id=view.id, version=view.version, created=view.created,
        url=url_for("web.procedure_page", definition_id=view.id),
    ), 201 if view.created else 200


@web.get("/procedures/<int:definition_id>/xml")
@login_required
def definition_xml(definition_id: int):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        _, content = definitions.main_xml(u, definition_id)
    return Response(content, mimetype="application/xml")


@web.get("/procedures/<int:definition_id>/diff")
@login_required
def procedure_diff(definition_id: int):  # type: ignore[no-untyped-def]
    """What changed from another version (default: the one before) to this one."""
    against = request.args.get("against", type=int)
    with web_unit() as u:
        view = definitions.get_view(u, definition_id)
        history = sorted((v for v in definitions.list_definitions(u) if v.process_id == view.process_id), key=lambda v: v.version)
        if against is None:
            older = [v for v in history if v.version < view.version]
            if not older:
                raise InvalidInput("the first version has nothing to compare with", [Problem("no earlier version", field="against")])
            against = older[-1].id
        found = versions.diff(u, against, definition_id)
        marks = {"added": [c.element_id for c in found.elements if c.change == "added"],
                 "changed": [c.element_id for c in found.elements if c.change == "changed"]}
        return render_template(
            "procedures/diff.html", diff=found, history=history, marks=marks,
            xml_url=url_for("web.definition_xml", definition_id=definition_id),
        )


# -- form editing with a live preview -------------------------------------------------------------------
def _ui_name(filename: str) -> str:
    return filename.replace(".schema.json", ".uischema.json")


@web.get("/procedures/<int:definition_id>/forms/<filename>")
@login_required
def form_edit(definition_id: int, filename: str):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        require_role(u.actor, *DESIGNERS)
        return _form_editor(u, definition_id, filename, None, None, [])


def _form_editor(u, definition_id: int, filename: str, schema: str | None, ui: str | None, problems: list):  # type: ignore[no-untyped-def]
    view = definitions.get_view(u, definition_id)
    names = {f["filename"] for f in view.files}
    if not filename.endswith(".schema.json") or filename not in names:
        raise NotFound(f"version {view.version} has no form {filename}")
    if schema is None:
        schema = definitions.file_content(u, definition_id, filename).decode("utf-8")
    if ui is None:
        ui_name = _ui_name(filename)
        ui = definitions.file_content(u, definition_id, ui_name).decode("utf-8") if ui_name in names else "{}"
    preview = _preview(filename, schema, ui)
    return render_template(
        "procedures/form_edit.html", definition=view, filename=filename, schema_text=schema, ui_text=ui,
        problems=problems, **preview,
    )


def _preview(filename: str, schema_text: str, ui_text: str) -> dict:  # type: ignore[type-arg]
    """The form as the task page would render it, or what is wrong with the files."""
    try:
        schema = definitions.check_form(filename, schema_text.encode("utf-8"))
        ui = definitions.check_form(_ui_name(filename), ui_text.encode("utf-8"))
    except InvalidInput as exc:
        return {"fields": [], "preview_errors": [p.as_dict() for p in exc.problems] or [{"message": exc.detail}], "title": ""}
    if not isinstance(schema, dict) or not isinstance(ui, dict):
        return {"fields": [], "preview_errors": [{"message": "a JSON object is expected", "file": filename}], "title": ""}
    return {"fields": fields_of(schema, ui), "preview_errors": [], "title": schema.get("title", "")}


@web.post("/procedures/forms/preview")
@login_required
def form_preview():  # type: ignore[no-untyped-def]
    with web_unit() as u:
        require_role(u.actor, *DESIGNERS)
    filename = request.form.get("filename", "")
    if not filename.endswith(".schema.json") or not _FORM_NAME.match(filename):
        raise InvalidInput("bad form name", [Problem("a name ending in .schema.json", field="filename")])
    return render_template("procedures/_form_preview.html", **_preview(filename, request.form.get("schema", ""), request.form.get("ui", "")))


@web.post("/procedures/<int:definition_id>/forms/<filename>")
@login_required
def form_deploy(definition_id: int, filename: str):  # type: ignore[no-untyped-def]
    """Deploy the procedure again with the edited form: a new version (same BPMN, new form files)."""
    schema, ui = request.form.get("schema", ""), request.form.get("ui", "")
    try:
        with web_unit() as u:
            require_role(u.actor, *DESIGNERS)
            if filename not in {f["filename"] for f in definitions.get_view(u, definition_id).files}:
                raise NotFound(f"definition {definition_id} has no form {filename}")
            view = definitions.redeploy(u, definition_id, {filename: schema.encode("utf-8"), _ui_name(filename): ui.encode("utf-8")})
    except InvalidInput as exc:  # DeploymentInvalid included
        with web_unit() as u:
            return _form_editor(u, definition_id, filename, schema, ui, [p.as_dict() for p in exc.problems] or [{"message": exc.detail}])
    flash(_("Deployed as version %(version)d.", version=view.version) if view.created else
          _("Nothing changed: this is version %(version)d.", version=view.version), "success")
    return redirect(url_for("web.procedure_page", definition_id=view.id))

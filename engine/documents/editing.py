"""Editing a procedure's document templates (legal staff): preview an edited template against a sample
case, then deploy the procedure again with it as a new version.

A task's template is a file of its procedure version (`definition_files`, with its SHA-256): issuing
always renders the stored copy. So a saved edit is a new version of the procedure, deployed like the
form editor's (every other file the stored one), and cases already open keep the version they run.
An edited template is untrusted text: the preview renders it in the documents' sandbox
(`rendering.render_html`: Jinja2's ImmutableSandboxedEnvironment, StrictUndefined, autoescaping; PDFs
load nothing), so syntax errors come back with their line and undefined names with the name and line.
The sample is a real case in the editor's scope (the data issuing would use today) or the template's
declared sample (templates/samples/).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine import cases, definitions
from engine.accounts import require_role
from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.errors import InvalidInput, NotFound, Problem
from engine.models import Agency, Case, ProcessDefinition

from . import rendering, samples, service

EDITORS = ("process_designer", "admin")
MAX_SOURCE_CHARS = 200_000


@dataclass(frozen=True)
class Preview:
    html: str
    title: str
    sample: str  # "sample" (templates/samples) or the case number


def template_source(unit: Unit, definition_id: int, filename: str) -> str:
    require_role(unit.actor, *EDITORS)
    _check_template_of(unit, definition_id, filename)
    return definitions.file_content(unit, definition_id, filename).decode("utf-8")


def sample_cases(unit: Unit, definition_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The newest cases of the procedure in the editor's scope (any version), to preview against."""
    process_id = definitions.get_row(unit, definition_id).process_id
    rows = unit.session.execute(
        select(Case.id, Case.number, Case.party).join(Agency, Agency.id == Case.agency_id)
        .join(ProcessDefinition, ProcessDefinition.id == Case.definition_id)
        .where(*cases.scope_filter(unit), ProcessDefinition.process_id == process_id)
        .order_by(Case.id.desc()).limit(limit)
    ).all()
    return [{"id": i, "number": n, "party_name": (p or {}).get("name", "")} for i, n, p in rows]


def render(unit: Unit, definition_id: int, filename: str, source: Any, case_id: int | None = None) -> Preview:
    """The edited template rendered against the case (or the declared sample), marked as a preview."""
    require_role(unit.actor, *EDITORS)
    _check_template_of(unit, definition_id, filename)
    text = _checked_source(source)
    today = unit.now.astimezone(CHINA_TZ).date().isoformat()
    document = {"number": service.PREVIEW_NUMBER, "verification_code": "（预览）", "issued_on": today}
    if case_id is None:
        context, sample = _declared_sample(unit, filename), "sample"
    else:
        case = cases.visible_case(unit, case_id)
        context, sample = service.case_context(unit, case, filename), case.number
    rendered = rendering.render_html(filename, text, {**context, "document": document})
    return Preview(rendered.html, rendered.title, sample)


def render_pdf(unit: Unit, definition_id: int, filename: str, source: Any, case_id: int | None = None) -> bytes:
    found = render(unit, definition_id, filename, source, case_id)
    return rendering.to_pdf(found.html, "预览，不具法律效力")


def save(unit: Unit, definition_id: int, filename: str, source: Any) -> definitions.DefinitionView:
    """Deploy the procedure again with the edited template: a new version (nothing new if unchanged)."""
    require_role(unit.actor, *EDITORS)
    _check_template_of(unit, definition_id, filename)
    return definitions.redeploy(unit, definition_id, {filename: _checked_source(source).encode("utf-8")})


def _check_template_of(unit: Unit, definition_id: int, filename: str) -> None:
    view = definitions.get_view(unit, definition_id)
    if not any(f["filename"] == filename and f["kind"] == "template" for f in view.files):
        raise NotFound(f"version {view.version} of {view.process_id} has no document template {filename}")


def _checked_source(source: Any) -> str:
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput("the template is empty", [Problem("write the template", field="source")])
    if len(source) > MAX_SOURCE_CHARS:
        raise InvalidInput("the template is too long", [Problem(f"at most {MAX_SOURCE_CHARS} characters", field="source")])
    return source


def _declared_sample(unit: Unit, filename: str) -> dict[str, Any]:
    directory = unit.core.settings.templates_dir
    try:
        return samples.sample_context(directory, filename)
    except InvalidInput:  # no sample of its own: the case part every template gets
        return samples.sample_context(directory, filename, {})

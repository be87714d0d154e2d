"""Deploying procedures: BPMN + DMN with the forms and templates they name become an immutable,
versioned definition. Nothing is stored unless everything validates; every failure is located.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from sqlalchemy import select
from sqlalchemy.orm import aliased, defer

from engine import audit
from engine.accounts import require_role
from engine.core import Unit
from engine.errors import DeploymentInvalid, InvalidInput, NotFound, Problem
from engine.models import DefinitionFile, ProcessDefinition
from engine.spiff import SERIALIZER_VERSION, Definition
from engine.spiff.parsing import BPMN_NS, parse_bundle
from engine.xmlsafe import XmlRejected, parse_xml

PROCESS_SUFFIXES = (".bpmn", ".dmn")


@dataclass(frozen=True)
class DefinitionView:
    id: int
    process_id: str
    name: str
    version: int
    executable: bool
    checksum: str
    deployed_at: datetime
    files: list[dict[str, str]]
    created: bool = False  # False when the same files were deployed before (nothing new stored)


def deploy(unit: Unit, uploads: dict[str, bytes]) -> DefinitionView:
    """Validate and store a new version (or return the latest one if nothing changed)."""
    require_role(unit.actor, "process_designer", "admin", "system")
    return deploy_files(unit, uploads)


def redeploy(unit: Unit, definition_id: int, changed: dict[str, bytes]) -> DefinitionView:
    """Deploy a version again with some of its files changed (the editors): every other file is the
    stored one of `definition_id`, so an edit never brings back the disk copy of a file edited before."""
    require_role(unit.actor, "process_designer", "admin", "system")
    get_row(unit, definition_id)
    stored = {name: content for name, content in unit.session.execute(
        select(DefinitionFile.filename, DefinitionFile.content).where(DefinitionFile.definition_id == definition_id)
    )}
    return deploy_files(unit, {**stored, **changed})


@dataclass(frozen=True)
class Prepared:
    """A bundle that passed every check, with all the files to store."""

    bundle: Any
    files: dict[str, bytes]

    @property
    def process_id(self) -> str:
        return self.bundle.process_id

    @property
    def executable(self) -> bool:
        return bool(self.bundle.executable)


def prepare(settings: Any, uploads: dict[str, bytes]) -> Prepared:
    """Run every deployment check without storing anything (also `zhifa process validate`)."""
    for name, content in uploads.items():
        if len(content) > settings.max_upload_bytes:
            raise DeploymentInvalid(
                "file too large", [Problem(f"larger than {settings.max_upload_bytes} bytes", file=name)]
            )
    process_files = {n: c for n, c in uploads.items() if n.lower().endswith(PROCESS_SUFFIXES)}
    if not process_files:
        raise DeploymentInvalid("no BPMN file", [Problem("upload at least one .bpmn file", field="files")])
    process_files.update(called_processes(process_files, settings.processes_dir))
    forms, templates = _supporting_files(uploads, settings.forms_dir, settings.templates_dir)
    bundle = parse_bundle(process_files, known_forms=set(forms), known_templates=set(templates), require_forms=True,
                          require_statutory_timers=True, require_paths_to_end=True)
    needed_forms = {n for t in bundle.user_tasks for n in (t.form, t.ui_form) if n}
    needed_templates = {t.document_template for t in bundle.user_tasks if t.document_template}
    _check_forms({n: forms[n] for n in needed_forms})
    _check_templates({n: templates[n] for n in needed_templates})
    files = {**process_files, **{n: forms[n] for n in needed_forms}, **{n: templates[n] for n in needed_templates}}
    return Prepared(bundle, files)


def deploy_files(unit: Unit, uploads: dict[str, bytes]) -> DefinitionView:
    prepared = prepare(unit.core.settings, uploads)
    bundle, files = prepared.bundle, prepared.files
    checksum = _checksum(files)
    latest = _latest(unit, bundle.process_id)
    if latest is not None and latest.checksum == checksum:
        return _view(unit, latest)  # idempotent: the same files make no new version
    definition = Definition(bundle.process_id, bundle.spec, bundle.subprocess_specs)
    row = ProcessDefinition(
        process_id=bundle.process_id,
        name=bundle.process_name or bundle.process_id,
        version=(latest.version + 1) if latest else 1,
        executable=bundle.executable,
        checksum=checksum,
        spec_state=definition.to_state(),
        serializer_version=SERIALIZER_VERSION,
        tasks_meta={
            t.bpmn_id: {"name": t.name, "lane": t.lane, "form": t.form, "ui_form": t.ui_form, "template": t.document_template}
            for t in bundle.user_tasks
        },
        deployed_at=unit.now,
        deployed_by=unit.actor.user_id or None,
    )
    unit.session.add(row)
    unit.session.flush()
    for name, content in sorted(files.items()):
        unit.session.add(
            DefinitionFile(definition_id=row.id, filename=name, kind=_kind(name), sha256=_sha(content), content=content)
        )
    audit.record(unit, "process.deployed", {"process_id": row.process_id, "version": row.version, "checksum": checksum})
    unit.session.flush()
    return replace(_view(unit, row), created=True)


def deploy_directory(unit: Unit, directory: Path) -> list[DefinitionView]:
    """Deploy every BPMN file of a folder (each with the forms, templates and called procedures it names).

    A file whose processes are only called by other files (the hearing) is deployed with its callers."""
    paths = sorted(directory.glob("*.bpmn"))
    contents = {p.name: p.read_bytes() for p in paths}
    called_by_others: set[str] = set()
    defined: dict[str, set[str]] = {}
    for name, content in contents.items():
        ids, calls = set(), set()
        _process_refs(name, content, ids, calls)
        defined[name] = ids
        called_by_others.update(calls - ids)
    entry = [n for n in contents if not defined[n] or not defined[n] <= called_by_others]
    return [deploy_files(unit, {name: contents[name]}) for name in entry]


def list_definitions(unit: Unit) -> list[DefinitionView]:
    rows = unit.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.process_id, ProcessDefinition.version))
    return [_view(unit, r) for r in rows]


def get_view(unit: Unit, definition_id: int) -> DefinitionView:
    return _view(unit, get_row(unit, definition_id))


def get_row(unit: Unit, definition_id: int) -> ProcessDefinition:
    row = unit.session.get(ProcessDefinition, definition_id)
    if row is None:
        raise NotFound(f"process definition {definition_id} does not exist")
    return row


def latest_executable(unit: Unit, process_id: str) -> ProcessDefinition:
    return checked_executable(process_id, _latest(unit, process_id))


def latest_clause(process_id: Any) -> Any:
    """SQL: the id of the newest version of a procedure (for callers that fold it into a query)."""
    versions = aliased(ProcessDefinition)
    return (
        select(versions.id).where(versions.process_id == process_id)
        .order_by(versions.version.desc()).limit(1).correlate_except(versions).scalar_subquery()
    )


def checked_executable(process_id: str, row: ProcessDefinition | None) -> ProcessDefinition:
    if row is None:
        raise InvalidInput(f"procedure {process_id} is not deployed", [Problem("not deployed", field="process_id")])
    if not row.executable:
        raise InvalidInput(f"procedure {process_id} version {row.version} is not executable",
                           [Problem(f"version {row.version} is not executable", field="process_id")])
    return row


@dataclass
class TaskForm:
    schema: dict[str, Any]
    ui_schema: dict[str, Any]
    validator: Draft202012Validator | None


@dataclass
class Deployed:
    """What never changes about a deployed version, kept in memory once loaded."""

    id: int
    runnable: Definition
    tasks_meta: dict[str, Any]
    forms: dict[str, TaskForm] = field(default_factory=dict)


def deployed(unit: Unit, definition_id: int) -> Deployed:
    return unit.core.cached_definition(definition_id, lambda: _load(unit, definition_id))


def _load(unit: Unit, definition_id: int) -> Deployed:
    row = get_row(unit, definition_id)
    return Deployed(row.id, Definition.from_state(row.spec_state), dict(row.tasks_meta))


def task_form(unit: Unit, definition_id: int, bpmn_id: str) -> TaskForm:
    found = deployed(unit, definition_id)
    form = found.forms.get(bpmn_id)
    if form is None:
        meta = found.tasks_meta.get(bpmn_id, {})
        schema = json.loads(file_content(unit, definition_id, meta["form"])) if meta.get("form") else {}
        ui = json.loads(file_content(unit, definition_id, meta["ui_form"])) if meta.get("ui_form") else {}
        validator = Draft202012Validator(schema, format_checker=FormatChecker()) if schema else None
        form = found.forms[bpmn_id] = TaskForm(schema, ui, validator)
    return form


def file_content(unit: Unit, definition_id: int, filename: str) -> bytes:
    content = unit.session.scalar(
        select(DefinitionFile.content).where(
            DefinitionFile.definition_id == definition_id, DefinitionFile.filename == filename
        )
    )
    if content is None:
        raise NotFound(f"definition {definition_id} has no file {filename}")
    return content


def main_xml(unit: Unit, definition_id: int) -> tuple[str, bytes]:
    get_row(unit, definition_id)
    row = unit.session.execute(
        select(DefinitionFile.filename, DefinitionFile.content)
        .where(DefinitionFile.definition_id == definition_id, DefinitionFile.kind == "bpmn")
        .order_by(DefinitionFile.id)
    ).first()
    if row is None:
        raise NotFound(f"definition {definition_id} has no BPMN file")
    return row[0], row[1]


def called_processes(process_files: dict[str, bytes], processes_dir: Path) -> dict[str, bytes]:
    """The files of `processes_dir` defining processes the bundle calls (call activities), recursively,
    unless the bundle defines them itself: a procedure is deployed with the procedures it calls."""
    defined, called = set(), set()
    for name, content in process_files.items():
        _process_refs(name, content, defined, called)
    library = _library(processes_dir) if called - defined else {}
    added: dict[str, bytes] = {}
    while called - defined:
        process_id = min(called - defined)
        found = library.get(process_id)
        defined.add(process_id)
        if found is None or found[0] in process_files or found[0] in added:
            continue  # unknown: the bundle check names the call activity
        added[found[0]] = found[1]
        _process_refs(found[0], found[1], defined, called)
    return added


def _process_refs(name: str, content: bytes, defined: set[str], called: set[str]) -> None:
    try:
        root = parse_xml(content, name).getroot()
    except XmlRejected:
        return  # reported by the bundle check
    defined.update(p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id"))
    called.update(c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity") if c.get("calledElement"))


def _library(processes_dir: Path) -> dict[str, tuple[str, bytes]]:
    """process id -> (file name, content) of every BPMN file in the folder."""
    found: dict[str, tuple[str, bytes]] = {}
    for path in sorted(processes_dir.glob("*.bpmn")) if processes_dir.is_dir() else []:
        content = path.read_bytes()
        ids: set[str] = set()
        _process_refs(path.name, content, ids, set())
        for process_id in ids:
            found.setdefault(process_id, (path.name, content))
    return found


# -- helpers ---------------------------------------------------------------------------------
def _supporting_files(uploads: dict[str, bytes], forms_dir: Path, templates_dir: Path) -> tuple[dict, dict]:
    forms = {p.name: p.read_bytes() for p in forms_dir.glob("*.json")} if forms_dir.is_dir() else {}
    templates = {p.name: p.read_bytes() for p in templates_dir.glob("*.j2")} if templates_dir.is_dir() else {}
    for name, content in uploads.items():
        if name.endswith(".json"):
            forms[name] = content
        elif name.endswith(".j2"):
            templates[name] = content
    return forms, templates


def _check_forms(forms: dict[str, bytes]) -> None:
    problems = []
    for name, content in sorted(forms.items()):
        try:
            schema = json.loads(content)
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(Problem(f"not valid JSON: {exc}", file=name, line=getattr(exc, "lineno", None)))
            continue
        if name.endswith(".schema.json"):
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                problems.append(Problem(f"not a valid JSON Schema: {exc.message}", file=name))
    if problems:
        raise DeploymentInvalid("a form is invalid", problems)


def _check_templates(templates: dict[str, bytes]) -> None:
    env = SandboxedEnvironment(autoescape=True, undefined=jinja2.StrictUndefined)
    problems = []
    for name, content in sorted(templates.items()):
        try:
            env.parse(content.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(Problem("not UTF-8 text", file=name))
        except jinja2.TemplateSyntaxError as exc:
            problems.append(Problem(f"template syntax error: {exc.message}", file=name, line=exc.lineno))
    if problems:
        raise DeploymentInvalid("a document template is invalid", problems)


LIGHT = (defer(ProcessDefinition.spec_state), defer(ProcessDefinition.tasks_meta))  # without the large columns


def _latest(unit: Unit, process_id: str) -> ProcessDefinition | None:
    """The newest version's row, without its (large) stored spec."""
    return unit.session.scalar(
        select(ProcessDefinition)
        .options(*LIGHT)
        .where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )


def _view(unit: Unit, row: ProcessDefinition) -> DefinitionView:
    files = unit.session.execute(
        select(DefinitionFile.filename, DefinitionFile.kind, DefinitionFile.sha256)
        .where(DefinitionFile.definition_id == row.id)
        .order_by(DefinitionFile.filename)
    ).all()
    return DefinitionView(
        row.id, row.process_id, row.name, row.version, row.executable, row.checksum, row.deployed_at,
        [{"filename": f, "kind": k, "sha256": s} for f, k, s in files],
    )


def _kind(name: str) -> str:
    if name.endswith(".bpmn"):
        return "bpmn"
    if name.endswith(".dmn"):
        return "dmn"
    return "form" if name.endswith(".json") else "template"


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _checksum(files: dict[str, bytes]) -> str:
    return _sha("\n".join(f"{n}:{_sha(c)}" for n, c in sorted(files.items())).encode())


def check_form(filename: str, content: bytes) -> dict[str, Any]:
    """The checks deployment makes on one form file (JSON; a JSON Schema for *.schema.json), for
    editors that preview a form before deploying it. Returns the parsed JSON."""
    _check_forms({filename: content})
    return json.loads(content)

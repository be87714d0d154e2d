"""Library documents: case documents no task of the case's procedure names (询问笔录, 现场检查笔录,
责令改正通知书 …), issued from the officer's own data. The JSON Schema of each one's data is data in
`forms/documents/<template>.schema.json` (with `.uischema.json` for the page's form); `service.issue` and
`service.preview` check the data against it, so a refusal names the field (`person.name`, `qa.0.a`)
before the template is rendered. A library template without a schema takes any data, as before."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from engine import definitions
from engine.cases import visible_case
from engine.core import Unit
from engine.errors import FormDataInvalid, Problem
from engine.settings import Settings

SCHEMA_SUFFIX, UI_SUFFIX = ".schema.json", ".uischema.json"


@dataclass(frozen=True)
class LibraryForm:
    template: str  # inquiry_record
    title: str
    schema: dict[str, Any]
    ui_schema: dict[str, Any]


def _folder(settings: Settings) -> Path:
    return Path(settings.forms_dir) / "documents"


def _bare(name: str) -> str:
    return name.removesuffix(".html.j2")


def form_of(settings: Settings, template: str) -> LibraryForm | None:
    """The form of a library document's data, or None when it has no schema."""
    name = _bare(template)
    path = _folder(settings) / f"{name}{SCHEMA_SUFFIX}"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    ui_path = path.with_name(f"{name}{UI_SUFFIX}")
    ui = json.loads(ui_path.read_text(encoding="utf-8")) if ui_path.is_file() else {}
    return LibraryForm(name, schema.get("title", name), schema, ui)


def library_forms(unit: Unit, case_id: int) -> list[LibraryForm]:
    """The library documents the case may issue: those with a form whose template exists and that no
    task of the case's procedure names (those are issued from their task)."""
    case = visible_case(unit, case_id)
    named = {m.get("template") for m in definitions.deployed(unit, case.definition_id).tasks_meta.values()}
    settings = unit.core.settings
    found = []
    for path in sorted(_folder(settings).glob(f"*{SCHEMA_SUFFIX}")):
        name = path.name.removesuffix(SCHEMA_SUFFIX)
        if f"{name}.html.j2" in named or not (Path(settings.templates_dir) / f"{name}.html.j2").is_file():
            continue
        form = form_of(settings, name)
        if form is not None:
            found.append(form)
    return found


def check_data(settings: Settings, template: str, data: dict[str, Any]) -> None:
    """FormDataInvalid naming each field whose value does not fit the document's schema, by its path
    (a missing nested field as person.name, not person)."""
    form = form_of(settings, template)
    if form is None:
        return
    validator = Draft202012Validator(form.schema, format_checker=FormatChecker())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required" and "'" in error.message:
            path.append(error.message.split("'")[1])
        problems.append(Problem(error.message, field=".".join(path) or "data"))
    if problems:
        raise FormDataInvalid(f"the data do not fit the form of {form.title}", problems)

"""Task forms in HTML: a JSON Schema + UI schema becomes a list of fields to render, and the posted
HTML form becomes the JSON data the engine validates. Nothing is validated here: the server's JSON
Schema check in `engine.tasks.complete` is the one truth, and its errors are shown by field.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.clock import CHINA_TZ
from engine.errors import Problem, ZhifaError

from .refusals import explain


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass
class Field:
    name: str
    label: str
    widget: str  # text | textarea | number | date | datetime | radio | select | checkboxes | boolean
    required: bool
    help: str | None = None
    rows: int = 3
    choices: list[Choice] = field(default_factory=list)
    value: Any = None
    errors: list[str] = field(default_factory=list)
    integer: bool = False
    children: list[Field] = field(default_factory=list)  # widget "group": the fields of an object
    item_rows: list[list[Field]] = field(default_factory=list)  # widget "rows": an array of objects, one row per item


def fields_of(schema: dict[str, Any], ui_schema: dict[str, Any], values: dict[str, Any] | None = None) -> list[Field]:
    properties: dict[str, Any] = schema.get("properties", {})
    order = [n for n in ui_schema.get("ui:order", []) if n in properties]
    order += [n for n in properties if n not in order]
    required = set(schema.get("required", []))
    values = values or {}
    return [_field(name, properties[name], ui_schema.get(name, {}), name in required, values.get(name)) for name in order]


BLANK_ROWS = 2  # empty rows offered after the items of an array of objects (ui:options.blank_rows)


def _field(name: str, prop: dict[str, Any], ui: dict[str, Any], required: bool, value: Any) -> Field:
    kind = prop.get("type")
    options = ui.get("ui:options", {})
    out = Field(name=name, label=prop.get("title", name), widget="text", required=required,
                help=ui.get("ui:help") or prop.get("description"), rows=int(options.get("rows", 3)), value=value)
    if kind == "object" and "properties" in prop:
        out.widget = "group"
        out.children = [replace_name(f, f"{name}.{f.name}") for f in fields_of(prop, ui, value if isinstance(value, dict) else {})]
    elif kind == "array" and prop.get("items", {}).get("type") == "object":
        out.widget = "rows"
        items = [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
        blank = int(options.get("blank_rows", BLANK_ROWS))
        out.item_rows = [[replace_name(f, f"{name}.{i}.{f.name}") for f in fields_of(prop["items"], ui.get("items", {}), item)]
                    for i, item in enumerate(items + [{}] * blank)]
        out.value = items
    elif kind == "array":
        out.widget = "checkboxes"
        out.choices = _choices(prop.get("items", {}))
        out.value = value if isinstance(value, list) else []
    elif kind == "boolean":
        out.widget = "boolean"
    elif kind in ("number", "integer"):
        out.widget, out.integer = "number", kind == "integer"
    elif _choices(prop):
        out.choices = _choices(prop)
        out.widget = "radio" if ui.get("ui:widget") == "radio" else "select"
    elif prop.get("format") == "date":
        out.widget = "date"
    elif prop.get("format") == "date-time":
        out.widget = "datetime"
        out.value = _local_input(value)
    elif ui.get("ui:widget") == "textarea":
        out.widget = "textarea"
    return out


def replace_name(f: Field, name: str) -> Field:
    """A nested field's input name is its path (person.name, qa.0.q): data_from reads it back."""
    f.name = name
    return f


def _choices(prop: dict[str, Any]) -> list[Choice]:
    if "oneOf" in prop:
        return [Choice(str(o["const"]), o.get("title", str(o["const"]))) for o in prop["oneOf"] if "const" in o]
    return [Choice(str(v), str(v)) for v in prop.get("enum", [])]


def _local_input(value: Any) -> Any:
    """An ISO instant as the value of <input type=datetime-local> (China time)."""
    if not isinstance(value, str) or not value:
        return value
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return value
    if at.tzinfo is not None:
        at = at.astimezone(CHINA_TZ)
    return at.strftime("%Y-%m-%dT%H:%M")


def data_from(schema: dict[str, Any], posted: MultiDict) -> dict[str, Any]:
    """The posted form as JSON data. Empty inputs are left out (so "required" reports them); values
    that do not parse are passed on as text so that the schema names the field and its type."""
    return _data_from(schema, posted, "")


def _data_from(schema: dict[str, Any], posted: MultiDict, prefix: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, prop in schema.get("properties", {}).items():
        name = prefix + key
        kind = prop.get("type")
        if kind == "object" and "properties" in prop:
            group = _data_from(prop, posted, f"{name}.")
            if any(v != [] for v in group.values()):  # unticked checkboxes alone are not an answer
                data[key] = group
            continue
        if kind == "array" and prop.get("items", {}).get("type") == "object":
            heads = {k[len(name) + 1:].split(".")[0] for k in posted if k.startswith(f"{name}.")}
            indices = sorted(int(h) for h in heads if h.isdigit())
            rows = [row for row in (_data_from(prop["items"], posted, f"{name}.{i}.") for i in indices) if row]
            if rows or f"{name}.present" in posted:
                data[key] = rows
            continue
        if kind == "array":
            if name in posted or f"{name}.present" in posted:
                data[key] = [v for v in posted.getlist(name) if v != ""]
            continue
        raw = (posted.get(name) or "").strip()
        if raw == "":
            continue
        if kind == "boolean":
            data[key] = {"true": True, "false": False}.get(raw, raw)
        elif kind in ("number", "integer"):
            data[key] = _number(raw, kind)
        elif prop.get("format") == "date-time":
            data[key] = _instant(raw)
        else:
            data[key] = raw
    return data


def _number(raw: str, kind: str) -> Any:
    try:
        number = float(raw)
    except ValueError:
        return raw
    if kind == "integer" or number.is_integer():
        return int(number) if number.is_integer() else number
    return number


def _instant(raw: str) -> str:
    """datetime-local (no offset) is China time; a value with an offset is kept."""
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    if at.tzinfo is None:
        at = at.replace(tzinfo=CHINA_TZ)
    return at.isoformat(timespec="seconds")


def attach_errors(fields: list[Field], problems: list[Any]) -> list[str]:
    """Put each problem next to its field; returns the messages that belong to no field."""
    by_name = {f.name: f for f in fields}
    loose = []
    for problem in problems:
        name = (problem.field or "").split(".")[0]
        if name in by_name:
            _nearest(by_name[name], problem.field or "").errors.append(problem.message)
        else:
            loose.append(problem.message)
    return loose


def _nearest(top: Field, path: str) -> Field:
    """The innermost field of a group or row that a problem's path (person.name, qa.0.q) names."""
    for child in top.children + [f for row in top.item_rows for f in row]:
        if path == child.name or path.startswith(child.name + "."):
            return _nearest(child, path)
    return top


def errors_by_field(refusal: ZhifaError, at: Callable[[str], str] = str) -> dict[str, list[str]]:
    """A refusal's messages by the field they name (`at` renames a field the page shows elsewhere), each in
    the page's language (refusals.explain); a refusal naming no problem (a conflict, say) gives its detail at
    the form ("")."""
    out: dict[str, list[str]] = {}
    for problem in refusal.problems or [Problem(refusal.detail)]:
        out.setdefault(at(problem.field or ""), []).append(explain(problem.message, problem.field))
    return out

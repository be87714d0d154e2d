"""What changed between two deployed versions of a procedure: BPMN elements added, removed or
changed (by id), and a line diff of every file (BPMN, forms, templates) that differs."""
from __future__ import annotations

import difflib
from copy import deepcopy
from dataclasses import dataclass

from lxml import etree

from engine import definitions
from engine.core import Unit
from engine.errors import InvalidInput, Problem
from engine.xmlsafe import parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MAX_DIFF_LINES = 2000


@dataclass(frozen=True)
class ElementChange:
    element_id: str
    kind: str  # e.g. userTask, boundaryEvent
    change: str  # added | removed | changed
    name: str


@dataclass(frozen=True)
class FileDiff:
    filename: str
    change: str  # added | removed | changed
    lines: list[str]  # unified diff, cut at MAX_DIFF_LINES


@dataclass(frozen=True)
class VersionDiff:
    old: definitions.DefinitionView
    new: definitions.DefinitionView
    elements: list[ElementChange]
    files: list[FileDiff]


def diff(unit: Unit, old_id: int, new_id: int) -> VersionDiff:
    old, new = definitions.get_view(unit, old_id), definitions.get_view(unit, new_id)
    if old.process_id != new.process_id:
        raise InvalidInput("versions of different procedures", [Problem(f"{new.process_id} is not {old.process_id}", field="against")])
    old_files = {f["filename"]: f["sha256"] for f in old.files}
    new_files = {f["filename"]: f["sha256"] for f in new.files}
    files = []
    for name in sorted(set(old_files) | set(new_files)):
        if old_files.get(name) == new_files.get(name):
            continue
        before = _text(unit, old_id, name) if name in old_files else ""
        after = _text(unit, new_id, name) if name in new_files else ""
        change = "added" if name not in old_files else "removed" if name not in new_files else "changed"
        lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), f"v{old.version}/{name}", f"v{new.version}/{name}", lineterm=""))
        files.append(FileDiff(name, change, lines[:MAX_DIFF_LINES]))
    (old_name, old_xml), (new_name, new_xml) = definitions.main_xml(unit, old_id), definitions.main_xml(unit, new_id)
    return VersionDiff(old, new, _element_changes(_elements(old_xml, old_name), _elements(new_xml, new_name)), files)


def _text(unit: Unit, definition_id: int, filename: str) -> str:
    return definitions.file_content(unit, definition_id, filename).decode("utf-8", errors="replace")


def _elements(xml: bytes, filename: str) -> dict[str, tuple[str, str, bytes]]:
    """id -> (kind, name, canonical bytes of the element) of every flow element and process."""
    root = parse_xml(xml, filename).getroot()
    found = {}
    for el in root.iter(f"{{{BPMN_NS}}}*"):
        el_id = el.get("id")
        if not el_id or el.getparent() is None:
            continue
        kind = etree.QName(el).localname
        if kind in ("definitions", "collaboration", "laneSet"):
            continue
        found[el_id] = (kind, el.get("name") or "", _own_content(el))
    return found


# Attribute values the BPMN schema gives by default: a modeler may write or drop them (no change).
DEFAULTS = {
    "cancelActivity": "true", "isInterrupting": "true", "isForCompensation": "false", "startQuantity": "1",
    "completionQuantity": "1", "parallelMultiple": "false", "gatewayDirection": "Unspecified",
    "instantiate": "false", "triggeredByEvent": "false", "isImmediate": "false",
}


def _own_content(el: etree._Element) -> bytes:
    """The element itself, not the flow elements it contains (a sub-process changes only when its own
    attributes, documentation, extensions or flows in and out do), defaults and whitespace ignored."""
    copy = deepcopy(el)
    for child in list(copy):
        if isinstance(child.tag, str) and child.get("id") is not None:
            copy.remove(child)
    for name, default in DEFAULTS.items():
        if copy.get(name) == default:
            del copy.attrib[name]
    return b"".join(etree.tostring(copy, method="c14n", exclusive=True).split())


def _element_changes(old: dict[str, tuple[str, str, bytes]], new: dict[str, tuple[str, str, bytes]]) -> list[ElementChange]:
    changes = []
    for el_id in sorted(set(old) | set(new)):
        if el_id not in old:
            changes.append(ElementChange(el_id, new[el_id][0], "added", new[el_id][1]))
        elif el_id not in new:
            changes.append(ElementChange(el_id, old[el_id][0], "removed", old[el_id][1]))
        elif old[el_id][2] != new[el_id][2]:
            changes.append(ElementChange(el_id, new[el_id][0], "changed", new[el_id][1]))
    return changes

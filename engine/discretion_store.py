"""Edited discretion tables (裁量基准): immutable, numbered versions of the two DMN files.

The benchmarks ship as files in `processes/discretion/` (version 0, the published defaults). Legal staff
edit a table in the dmn-js editor; a save is checked exactly as the engine loads a decision table
(`engine/spiff/dmn.py`: safe XML, one decision, supported hit policy, every expression through the
script allowlist), plus what `engine/discretion.py` reads from it (the decision id, its inputs and
outputs), and stored as a new row with its SHA-256, who and when, and an audit event. Rows never change.
The decision check, the assessment API and the published benchmarks all use the newest version
(`current_tables`); saving the same bytes again stores nothing.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine import accounts, audit
from engine.core import Unit
from engine.discretion_models import DiscretionTableVersion, TableVersionImmutable  # noqa: F401  (re-exported)
from engine.errors import Conflict, DeploymentInvalid, InvalidInput, NotFound, Problem
from engine.models import User
from engine.spiff.dmn import DecisionTable, load_decision

EDITORS = ("process_designer", "admin")
# What engine/discretion.py reads from each table: a save that drops one of these is refused.
REQUIRED = {
    "disposition_tier": {
        "inputs": {"no_fault", "fault_excluded_by_law", "minor", "corrected_timely", "harm", "first_offence",
                   "exemption_listed", "mitigating", "mitigation_listed", "aggravating"},
        "outputs": {"tier", "tier_name", "basis", "mandatory", "manual_review"},
    },
    "fine_benchmark": {
        "inputs": {"matter_code", "base_amount", "serious"},
        "outputs": {"fine_min", "fine_max", "fine_kind", "lighter_from", "lighter_to", "general_from", "general_to",
                    "heavier_from", "heavier_to", "exemption_listed", "mitigation_listed", "penalty_basis", "note"},
    },
}
TABLES = tuple(REQUIRED)


@dataclass(frozen=True)
class TableVersion:
    table: str
    filename: str
    version: int  # 0: the file shipped in processes/discretion/
    sha256: str
    saved_at: datetime | None
    saved_by: int | None
    saved_by_name: str
    decision_name: str
    rule_count: int
    created: bool = False  # False when a save changed nothing


def filename_of(table: str) -> str:
    return f"{table}.dmn"


def _check_name(table: object) -> str:
    if table not in REQUIRED:
        raise NotFound(f"there is no discretion table {table!r} (one of {', '.join(TABLES)})")
    return str(table)


def _disk(unit: Unit, table: str) -> bytes:
    return (Path(unit.core.settings.processes_dir) / "discretion" / filename_of(table)).read_bytes()


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


_PARSED: dict[tuple[str, str], DecisionTable] = {}  # (table, sha256) -> parsed: versions never change


def _parse(table: str, sha: str, content: bytes) -> DecisionTable:
    found = _PARSED.get((table, sha))
    if found is None:
        if len(_PARSED) >= 64:
            _PARSED.clear()
        found = _PARSED[(table, sha)] = load_decision(filename_of(table), content)
    return found


def _newest(unit: Unit, table: str) -> DiscretionTableVersion | None:
    return unit.session.scalar(
        select(DiscretionTableVersion).where(DiscretionTableVersion.table_name == table)
        .order_by(DiscretionTableVersion.version.desc()).limit(1)
    )


def current(unit: Unit, table: str) -> DecisionTable:
    """The newest version of a table, parsed once per content (the shipped file until one is saved)."""
    row = unit.session.execute(
        select(DiscretionTableVersion.sha256, DiscretionTableVersion.id).where(DiscretionTableVersion.table_name == table)
        .order_by(DiscretionTableVersion.version.desc()).limit(1)
    ).first()
    if row is None:
        content = _disk(unit, table)
        return _parse(table, _sha(content), content)
    sha, row_id = row
    found = _PARSED.get((table, sha))
    if found is not None:
        return found
    return _parse(table, sha, unit.session.get(DiscretionTableVersion, row_id).content)


def content_of(unit: Unit, table: str, version: int | None = None) -> tuple[TableVersion, bytes]:
    """The DMN XML of a version (default the newest); anyone signed in reads it (published data)."""
    table = _check_name(table)
    if version is None:
        row = _newest(unit, table)
    elif version == 0:
        row = None
    else:
        row = unit.session.scalar(select(DiscretionTableVersion).where(
            DiscretionTableVersion.table_name == table, DiscretionTableVersion.version == version))
        if row is None:
            raise NotFound(f"discretion table {table} has no version {version}")
    content = row.content if row is not None else _disk(unit, table)
    return _view(unit, table, row, content), content


def history(unit: Unit, table: str) -> list[TableVersion]:
    """Every version, newest first, ending with the shipped file (version 0)."""
    table = _check_name(table)
    rows = unit.session.scalars(select(DiscretionTableVersion).where(DiscretionTableVersion.table_name == table)
                                .order_by(DiscretionTableVersion.version.desc()))
    found = [_view(unit, table, r, r.content) for r in rows]
    return [*found, _view(unit, table, None, _disk(unit, table))]


def list_tables(unit: Unit) -> list[TableVersion]:
    return [content_of(unit, t)[0] for t in TABLES]


def save(unit: Unit, table: str, content: bytes) -> TableVersion:
    """Check an edited table and store it as the next version (designers and admins)."""
    accounts.require_role(unit.actor, *EDITORS)
    table = _check_name(table)
    if not isinstance(content, bytes) or not content.strip():
        raise InvalidInput("no decision table", [Problem("the DMN XML is empty", field="xml")])
    parsed = check(table, content)
    newest = _newest(unit, table)
    sha = _sha(content)
    if (newest.sha256 if newest is not None else _sha(_disk(unit, table))) == sha:
        return _view(unit, table, newest, content, parsed)
    row = DiscretionTableVersion(
        table_name=table, version=(newest.version + 1) if newest is not None else 1, sha256=sha, content=content,
        saved_by=unit.actor.user_id, saved_at=unit.now,
    )
    unit.session.add(row)
    try:
        unit.session.flush()
    except IntegrityError:  # another save took this version number meanwhile (unique per table and version)
        raise Conflict(f"{table} was saved by someone else meanwhile: reload it and save again") from None
    audit.record(unit, "discretion.table_saved", {"table": table, "version": row.version, "sha256": sha,
                                                  "rules": parsed.rule_count})
    _PARSED[(table, sha)] = parsed
    return replace(_view(unit, table, row, content, parsed), created=True)


def check(table: str, content: bytes) -> DecisionTable:
    """What loading the table as the engine does finds wrong, located (file, line, element), plus the
    decision id, inputs and outputs the discretion engine reads."""
    filename = filename_of(table)
    parsed = load_decision(filename, content)  # DeploymentInvalid with located problems
    problems = []
    if parsed.id != table:
        problems.append(Problem(f"the decision id must stay {table!r}, not {parsed.id!r}", file=filename, element_id=parsed.id))
    described = parsed.describe()
    inputs = {i["expression"] for i in described["inputs"]}
    outputs = {o["name"] for o in described["outputs"]}
    for name in sorted(REQUIRED[table]["inputs"] - inputs):
        problems.append(Problem(f"the input {name!r} is missing: the discretion engine gives it", file=filename,
                                element_id=parsed.id, field="inputs"))
    for name in sorted(REQUIRED[table]["outputs"] - outputs):
        problems.append(Problem(f"the output {name!r} is missing: the discretion engine reads it", file=filename,
                                element_id=parsed.id, field="outputs"))
    if problems:
        raise DeploymentInvalid(f"{filename} cannot replace the benchmark", problems)
    return parsed


def _view(unit: Unit, table: str, row: DiscretionTableVersion | None, content: bytes,
          parsed: DecisionTable | None = None) -> TableVersion:
    parsed = parsed or _parse(table, _sha(content), content)
    name = unit.session.scalar(select(User.name).where(User.id == row.saved_by)) if row is not None else ""
    return TableVersion(
        table, filename_of(table), row.version if row is not None else 0, row.sha256 if row is not None else _sha(content),
        row.saved_at if row is not None else None, row.saved_by if row is not None else None, name or "",
        parsed.name, parsed.rule_count,
    )

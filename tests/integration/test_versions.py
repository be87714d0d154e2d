"""Diff of two deployed versions: changed BPMN elements by id, and line diffs of changed files."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, func, select

from engine import definitions, versions
from engine.accounts import principal_for_username
from engine.core import Core
from engine.errors import InvalidInput
from engine.models import DefinitionFile, ProcessDefinition
from engine.settings import PROJECT_ROOT
from tests.conftest import empty_case_tables
from tests.support.bpmn_samples import minimal_bpmn

BPMN = PROJECT_ROOT / "processes" / "general_punishment.bpmn"
FORM = PROJECT_ROOT / "forms" / "verify_clue.schema.json"

WRAP = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
        '<bpmn:process id="p" isExecutable="true">{}</bpmn:process></bpmn:definitions>')


def elements(body: str) -> dict:
    return versions._elements(WRAP.format(body).encode(), "x.bpmn")


def test_element_changes_ignore_defaults_whitespace_and_children():  # type: ignore[no-untyped-def]
    old = elements('<bpmn:subProcess id="s" name="阶段"><bpmn:userTask id="a" name="甲"/></bpmn:subProcess>'
                   '<bpmn:boundaryEvent id="t" attachedToRef="a" cancelActivity="true"/><bpmn:task id="gone"/>')
    new = elements('<bpmn:subProcess id="s" name="阶段">\n  <bpmn:userTask id="a" name="乙"/>\n</bpmn:subProcess>'
                   '<bpmn:boundaryEvent id="t" attachedToRef="a"/><bpmn:task id="new" name="新"/>')
    assert [(c.element_id, c.change) for c in versions._element_changes(old, new)] == [
        ("a", "changed"), ("gone", "removed"), ("new", "added"),
    ]


@pytest.fixture
def designer(core: Core):  # type: ignore[no-untyped-def]
    """A unit of work as designer1; the versions it deploys are removed afterwards."""
    with core.db.transaction() as session:
        seeded = session.scalar(select(func.max(ProcessDefinition.id)))
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "designer1")
        yield unit
    with core.db.transaction() as session:
        empty_case_tables(session)  # the deployments' audit events too
        session.execute(delete(DefinitionFile).where(DefinitionFile.definition_id > seeded))
        session.execute(delete(ProcessDefinition).where(ProcessDefinition.id > seeded))


@pytest.fixture
def two_versions(designer):  # type: ignore[no-untyped-def]
    unit = designer
    form = json.loads(FORM.read_text(encoding="utf-8"))
    form["title"] = "核查线索（修订）"
    bpmn = BPMN.read_text(encoding="utf-8").replace('id="verify_clue" name="核查线索"', 'id="verify_clue" name="核查线索（修订）"')
    first = definitions._latest(unit, "general_punishment")
    second = definitions.deploy(unit, {
        BPMN.name: bpmn.encode(), FORM.name: json.dumps(form, ensure_ascii=False, indent=2).encode(),
    })
    return unit, first.id, second.id


def test_diff_of_two_versions(two_versions):  # type: ignore[no-untyped-def]
    unit, first, second = two_versions
    found = versions.diff(unit, first, second)
    assert (found.old.version, found.new.version) == (1, 2)
    assert [(c.element_id, c.change, c.name) for c in found.elements] == [("verify_clue", "changed", "核查线索（修订）")]
    changed = {f.filename: f for f in found.files}
    assert set(changed) == {"general_punishment.bpmn", "verify_clue.schema.json"}
    assert any(line.startswith("+") and "核查线索（修订）" in line for line in changed["verify_clue.schema.json"].lines)


def test_versions_of_different_procedures_are_not_compared(designer):  # type: ignore[no-untyped-def]
    other = definitions.deploy(designer, {"minimal.bpmn": minimal_bpmn("minimal_diff")})
    first = definitions._latest(designer, "general_punishment")
    with pytest.raises(InvalidInput):
        versions.diff(designer, first.id, other.id)

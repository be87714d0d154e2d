"""Editing a procedure's document template (engine/documents/editing.py) on SQLite and PostgreSQL: the
preview renders the edited text in the sandbox against a case in the editor's scope or the declared sample,
errors are located, and a save deploys a new version that keeps every other stored file."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from engine import definitions
from engine.accounts import principal_for_username
from engine.core import Core
from engine.demo import open_demo_case, run_steps
from engine.documents import editing
from engine.documents.rendering import DocumentTemplateError
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.models import DefinitionFile, ProcessDefinition
from tests.conftest import empty_case_tables

NAME = "filing_approval.html.j2"
PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}


@pytest.fixture
def seeded(core: Core) -> Iterator[int]:
    """The general procedure's seeded version; versions deployed by the test are removed afterwards."""
    with core.db.transaction() as session:
        newest = session.scalar(select(func.max(ProcessDefinition.id)))
    with core.unit() as unit:
        found = definitions.latest_executable(unit, "general_punishment").id
    yield found
    with core.db.transaction() as session:
        empty_case_tables(session)
        session.execute(delete(DefinitionFile).where(DefinitionFile.definition_id > newest))
        session.execute(delete(ProcessDefinition).where(ProcessDefinition.id > newest))


def as_user(core: Core, username: str) -> Any:
    with core.unit() as unit:
        actor = principal_for_username(unit, username)
    return core.unit(actor)


def test_preview_against_a_case_in_scope_or_the_sample(core: Core, seeded: int) -> None:
    case_id = open_demo_case(core, "440201003001", PARTY, "投诉：商品未明码标价")
    run_steps(core, case_id, ["verify_clue", "approve_filing"])
    with as_user(core, "admin") as unit:
        source = editing.template_source(unit, seeded, NAME).replace("<th>核查情况</th>", "<th>核查情况（修订）</th>")
        listed = editing.sample_cases(unit, seeded)
        real = editing.render(unit, seeded, NAME, source, case_id)
        sample = editing.render(unit, seeded, NAME, source)
    assert [c["id"] for c in listed] == [case_id]
    assert real.sample.startswith("穗天市监") and real.sample in real.html and PARTY["name"] in real.html
    assert "核查情况（修订）" in real.html and real.title == "立案审批表"
    assert sample.sample == "sample" and "核查情况（修订）" in sample.html
    # designer1 (the provincial department) sees no case of the Tianhe bureau.
    with as_user(core, "designer1") as unit:
        assert editing.sample_cases(unit, seeded) == []
        with pytest.raises(Forbidden):
            editing.render(unit, seeded, NAME, source, case_id)


def test_errors_are_located(core: Core, seeded: int) -> None:
    with as_user(core, "designer1") as unit:
        source = editing.template_source(unit, seeded, NAME)
        line = next(n for n, text in enumerate(source.splitlines(), 1) if "{{ case_number }}" in text)
        with pytest.raises(DocumentTemplateError) as syntax:
            editing.render(unit, seeded, NAME, source.replace("{{ case_number }}", "{{ case_number }", 1))
        with pytest.raises(DocumentTemplateError) as undefined:
            editing.render(unit, seeded, NAME, source.replace("{{ case_number }}", "{{ case_numbr }}", 1))
        with pytest.raises(DocumentTemplateError) as sandbox:
            editing.render(unit, seeded, NAME, source.replace("{{ case_number }}", "{{ ''.__class__.__mro__ }}", 1))
        with pytest.raises(InvalidInput):
            editing.render(unit, seeded, NAME, "   ")
        with pytest.raises(InvalidInput):
            editing.render(unit, seeded, NAME, ["not text"])
        with pytest.raises(NotFound):
            editing.render(unit, seeded, "verify_clue.schema.json", source)
    assert (syntax.value.problems[0].file, syntax.value.problems[0].line) == (NAME, line)
    assert undefined.value.problems[0].field == "case_numbr" and undefined.value.problems[0].line == line
    assert "sandbox" in sandbox.value.problems[0].message
    with as_user(core, "officer1") as unit, pytest.raises(Forbidden):
        editing.render(unit, seeded, NAME, source)
    with as_user(core, "reviewer1") as unit, pytest.raises(Forbidden):
        editing.save(unit, seeded, NAME, source)


def test_save_deploys_a_version_keeping_earlier_edits(core: Core, seeded: int) -> None:
    with as_user(core, "designer1") as unit:
        form = json.loads(definitions.file_content(unit, seeded, "verify_clue.schema.json"))
        form["title"] = "核查线索（修订）"
        with_form = definitions.redeploy(unit, seeded, {"verify_clue.schema.json": json.dumps(form, ensure_ascii=False).encode()})
        source = editing.template_source(unit, with_form.id, NAME).replace("<th>核查情况</th>", "<th>核查情况（修订）</th>")
        saved = editing.save(unit, with_form.id, NAME, source)
        assert editing.save(unit, saved.id, NAME, source).created is False
        with pytest.raises(InvalidInput) as refused:
            editing.save(unit, saved.id, NAME, source.replace("{% endfor %}", "", 1))
        template = definitions.file_content(unit, saved.id, NAME).decode("utf-8")
        kept = json.loads(definitions.file_content(unit, saved.id, "verify_clue.schema.json"))
    assert (with_form.version, saved.version, saved.created) == (2, 3, True)
    assert "核查情况（修订）" in template and kept["title"] == "核查线索（修订）"  # the form edit of v2 stays
    assert refused.value.problems[0].file == NAME

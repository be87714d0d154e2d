"""Task ids are plain strings, created or restored (engine/spiff/runtime.py, "Task ids are strings").

The adapter gives SpiffWorkflow `str` ids instead of `uuid.UUID` objects (they hash in C). If a
SpiffWorkflow upgrade moved the names the adapter replaces, tasks created after a restore would get
`UUID` ids again next to restored `str` ones; these tests say so at once.
"""
from __future__ import annotations

import json

import pytest

from engine.errors import NotFound
from tests.engine.test_general_procedure import case_data, verify_form


def _ids(inst) -> list[object]:
    return [t.id for t in inst.all_tasks()] + [c for t in inst.all_tasks() for c in t._children]


def test_ids_are_strings_when_created_and_after_restore(runtime, general_definition):
    inst = runtime.start(general_definition, case_data())
    assert {type(i) for i in _ids(inst)} == {str}

    stored = json.loads(json.dumps(inst.dump()))
    restored = runtime.restore(general_definition, stored)
    assert {type(i) for i in _ids(restored)} == {str}
    assert sorted(map(str, _ids(restored))) == sorted(map(str, _ids(inst)))

    (verify,) = [t for t in restored.ready_tasks() if t.bpmn_id == "verify_clue"]
    restored.complete_task(verify.id, verify_form("not_file"))  # new tasks made after a restore
    assert {type(i) for i in _ids(restored)} == {str}
    assert [t.bpmn_id for t in restored.ready_tasks()] == ["approve_filing"]


@pytest.mark.parametrize("task_id", ["not-a-task", "", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_task_id_is_not_found(runtime, general_definition, task_id):
    inst = runtime.start(general_definition, case_data())
    with pytest.raises(NotFound):
        inst.complete_task(task_id, {})

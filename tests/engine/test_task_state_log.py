"""A task's state change builds its log record only when SpiffWorkflow's task log is on
(engine/spiff/runtime.py, "A task's state change builds its log record only when the log is on").

The adapter replaces `Task._set_state`; these tests fail if a SpiffWorkflow upgrade renames what it
replaces, or if the replacement stops changing states or stops giving the records SpiffWorkflow gives.
"""
from __future__ import annotations

import logging

from tests.engine.test_general_procedure import case_data, verify_form

SPIFF_TASK_LOG = "spiff.task"


def test_the_replacement_is_the_method_spiffworkflow_calls(runtime, general_definition, monkeypatch):
    inst = runtime.start(general_definition, case_data())
    task = inst.all_tasks()[0]
    assert type(task)._set_state.__module__ == "engine.spiff.runtime"
    # With the log off, a completion collects no log extras: SpiffWorkflow's own state change (or a renamed
    # one the adapter no longer replaces) would collect them on every change.
    collected = []
    original = type(task).collect_log_extras
    monkeypatch.setattr(type(task), "collect_log_extras", lambda self, *a: collected.append(1) or original(self, *a))
    (verify,) = [t for t in inst.ready_tasks() if t.bpmn_id == "verify_clue"]
    inst.complete_task(verify.id, verify_form("not_file"))
    assert [t.bpmn_id for t in inst.ready_tasks()] == ["approve_filing"]
    assert collected == []


def test_states_change_and_no_record_is_made_when_the_log_is_off(runtime, general_definition, caplog):
    caplog.set_level(logging.WARNING, logger=SPIFF_TASK_LOG)
    inst = runtime.start(general_definition, case_data())
    (verify,) = [t for t in inst.ready_tasks() if t.bpmn_id == "verify_clue"]
    inst.complete_task(verify.id, verify_form("not_file"))
    assert [t.bpmn_id for t in inst.ready_tasks()] == ["approve_filing"]
    assert [r for r in caplog.records if r.name == SPIFF_TASK_LOG] == []


def test_records_are_spiffworkflows_when_the_log_is_on(runtime, general_definition, caplog):
    caplog.set_level(logging.DEBUG, logger=SPIFF_TASK_LOG)
    inst = runtime.start(general_definition, case_data())
    (verify,) = [t for t in inst.ready_tasks() if t.bpmn_id == "verify_clue"]
    caplog.clear()
    inst.complete_task(verify.id, verify_form("not_file"))
    changed = [r for r in caplog.records if r.name == SPIFF_TASK_LOG and r.getMessage() == "State changed to COMPLETED"]
    assert changed, "completing a task logs its state change at INFO"
    record = next(r for r in changed if r.task_spec == "verify_clue")
    assert record.levelno == logging.INFO
    assert record.task_id == verify.id and record.state == "COMPLETED" and record.elapsed >= 0
    assert record.workflow_spec and record.task_type and "data" in record.__dict__  # DEBUG adds the data

"""Decision tables evaluated on their own (the discretion benchmarks), with SpiffWorkflow's DMN engine.

A file is checked exactly as deployment checks DMN (XML safety, one decision, supported hit policy,
every entry and expression through the script allowlist), then parsed by SpiffWorkflow. Evaluation
runs the table's expressions in the same restricted script engine as BPMN scripts. SpiffWorkflow
supports first match (UNIQUE) and COLLECT only (SPIFFWORKFLOW-NOTES.md, DMN).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from engine.errors import DeploymentInvalid, WorkflowError
from engine.xmlsafe import DEFAULT_MAX_BYTES

from .parsing import _BundleChecker, _BundleParser
from .scripts import make_script_engine

_SCRIPT_ENGINE = make_script_engine({})


@dataclass
class DecisionTable:
    id: str
    name: str
    filename: str
    hit_policy: str
    rule_count: int
    _engine: DMNEngine

    def evaluate(self, context: dict[str, Any]) -> dict[str, Any]:
        """The outputs of the first matching rule ({} when none matches); for COLLECT, lists per output,
        plus `matched_rules`: the 1-based numbers of the rules that matched."""
        task = SimpleNamespace(data=dict(context), workflow=SimpleNamespace(script_engine=_SCRIPT_ENGINE))
        try:
            rules = self._engine.decide(task)
            result = self._engine.result(task)
        except Exception as exc:  # expressions are user-written: any failure is a workflow error
            raise WorkflowError(f"decision {self.id} ({self.filename}) could not be evaluated: {exc}") from exc
        return {**result, "matched_rules": [r.row_number for r in rules]}


    def describe(self) -> dict[str, Any]:
        """The table as published data: its inputs, outputs and every rule in order (first match wins)."""
        table = self._engine.decision_table
        return {
            "id": self.id, "name": self.name, "file": self.filename, "hit_policy": self.hit_policy,
            "inputs": [{"label": i.label, "expression": i.expression} for i in table.inputs],
            "outputs": [{"label": o.label, "name": o.name} for o in table.outputs],
            "rules": [
                {"number": r.row_number, "description": r.description,
                 "when": [" ".join(e.lhs) if any(e.lhs) else "-" for e in r.inputEntries],
                 "then": [o.text for o in r.outputEntries]}
                for r in table.rules
            ],
        }


def load_decision(filename: str, content: bytes) -> DecisionTable:
    checker = _BundleChecker({filename: content}, None, None, False, None, DEFAULT_MAX_BYTES)
    checker.load_files()
    if not checker.problems:
        checker.check_dmn()
    if checker.problems or not checker.decisions:
        problems = checker.problems.items
        raise DeploymentInvalid(f"{filename} is not a usable decision table", problems)
    (decision_id,) = checker.decisions
    doc = checker.docs[0]
    parser = _BundleParser()
    try:
        parser.add_dmn_xml(doc.root, filename=filename)
        engine = parser.get_engine(decision_id, doc.root)
    except Exception as exc:  # never let a parser error escape unlocated
        checker.spiff_problem(exc, default_file=filename, fallback=doc.root)
        raise DeploymentInvalid(f"{filename} could not be parsed", checker.problems.items) from exc
    table = engine.decision_table
    name = parser.dmn_parsers[decision_id].get_name()
    return DecisionTable(decision_id, name, filename, table.hit_policy, len(table.rules), engine)

"""Scripts and expressions in BPMN are untrusted: checked at deploy time, run with restricted builtins.

(Minimal first version; the allowlist checker grows here.)
"""
from __future__ import annotations

from typing import Any, Callable

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

SAFE_BUILTINS: dict[str, Any] = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "abs", "all", "any", "bool", "dict", "enumerate", "float", "int", "len", "list", "max",
        "min", "range", "round", "set", "sorted", "str", "sum", "tuple", "zip", "True", "False", "None",
    )
}


def make_script_engine(functions: dict[str, Callable[..., Any]]) -> PythonScriptEngine:
    """A script engine whose scripts see only safe builtins and the injected functions."""
    env_globals = {"__builtins__": dict(SAFE_BUILTINS), **functions}
    return PythonScriptEngine(environment=TaskDataEnvironment(env_globals))

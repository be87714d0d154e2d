"""Modules that can be the first one a process imports, and are not `engine.models`. `engine.models` imports
the feature modules that hold tables at its end; a feature module that imports services at module level
closes a cycle that only shows when something else is imported first (`zhifa bench generate` did:
engine.accounts → audit → models → discretion_store → accounts). Each in a fresh interpreter."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_IMPORTS = [
    "engine.accounts", "engine.audit", "engine.record_models", "engine.calendar_models", "engine.discretion_models",
    "engine.discretion_store", "engine.inspection_models", "engine.documents.models", "engine.publicity.models",
    "engine.supervision.models", "engine.supervision.matter_models", "engine.supervision.generator",
]


@pytest.mark.parametrize("name", FIRST_IMPORTS)
def test_module_imports_first(name: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import {name}"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]

"""The declared sample context of a template: templates/samples/_base.json (what the engine gives every
template) under templates/samples/<name>.json (the template's own data), plus a sample `document`.
Used by the test that renders every template and by `zhifa document render`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput, Problem

from .rendering import stem

SAMPLE_DOCUMENT = {"number": "穗天市监样〔2026〕1号", "verification_code": "7K2M-QX9D-3HPA-W0ZE-R4TB", "issued_on": "2026-03-20"}


def sample_context(templates_dir: Path, name: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    samples = Path(templates_dir) / "samples"
    own = data if data is not None else _load(samples / f"{stem(name)}.json")
    return {**_load(samples / "_base.json"), **own, "document": dict(SAMPLE_DOCUMENT)}


def _load(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"there is no sample {path.name}", [Problem("missing sample context", file=path.name)]) from None
    except ValueError as exc:
        raise InvalidInput(f"{path.name} is not JSON: {exc}", [Problem(str(exc), file=path.name)]) from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{path.name} must hold a JSON object", [Problem("not an object", file=path.name)])
    return loaded

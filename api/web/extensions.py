"""Places where other capabilities plug their parts into the pages.

The case page renders, after its own sections, every `CaseSection` registered here. The documents
feature (generated legal documents: preview, download) and the evidence feature (gallery, capture with
`<input capture>`, resumable upload) are built on other branches; each registers its section here, e.g.

    extensions.case_sections.append(CaseSection("evidence", "evidence/_case_section.html", lambda u, case: True))

Until they land the case page says plainly that these parts are not available yet.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CaseSection:
    name: str  # "documents" | "evidence" | ...: replaces the "not available yet" note of that name
    template: str  # rendered with `case` (engine.cases.CaseView) in its context
    visible: Callable[[Any, Any], bool]  # (unit, case) -> bool
    data: Callable[[Any, Any], dict[str, Any]] | None = None  # (unit, case) -> extra names for the template


case_sections: list[CaseSection] = []
PENDING_SECTIONS = ("documents", "evidence")  # shown as "not available yet" until registered

"""What tells a supervision matter (监督事项) from an enforcement case, for every count that is about
enforcement: the matter is a case of the internal matter `SUPERVISION_MATTER`, and its rectification
deadline is a timer of kind `SUPERVISION_TIMER_KIND` (docs/supervision.md §6).
"""
from __future__ import annotations

from typing import Any

from engine.models import Case, TimerRow

SUPERVISION_MATTER = "SUPERVISION"  # not a catalogue code (those are 12 digits): never shown as a matter
SUPERVISION_CATEGORY = "supervision"
SUPERVISION_TIMER_KIND = "supervision"
SUPERVISION_PROCESS = "supervision_matter"  # processes/supervision_matter.bpmn, started by the internal matter
SUPERVISION_LANES = ["supervisor", "agency_head"]  # the supervising bureau's staff; the supervised agency's head


def enforcement_case() -> Any:
    """WHERE clause: the case is an enforcement case, not a supervision matter."""
    return Case.matter_code != SUPERVISION_MATTER


def enforcement_timer() -> Any:
    """WHERE clause: the timer is an enforcement time limit, not a supervision matter's deadline."""
    return TimerRow.kind.is_distinct_from(SUPERVISION_TIMER_KIND)


def is_supervision(case: Case) -> bool:
    return case.matter_code == SUPERVISION_MATTER

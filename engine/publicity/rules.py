"""Publicity rules per sector (engine/data/publicity.json): when a decision must be published (D3),
withdrawn (D7), how long it stays public (D5) and what is not published at all (warnings only under
SAMR Order 45). Law is data: every rule carries its citation.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from engine.calendar import LegalCalendar


@dataclass(frozen=True)
class Period:
    amount: int
    unit: str
    legal_basis: str

    def due(self, calendar: LegalCalendar, start: datetime) -> datetime:
        return calendar.due(start, self.amount, self.unit).at


@dataclass(frozen=True)
class SectorRules:
    sector: str
    publish_within: Period
    withdraw_within: Period
    duration: Period
    short_duration: Period | None
    short_penalties: frozenset[str]
    short_fine_at_most: float | None
    short_fine_verified: bool  # False: the "low fine" threshold is a placeholder legal staff must set (D5, [U])
    not_published_if_only: frozenset[str]
    not_published_basis: str | None

    def exempt(self, penalties: list[str]) -> bool:
        """Not published at all: every penalty is of an exempt kind (e.g. a warning only)."""
        return bool(penalties) and bool(self.not_published_if_only) and set(penalties) <= self.not_published_if_only

    def threshold_unverified(self, penalties: list[str]) -> bool:
        """The period of these penalties depends on the unverified "low fine" placeholder (D5, [U])."""
        return (self.short_duration is not None and self.short_fine_at_most is not None and not self.short_fine_verified
                and "fine" in penalties and set(penalties) <= self.short_penalties)

    def public_for(self, penalties: list[str], fine_amount: float) -> Period:
        """How long the record stays public: the short period for light penalties, else the long one."""
        short = self.short_duration
        light = self.short_fine_at_most is None or fine_amount <= self.short_fine_at_most
        if short is not None and set(penalties) <= self.short_penalties and light:
            return short
        return self.duration


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return json.loads(resources.files("engine").joinpath("data/publicity.json").read_text(encoding="utf-8"))


def rules_for(sector: str) -> SectorRules:
    data = _data()
    merged = {**data["default"], **data["sectors"].get(sector, {})}
    short = merged.get("short_duration")
    return SectorRules(
        sector=sector,
        publish_within=_period(merged["publish_within"]),
        withdraw_within=_period(merged["withdraw_within"]),
        duration=_period(merged["duration"]),
        short_duration=_period(short) if short else None,
        short_penalties=frozenset(short.get("penalties_within", [])) if short else frozenset(),
        short_fine_at_most=short.get("fine_at_most") if short else None,
        short_fine_verified=bool(short.get("fine_at_most_verified", True)) if short else True,
        not_published_if_only=frozenset(merged.get("not_published_if_only") or []),
        not_published_basis=merged.get("not_published_basis"),
    )


def _period(item: dict[str, Any]) -> Period:
    return Period(int(item["amount"]), str(item["unit"]), str(item["legal_basis"]))

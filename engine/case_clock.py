"""The clock of a case: suspension (中止) and resumption, excluded periods, approved extensions.

A statutory timer's due date is counted from its clock start (`clock_start` property) over its
limit (`limit` property) with the legal calendar. The case clock changes that count; its record is
kept with the timer in the workflow state (`TimerView.clock`):

``{"extended": N, "extensions": [...], "stops": [{"kind", "from", "to", ...}], "suspended_since": day}``

* an approved extension adds N units of the limit's own unit (P2: +15 working days, SAMR-Proc
  Art. 18; P5: +30 days, then further periods by collective discussion, SAMR-Proc Art. 64);
* an excluded period (testing, appraisal, hearing, public notice, ... SAMR-Proc Art. 18, 64) from
  day A to day B does not count: the days after A up to and including B are added back (for a
  working-day limit, the working days among them);
* a suspension stops the timer (it cannot fire and has no due date) from its first day until the
  case resumes; it then counts as an excluded period.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from engine import calendar as legal_calendar

ONE_DAY = timedelta(days=1)


def excluded_units(cal: legal_calendar.LegalCalendar, unit: str, stops: list[Mapping[str, Any]]) -> int:
    """How many units of ``unit`` the closed stops take out of the count."""
    total = 0
    for stop in stops:
        first, last = date.fromisoformat(stop["from"]), date.fromisoformat(stop["to"])
        if unit == "working_days":
            total += sum(1 for i in range(1, (last - first).days + 1) if cal.is_working_day(first + i * ONE_DAY))
        else:
            total += (last - first).days
    return total


def timer_due(
    cal: legal_calendar.LegalCalendar, started_at: str, amount: int, unit: str, clock: Mapping[str, Any] | None
) -> legal_calendar.Due:
    """The due date of a statutory period with the case-clock changes applied."""
    clock = clock or {}
    unit = legal_calendar.UNITS.get(unit, unit)
    extended = int(clock.get("extended") or 0)
    stops = list(clock.get("stops") or [])
    if unit == "hours" or not (extended or stops):
        return cal.due(started_at, amount + (extended if unit == "hours" else 0), unit)
    extra = excluded_units(cal, unit, stops)
    if unit in ("working_days", "calendar_days"):
        return cal.due(started_at, amount + extended + extra, unit)
    base = cal.due(started_at, amount, unit)  # months / years: the month rule, then days added back
    start = legal_calendar.legal_date(started_at)
    end = cal.add_calendar_days(_unrolled_month_end(start, amount, unit), extended + extra)
    provisional = base.provisional or any(cal.is_provisional_year(y) for y in range(start.year, end.year + 1))
    return legal_calendar.Due(date=end, at=legal_calendar._end_of_day(end), provisional=provisional)


def _unrolled_month_end(start: date, amount: int, unit: str) -> date:
    return legal_calendar._add_months(start, amount * 12 if unit == "years" else amount)

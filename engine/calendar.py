"""The legal calendar: working days, statutory periods and the late-payment fine.

Rules implemented (docs: /work/shared/legal/time-limits.md sections 0, 2 and 5):

* Working day (工作日), convention 1: Monday to Friday minus the rest days of the State Council
  holiday arrangement, plus the adjusted working weekend days (调休上班). Which limits are counted
  in working days is the caller's choice of unit (APL Art. 85, ACL Art. 69, ARL Art. 88).
* The start day is not counted (CPL Art. 85(2); SAMR-Proc Art. 80; Civil Code Art. 201).
* Last-day rule: a period whose last day is a 法定休假日 ends on the first day after it
  (CPL Art. 85(3); Civil Code Art. 203). Convention 2: ordinary weekends are rest days for this
  rule, adjusted working weekend days are not, so a period can end on a 调休 working Saturday.
* Working-day periods end on the N-th working day strictly after the start day (convention 3).
* Calendar-day periods end on start + N days, rolled forward while that day is not a working
  day (convention 4); rest days inside the period are counted.
* Month and year periods end on the corresponding day of the final month, or on that month's
  last day when it has none (Civil Code Art. 202), then the last-day rule applies.
* Hour periods end exactly N hours after the start instant; no roll-forward.
* A day period ends at 24:00 of its last day (Civil Code Art. 203(2)); `Due.at` is 23:59:59.

Holidays come from the State Council notices in ``engine/data/holidays.json`` (holiday-cn
shape). A year with no published notice, from the earliest data year on, is built
*provisionally* from 全国年节及纪念日放假办法 Art. 2 (revision of 2024-11-10): 13 statutory
days, weekends off, no adjusted working days. Every result that looked at a provisional day is
flagged ``provisional``. Years before the earliest data year raise `CalendarUnavailable`.

The two interpretive choices of section 0 / 5.1 are constructor parameters of `LegalCalendar`:

* ``adjusted_weekend_is_working`` (default True): a 调休 working weekend day is a 工作日.
  False treats it like an ordinary weekend day.
* ``weekend_is_rest_for_last_day`` (default True): the last-day rule also skips ordinary
  weekends (公休日). False skips only the notice's holiday rest days.

All legal dates are dates in China time (UTC+8). Inputs may be a `date`, an aware `datetime`
(converted to +08:00 first) or an ISO 8601 string (a date, or a date-time with an offset);
naive date-times are refused rather than guessed.

The late-payment fine follows APL Art. 72(1): 3% of the fine per day late, counted in calendar
days from the day after the due date to the payment date inclusive, never more than the fine
(ACL Art. 45; time-limits.md P13). Suspensions (APL Art. 73(3)) and reductions (ACL Art. 42)
are the caller's business.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

from lunardate import LunarDate

from engine.clock import CHINA_TZ
from engine.errors import CalendarUnavailable, InvalidInput, Problem

__all__ = [
    "UNITS",
    "Due",
    "LegalCalendar",
    "deadline",
    "due",
    "late_fee",
    "legal_date",
    "load_default_calendar",
    "provisional_year_entry",
    "qingming",
]

ONE_DAY = timedelta(days=1)
END_OF_DAY = time(23, 59, 59)
CENT = Decimal("0.01")
DATA_PACKAGE = "engine"
DATA_FILE = "data/holidays.json"
LUNAR_LAST_YEAR = 2099  # lunardate covers lunar years 1900-2099
PROVISIONAL_BASIS = "全国年节及纪念日放假办法 Art. 2 (revised 2024-11-10); weekends off; no 调休"

UNITS: dict[str, str] = {
    "working_days": "working_days",
    "working": "working_days",
    "calendar_days": "calendar_days",
    "calendar": "calendar_days",
    "days": "calendar_days",
    "months": "months",
    "years": "years",
    "hours": "hours",
}


@dataclass(frozen=True)
class Due:
    """When a period ends.

    ``date`` is the legal due date; ``at`` the last instant of it (23:59:59 +08:00), or for an
    hour period the exact instant; ``provisional`` is True when a day of a year without a
    published holiday notice was examined while counting.
    """

    date: date
    at: datetime
    provisional: bool = False


# ---------------------------------------------------------------------------------------------
# Input conversion


def legal_date(value: date | datetime | str) -> date:
    """The China (UTC+8) calendar date of a date, an aware datetime or an ISO 8601 string."""
    parsed = _parse(value)
    if isinstance(parsed, datetime):
        return parsed.astimezone(CHINA_TZ).date()
    return parsed


def _instant(value: date | datetime | str) -> datetime:
    """An aware instant in +08:00; a bare date has no instant and is refused."""
    parsed = _parse(value)
    if not isinstance(parsed, datetime):
        raise TypeError(f"an hour period needs a start instant with an offset, not {parsed}")
    return parsed.astimezone(CHINA_TZ)


def _parse(value: date | datetime | str) -> date | datetime:
    if isinstance(value, str):
        value = _parse_iso(value.strip())
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"datetime {value.isoformat()} has no UTC offset; refusing to guess")
        return value
    if isinstance(value, date):
        return value
    kind = type(value).__name__
    raise TypeError(f"expected a date, an aware datetime or an ISO string, got {kind}")


def _parse_iso(text: str) -> date | datetime:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date or date-time: {text!r}") from None


def _end_of_day(d: date) -> datetime:
    return datetime.combine(d, END_OF_DAY, CHINA_TZ)


def _add_months(start: date, months: int) -> date:
    """Civil Code Art. 202: corresponding day of the final month, or its last day."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(start.day, _month_length(year, month + 1)))


def _month_length(year: int, month: int) -> int:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - ONE_DAY).day


def _canonical_unit(unit: str) -> str:
    try:
        return UNITS[unit]
    except (KeyError, TypeError):
        known = ", ".join(sorted(UNITS))
        raise ValueError(f"unknown period unit {unit!r}; known units: {known}") from None


def _check_amount(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"period amount must be an integer, got {amount!r}")
    if amount < 0:
        raise ValueError(f"period amount must not be negative, got {amount}")
    return amount


# ---------------------------------------------------------------------------------------------
# Provisional years (全国年节及纪念日放假办法 Art. 2)


def qingming(year: int) -> date:
    """The 清明 solar term (4 or 5 April), by the 寿星 formula [Y*D+C]-L, valid 2000-2099."""
    if not 2000 <= year <= 2099:
        raise CalendarUnavailable(f"cannot compute 清明 for {year}: formula valid 2000-2099 only")
    y = year % 100
    return date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


def _lunar(year: int, month: int, day: int) -> date:
    lunar = LunarDate(year, month, day)
    to_solar = getattr(lunar, "to_solar_date", None) or lunar.toSolarDate  # lunardate 0.2 / 0.3
    return to_solar()


def provisional_year_entry(year: int) -> dict[str, Any]:
    """A holiday-cn style entry for a year without a notice, built from the statutory days."""
    if not 2000 <= year <= LUNAR_LAST_YEAR:
        raise CalendarUnavailable(f"no provisional calendar can be built for {year}")
    new_year = _lunar(year, 1, 1)
    blocks = [
        ("元旦", [date(year, 1, 1)]),
        ("春节", [new_year - ONE_DAY] + [new_year + i * ONE_DAY for i in range(3)]),
        ("清明节", [qingming(year)]),
        ("劳动节", [date(year, 5, 1), date(year, 5, 2)]),
        ("端午节", [_lunar(year, 5, 5)]),
        ("中秋节", [_lunar(year, 8, 15)]),
        ("国庆节", [date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)]),
    ]
    days = [
        {"name": name, "date": d.isoformat(), "isOffDay": True} for name, ds in blocks for d in ds
    ]
    days.sort(key=lambda item: item["date"])
    return {
        "year": year,
        "provisional": True,
        "basis": PROVISIONAL_BASIS,
        "papers": [],
        "days": days,
    }


# ---------------------------------------------------------------------------------------------
# Year entry validation


def _validate_entry(entry: Mapping[str, Any]) -> list[Problem]:
    year = entry.get("year") if isinstance(entry, Mapping) else None
    if isinstance(year, bool) or not isinstance(year, int):
        return [Problem("a year entry needs an integer 'year'", field="year")]
    days = entry.get("days")
    if not isinstance(days, list):
        return [Problem(f"{year}: 'days' must be a list", field="days")]
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, day in enumerate(days):
        problems.extend(_validate_day(year, i, day, seen))
    return problems


def _validate_day(year: int, i: int, day: Any, seen: set[str]) -> list[Problem]:
    field = f"days[{i}]"
    if not isinstance(day, Mapping) or not isinstance(day.get("isOffDay"), bool) \
            or not isinstance(day.get("name", ""), str):
        message = f"{year}: each day needs 'date', 'name' and a boolean 'isOffDay'"
        return [Problem(message, field=field)]
    try:
        d = date.fromisoformat(str(day.get("date")))
    except ValueError:
        return [Problem(f"{year}: not an ISO date: {day.get('date')!r}", field=field)]
    problems = []
    if abs(d.year - year) > 1:
        problems.append(Problem(f"{year}: {d} is too far from the notice year", field=field))
    if d.isoformat() in seen:
        problems.append(Problem(f"{year}: {d} is listed twice", field=field))
    if not day["isOffDay"] and d.weekday() < 5:
        message = f"{year}: adjusted working day {d} is not a weekend day"
        problems.append(Problem(message, field=field))
    seen.add(d.isoformat())
    return problems


def _marks_of(entries: Iterable[Mapping[str, Any]]) -> dict[date, tuple[bool, str]]:
    """date -> (isOffDay, name); a notice's own-year days win over a neighbour's spill-over."""
    marks: dict[date, tuple[bool, str]] = {}
    ordered = sorted(entries, key=lambda e: e["year"])
    for own_year_pass in (False, True):
        for entry in ordered:
            for day in entry["days"]:
                d = date.fromisoformat(day["date"])
                if (d.year == entry["year"]) == own_year_pass:
                    marks[d] = (day["isOffDay"], str(day.get("name", "")))
    return marks


# ---------------------------------------------------------------------------------------------
# The calendar


class LegalCalendar:
    """Working days and period ends under the State Council holiday data.

    Parameters (section 0 / 5.1 interpretive choices; record them in configuration):
      adjusted_weekend_is_working: a 调休 working weekend day is a 工作日 (default True).
      weekend_is_rest_for_last_day: the last-day rule also moves past ordinary weekends
        (default True); when False only the notice's holiday rest days are skipped.
      allow_provisional: years without a notice (from the earliest data year on) are built
        from the statute and flagged; when False they raise `CalendarUnavailable`.
    """

    def __init__(
        self,
        years: Iterable[Mapping[str, Any]],
        *,
        adjusted_weekend_is_working: bool = True,
        weekend_is_rest_for_last_day: bool = True,
        allow_provisional: bool = True,
        version: str | None = None,
    ) -> None:
        entries = {entry["year"]: dict(entry) for entry in _checked(years)}
        if not entries:
            raise InvalidInput("a legal calendar needs at least one year of holiday data")
        self._entries = entries
        self._marks = _marks_of(entries.values())
        self._provisional_marks: dict[int, dict[date, tuple[bool, str]]] = {}
        self._counted: dict[tuple[date, int, str], Due] = {}  # a calendar never changes (with_year makes a new one)
        self.adjusted_weekend_is_working = adjusted_weekend_is_working
        self.weekend_is_rest_for_last_day = weekend_is_rest_for_last_day
        self.allow_provisional = allow_provisional
        self.version = version

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **options: Any) -> LegalCalendar:
        """Build from the data file's shape: ``{"version": ..., "years": [entry, ...]}``."""
        years = data.get("years")
        if not isinstance(years, list):
            problem = Problem("a list of year entries is required", field="years")
            raise InvalidInput("holiday data needs a 'years' list", [problem])
        return cls(years, version=data.get("version"), **options)

    def with_year(self, entry: Mapping[str, Any]) -> LegalCalendar:
        """A new calendar with ``entry`` (one holiday-cn year) added, or replacing that year."""
        years = {**self._entries, **{e["year"]: e for e in _checked([entry])}}
        return LegalCalendar(years.values(), **self.options())

    def options(self) -> dict[str, Any]:
        return {
            "adjusted_weekend_is_working": self.adjusted_weekend_is_working,
            "weekend_is_rest_for_last_day": self.weekend_is_rest_for_last_day,
            "allow_provisional": self.allow_provisional,
            "version": self.version,
        }

    # -- years ------------------------------------------------------------------------------

    @property
    def data_years(self) -> list[int]:
        """Years with a loaded entry (published notices, plus any loaded provisional entry)."""
        return sorted(self._entries)

    def year_entry(self, year: int) -> dict[str, Any]:
        """The holiday-cn entry used for ``year``: published data, or the provisional one."""
        if year in self._entries:
            return copy.deepcopy(self._entries[year])
        self._require_year(year)
        return provisional_year_entry(year)

    def is_provisional_year(self, year: int) -> bool:
        """True for a year from the earliest data year on that has no published notice.

        An entry loaded with ``"provisional": true`` (see `provisional_year_entry`) also counts.
        """
        if year in self._entries:
            return bool(self._entries[year].get("provisional"))
        return year >= self.data_years[0]

    def provisional_years(self, until: int | None = None) -> list[int]:
        """Years without a notice from the earliest data year to ``until`` (default: last + 1)."""
        last = self.data_years[-1] + 1 if until is None else until
        return [y for y in range(self.data_years[0], last + 1) if self.is_provisional_year(y)]

    def _require_year(self, year: int) -> None:
        if year < self.data_years[0]:
            raise CalendarUnavailable(
                f"no holiday data for {year}; the calendar starts in {self.data_years[0]}"
            )
        if year not in self._entries and not self.allow_provisional:
            raise CalendarUnavailable(f"no State Council holiday notice loaded for {year}")

    def _mark(self, d: date) -> tuple[bool, str] | None:
        self._require_year(d.year)
        if d in self._marks or d.year in self._entries:
            return self._marks.get(d)
        return self._provisional_year_marks(d.year).get(d)

    def _provisional_year_marks(self, year: int) -> dict[date, tuple[bool, str]]:
        if year not in self._provisional_marks:
            self._provisional_marks[year] = _marks_of([provisional_year_entry(year)])
        return self._provisional_marks[year]

    # -- days -------------------------------------------------------------------------------

    def is_working_day(self, d: date | datetime | str) -> bool:
        """Convention 1: Mon-Fri minus holiday rest days, plus adjusted working weekend days."""
        day = legal_date(d)
        mark = self._mark(day)
        if mark is None:
            return day.weekday() < 5
        is_off, _ = mark
        return not is_off and self.adjusted_weekend_is_working

    def is_rest_day(self, d: date | datetime | str) -> bool:
        return not self.is_working_day(d)

    def holiday_name(self, d: date | datetime | str) -> str | None:
        """The notice's name for a listed day (rest or adjusted working), else None."""
        mark = self._mark(legal_date(d))
        return mark[1] if mark else None

    def _closes_period(self, d: date) -> bool:
        """May a period end on ``d`` (last-day rule, convention 2)?"""
        if self.weekend_is_rest_for_last_day:
            return self.is_working_day(d)
        mark = self._mark(d)
        return mark is None or not mark[0]

    def _roll_forward(self, d: date) -> date:
        while not self._closes_period(d):
            d += ONE_DAY
        return d

    # -- counting ---------------------------------------------------------------------------

    def add_working_days(self, start: date, amount: int) -> date:
        """The ``amount``-th working day strictly after ``start`` (0: start, rolled forward)."""
        if amount == 0:
            return self._roll_working(start)
        d, counted = start, 0
        while counted < amount:
            d += ONE_DAY
            counted += self.is_working_day(d)
        return d

    def _roll_working(self, d: date) -> date:
        while not self.is_working_day(d):
            d += ONE_DAY
        return d

    def add_calendar_days(self, start: date, amount: int) -> date:
        """start + amount days, then the last-day rule."""
        return self._roll_forward(start + timedelta(days=amount))

    def add_months(self, start: date, amount: int) -> date:
        """Civil Code Art. 202 month end, then the last-day rule."""
        return self._roll_forward(_add_months(start, amount))

    def due(self, start: date | datetime | str, amount: int, unit: str) -> Due:
        """When a period of ``amount`` ``unit`` starting at ``start`` ends."""
        unit = _canonical_unit(unit)
        amount = _check_amount(amount)
        if unit == "hours":
            at = _instant(start) + timedelta(hours=amount)
            return Due(date=at.date(), at=at, provisional=False)
        key = (legal_date(start), amount, unit)
        found = self._counted.get(key)
        if found is None:  # every case started on one day shares its periods: count each once
            if len(self._counted) > 50_000:
                self._counted.clear()
            first, end = self._count(key[0], amount, unit)
            found = self._counted[key] = Due(date=end, at=_end_of_day(end), provisional=self._touches_provisional(first, end))
        return found

    def _count(self, start: date, amount: int, unit: str) -> tuple[date, date]:
        """(first day examined, due date) for a day-based unit."""
        if unit == "working_days":
            first = start + ONE_DAY if amount else start
            return first, self.add_working_days(start, amount)
        months = amount * 12 if unit == "years" else amount
        if unit in ("months", "years"):
            target = _add_months(start, months)
        else:
            target = start + timedelta(days=amount)
        return target, self._roll_forward(target)

    def _touches_provisional(self, first: date, last: date) -> bool:
        return any(self.is_provisional_year(y) for y in range(first.year, last.year + 1))

    def deadline(self, start: date | datetime | str, amount: int, unit: str) -> str:
        """ISO 8601 end of the period, e.g. ``"2026-03-17T23:59:59+08:00"``."""
        return self.due(start, amount, unit).at.isoformat()


def _checked(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    entries = list(entries)
    problems = [p for entry in entries for p in _validate_entry(entry)]
    if problems:
        raise InvalidInput("holiday data is not valid", problems)
    return entries


# ---------------------------------------------------------------------------------------------
# Module-level entry points


@lru_cache(maxsize=1)
def load_default_calendar() -> LegalCalendar:
    """The calendar of the packaged ``engine/data/holidays.json`` (cached)."""
    text = resources.files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return LegalCalendar.from_dict(json.loads(text))


def due(start: date | datetime | str, amount: int, unit: str) -> Due:
    """`LegalCalendar.due` on the default calendar."""
    return load_default_calendar().due(start, amount, unit)


def deadline(start: date | datetime | str, amount: int, unit: str) -> str:
    """For BPMN timer expressions: ISO end of the period, e.g. "2026-03-17T23:59:59+08:00"."""
    return load_default_calendar().deadline(start, amount, unit)


def late_fee(
    fine: Decimal | int | str,
    due_at: date | datetime | str,
    paid_at: date | datetime | str,
    rate: Decimal | str = "0.03",
) -> str:
    """APL Art. 72(1) additional fine: ``rate`` x fine per calendar day late, capped at the fine.

    Days late = days from the day after the due date to the payment date inclusive, on legal
    (+08:00) dates. Returns a 2-decimal string, "0.00" when paid in time.
    """
    amount = _money(fine, "fine")
    per_day = _money(rate, "rate")
    days_late = max(0, (legal_date(paid_at) - legal_date(due_at)).days)
    fee = min(amount * per_day * days_late, amount)
    return str(fee.quantize(CENT, rounding=ROUND_HALF_UP))


def _money(value: Decimal | int | str, name: str) -> Decimal:
    if isinstance(value, (bool, float)):
        raise TypeError(f"{name} must be a Decimal, an int or a decimal string, got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
    return number

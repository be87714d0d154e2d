"""Holiday years as administered data: import or replace a year, and move the timers it affects.

The packaged `engine/data/holidays.json` (one entry per year, each with its State Council notice) is
the baseline. An administrator adds a year when its notice is published, or replaces one, with
`zhifa calendar import FILE` or `PUT /api/v1/calendar/years/{year}`; the entry is stored in
`calendar_years`, so every process sees it (`Core.refresh_calendar`).

When a year changes, every open (waiting) timer whose due date the change moves is recomputed from
its clock start and statutory limit (plus the case-clock changes of `engine.case_clock`) and moved,
in the workflow state and in the projection, with one `timer.rescheduled` audit event each. This is
how deadlines counted through a provisional year (built from 放假办法 Art. 2) are corrected once the
official notice is out. A limit that already ran out on the provisional count cannot be moved: it is
recounted and reported (`engine.fired_limits`: `timer.recounted`, an alert, the case page's note), and
listed apart in the result (`ImportResult.recounted`). Everything happens in the importing transaction:
a failure changes nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, fired_limits, instances, timers
from engine import calendar as legal_calendar
from engine.accounts import require_role
from engine.calendar_models import CalendarYear
from engine.case_clock import timer_due
from engine.clock import CHINA_TZ
from engine.core import Unit, calendar_from_settings
from engine.errors import InvalidInput, Problem
from engine.models import Case, TimerRow

FIRST_YEAR, LAST_YEAR = 2000, 2099


@dataclass(frozen=True)
class YearView:
    year: int
    source: str
    provisional: bool
    stored: bool  # imported into the database (False: packaged data or built provisionally)
    revision: int | None
    imported_at: datetime | None
    rest_days: int
    adjusted_working_days: int


@dataclass(frozen=True)
class Rescheduled:
    case_id: int
    case_number: str
    timer_id: str
    bpmn_id: str
    due_before: datetime | None
    due_after: datetime | None
    provisional: bool


@dataclass(frozen=True)
class ImportResult:
    year: YearView
    replaced: str  # "packaged" | "stored" | "provisional"
    rescheduled: list[Rescheduled]
    recounted: list[fired_limits.Recounted]  # limits that had already run out on the provisional count


# -- the calendar every unit counts with --------------------------------------------------------
def stored_entries(session: Session) -> list[dict[str, Any]]:
    return [dict(row.entry) for row in session.scalars(select(CalendarYear).order_by(CalendarYear.year))]


def build_calendar(settings: Any, entries: list[Mapping[str, Any]]) -> legal_calendar.LegalCalendar:
    """The packaged years, with stored entries added or replacing them."""
    base = calendar_from_settings(settings)
    years = {y: base.year_entry(y) for y in base.data_years}
    years.update({int(e["year"]): dict(e) for e in entries})
    return legal_calendar.LegalCalendar(years.values(), **base.options())


# -- reading ------------------------------------------------------------------------------------
def list_years(unit: Unit) -> list[YearView]:
    """Every year the calendar knows, and the next one (provisional until its notice is imported)."""
    cal = unit.calendar
    rows = {r.year: r for r in unit.session.scalars(select(CalendarYear))}
    years = sorted(set(cal.data_years) | {cal.data_years[-1] + 1})
    return [_view(cal, y, rows.get(y)) for y in years]


def _view(cal: legal_calendar.LegalCalendar, year: int, row: CalendarYear | None) -> YearView:
    entry = cal.year_entry(year)
    days = [d for d in entry["days"] if date.fromisoformat(d["date"]).year == year]
    provisional = cal.is_provisional_year(year)
    return YearView(
        year=year, source=row.source if row else _source_of(entry), provisional=provisional, stored=row is not None,
        revision=row.revision if row else None, imported_at=row.imported_at if row else None,
        rest_days=sum(1 for d in days if d["isOffDay"]), adjusted_working_days=sum(1 for d in days if not d["isOffDay"]),
    )


def _source_of(entry: Mapping[str, Any]) -> str:
    if entry.get("provisional"):
        return str(entry.get("basis") or legal_calendar.PROVISIONAL_BASIS)
    notices = entry.get("notices") or []
    if notices and isinstance(notices[0], Mapping) and notices[0].get("title"):
        return str(notices[0]["title"])
    papers = entry.get("papers") or []
    return str(papers[0]) if papers else ""


# -- importing ----------------------------------------------------------------------------------
def import_year(unit: Unit, entry: Any, *, year: int | None = None, source: str | None = None) -> ImportResult:
    """Add or replace one year (holiday-cn shape) and move every open timer it affects.

    ``year`` (from the URL) must match the entry's; ``source`` names the notice when the entry's
    ``papers`` do not. Malformed data raises `InvalidInput` naming the entry, and nothing changes.
    """
    require_role(unit.actor, "admin", "system")
    checked = validate_entry(entry, year=year, source=source)
    number = checked["year"]
    before = unit.calendar
    replaced = "provisional" if before.is_provisional_year(number) else "packaged"
    new_calendar = build_calendar(unit.core.settings, [*_other_stored(unit, number), checked])
    row = unit.session.get(CalendarYear, number)
    if row is None:
        row = CalendarYear(year=number, revision=0)
        unit.session.add(row)
    else:
        replaced = "stored"
    row.entry, row.source, row.revision = checked, _source_of(checked), row.revision + 1
    row.imported_at, row.imported_by = unit.now, unit.actor.user_id or None
    unit.held["calendar"] = new_calendar
    audit.record(unit, "calendar.year_imported",
                 {"year": number, "source": row.source, "revision": row.revision, "replaced": replaced},
                 agency_id=unit.actor.agency_id or None)
    reason = f"holiday year {number} imported ({row.source})"
    moved = reschedule_open_timers(unit, number, reason=reason)
    recounted = fired_limits.recount_fired_timers(unit, number, reason=reason)
    unit.session.flush()
    return ImportResult(_view(new_calendar, number, row), replaced, moved, recounted)


def _other_stored(unit: Unit, year: int) -> list[dict[str, Any]]:
    return [e for e in stored_entries(unit.session) if e["year"] != year]


def validate_entry(entry: Any, *, year: int | None = None, source: str | None = None) -> dict[str, Any]:
    """The entry as it will be stored, or `InvalidInput` with every problem, each naming its field."""
    if not isinstance(entry, Mapping):
        raise InvalidInput("a holiday year must be a JSON object", [Problem("must be an object", field="body")])
    problems: list[Problem] = []
    number = entry.get("year")
    if isinstance(number, bool) or not isinstance(number, int):
        problems.append(Problem("an integer year is required", field="year"))
    elif not FIRST_YEAR <= number <= LAST_YEAR:
        problems.append(Problem(f"between {FIRST_YEAR} and {LAST_YEAR}", field="year"))
    elif year is not None and number != year:
        problems.append(Problem(f"the entry is for {number}, not {year}", field="year"))
    if entry.get("provisional"):
        problems.append(Problem("only a published notice can be imported, not a provisional year", field="provisional"))
    days = entry.get("days")
    if not isinstance(days, list) or not days:
        problems.append(Problem("a non-empty list of days is required", field="days"))
    papers = entry.get("papers", [])
    if not isinstance(papers, list) or not all(isinstance(p, str) and p.strip() for p in papers):
        problems.append(Problem("a list of the notices' addresses (text)", field="papers"))
        papers = []
    if source is not None and not (isinstance(source, str) and source.strip()):
        problems.append(Problem("the notice this year comes from (title, number or address)", field="source"))
    elif source is None and not papers:
        problems.append(Problem("name the State Council notice: papers, or source", field="source"))
    if problems:
        raise InvalidInput("the holiday year is not valid", problems)
    cleaned: dict[str, Any] = {
        "year": number,
        "papers": list(papers) + ([source.strip()] if source and source.strip() not in papers else []),
        "days": [dict(d) if isinstance(d, Mapping) else d for d in days],
    }
    if isinstance(entry.get("notices"), list):
        cleaned["notices"] = entry["notices"]
    _check_days(cleaned)
    return cleaned


def _check_days(entry: dict[str, Any]) -> None:
    try:
        legal_calendar.LegalCalendar([entry])
    except InvalidInput as exc:
        raise InvalidInput(f"the holiday year {entry['year']} is not valid: {exc.problems[0].message}"
                           if exc.problems else exc.detail, exc.problems) from None
    number = entry["year"]
    problems = []
    for i, day in enumerate(entry["days"]):
        if set(day) - {"name", "date", "isOffDay"}:
            extra = ", ".join(sorted(set(day) - {"name", "date", "isOffDay"}))
            problems.append(Problem(f"{number}: unknown keys {extra}", field=f"days[{i}]"))
    if not any(d["isOffDay"] and date.fromisoformat(d["date"]).year == number for d in entry["days"]):
        problems.append(Problem(f"{number}: the notice lists no rest day in {number}", field="days"))
    if problems:
        raise InvalidInput(f"the holiday year {number} is not valid: {problems[0].message}", problems)


# -- moving the timers a changed year affects -----------------------------------------------------
def reschedule_open_timers(unit: Unit, year: int, *, reason: str) -> list[Rescheduled]:
    """Recompute every waiting timer whose period can touch ``year``; move those whose due changed."""
    by_case = timers.through_year(unit, year, TimerRow.status == "waiting")
    moved: list[Rescheduled] = []
    for case_id, timer_rows in by_case.items():
        moved.extend(_reschedule_case(unit, instances.lock_case(unit, case_id), timer_rows, reason))
    return moved


def _reschedule_case(unit: Unit, case: Case, rows: list[TimerRow], reason: str) -> list[Rescheduled]:
    if case.status == "closed":
        return []
    instance = instances.load(unit, case)
    views = {v.id: v for v in instance.timers() if v.armed}
    changes = []
    for row in rows:
        view = views.get(row.id)
        if view is None or view.clock.get("suspended_since"):
            continue  # fired meanwhile, or stopped: a suspended clock is recomputed when it resumes
        due = timer_due(unit.calendar, row.started_at, row.limit_amount, row.limit_unit, view.clock)
        if due.at == view.due_at and due.provisional == row.provisional:
            continue
        variable = instance.reschedule_timer(row.id, due.at.isoformat())
        changes.append((row, view.due_at, due, variable))
    if not changes:
        return []
    instances.save(unit, case, instance)
    moved = []
    for row, before, due, variable in changes:
        row.provisional = due.provisional
        detail = {
            "timer_id": row.id, "bpmn_id": row.bpmn_id, "legal_basis": row.legal_basis, "reason": reason,
            "due_before": before.isoformat() if before else None, "due_after": due.at.isoformat(),
            "provisional": due.provisional,
        }
        if variable is not None:  # the case data the later steps decide with moved too
            detail["due_variable"] = variable.as_dict()
        audit.record(unit, "timer.rescheduled", detail, case=case)
        moved.append(Rescheduled(case.id, case.number, row.id, row.bpmn_id,
                                 before.astimezone(CHINA_TZ) if before else None, due.at.astimezone(CHINA_TZ),
                                 due.provisional))
    return moved

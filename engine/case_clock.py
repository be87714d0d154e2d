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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from engine import calendar as legal_calendar
from engine.errors import InvalidInput, Problem

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


# =============================================================================================
# Requests and approvals
# =============================================================================================
MESSAGE = "clock_change"  # the BPMN message that starts an approval (general_punishment.bpmn)
APPROVAL_PROPERTY = "clockChangeApproval"
KINDS = ("extend", "exclude", "suspend", "resume")
MAX_FURTHER = 365  # a collective discussion fixes "a reasonable period": refuse absurd numbers


@dataclass(frozen=True)
class ClockRules:
    """What the law lets change on one timer: its BPMN properties (law as data)."""

    bpmn_id: str
    name: str
    legal_basis: str
    amount: int
    unit: str
    changes: frozenset[str]
    extension: tuple[int, str] | None
    further: str | None
    extension_basis: str
    exclusions: frozenset[str]
    exclusion_basis: str

    @classmethod
    def of(cls, view: Any) -> ClockRules:
        props = view.properties
        amount, unit = _limit(props.get("limit"))
        extension = _limit(props.get("extension_limit")) if props.get("extension_limit") else None
        return cls(
            bpmn_id=view.bpmn_id, name=view.name, legal_basis=props.get("legal_basis", ""), amount=amount, unit=unit,
            changes=frozenset((props.get("clock_changes") or "").split()), extension=extension,
            further=props.get("further_extension") or None, extension_basis=props.get("extension_basis", ""),
            exclusions=frozenset((props.get("exclusions") or "").split()),
            exclusion_basis=props.get("exclusion_basis", ""),
        )

    def allows(self, kind: str) -> bool:
        return (kind if kind != "resume" else "suspend") in self.changes


@dataclass(frozen=True)
class Applied:
    timer_id: str
    bpmn_id: str
    kind: str
    due_before: datetime | None
    due_after: datetime | None
    provisional: bool
    clock: dict[str, Any]
    due_variable: dict[str, Any] | None = None  # the timer's due variable before and after (due_variables)


def _limit(text: str | None) -> tuple[int, str]:
    amount, _, unit = (text or "").partition(" ")
    return int(amount), legal_calendar.UNITS.get(unit.strip(), unit.strip())


def changeable_timers(instance: Any) -> list[Any]:
    """Armed timers whose clock the law lets change (they carry a `clock_changes` property)."""
    return [v for v in instance.timers() if v.armed and (v.properties.get("clock_changes") or "").strip()]


def check_request(cal: legal_calendar.LegalCalendar, instance: Any, request: Any, today: date) -> dict[str, Any]:
    """The request as it will be sent to the approval task, or `InvalidInput` naming each field."""
    if not isinstance(request, Mapping):
        raise InvalidInput("a clock change must be a JSON object", [Problem("must be an object", field="body")])
    view = _target(instance, request.get("timer"))
    rules = ClockRules.of(view)
    kind = request.get("kind")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", [Problem(f"one of {', '.join(KINDS)}", field="kind")])
    if not rules.allows(kind):
        allowed = ", ".join(sorted(rules.changes)) or "none"
        raise InvalidInput(f"{rules.name}: the law allows no {kind} of this time limit ({rules.legal_basis})",
                           [Problem(f"allowed here: {allowed}", field="kind")])
    reason = request.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        raise InvalidInput("give the reason for the change", [Problem("text of 1 to 2000 characters", field="reason")])
    checked = {"timer": rules.bpmn_id, "timer_name": rules.name, "kind": kind, "reason": reason.strip()}
    checked.update(_CHECKS[kind](cal, view, rules, request, today))
    return checked


def _target(instance: Any, bpmn_id: Any) -> Any:
    candidates = changeable_timers(instance)
    if bpmn_id is None and len(candidates) == 1:
        return candidates[0]
    found = [v for v in candidates if v.bpmn_id == bpmn_id]
    if not found:
        names = ", ".join(v.bpmn_id for v in candidates) or "none at this stage"
        raise InvalidInput("no time limit of this case can be changed under that name",
                           [Problem(f"a running time limit that may change: {names}", field="timer")])
    return found[0]


def _check_extend(cal: Any, view: Any, rules: ClockRules, request: Mapping[str, Any], today: date) -> dict[str, Any]:
    amount = request.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput("an extension needs a positive whole amount", [Problem("a positive integer", field="amount")])
    allowed, unit = rules.extension or (0, rules.unit)
    used = int(view.clock.get("extended") or 0)
    collective = request.get("collective_discussion") is True
    if used + amount <= allowed and not collective:
        return {"amount": amount, "unit": unit, "collective_discussion": False, "legal_basis": rules.extension_basis}
    if rules.further == "collective_discussion":
        if not collective:
            raise InvalidInput(
                f"{rules.name}: the agency head may extend by at most {allowed} {unit} ({allowed - used} remain); "
                f"a further extension needs the heads' collective discussion ({rules.extension_basis})",
                [Problem("beyond what the head may approve: set collective_discussion", field="amount")])
        if amount > MAX_FURTHER:
            raise InvalidInput("a further extension must be a reasonable period",
                               [Problem(f"at most {MAX_FURTHER} {unit}", field="amount")])
        return {"amount": amount, "unit": unit, "collective_discussion": True, "legal_basis": rules.extension_basis}
    if collective:
        raise InvalidInput(f"{rules.name}: the law provides no extension by collective discussion",
                           [Problem("not available for this time limit", field="collective_discussion")])
    raise InvalidInput(
        f"{rules.name}: the law allows an extension of at most {allowed} {unit} "
        f"({rules.extension_basis or 'no extension provided'}); {max(allowed - used, 0)} {unit} remain",
        [Problem(f"at most {max(allowed - used, 0)} {unit}", field="amount")])


def _check_exclude(cal: Any, view: Any, rules: ClockRules, request: Mapping[str, Any], today: date) -> dict[str, Any]:
    ground = request.get("ground")
    if ground not in rules.exclusions:
        raise InvalidInput(f"{rules.name}: that period is not excluded by law ({rules.exclusion_basis})",
                           [Problem(f"one of {', '.join(sorted(rules.exclusions))}", field="ground")])
    first, last = _day(request, "from"), _day(request, "to")
    start = legal_calendar.legal_date(view.started_at)
    if first < start:
        raise InvalidInput("an excluded period starts on or after the clock start",
                           [Problem(f"not before {start.isoformat()}", field="from")])
    if last < first:
        raise InvalidInput("an excluded period ends on or after its first day", [Problem("not before from", field="to")])
    if last > today:
        raise InvalidInput("only a period that has ended can be excluded (use suspend for an open one)",
                           [Problem(f"not after today ({today.isoformat()})", field="to")])
    for stop in _stops_including_open(view.clock, today):
        if first < date.fromisoformat(stop["to"]) and date.fromisoformat(stop["from"]) < last:
            raise InvalidInput("the period overlaps one already excluded",
                               [Problem(f"overlaps {stop['from']}..{stop['to']} ({stop['kind']})", field="from")])
    return {"ground": ground, "from": first.isoformat(), "to": last.isoformat(), "legal_basis": rules.exclusion_basis}


def _check_suspend(cal: Any, view: Any, rules: ClockRules, request: Mapping[str, Any], today: date) -> dict[str, Any]:
    if view.clock.get("suspended_since"):
        raise InvalidInput("the case is already suspended",
                           [Problem(f"suspended since {view.clock['suspended_since']}", field="kind")])
    on = _day(request, "on", today)
    start = legal_calendar.legal_date(view.started_at)
    if not start <= on <= today:
        raise InvalidInput("a suspension starts between the clock start and today",
                           [Problem(f"from {start.isoformat()} to {today.isoformat()}", field="on")])
    return {"on": on.isoformat(), "legal_basis": rules.exclusion_basis}


def _check_resume(cal: Any, view: Any, rules: ClockRules, request: Mapping[str, Any], today: date) -> dict[str, Any]:
    since = view.clock.get("suspended_since")
    if not since:
        raise InvalidInput("the case is not suspended", [Problem("only a suspended case resumes", field="kind")])
    on = _day(request, "on", today)
    if not date.fromisoformat(since) <= on <= today:
        raise InvalidInput("a case resumes between its suspension and today",
                           [Problem(f"from {since} to {today.isoformat()}", field="on")])
    return {"on": on.isoformat(), "legal_basis": rules.exclusion_basis}


_CHECKS = {"extend": _check_extend, "exclude": _check_exclude, "suspend": _check_suspend, "resume": _check_resume}


def _day(request: Mapping[str, Any], field: str, default: date | None = None) -> date:
    raw = request.get(field)
    if raw is None and default is not None:
        return default
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else _bad_day(field)
    except ValueError:
        return _bad_day(field)


def _bad_day(field: str) -> date:
    raise InvalidInput(f"{field} must be a date", [Problem("a date YYYY-MM-DD", field=field)])


def _stops_including_open(clock: Mapping[str, Any], today: date) -> list[dict[str, Any]]:
    stops = list(clock.get("stops") or [])
    if clock.get("suspended_since"):
        stops.append({"kind": "suspension", "from": clock["suspended_since"], "to": today.isoformat()})
    return stops


def check_approval(request: Mapping[str, Any], approval: Mapping[str, Any]) -> bool:
    """True when approved; a further extension needs the record of the heads' collective discussion."""
    approved = approval.get("clock_decision") == "approve"
    further = request.get("kind") == "extend" and request.get("collective_discussion")
    if approved and further and not approval.get("collective_discussion_on"):
        raise InvalidInput(
            "a further extension is decided by the heads' collective discussion: record it",
            [Problem("date, participants and conclusion of the collective discussion", field="collective_discussion_on")])
    return approved


def apply_approved(
    cal: legal_calendar.LegalCalendar, instance: Any, request: Mapping[str, Any], approval: Mapping[str, Any], today: date
) -> Applied:
    """Re-check the request against the clock as it is now, change the clock and move the timer."""
    again = check_request(cal, instance, dict(request), today)  # the clock may have changed meanwhile
    view = _target(instance, again["timer"])
    clock = _changed(view.clock, again, approval)
    if clock.get("suspended_since"):
        due = None
    else:
        amount, unit = _limit(view.properties.get("limit"))
        due = timer_due(cal, view.started_at, amount, unit, clock)
    variable = instance.reschedule_timer(view.id, due.at.isoformat() if due else None, clock)
    return Applied(view.id, view.bpmn_id, again["kind"], view.due_at, due.at if due else None,
                   bool(due and due.provisional), clock, variable.as_dict() if variable is not None else None)


def _changed(clock: Mapping[str, Any], request: Mapping[str, Any], approval: Mapping[str, Any]) -> dict[str, Any]:
    out = {"extended": int(clock.get("extended") or 0), "extensions": list(clock.get("extensions") or []),
           "stops": list(clock.get("stops") or []), "suspended_since": clock.get("suspended_since")}
    approved_on = approval.get("approval_date")
    kind = request["kind"]
    if kind == "extend":
        out["extended"] += request["amount"]
        out["extensions"].append({"amount": request["amount"], "unit": request["unit"], "approved_on": approved_on,
                                  "collective_discussion": request["collective_discussion"]})
    elif kind == "exclude":
        out["stops"].append({"kind": request["ground"], "from": request["from"], "to": request["to"],
                             "approved_on": approved_on})
    elif kind == "suspend":
        out["suspended_since"] = request["on"]
    else:
        out["stops"].append({"kind": "suspension", "from": out["suspended_since"], "to": request["on"],
                             "approved_on": approved_on})
        out["suspended_since"] = None
    return out

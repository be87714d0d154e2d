"""Monitoring over the projections: what is overdue (red), what falls due soon (yellow), what is
pending at which stage, as of any date; aggregated per agency down the tree and per officer.

Only the `timers`, `tasks`, `cases` and `agencies` tables are read: never a workflow.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from engine.clock import CHINA_TZ, parse_instant
from engine.core import Unit
from engine.errors import InvalidInput, Problem
from engine.models import Agency, Case, CaseOfficer, TaskRow, TimerRow, User
from engine.supervision.kinds import enforcement_case, enforcement_timer

COLOURS = ("green", "yellow", "red")
LEVELS = ("province", "city", "county", "township")


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    return json.loads(resources.files("engine").joinpath("data/supervision.json").read_text(encoding="utf-8"))


def as_of_instant(value: Any, *, field: str = "as_of") -> datetime | None:
    """`YYYY-MM-DD` (the start of that day in China) or an ISO 8601 instant with an offset."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), time(0), CHINA_TZ)
            return parse_instant(text)
        except ValueError:
            pass
    raise InvalidInput(f"{field} is not a date", [Problem("YYYY-MM-DD or ISO 8601 with an offset, e.g. 2026-03-02T09:00:00+08:00", field=field)])


def working_days_arg(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = -1
    if not 0 <= days <= 365:
        raise InvalidInput(f"{field} must be a number of working days", [Problem("an integer from 0 to 365", field=field)])
    return days


def within_working_days(unit: Unit, as_of: datetime, days: int) -> datetime:
    """The last instant of the `days`-th working day after the as-of date (the legal calendar)."""
    return unit.core.calendar.due(as_of.astimezone(CHINA_TZ).date(), days, "working_days").at


def yellow_condition(unit: Unit, as_of: datetime) -> Any:
    """Waiting, not yet due, and due within its kind's warning period (data: supervision.json)."""
    days = {k: int(v) for k, v in settings()["warning_working_days"].items() if not k.startswith("_")}
    default = days.pop("default", 3)
    per_kind = [and_(TimerRow.kind == kind, TimerRow.due_at <= within_working_days(unit, as_of, n)) for kind, n in days.items()]
    others = and_(
        or_(TimerRow.kind.is_(None), TimerRow.kind.not_in(list(days))) if days else True,
        TimerRow.due_at <= within_working_days(unit, as_of, default),
    )
    return and_(TimerRow.status == "waiting", TimerRow.due_at > as_of, or_(*per_kind, others))


def red_condition(as_of: datetime) -> Any:
    return and_(TimerRow.status.in_(("waiting", "overdue")), or_(TimerRow.status == "overdue", TimerRow.due_at <= as_of))


def colour_condition(unit: Unit, colour: str, as_of: datetime) -> Any:
    if colour not in COLOURS:
        raise InvalidInput(f"unknown colour {colour!r}", [Problem("one of green, yellow, red", field="colour")])
    if colour == "red":
        return red_condition(as_of)
    yellow = yellow_condition(unit, as_of)
    return yellow if colour == "yellow" else and_(TimerRow.status == "waiting", TimerRow.due_at > as_of, ~yellow)


def colour_of(status: str, due_at: datetime | None, kind: str | None, cutoffs: dict[str | None, datetime]) -> str | None:
    if status == "overdue":
        return "red"
    if status != "pending" or due_at is None:
        return None
    cutoff = cutoffs.get(kind, cutoffs[None])
    return "yellow" if due_at <= cutoff else "green"


def cutoffs(unit: Unit, as_of: datetime) -> dict[str | None, datetime]:
    days = {k: int(v) for k, v in settings()["warning_working_days"].items() if not k.startswith("_")}
    default = days.pop("default", 3)
    found: dict[str | None, datetime] = {kind: within_working_days(unit, as_of, n) for kind, n in days.items()}
    found[None] = within_working_days(unit, as_of, default)
    return found


def level_arg(level: Any) -> str | None:
    if level in (None, ""):
        return None
    if level not in LEVELS:
        raise InvalidInput(f"unknown level {level!r}", [Problem("one of province, city, county, township", field="level")])
    return str(level)


def subtree_path(unit: Unit, agency_id: int) -> str:
    """The agency's path, checked against the actor's scope (403 outside it, 404 if unknown)."""
    from engine.cases import check_visible

    check_visible(unit, agency_id)
    return unit.session.scalar(select(Agency.path).where(Agency.id == agency_id))


def officer_filter(officer_id: int) -> Any:
    return TimerRow.case_id.in_(select(CaseOfficer.case_id).where(CaseOfficer.user_id == officer_id))


# -- aggregates -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Counts:
    open_cases: int
    pending: int
    yellow: int
    red: int
    due_within: int | None


@dataclass(frozen=True)
class AgencyCounts:
    agency: dict[str, Any]
    counts: Counts


@dataclass(frozen=True)
class Overview:
    as_of: datetime
    agency: dict[str, Any]
    totals: Counts
    children: list[AgencyCounts]  # one level down the tree (province > city > county > township)
    own: Counts  # cases of the agency itself, not of its children


def overview(
    unit: Unit, *, agency_id: int | None = None, as_of: datetime | None = None, due_within: int | None = None,
    matter_code: str | None = None,
) -> Overview:
    """Open cases, pending, yellow and red timers of an agency's subtree, and of each child agency."""
    as_of = as_of or unit.now
    root = _root(unit, agency_id)
    depth = root.path.count("/") - 1  # "/1/3/" has depth 2: its children are the third id
    per_agency = _timer_counts(unit, root.path, as_of, due_within, matter_code)
    open_cases = _open_cases(unit, root.path, as_of, matter_code)
    agencies = {a.id: a for a in unit.session.scalars(select(Agency).where(Agency.path.startswith(root.path)))}
    children = sorted((a for a in agencies.values() if a.parent_id == root.id), key=lambda a: a.code)
    buckets: dict[int | None, list[int]] = {c.id: [0, 0, 0, 0, 0] for c in children}
    buckets[None] = [0, 0, 0, 0, 0]
    for agency_id_, values in per_agency.items():
        _add(buckets, _child_of(agencies.get(agency_id_), depth), values)
    for agency_id_, count in open_cases.items():
        _add(buckets, _child_of(agencies.get(agency_id_), depth), (count, 0, 0, 0, 0))
    totals = [sum(b[i] for b in buckets.values()) for i in range(5)]
    return Overview(
        as_of=as_of, agency=_agency(root), totals=_counts(totals, due_within),
        children=[AgencyCounts(_agency(c), _counts(buckets[c.id], due_within)) for c in children],
        own=_counts(buckets[None], due_within),
    )


@dataclass(frozen=True)
class OfficerCounts:
    officer: dict[str, Any]
    counts: Counts


def per_officer(
    unit: Unit, *, agency_id: int | None = None, as_of: datetime | None = None, due_within: int | None = None,
    page: int = 1, per_page: int = 50,
) -> tuple[list[OfficerCounts], int]:
    """The same counts per assigned officer of the subtree's cases, most red first."""
    as_of = as_of or unit.now
    root = _root(unit, agency_id)
    yellow, red = yellow_condition(unit, as_of), red_condition(as_of)
    soon = _soon(unit, as_of, due_within)
    query = (
        select(
            User.id, User.username, User.name, User.agency_id,
            func.count(func.distinct(case((or_(Case.closed_at.is_(None), Case.closed_at > as_of), Case.id)))),
            _sum(and_(TimerRow.status == "waiting", TimerRow.due_at > as_of)), _sum(yellow), _sum(red), _sum(soon),
        )
        .select_from(CaseOfficer)
        .join(User, User.id == CaseOfficer.user_id)
        .join(Case, Case.id == CaseOfficer.case_id)
        .join(Agency, Agency.id == Case.agency_id)
        .outerjoin(TimerRow, TimerRow.case_id == Case.id)
        .where(Agency.path.startswith(root.path), Case.opened_at <= as_of, enforcement_case())
        .group_by(User.id, User.username, User.name, User.agency_id)
    )
    total = unit.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = unit.session.execute(query.order_by(_sum(red).desc(), User.id).offset((page - 1) * per_page).limit(per_page)).all()
    return [
        OfficerCounts({"id": i, "username": u, "name": n, "agency_id": a}, _counts([oc or 0, p or 0, y or 0, r or 0, s or 0], due_within))
        for i, u, n, a, oc, p, y, r, s in rows
    ], total


@dataclass(frozen=True)
class StageCount:
    bpmn_id: str
    name: str
    pending: int
    overdue: int


def pending_by_stage(unit: Unit, *, agency_id: int | None = None, as_of: datetime | None = None) -> list[StageCount]:
    """User tasks open at `as_of` (created by then, not completed by then), per procedure step."""
    as_of = as_of or unit.now
    root = _root(unit, agency_id)
    open_then = and_(
        TaskRow.created_at <= as_of, TaskRow.state != "cancelled",
        or_(TaskRow.completed_at.is_(None), TaskRow.completed_at > as_of),
    )
    rows = unit.session.execute(
        select(TaskRow.bpmn_id, TaskRow.name, func.count(), _sum(and_(TaskRow.due_at.is_not(None), TaskRow.due_at <= as_of)))
        .join(Agency, Agency.id == TaskRow.agency_id)
        .join(Case, Case.id == TaskRow.case_id)
        .where(Agency.path.startswith(root.path), open_then, enforcement_case())
        .group_by(TaskRow.bpmn_id, TaskRow.name)
        .order_by(func.count().desc(), TaskRow.bpmn_id)
    ).all()
    return [StageCount(b, n, c, o or 0) for b, n, c, o in rows]


def _root(unit: Unit, agency_id: int | None) -> Agency:
    from engine.cases import check_visible

    if agency_id is None:
        scope = unit.actor.scope_path if unit.actor.has_role("supervisor", "admin") else ""
        root = unit.session.scalar(select(Agency).where(Agency.path == scope)) if scope else None
        return root or unit.session.get(Agency, unit.actor.agency_id) or _first_root(unit)
    check_visible(unit, agency_id)
    return unit.session.get(Agency, agency_id)


def _first_root(unit: Unit) -> Agency:
    return unit.session.scalar(select(Agency).where(Agency.parent_id.is_(None)).order_by(Agency.id))


def _sum(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _soon(unit: Unit, as_of: datetime, due_within: int | None) -> Any:
    if due_within is None:
        return False
    return and_(TimerRow.status == "waiting", TimerRow.due_at > as_of, TimerRow.due_at <= within_working_days(unit, as_of, due_within))


def _timer_counts(unit: Unit, path: str, as_of: datetime, due_within: int | None, matter_code: str | None) -> dict[int, tuple]:
    query = (
        select(
            TimerRow.agency_id, _sum(and_(TimerRow.status == "waiting", TimerRow.due_at > as_of)),
            _sum(yellow_condition(unit, as_of)), _sum(red_condition(as_of)), _sum(_soon(unit, as_of, due_within)),
        )
        .join(Agency, Agency.id == TimerRow.agency_id)
        .where(Agency.path.startswith(path), TimerRow.status.in_(("waiting", "overdue")), enforcement_timer())
        .group_by(TimerRow.agency_id)
    )
    if matter_code:
        query = query.where(TimerRow.case_id.in_(select(Case.id).where(Case.matter_code == matter_code)))
    return {a: (0, p or 0, y or 0, r or 0, s or 0) for a, p, y, r, s in unit.session.execute(query)}


def _open_cases(unit: Unit, path: str, as_of: datetime, matter_code: str | None) -> dict[int, int]:
    query = (
        select(Case.agency_id, func.count())
        .join(Agency, Agency.id == Case.agency_id)
        .where(Agency.path.startswith(path), Case.opened_at <= as_of, or_(Case.closed_at.is_(None), Case.closed_at > as_of),
               enforcement_case())
        .group_by(Case.agency_id)
    )
    if matter_code:
        query = query.where(Case.matter_code == matter_code)
    return dict(unit.session.execute(query).all())


def _child_of(agency: Agency | None, depth: int) -> int | None:
    if agency is None:
        return None
    ids = agency.path.strip("/").split("/")
    return int(ids[depth]) if len(ids) > depth else None


def _add(buckets: dict[int | None, list[int]], key: int | None, values: tuple) -> None:
    bucket = buckets.get(key, buckets[None])
    for i, v in enumerate(values):
        bucket[i] += v


def _counts(values: list[int], due_within: int | None) -> Counts:
    return Counts(values[0], values[1], values[2], values[3], values[4] if due_within is not None else None)


def _agency(a: Agency) -> dict[str, Any]:
    return {"id": a.id, "code": a.code, "name": a.name, "level": a.level, "kind": a.kind, "parent_id": a.parent_id}

"""Read models for the web pages that no other service gives: who is who (names of users), the agency
tree below an agency, and deadline counts per agency for supervisors (rolled up the tree).

Scope is the same as everywhere: `scope_filter` and `check_visible` from engine.cases.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from engine.cases import check_visible, scope_filter
from engine.core import Unit
from engine.errors import NotFound
from engine.models import Agency, TimerRow, User
from engine.supervision.kinds import enforcement_case, enforcement_timer

DUE_SOON_DAYS = 3  # a pending statutory deadline within this many days is "due soon" (yellow)


@dataclass(frozen=True)
class AgencyNode:
    id: int
    name: str
    kind: str
    level: str
    path: str
    has_children: bool


@dataclass(frozen=True)
class DeadlineCounts:
    agency: AgencyNode
    overdue: int
    due_soon: int
    pending: int


@dataclass(frozen=True)
class DeadlineBoard:
    """The counts of one agency's subtree, split by its child agencies (the drill-down)."""

    agency: AgencyNode
    ancestors: list[AgencyNode]
    total: DeadlineCounts
    children: list[DeadlineCounts]
    as_of: datetime
    soon_until: datetime


def user_names(unit: Unit, ids: set[int]) -> dict[int, str]:
    """Display names of users (for timelines); no scope needed: names are not confidential."""
    if not ids:
        return {}
    return dict(unit.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def scope_root(unit: Unit) -> Agency:
    """The top agency of the actor's scope: the government a judicial bureau oversees, else their own."""
    path = unit.actor.scope_path or unit.actor.agency_path
    if not unit.actor.has_role("supervisor", "admin"):
        path = unit.actor.agency_path
    agency = unit.session.scalar(select(Agency).where(Agency.path == path))
    return agency or unit.session.get(Agency, unit.actor.agency_id)


def deadline_board(unit: Unit, agency_id: int | None = None, *, soon_days: int = DUE_SOON_DAYS) -> DeadlineBoard:
    """Overdue / due-soon / pending statutory timers of the agency's subtree, and of each child's."""
    root = scope_root(unit)
    agency = root if agency_id is None else unit.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"agency {agency_id} does not exist")
    check_visible(unit, agency.id)
    as_of = unit.now
    soon_until = as_of + timedelta(days=soon_days)
    per_agency = _counts_per_agency(unit, agency.path, as_of, soon_until)
    children = list(unit.session.scalars(select(Agency).where(Agency.parent_id == agency.id).order_by(Agency.id)))
    with_children = set(unit.session.scalars(select(Agency.parent_id).where(Agency.parent_id.in_([c.id for c in children]))))
    ancestors = _ancestors(unit, agency, root)
    return DeadlineBoard(
        agency=_node(agency, bool(children)),
        ancestors=ancestors,
        total=_rollup(_node(agency, bool(children)), per_agency),
        children=[_rollup(_node(c, c.id in with_children), per_agency) for c in children],
        as_of=as_of,
        soon_until=soon_until,
    )


def _counts_per_agency(unit: Unit, path: str, as_of: datetime, soon_until: datetime) -> dict[str, tuple[int, int, int]]:
    overdue = or_(and_(TimerRow.status == "waiting", TimerRow.due_at <= as_of), TimerRow.status == "overdue")
    pending = and_(TimerRow.status == "waiting", TimerRow.due_at > as_of)
    soon = and_(pending, TimerRow.due_at <= soon_until)
    rows = unit.session.execute(
        select(
            Agency.path,
            func.count().filter(overdue),
            func.count().filter(soon),
            func.count().filter(pending),
        )
        .join(Agency, Agency.id == TimerRow.agency_id)
        .where(*scope_filter(unit), Agency.path.startswith(path), TimerRow.status.in_(("waiting", "overdue")), enforcement_timer())
        .group_by(Agency.path)
    ).all()
    return {p: (o, s, n) for p, o, s, n in rows}


def _rollup(node: AgencyNode, per_agency: dict[str, tuple[int, int, int]]) -> DeadlineCounts:
    sums = [0, 0, 0]
    for path, counts in per_agency.items():
        if path.startswith(node.path):
            sums = [a + b for a, b in zip(sums, counts, strict=True)]
    return DeadlineCounts(node, *sums)


def _ancestors(unit: Unit, agency: Agency, root: Agency) -> list[AgencyNode]:
    ids = [int(i) for i in agency.path.strip("/").split("/")[:-1] if i]
    rows = {a.id: a for a in unit.session.scalars(select(Agency).where(Agency.id.in_(ids)))} if ids else {}
    return [_node(rows[i], True) for i in ids if i in rows and rows[i].path.startswith(root.path)]


def _node(agency: Agency, has_children: bool) -> AgencyNode:
    return AgencyNode(agency.id, agency.name, agency.kind, agency.level, agency.path, has_children)


def agency_timers(unit: Unit, agency_id: int, *, soon_days: int = DUE_SOON_DAYS) -> list[Any]:
    """Overdue and due-soon timers of one agency's subtree (the bottom of the drill-down), soonest first."""
    from engine.models import Case
    from engine.timers import timer_view

    agency = unit.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"agency {agency_id} does not exist")
    check_visible(unit, agency.id)
    as_of = unit.now
    soon_until = as_of + timedelta(days=soon_days)
    rows = unit.session.execute(
        select(TimerRow, Case.number)
        .join(Case, Case.id == TimerRow.case_id)
        .join(Agency, Agency.id == TimerRow.agency_id)
        .where(
            *scope_filter(unit), Agency.path.startswith(agency.path), enforcement_timer(),
            or_(TimerRow.status == "overdue", and_(TimerRow.status == "waiting", TimerRow.due_at <= soon_until)),
        )
        .order_by(TimerRow.due_at, TimerRow.id)
        .limit(500)
    ).all()
    return [timer_view(row, number, as_of) for row, number in rows]


@dataclass(frozen=True)
class StepDuration:
    bpmn_id: str
    name: str
    count: int
    average_seconds: float
    longest_seconds: float


def step_durations(unit: Unit, process_id: str, *, limit: int = 20_000) -> list[StepDuration]:
    """Average wall-clock time from a user task's creation to its completion, per task of the
    procedure (all its versions), over the completed tasks of the cases in the actor's scope."""
    from engine.models import Case, ProcessDefinition, TaskRow

    rows = unit.session.execute(
        select(TaskRow.bpmn_id, TaskRow.name, TaskRow.created_at, TaskRow.completed_at)
        .join(Case, Case.id == TaskRow.case_id)
        .join(ProcessDefinition, ProcessDefinition.id == Case.definition_id)
        .join(Agency, Agency.id == TaskRow.agency_id)
        .where(*scope_filter(unit), ProcessDefinition.process_id == process_id, TaskRow.state == "completed",
               TaskRow.completed_at.is_not(None))
        .order_by(TaskRow.completed_at.desc())
        .limit(limit)
    ).all()
    spans: dict[str, list[float]] = {}
    names: dict[str, str] = {}
    for bpmn_id, name, created, completed in rows:
        spans.setdefault(bpmn_id, []).append(max(0.0, (completed - created).total_seconds()))
        names.setdefault(bpmn_id, name)
    return sorted(
        (StepDuration(b, names[b], len(s), sum(s) / len(s), max(s)) for b, s in spans.items()),
        key=lambda d: d.average_seconds, reverse=True,
    )


def nearest_deadlines(unit: Unit, case_ids: set[int]) -> dict[int, Any]:
    """The soonest running statutory time limit of each case (a stage's limit, such as the filing or
    handling period, binds the tasks inside it even when the task has no limit of its own)."""
    from engine.models import Case
    from engine.timers import timer_view

    if not case_ids:
        return {}
    rows = unit.session.execute(
        select(TimerRow, Case.number)
        .join(Case, Case.id == TimerRow.case_id)
        .join(Agency, Agency.id == TimerRow.agency_id)
        .where(*scope_filter(unit), TimerRow.case_id.in_(case_ids), TimerRow.status.in_(("waiting", "overdue")),
               TimerRow.due_at.is_not(None))
        .order_by(TimerRow.due_at, TimerRow.id)
    ).all()
    nearest: dict[int, Any] = {}
    for row, number in rows:
        nearest.setdefault(row.case_id, timer_view(row, number, unit.now))
    return nearest


@dataclass(frozen=True)
class Indicators:
    """Figures of one agency's subtree: cases, and how statutory limits were kept."""

    cases_open: int
    cases_closed: int
    limits_met: int  # the step was done in time
    limits_breached: int  # done, but after the limit
    limits_overdue: int  # still open past the limit
    on_time_rate: float | None  # met / (met + breached + overdue); None when nothing was measured


def indicators(unit: Unit, agency_id: int) -> Indicators:
    from engine.models import Case

    agency = unit.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"agency {agency_id} does not exist")
    check_visible(unit, agency.id)
    in_tree = [*scope_filter(unit), Agency.path.startswith(agency.path)]
    case_counts = dict(unit.session.execute(
        select(Case.status, func.count()).join(Agency, Agency.id == Case.agency_id).where(*in_tree, enforcement_case())
        .group_by(Case.status)
    ).all())
    overdue = or_(and_(TimerRow.status == "waiting", TimerRow.due_at <= unit.now), TimerRow.status == "overdue")
    met, breached, late = unit.session.execute(
        select(func.count().filter(TimerRow.status == "met"), func.count().filter(TimerRow.status == "breached"),
               func.count().filter(overdue))
        .join(Agency, Agency.id == TimerRow.agency_id).where(*in_tree, enforcement_timer())
    ).one()
    measured = met + breached + late
    return Indicators(case_counts.get("open", 0), case_counts.get("closed", 0), met, breached, late,
                      met / measured if measured else None)

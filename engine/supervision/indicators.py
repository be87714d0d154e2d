"""Indicators of seed §III(7) per period, for an agency subtree and each child agency, from the
projections and the audit trail (never a workflow); the XLSX export carries the same numbers.

Definitions (docs/supervision.md):
- investigation_rate = filed / clues: cases opened in the period (clues received), and those of them
  filed (the investigation task exists);
- decisions_per_officer = decisions / certified_officers: decide tasks completed in the period, over
  active officers holding a certificate valid on the period's last day;
- overdue_rate = overdue / timers_due: deadlines falling due in the period that ran out (fired,
  overdue, breached, or still waiting past due as of now);
- deviation_rate, legal_review_rate, hearing_rate, correction_rate: over decisions: those whose
  decision data has a fine outside its `discretion_band`, whose case completed legal review or held a
  hearing, and the `review.outcome` audit events in the period with a correcting result.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.errors import InvalidInput, Problem
from engine.models import Agency, AuditEvent, Case, CaseOfficer, TaskRow, TimerRow, User
from engine.supervision.kinds import enforcement_case
from engine.supervision.monitoring import _agency, _child_of, _root, settings

COUNTS = ("clues", "filed", "decisions", "certified_officers", "timers_due", "overdue", "deviations",
          "legal_reviews", "hearings", "corrections")
RATES = {  # name: (numerator, denominator)
    "investigation_rate": ("filed", "clues"),
    "decisions_per_officer": ("decisions", "certified_officers"),
    "overdue_rate": ("overdue", "timers_due"),
    "deviation_rate": ("deviations", "decisions"),
    "legal_review_rate": ("legal_reviews", "decisions"),
    "hearing_rate": ("hearings", "decisions"),
    "correction_rate": ("corrections", "decisions"),
}
LABELS = {
    "clues": "线索数", "filed": "立案数", "decisions": "作出决定数", "certified_officers": "持证执法人员数",
    "timers_due": "到期期限数", "overdue": "超期数", "deviations": "裁量偏离数", "legal_reviews": "法制审核数",
    "hearings": "听证数", "corrections": "被纠错数", "investigation_rate": "立案查处率", "decisions_per_officer": "人均执法量",
    "overdue_rate": "超期率", "deviation_rate": "裁量偏离率", "legal_review_rate": "法制审核率", "hearing_rate": "听证率",
    "correction_rate": "纠错率",
}


@dataclass(frozen=True)
class Row:
    agency: dict[str, Any]
    counts: dict[str, int]
    rates: dict[str, float | None]


@dataclass(frozen=True)
class Indicators:
    period: dict[str, str]
    agency: dict[str, Any]
    totals: Row
    children: list[Row]


def period_arg(start: Any, end: Any) -> tuple[date, date]:
    """`from`/`to` as YYYY-MM-DD, both days included (both required)."""
    days = []
    for name, value in (("from", start), ("to", end)):
        try:
            days.append(date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None)
        except ValueError:
            days.append(None)
        if days[-1] is None:
            raise InvalidInput(f"{name} is not a date", [Problem("YYYY-MM-DD", field=name)])
    if days[0] > days[1]:
        raise InvalidInput("the period ends before it starts", [Problem("must not be after 'to'", field="from")])
    return days[0], days[1]


def indicators(unit: Unit, start: date, end: date, *, agency_id: int | None = None) -> Indicators:
    root = _root(unit, agency_id)
    since = datetime.combine(start, time(0), CHINA_TZ)
    until = datetime.combine(end + timedelta(days=1), time(0), CHINA_TZ)
    per_agency: dict[int, dict[str, int]] = {}
    for name, rows in _raw(unit, root.path, since, until, end).items():
        for agency_id_, count in rows:
            per_agency.setdefault(agency_id_, dict.fromkeys(COUNTS, 0))[name] += count or 0
    agencies = {a.id: a for a in unit.session.scalars(select(Agency).where(Agency.path.startswith(root.path)))}
    children = sorted((a for a in agencies.values() if a.parent_id == root.id), key=lambda a: a.code)
    depth = root.path.count("/") - 1
    buckets = {c.id: dict.fromkeys(COUNTS, 0) for c in children}
    totals = dict.fromkeys(COUNTS, 0)
    for agency_id_, counts in per_agency.items():
        child = buckets.get(_child_of(agencies.get(agency_id_), depth))
        for key, value in counts.items():
            totals[key] += value
            if child is not None:
                child[key] += value
    return Indicators(
        period={"from": start.isoformat(), "to": end.isoformat()}, agency=_agency(root),
        totals=_row(_agency(root), totals), children=[_row(_agency(c), buckets[c.id]) for c in children],
    )


def _row(agency: dict[str, Any], counts: dict[str, int]) -> Row:
    rates = {name: (round(counts[n] / counts[d], 4) if counts[d] else None) for name, (n, d) in RATES.items()}
    return Row(agency, counts, rates)


def _raw(unit: Unit, path: str, since: datetime, until: datetime, end: date, *, by_officer: bool = False) -> dict[str, list[tuple[int, int]]]:
    """Counts per agency (or, `by_officer`, per officer assigned to the cases) of the subtree."""
    s = unit.session
    in_tree = Agency.path.startswith(path)
    opened = and_(Case.opened_at >= since, Case.opened_at < until, enforcement_case())
    decide = aliased(TaskRow)
    decided = and_(decide.bpmn_id == "decide", decide.state == "completed", decide.completed_at >= since, decide.completed_at < until)

    def per_key(query: Any, agency_column: Any, case_column: Any) -> list[tuple[int, int]]:
        if by_officer:
            query = query.join(CaseOfficer, CaseOfficer.case_id == case_column).group_by(CaseOfficer.user_id)
            query = query.with_only_columns(CaseOfficer.user_id, func.count(func.distinct(case_column)))
        else:
            query = query.group_by(agency_column)
        return [(a, c) for a, c in s.execute(query)]

    by_case = select(Case.agency_id, func.count()).join(Agency, Agency.id == Case.agency_id).where(in_tree)
    by_decision = (
        select(decide.agency_id, func.count()).join(Case, Case.id == decide.case_id)
        .join(Agency, Agency.id == decide.agency_id).where(in_tree, decided)
    )
    out = {
        "clues": per_key(by_case.where(opened), Case.agency_id, Case.id),
        "filed": per_key(by_case.where(opened, _has_task("investigate", "ready", "completed")), Case.agency_id, Case.id),
        "decisions": per_key(by_decision, decide.agency_id, decide.case_id),
        "legal_reviews": per_key(by_decision.where(_has_task("legal_review", "completed")), decide.agency_id, decide.case_id),
        "hearings": per_key(by_decision.where(_has_task("hold_hearing", "completed")), decide.agency_id, decide.case_id),
        "certified_officers": _certified(unit, path, end, by_officer=by_officer),
    }
    due = and_(TimerRow.due_at >= since, TimerRow.due_at < until, or_(TimerRow.kind.is_(None), TimerRow.kind == "deadline"))
    late = or_(TimerRow.status.in_(("fired", "overdue", "breached")), and_(TimerRow.status == "waiting", TimerRow.due_at <= unit.now))
    by_timer = select(TimerRow.agency_id, func.count()).join(Agency, Agency.id == TimerRow.agency_id).where(in_tree, due)
    if by_officer:  # a timer counts once, for each officer of its case
        out["timers_due"] = _timers_by_officer(unit, by_timer)
        out["overdue"] = _timers_by_officer(unit, by_timer.where(late))
    else:
        out["timers_due"] = per_key(by_timer, TimerRow.agency_id, TimerRow.case_id)
        out["overdue"] = per_key(by_timer.where(late), TimerRow.agency_id, TimerRow.case_id)
    out["deviations"], out["corrections"] = _from_audit(unit, path, since, until, by_officer=by_officer)
    return out


def _timers_by_officer(unit: Unit, query: Any) -> list[tuple[int, int]]:
    query = query.join(CaseOfficer, CaseOfficer.case_id == TimerRow.case_id).group_by(CaseOfficer.user_id)
    return [(a, c) for a, c in unit.session.execute(query.with_only_columns(CaseOfficer.user_id, func.count()))]


def _has_task(bpmn_id: str, *states: str) -> Any:
    """The case (correlated) has the task in one of the states."""
    return exists().where(TaskRow.case_id == Case.id, TaskRow.bpmn_id == bpmn_id, TaskRow.state.in_(states))


def _certified(unit: Unit, path: str, on: date, *, by_officer: bool = False) -> list[tuple[int, int]]:
    users = unit.session.execute(
        select(User.id, User.agency_id, User.roles).join(Agency, Agency.id == User.agency_id).where(
            Agency.path.startswith(path), User.active.is_(True), User.certificate_no.is_not(None),
            User.certificate_valid_until >= on,
        )
    )
    counts: dict[int, int] = {}
    for user_id, agency_id, roles in users:
        if "officer" in (roles or []):
            key = user_id if by_officer else agency_id
            counts[key] = counts.get(key, 0) + 1
    return list(counts.items())


def _from_audit(
    unit: Unit, path: str, since: datetime, until: datetime, *, by_officer: bool = False
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Decisions with a fine outside their discretion band; corrections by review or litigation."""
    events = unit.session.execute(
        select(AuditEvent.agency_id, AuditEvent.case_id, AuditEvent.action, AuditEvent.detail)
        .join(Agency, Agency.id == AuditEvent.agency_id)
        .where(Agency.path.startswith(path), AuditEvent.at >= since, AuditEvent.at < until,
               AuditEvent.action.in_(("task.completed", "review.outcome")))
    ).all()
    officers: dict[int, list[int]] = {}
    if by_officer:
        ids = {e[1] for e in events if e[1] is not None}
        for case_id, user_id in unit.session.execute(select(CaseOfficer.case_id, CaseOfficer.user_id).where(CaseOfficer.case_id.in_(ids))):
            officers.setdefault(case_id, []).append(user_id)
    correcting = set(settings()["correction_results"])
    deviations: dict[int, set[int]] = {}
    corrections: dict[int, set[int]] = {}
    for agency_id, case_id, action, detail in events:
        detail = detail or {}
        keys = officers.get(case_id, []) if by_officer else [agency_id]
        if action == "review.outcome":
            if detail.get("result") in correcting:
                for key in keys:
                    corrections.setdefault(key, set()).add(case_id)
        elif detail.get("bpmn_id") == "decide" and _deviates(detail.get("data") or {}):
            for key in keys:
                deviations.setdefault(key, set()).add(case_id)
    return [(a, len(c)) for a, c in deviations.items()], [(a, len(c)) for a, c in corrections.items()]


def _deviates(data: dict[str, Any]) -> bool:
    band, fine = data.get("discretion_band"), data.get("fine_amount")
    if not isinstance(band, dict) or not isinstance(fine, (int, float)):
        return False
    low, high = band.get("min"), band.get("max")
    return (isinstance(low, (int, float)) and fine < low) or (isinstance(high, (int, float)) and fine > high)


def to_xlsx(found: Indicators, evaluation: Any = None) -> bytes:
    """The same numbers as the API, one row per agency and a total row (openpyxl); with the composite
    evaluation (engine/supervision/evaluation.py) as a second sheet when given."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "执法监督指标"
    sheet.append(["期间", f"{found.period['from']} 至 {found.period['to']}", "机关", found.agency["name"]])
    names = [*COUNTS, *RATES]
    sheet.append(["机关", "层级", *(LABELS[n] for n in names)])
    for row in [*found.children, found.totals]:
        values = {**row.counts, **row.rates}
        label = row.agency["name"] if row is not found.totals else f"合计（{row.agency['name']}）"
        sheet.append([label, row.agency["level"], *(values[n] for n in names)])
    if evaluation is not None:
        from engine.supervision.evaluation import write_sheet

        write_sheet(book, evaluation)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

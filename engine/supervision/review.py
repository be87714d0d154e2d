"""Post-case review (案卷评查): closed cases drawn at random per agency and period, reproducibly from a
recorded seed; scored by assigned reviewers against a checklist that legal staff edit (each edit a new
version, so a sample keeps the checklist it was drawn with); scores and findings aggregated per agency."""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from engine import audit
from engine.accounts import require_role
from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.models import Agency, Case, User
from engine.supervision.kinds import enforcement_case
from engine.supervision.models import ReviewCase, ReviewChecklist, ReviewSample
from engine.supervision.monitoring import _root, settings

EDITORS = ("legal_reviewer", "supervisor", "admin")
REVIEWERS = ("legal_reviewer", "supervisor")


@dataclass(frozen=True)
class ChecklistView:
    id: int
    name: str
    items: list[dict[str, Any]]
    created_at: datetime


def current_checklist(unit: Unit) -> ChecklistView:
    return _checklist_view(_current(unit))


def replace_checklist(unit: Unit, name: Any, items: Any) -> ChecklistView:
    """A new version of the checklist (legal staff, supervisors, admins)."""
    require_role(unit.actor, *EDITORS)
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("the checklist needs a name", [Problem("a non-empty string", field="name")])
    problems, codes = [], set()
    if not isinstance(items, list) or not items:
        problems.append(Problem("a non-empty list of {code, text, max_score}", field="items"))
    for i, item in enumerate(items if isinstance(items, list) else []):
        where = f"items.{i}"
        if not isinstance(item, dict):
            problems.append(Problem("must be an object", field=where))
            continue
        code, text, top = item.get("code"), item.get("text"), item.get("max_score")
        if not isinstance(code, str) or not code.strip() or code in codes:
            problems.append(Problem("a unique non-empty code", field=f"{where}.code"))
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem("a non-empty text", field=f"{where}.text"))
        if type(top) is not int or not 1 <= top <= 100:
            problems.append(Problem("an integer from 1 to 100", field=f"{where}.max_score"))
        codes.add(code)
    if problems:
        raise InvalidInput("the checklist is not valid", problems)
    row = ReviewChecklist(
        name=name.strip(), items=[{"code": i["code"], "text": i["text"], "max_score": i["max_score"]} for i in items],
        created_by=unit.actor.user_id or None, created_at=unit.now,
    )
    unit.session.add(row)
    unit.session.flush()
    audit.record(unit, "review.checklist", {"checklist_id": row.id, "items": len(row.items)}, agency_id=unit.actor.agency_id)
    return _checklist_view(row)


@dataclass(frozen=True)
class ReviewedCase:
    case_id: int
    case_number: str
    agency_id: int
    reviewer_id: int | None
    scores: dict[str, Any] | None
    total: int | None
    findings: str | None
    reviewed_at: datetime | None


@dataclass(frozen=True)
class AgencyScore:
    agency: dict[str, Any]
    sampled: int
    reviewed: int
    mean_total: float | None
    with_findings: int


@dataclass(frozen=True)
class SampleView:
    id: int
    agency_id: int
    period: dict[str, str]
    per_agency: int
    seed: int
    checklist: ChecklistView
    max_total: int
    cases: list[ReviewedCase]
    by_agency: list[AgencyScore]


def draw(unit: Unit, *, agency_id: Any, start: date, end: date, per_agency: Any, seed: Any = None) -> SampleView:
    """Draw up to `per_agency` closed cases of each agency of the subtree closed in the period."""
    require_role(unit.actor, "supervisor", "admin")
    if agency_id is not None and type(agency_id) is not int:
        raise InvalidInput("agency_id must be an agency id", [Problem("an integer", field="agency_id")])
    if type(per_agency) is not int or not 1 <= per_agency <= 1000:
        raise InvalidInput("per_agency must be a number of cases", [Problem("an integer from 1 to 1000", field="per_agency")])
    if seed is not None and (type(seed) is not int or not 0 <= seed < 2**31):
        raise InvalidInput("seed must be a non-negative integer", [Problem("an integer from 0 to 2^31-1", field="seed")])
    root = _root(unit, agency_id)
    since = datetime.combine(start, time(0), CHINA_TZ)
    until = datetime.combine(end + timedelta(days=1), time(0), CHINA_TZ)
    closed = unit.session.execute(
        select(Case.id, Case.agency_id).join(Agency, Agency.id == Case.agency_id)
        .where(Agency.path.startswith(root.path), Case.status == "closed", Case.closed_at >= since, Case.closed_at < until,
               enforcement_case())
        .order_by(Case.agency_id, Case.id)
    ).all()
    if not closed:
        raise InvalidInput("no case was closed in the period", [Problem("no closed case of this subtree in the period", field="from")])
    seed = secrets.randbelow(2**31) if seed is None else seed
    chosen = pick(closed, per_agency, seed)
    sample = ReviewSample(
        agency_id=root.id, period_from=start, period_to=end, per_agency=per_agency, seed=seed,
        checklist_id=_current(unit).id, created_by=unit.actor.user_id or None, created_at=unit.now,
    )
    unit.session.add(sample)
    unit.session.flush()
    unit.session.add_all(ReviewCase(sample_id=sample.id, case_id=c, agency_id=a) for c, a in chosen)
    audit.record(unit, "review.sampled", {"sample_id": sample.id, "seed": seed, "cases": [c for c, _ in chosen]}, agency_id=root.id)
    unit.session.flush()
    return sample_view(unit, sample.id)


def pick(closed: list[Any], per_agency: int, seed: int) -> list[tuple[int, int]]:
    """The same cases for the same seed and the same closed cases: agencies and cases in id order."""
    rng = random.Random(seed)
    by_agency: dict[int, list[int]] = {}
    for case_id, agency_id in closed:
        by_agency.setdefault(agency_id, []).append(case_id)
    chosen = []
    for agency_id in sorted(by_agency):
        ids = sorted(by_agency[agency_id])
        chosen += [(c, agency_id) for c in sorted(rng.sample(ids, min(per_agency, len(ids))))]
    return chosen


def assign(unit: Unit, sample_id: int, case_id: int, reviewer_id: Any) -> ReviewedCase:
    require_role(unit.actor, "supervisor", "admin")
    row = _sampled(unit, sample_id, case_id)
    reviewer = unit.session.get(User, reviewer_id) if type(reviewer_id) is int else None
    if reviewer is None or not reviewer.active or not set(reviewer.roles) & set(REVIEWERS):
        raise InvalidInput("not a reviewer", [Problem("an active legal reviewer or supervisor", field="reviewer_id")])
    from engine.cases import check_visible

    check_visible(unit, reviewer.agency_id)
    if row.reviewed_at is not None:
        raise Conflict("the case has been scored already")
    row.reviewer_id = reviewer.id
    return _case_view(unit, row)


def score(unit: Unit, sample_id: int, case_id: int, scores: Any, findings: Any) -> ReviewedCase:
    """The assigned reviewer scores every checklist item (0..max) and may record findings."""
    row = _sampled(unit, sample_id, case_id, check_scope=False)
    if row.reviewer_id != unit.actor.user_id:
        raise Forbidden("only the reviewer assigned to this case may score it")
    sample = unit.session.get(ReviewSample, sample_id)
    items = unit.session.get(ReviewChecklist, sample.checklist_id).items
    if not isinstance(scores, dict):
        raise InvalidInput("scores must be an object", [Problem("{item code: score}", field="scores")])
    problems = [Problem(f"0 to {i['max_score']}", field=f"scores.{i['code']}") for i in items
                if type(scores.get(i["code"])) is not int or not 0 <= scores[i["code"]] <= i["max_score"]]
    problems += [Problem("not an item of the checklist", field=f"scores.{k}") for k in scores if k not in {i["code"] for i in items}]
    if findings is not None and not isinstance(findings, str):
        problems.append(Problem("must be text", field="findings"))
    if problems:
        raise InvalidInput("the scores do not match the checklist", problems)
    row.scores = {i["code"]: scores[i["code"]] for i in items}
    row.total = sum(row.scores.values())
    row.findings = (findings or "").strip() or None
    row.reviewed_at = unit.now
    return _case_view(unit, row)


def sample_view(unit: Unit, sample_id: int) -> SampleView:
    from engine.cases import check_visible

    sample = unit.session.get(ReviewSample, sample_id)
    if sample is None:
        raise NotFound(f"review sample {sample_id} does not exist")
    check_visible(unit, sample.agency_id)
    checklist = unit.session.get(ReviewChecklist, sample.checklist_id)
    rows = list(unit.session.scalars(select(ReviewCase).where(ReviewCase.sample_id == sample_id).order_by(ReviewCase.agency_id, ReviewCase.case_id)))
    cases = [_case_view(unit, r) for r in rows]
    names = dict(unit.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_({r.agency_id for r in rows}))).all())
    by_agency = []
    for agency_id in sorted({r.agency_id for r in rows}):
        mine = [r for r in rows if r.agency_id == agency_id]
        done = [r.total for r in mine if r.total is not None]
        by_agency.append(AgencyScore(
            {"id": agency_id, "name": names.get(agency_id)}, len(mine), len(done),
            round(sum(done) / len(done), 2) if done else None, sum(1 for r in mine if r.findings),
        ))
    return SampleView(
        sample.id, sample.agency_id, {"from": sample.period_from.isoformat(), "to": sample.period_to.isoformat()},
        sample.per_agency, sample.seed, _checklist_view(checklist), sum(i["max_score"] for i in checklist.items), cases, by_agency,
    )


def _current(unit: Unit) -> ReviewChecklist:
    row = unit.session.scalar(select(ReviewChecklist).order_by(ReviewChecklist.id.desc()).limit(1))
    if row is None:  # the default of supervision.json, stored on first use
        default = settings()["review_checklist"]
        row = ReviewChecklist(name=default["name"], items=default["items"], created_by=None, created_at=unit.now)
        unit.session.add(row)
        unit.session.flush()
    return row


def _sampled(unit: Unit, sample_id: int, case_id: int, *, check_scope: bool = True) -> ReviewCase:
    from engine.cases import check_visible

    row = unit.session.scalar(
        select(ReviewCase).where(ReviewCase.sample_id == sample_id, ReviewCase.case_id == case_id).with_for_update()
    )
    if row is None:
        raise NotFound(f"case {case_id} is not in review sample {sample_id}")
    if check_scope:
        check_visible(unit, row.agency_id)
    return row


def _case_view(unit: Unit, row: ReviewCase) -> ReviewedCase:
    number = unit.session.scalar(select(Case.number).where(Case.id == row.case_id))
    return ReviewedCase(row.case_id, number, row.agency_id, row.reviewer_id, row.scores, row.total, row.findings, row.reviewed_at)


def _checklist_view(row: ReviewChecklist) -> ChecklistView:
    return ChecklistView(row.id, row.name, row.items, row.created_at)


# -- for the pages: samples, reviewers, my review cases, one case to score ----------------------
@dataclass(frozen=True)
class SampleSummary:
    id: int
    agency: dict[str, Any]
    period: dict[str, str]
    per_agency: int
    seed: int
    cases: int
    reviewed: int
    created_at: datetime


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    agency_name: str
    roles: list[str]


@dataclass(frozen=True)
class CaseToScore:
    sample_id: int
    case: ReviewedCase
    checklist: ChecklistView
    may_score: bool  # the actor is the assigned reviewer (a new score replaces the last)


def list_samples(unit: Unit, *, limit: int = 50) -> list[SampleSummary]:
    """The samples drawn in the actor's scope, newest first."""
    from engine.cases import scope_filter

    samples = list(unit.session.scalars(
        select(ReviewSample).join(Agency, Agency.id == ReviewSample.agency_id).where(*scope_filter(unit))
        .order_by(ReviewSample.id.desc()).limit(limit)))
    counts: dict[int, tuple[int, int]] = {}
    for sample_id, total in unit.session.execute(
            select(ReviewCase.sample_id, ReviewCase.total).where(ReviewCase.sample_id.in_([s.id for s in samples]))):
        n, done = counts.get(sample_id, (0, 0))
        counts[sample_id] = (n + 1, done + (total is not None))
    names = dict(unit.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_({s.agency_id for s in samples}))).all())
    return [SampleSummary(s.id, {"id": s.agency_id, "name": names.get(s.agency_id)},
                          {"from": s.period_from.isoformat(), "to": s.period_to.isoformat()}, s.per_agency, s.seed,
                          *counts.get(s.id, (0, 0)), s.created_at) for s in samples]


def reviewer_candidates(unit: Unit) -> list[Person]:
    """Active legal reviewers and supervisors in the actor's scope: whom `assign` accepts."""
    from engine.cases import scope_filter

    rows = unit.session.execute(
        select(User.id, User.name, Agency.name, User.roles).join(Agency, Agency.id == User.agency_id)
        .where(User.active.is_(True), *scope_filter(unit)).order_by(Agency.path, User.id)
    ).all()
    return [Person(i, n, a, list(r)) for i, n, a, r in rows if set(r) & set(REVIEWERS)]


def my_review_cases(unit: Unit) -> list[tuple[int, ReviewedCase]]:
    """(sample id, case) of the cases assigned to the actor, those still to score first."""
    rows = unit.session.scalars(select(ReviewCase).where(ReviewCase.reviewer_id == unit.actor.user_id)
                                .order_by(ReviewCase.reviewed_at.is_not(None), ReviewCase.sample_id.desc(), ReviewCase.case_id))
    return [(r.sample_id, _case_view(unit, r)) for r in rows]


def case_to_score(unit: Unit, sample_id: int, case_id: int) -> CaseToScore:
    """One sampled case with its sample's checklist, for its assigned reviewer or anyone who sees the sample."""
    row = _sampled(unit, sample_id, case_id, check_scope=False)
    mine = row.reviewer_id is not None and row.reviewer_id == unit.actor.user_id
    if not mine:
        sample_view(unit, sample_id)  # the scope check of the sample
    sample = unit.session.get(ReviewSample, sample_id)
    checklist = _checklist_view(unit.session.get(ReviewChecklist, sample.checklist_id))
    return CaseToScore(sample_id, _case_view(unit, row), checklist, mine)


def sample_agencies(unit: Unit) -> list[dict[str, Any]]:
    """The agencies a sample may be drawn for: the actor's subtree, in tree order."""
    from engine.cases import scope_filter

    rows = unit.session.execute(select(Agency.id, Agency.name, Agency.path).where(*scope_filter(unit)).order_by(Agency.path)).all()
    return [{"id": i, "name": n, "depth": p.count("/")} for i, n, p in rows]

"""Administrative inspection: the directory of subjects and the 双随机 draw (random subjects from the
directory, two random inspectors from the roster for each), reproducible from a recorded seed and
audited. Each drawn subject gets an inspection case (processes/administrative_inspection.bpmn) with
the two drawn inspectors as its officers. An inspection whose head decided to file a case is referred to
a punishment case (`refer_to_punishment`) that keeps the inspection record as its evidence.

The draw: `random.Random(seed)` (a text seed is hashed with SHA-512, Python's version-2 seeding, so
the same seed gives the same draw on every platform), `sample` of `count` subject ids from the sorted
pool, then for each chosen subject a `sample` of 2 inspector ids from the sorted roster. The seed, the
pools and the result are stored; `get_draw` draws again from them and says whether it reproduces.
"""
from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import audit, cases
from engine.accounts import has_valid_certificate, require_role
from engine.catalogue import competent_matter
from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.errors import Conflict, InvalidInput, NotFound, Problem
from engine.inspection_models import (
    InspectionDraw,
    InspectionReferral,
    InspectionSubject,
)
from engine.models import Agency, Case, CaseOfficer, User
from engine.parties import normalise_party

ALGORITHM = "python3 random.Random(seed:str, version 2, SHA-512); sample(sorted subject ids, count); per subject sample(sorted inspector ids, 2)"
INSPECTORS_PER_SUBJECT = 2  # APL Art. 42: at least two officers
_SEED = re.compile(r"[0-9a-f]{8,64}")


@dataclass(frozen=True)
class SubjectView:
    id: int
    agency_id: int
    party: dict[str, Any]
    category: str
    active: bool


@dataclass(frozen=True)
class DrawView:
    id: int
    agency_id: int
    plan_name: str
    matter_code: str
    category: str | None
    seed: str
    algorithm: str
    subject_pool: list[int]
    inspector_pool: list[int]
    subject_count: int
    result: list[dict[str, Any]]
    drawn_by: int
    drawn_at: datetime
    reproduced: bool


def add_subject(unit: Unit, party: Any, category: Any) -> SubjectView:
    require_role(unit.actor, "agency_head", "admin")
    cleaned = normalise_party(party)
    if not isinstance(category, str) or not category.strip() or len(category) > 60:
        raise InvalidInput("category is required", [Problem("text of at most 60 characters", field="category")])
    row = InspectionSubject(agency_id=unit.actor.agency_id, party=cleaned, category=category.strip(), active=True, created_at=unit.now)
    unit.session.add(row)
    unit.session.flush()
    return _subject(row)


def list_subjects(unit: Unit, *, category: str | None = None) -> list[SubjectView]:
    query = select(InspectionSubject).where(InspectionSubject.agency_id == unit.actor.agency_id).order_by(InspectionSubject.id)
    if category:
        query = query.where(InspectionSubject.category == category)
    return [_subject(r) for r in unit.session.scalars(query)]


def pick(seed: str, subject_ids: list[int], inspector_ids: list[int], count: int) -> list[dict[str, Any]]:
    """The draw itself: a pure function of the seed and the pools."""
    rng = random.Random(seed)
    chosen = rng.sample(sorted(subject_ids), count)
    return [{"subject_id": s, "officer_ids": sorted(rng.sample(sorted(inspector_ids), INSPECTORS_PER_SUBJECT))} for s in chosen]


def draw(
    unit: Unit, plan_name: Any, matter_code: Any, count: Any, *, category: str | None = None, seed: Any = None,
) -> DrawView:
    """Draw subjects and inspectors, open one inspection case per subject, record and audit it all."""
    require_role(unit.actor, "agency_head")
    agency = unit.session.get(Agency, unit.actor.agency_id)
    matter = competent_matter(unit, agency, matter_code)
    problems = []
    if matter.process_id != "administrative_inspection":
        problems.append(Problem(f"matter {matter.code} is not an inspection matter", field="matter_code"))
    if not isinstance(plan_name, str) or not plan_name.strip() or len(plan_name) > 200:
        problems.append(Problem("the plan's name is required (at most 200 characters)", field="plan_name"))
    if seed is not None and (not isinstance(seed, str) or not _SEED.fullmatch(seed)):
        problems.append(Problem("8 to 64 lowercase hexadecimal characters", field="seed"))
    subjects = list(unit.session.scalars(
        select(InspectionSubject).where(
            InspectionSubject.agency_id == agency.id, InspectionSubject.active.is_(True),
            *([InspectionSubject.category == category] if category else []),
        ).order_by(InspectionSubject.id)
    ))
    if type(count) is not int or not 1 <= count <= len(subjects):
        problems.append(Problem(f"between 1 and the {len(subjects)} subjects in the directory", field="count"))
    roster = _roster(unit, agency)
    if len(roster) < INSPECTORS_PER_SUBJECT:
        problems.append(Problem(f"the roster has {len(roster)} certified officers; {INSPECTORS_PER_SUBJECT} are needed", field="roster"))
    if problems:
        raise InvalidInput("the draw cannot be made", problems)
    seed = seed or secrets.token_hex(16)
    subject_ids, inspector_ids = [s.id for s in subjects], [u.id for u in roster]
    result = pick(seed, subject_ids, inspector_ids, count)
    row = InspectionDraw(
        agency_id=agency.id, plan_name=plan_name.strip(), matter_code=matter.code, category=category, seed=seed,
        algorithm=ALGORITHM, subject_pool=subject_ids, inspector_pool=inspector_ids, subject_count=count, result=[],
        drawn_by=unit.actor.user_id, drawn_at=unit.now,
    )
    unit.session.add(row)
    unit.session.flush()
    by_id = {s.id: s for s in subjects}
    opened = []
    for item in result:
        subject = by_id[item["subject_id"]]
        case = cases.open_case(
            unit, matter.code, subject.party, item["officer_ids"], f"双随机抽查：{row.plan_name}（抽取编号 {row.id}）",
        )
        audit.record(unit, "inspection.drawn", {"draw_id": row.id, "seed": seed, **item},
                     case=unit.session.get(Case, case.id))
        opened.append({**item, "case_id": case.id, "case_number": case.number})
    row.result = opened
    audit.record(unit, "inspection.draw", {
        "draw_id": row.id, "plan_name": row.plan_name, "seed": seed, "algorithm": ALGORITHM, "subject_pool": subject_ids,
        "inspector_pool": inspector_ids, "count": count, "result": opened,
    }, agency_id=agency.id)
    return _draw(row)


def get_draw(unit: Unit, draw_id: int) -> DrawView:
    row = unit.session.get(InspectionDraw, draw_id)
    if row is None:
        raise NotFound(f"draw {draw_id} does not exist")
    cases.check_visible(unit, row.agency_id)
    return _draw(row)


def _roster(unit: Unit, agency: Agency) -> list[User]:
    today = unit.now.astimezone(CHINA_TZ).date()
    users = unit.session.scalars(select(User).where(User.agency_id == agency.id, User.active.is_(True)).order_by(User.id))
    return [u for u in users if "officer" in u.roles and has_valid_certificate(u, today)]


def _subject(row: InspectionSubject) -> SubjectView:
    return SubjectView(row.id, row.agency_id, row.party, row.category, row.active)


def _draw(row: InspectionDraw) -> DrawView:
    again = pick(row.seed, row.subject_pool, row.inspector_pool, row.subject_count)
    reproduced = [(r["subject_id"], r["officer_ids"]) for r in again] == [(r["subject_id"], r["officer_ids"]) for r in row.result]
    return DrawView(
        row.id, row.agency_id, row.plan_name, row.matter_code, row.category, row.seed, row.algorithm, list(row.subject_pool),
        list(row.inspector_pool), row.subject_count, list(row.result), row.drawn_by, row.drawn_at, reproduced,
    )


# -- from an inspection to a punishment case ----------------------------------------------------
EVIDENCE_FIELDS = ("record_number", "inspected_at", "place", "officers_present", "findings", "suspected_violation",
                   "party_present", "witness_name", "inspection_kind", "inspection_basis", "inspection_items", "follow_up",
                   "follow_up_opinion")
REFERRED_FOLLOW_UPS = ("file_case", "order_and_file")


@dataclass(frozen=True)
class ReferralView:
    id: int
    inspection_case_id: int
    punishment_case_id: int
    punishment_case_number: str
    evidence: dict[str, Any]
    referred_by: int
    referred_at: datetime


def refer_to_punishment(unit: Unit, inspection_case_id: int, matter_code: Any) -> ReferralView:
    """Open a punishment case for the party of a finished inspection whose head decided to file a case; the
    inspection's record goes with it as evidence, and the filing clock starts on the inspection day."""
    from engine import instances

    require_role(unit.actor, "officer", "agency_head")
    inspection_case = instances.lock_case(unit, inspection_case_id)
    cases.check_visible(unit, inspection_case.agency_id)
    source = competent_matter(unit, None, inspection_case.matter_code)
    if source.process_id != "administrative_inspection":
        raise InvalidInput(f"case {inspection_case.number} is not an inspection", [Problem("not an inspection case", field="case_id")])
    if unit.session.scalar(select(InspectionReferral.id).where(InspectionReferral.inspection_case_id == inspection_case.id)):
        raise Conflict(f"inspection {inspection_case.number} has already been referred to a punishment case")
    data = instances.load(unit, inspection_case).data
    if inspection_case.status != "closed" or data.get("follow_up") not in REFERRED_FOLLOW_UPS:
        raise Conflict(f"inspection {inspection_case.number} has no decision to file a case (负责人决定移交立案查处后方可)")
    officers = [i for (i,) in unit.session.execute(
        select(CaseOfficer.user_id).where(CaseOfficer.case_id == inspection_case.id).order_by(CaseOfficer.user_id))]
    evidence = {k: data[k] for k in EVIDENCE_FIELDS if k in data}
    opened = cases.open_case(
        unit, matter_code, inspection_case.party, officers,
        f"检查发现：{data.get('suspected_violation', '')}（检查案件 {inspection_case.number}，检查记录 {data.get('record_number', '')}）",
        clue_received_at=data.get("inspected_at"),
    )
    row = InspectionReferral(inspection_case_id=inspection_case.id, punishment_case_id=opened.id, evidence=evidence,
                             referred_by=unit.actor.user_id, referred_at=unit.now)
    unit.session.add(row)
    unit.session.flush()
    detail = {"inspection_case": inspection_case.number, "punishment_case": opened.number, "record_number": evidence.get("record_number")}
    audit.record(unit, "inspection.referred", detail, case=inspection_case)
    audit.record(unit, "inspection.evidence_received", {**detail, "evidence": evidence}, case=unit.session.get(Case, opened.id))
    return _referral(row, opened.number)


def get_referral(unit: Unit, case_id: int) -> ReferralView:
    """The referral an inspection case or a punishment case takes part in."""
    row = unit.session.scalar(select(InspectionReferral).where(
        (InspectionReferral.inspection_case_id == case_id) | (InspectionReferral.punishment_case_id == case_id)))
    if row is None:
        raise NotFound(f"case {case_id} has no inspection referral")
    target = cases.visible_case(unit, row.punishment_case_id)
    return _referral(row, target.number)


def _referral(row: InspectionReferral, number: str) -> ReferralView:
    return ReferralView(row.id, row.inspection_case_id, row.punishment_case_id, number, dict(row.evidence), row.referred_by,
                        row.referred_at)

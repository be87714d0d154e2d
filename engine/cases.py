"""Cases: opened for a catalogue matter the agency is competent for, with a party and two or more
certified officers; numbered gaplessly per agency and year; read within the agency tree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select

from engine import audit, definitions, instances, prepared, sequences
from engine.accounts import has_valid_certificate, require_role
from engine.catalogue import (
    MatterView,
    checked_matter,
    competence_clause,
    competent_matter,
)
from engine.clock import CHINA_TZ, parse_instant
from engine.core import Unit
from engine.errors import Forbidden, InvalidInput, NotFound, Problem
from engine.models import (
    Agency,
    Case,
    CaseOfficer,
    CaseSequence,
    Matter,
    ProcessDefinition,
    TaskRow,
    TimerRow,
    User,
)
from engine.parties import normalise_party
from engine.supervision import matter_access
from engine.supervision.kinds import enforcement_case
from engine.timers import TimerView, timer_view

MIN_OFFICERS = 2  # APL Art. 42: at least two officers with enforcement certificates


@dataclass(frozen=True)
class CaseTask:
    id: str
    name: str
    bpmn_id: str
    lane: str | None
    state: str
    due_at: datetime | None
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class CaseView:
    id: int
    number: str
    matter: MatterView
    agency: dict[str, Any]
    party: dict[str, Any]
    summary: str
    status: str
    outcome: str | None
    officers: list[dict[str, Any]]
    opened_at: datetime
    closed_at: datetime | None
    definition_id: int
    tasks: list[CaseTask]
    timers: list[TimerView]


@dataclass(frozen=True)
class Opened:
    id: int
    number: str


def open_case(
    unit: Unit, matter_code: str, party: Any, officer_ids: Any, summary: str, clue_received_at: Any = None
) -> Opened:
    """Register a case. `clue_received_at` (when the clue was found or the complaint received) starts the
    filing clock (SAMR-Proc Art. 18); it defaults to now."""
    require_role(unit.actor, "officer", "agency_head")
    agency, matter, row = _opening_context(unit, matter_code)
    cleaned_party = normalise_party(party)
    clue_at = _clue_received_at(unit, clue_received_at)
    officers = _certified_officers(unit, agency, officer_ids)
    row = definitions.checked_executable(matter.process_id, row)
    case = _insert_case(unit, {
        "number": _next_number(unit, agency, unit.now), "agency_id": agency.id, "matter_code": matter.code,
        "definition_id": row.id, "party": cleaned_party, "summary": str(summary or "").strip(), "status": "open",
        "outcome": None, "opened_at": unit.now, "opened_by": unit.actor.user_id, "closed_at": None,
        "updated_at": unit.now, "revision": 0, "last_audit_hash": audit.GENESIS,
    })
    unit.writes.insert(CaseOfficer.__table__, [{"case_id": case.id, "user_id": o.id} for o in officers])
    audit.record(unit, "case.opened", {"number": case.number, "matter": matter.code, "officers": [o.id for o in officers]}, case=case)
    data = _initial_data(unit, case, matter, officers, agency)
    data["clue_received_at"] = clue_at or data["opened_at"]
    instances.start(unit, case, row, data)
    return Opened(case.id, case.number)


def _insert_case(unit: Unit, values: dict[str, Any]) -> Case:
    """INSERT ... RETURNING id as one Core statement; the row is then held by the session as if loaded."""
    statement = _INSERT_CASE.statement(unit.session.connection())
    case_id = unit.execute(statement, {f"v_{name}": value for name, value in values.items()}).scalar_one()
    return prepared.adopt(unit.session, Case, {**values, "id": case_id})


_INSERT_CASE = prepared.Query(  # built once (prepared on PostgreSQL); every column but the id is given
    insert(Case)
    .values({c.name: bindparam(f"v_{c.name}", type_=c.type) for c in Case.__table__.c if c.name != "id"})
    .returning(Case.id)
)


class _AgencyRef(NamedTuple):
    id: int
    name: str
    abbreviation: str


class _DefinitionRef(NamedTuple):
    id: int
    version: int
    executable: bool


def _opening_context(unit: Unit, matter_code: Any) -> tuple[_AgencyRef, MatterView, _DefinitionRef | None]:
    """In one query: the user's agency, the matter, the agency's competence for it, and the newest
    deployed version of the matter's procedure (checked by the caller in the order errors are told)."""
    code = matter_code if isinstance(matter_code, str) else None
    found = unit.first(_OPENING, {"agency_id": unit.actor.agency_id, "code": code})
    if found is None:  # the acting user's agency is gone
        raise Forbidden("your agency does not exist")
    agency = _AgencyRef(*found[:3])
    matter = found[3:10] if found[3] is not None else None
    row = _DefinitionRef(*found[11:]) if found[11] is not None else None
    return agency, checked_matter(agency, matter_code, matter and MatterView(*matter), bool(found[10])), row


_OPENING = prepared.Query(  # built once (prepared on PostgreSQL): the statement is the same for every case opened
    select(
        Agency.id, Agency.name, Agency.abbreviation,
        *(getattr(Matter, f) for f in MatterView.__dataclass_fields__),
        competence_clause(Agency.id, Matter.code),
        ProcessDefinition.id, ProcessDefinition.version, ProcessDefinition.executable,
    )
    .select_from(Agency)
    .outerjoin(Matter, Matter.code == bindparam("code"))
    .outerjoin(ProcessDefinition, ProcessDefinition.id == definitions.latest_clause(Matter.process_id))
    .where(Agency.id == bindparam("agency_id"))
)


def get_case(unit: Unit, case_id: int) -> CaseView:
    return case_view(unit, visible_case(unit, case_id))


def visible_case(unit: Unit, case_id: int) -> Case:
    case = unit.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    if not matter_access.may_read_case(unit, case):  # a supervision matter: also the supervised agency's head
        check_visible(unit, case.agency_id)
    return case


def check_visible(unit: Unit, agency_id: int) -> None:
    path = unit.session.scalar(select(Agency.path).where(Agency.id == agency_id))
    if path is None or not unit.actor.oversees(path):
        raise Forbidden("this case belongs to an agency outside your scope")


def list_cases(
    unit: Unit, *, status: str | None = None, agency_id: int | None = None, matter_code: str | None = None,
    q: str | None = None, page: int = 1, per_page: int = 20,
) -> tuple[list[dict[str, Any]], int]:
    query = select(Case, Agency).join(Agency, Agency.id == Case.agency_id).where(*scope_filter(unit), enforcement_case())
    if status:
        query = query.where(Case.status == status)
    if agency_id:
        query = query.where(Case.agency_id == agency_id)
    if matter_code:
        query = query.where(Case.matter_code == matter_code)
    if q:
        query = query.where(Case.number.contains(q) | Case.summary.contains(q))
    total = unit.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = unit.session.execute(query.order_by(Case.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return [_summary(c, a) for c, a in rows], total


def scope_filter(unit: Unit) -> list[Any]:
    """Agency scope of the acting user: own agency, or the subtree for supervisors and admins."""
    if unit.actor.has_role("supervisor", "admin"):
        return [Agency.path.startswith(unit.actor.scope_path or unit.actor.agency_path)]
    return [Agency.id == unit.actor.agency_id]


def case_view(unit: Unit, case: Case) -> CaseView:
    agency = unit.session.get(Agency, case.agency_id)
    matter = competent_matter(unit, None, case.matter_code)
    officers = unit.session.execute(_CASE_OFFICERS, {"case_id": case.id}).all()
    tasks = unit.session.execute(_CASE_TASKS, {"case_id": case.id})  # rows: what the page of a case shows
    timers = unit.session.execute(_CASE_TIMERS, {"case_id": case.id})
    return CaseView(
        id=case.id, number=case.number, matter=matter,
        agency={"id": agency.id, "name": agency.name, "abbreviation": agency.abbreviation},
        party=case.party, summary=case.summary, status=case.status, outcome=case.outcome,
        officers=[{"id": i, "username": u, "name": n} for i, u, n in officers],
        opened_at=case.opened_at, closed_at=case.closed_at, definition_id=case.definition_id,
        tasks=[CaseTask(*t) for t in tasks],
        timers=[timer_view(t, case.number, unit.now) for t in timers],
    )


# A case's page, read on every completion's answer: statements built once, rows rather than ORM objects.
_CASE_OFFICERS = (
    select(User.id, User.username, User.name).join(CaseOfficer, CaseOfficer.user_id == User.id)
    .where(CaseOfficer.case_id == bindparam("case_id")).order_by(User.id)
)
_CASE_TASKS = (
    select(TaskRow.id, TaskRow.name, TaskRow.bpmn_id, TaskRow.lane, TaskRow.state, TaskRow.due_at, TaskRow.created_at,
           TaskRow.completed_at)
    .where(TaskRow.case_id == bindparam("case_id")).order_by(TaskRow.created_at, TaskRow.id)
)
_CASE_TIMERS = select(TimerRow.__table__).where(TimerRow.__table__.c.case_id == bindparam("case_id")).order_by(TimerRow.__table__.c.due_at)


def _summary(case: Case, agency: Agency) -> dict[str, Any]:
    return {
        "id": case.id, "number": case.number, "matter_code": case.matter_code, "agency_id": agency.id,
        "agency_name": agency.name, "party_name": case.party.get("name"), "status": case.status,
        "outcome": case.outcome, "opened_at": case.opened_at, "closed_at": case.closed_at,
    }


def _certified_officers(unit: Unit, agency: _AgencyRef, officer_ids: Any) -> list[Any]:
    if not isinstance(officer_ids, list) or not all(type(i) is int for i in officer_ids):  # bool is not an id
        raise InvalidInput("officer_ids must be a list of user ids", [Problem("must be a list of integers", field="officer_ids")])
    ids = list(dict.fromkeys(officer_ids))
    users = {u.id: u for u in unit.execute(_OFFICERS, {"ids": ids})} if ids else {}
    today = unit.now.astimezone(CHINA_TZ).date()
    problems = []
    for i in ids:
        user = users.get(i)
        if user is None or not user.active or user.agency_id != agency.id or "officer" not in user.roles:
            problems.append(Problem(f"user {i} is not an officer of {agency.name}", field="officer_ids"))
        elif not has_valid_certificate(user, today):
            problems.append(Problem(f"officer {user.username} holds no valid enforcement certificate", field="officer_ids"))
    if len(ids) < MIN_OFFICERS:
        problems.append(Problem(f"at least {MIN_OFFICERS} certified officers are required (行政处罚法第四十二条)", field="officer_ids"))
    if problems:
        raise InvalidInput("the assigned officers are not acceptable", problems)
    return [users[i] for i in ids]


_OFFICERS = select(
    User.id, User.username, User.agency_id, User.roles, User.active, User.certificate_no, User.certificate_valid_until
).where(User.id.in_(bindparam("ids", expanding=True)))


def _next_number(unit: Unit, agency: _AgencyRef, now: datetime) -> str:
    """`<abbreviation>〔<year>〕<n>号`, gapless: the sequence row is locked until the case commits."""
    year = now.astimezone(CHINA_TZ).year
    value = sequences.next_value(unit, CaseSequence, agency_id=agency.id, year=year)
    return f"{agency.abbreviation}〔{year}〕{value}号"


def _clue_received_at(unit: Unit, value: Any) -> str | None:
    if value is None:
        return None
    problem = [Problem("ISO 8601 with a UTC offset, not in the future, e.g. 2026-03-02T09:00:00+08:00", field="clue_received_at")]
    try:
        at = parse_instant(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at > unit.now:
        raise InvalidInput("clue_received_at is not a valid past instant", problem)
    return at.astimezone(CHINA_TZ).isoformat(timespec="seconds")


def _initial_data(unit: Unit, case: Case, matter: MatterView, officers: list[Any], agency: _AgencyRef) -> dict[str, Any]:
    opened = unit.core.now_iso()
    return {
        "case_id": case.id,
        "case_number": case.number,
        "agency_name": agency.name,
        "clue_received_at": opened,
        "opened_at": opened,
        "party": case.party,
        "matter": {"code": matter.code, "name": matter.name, "legal_basis": matter.legal_basis, "category": matter.category},
        "officer_ids": [o.id for o in officers],
        "officer_usernames": [o.username for o in officers],  # what a form naming an account (主持人账号) is checked against
    }

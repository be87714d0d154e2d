"""Supervision matters (监督事项): opened by a supervisor of a judicial bureau against an enforcement agency
of their subtree, from a compliance alert, a conduct complaint or on their own initiative, optionally about
one case; then run by processes/supervision_matter.bpmn on the engine's case machinery (docs/supervision.md
§6). A matter's status is read from its projections (open task, case status and outcome), never stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine import audit, definitions, instances, sequences
from engine.accounts import require_role
from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.documents.models import Document
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.models import Agency, Case, CaseOfficer, Matter, TaskRow, TimerRow, User
from engine.publicity.models import Complaint
from engine.supervision import matter_access
from engine.supervision.kinds import (
    SUPERVISION_CATEGORY,
    SUPERVISION_MATTER,
    SUPERVISION_PROCESS,
    is_supervision,
)
from engine.supervision.matter_models import SupervisionMatter, SupervisionSequence
from engine.supervision.models import ComplianceAlert
from engine.supervision.monitoring import settings

SOURCES = ("alert", "complaint", "initiative")
STEP_STATUS = {"issue_notice": "notice", "rectification_report": "rectification", "review_rectification": "review"}
STATUSES = (*STEP_STATUS.values(), "closed", "escalated")


@dataclass(frozen=True)
class MatterView:
    id: int
    case_id: int
    number: str
    status: str  # notice | rectification | review | closed | escalated
    source: str
    summary: str
    supervising_agency: dict[str, Any]
    supervised_agency: dict[str, Any]
    alert_id: int | None
    complaint_id: int | None
    subject_case: dict[str, Any] | None
    supervisors: list[dict[str, Any]]
    opened_at: datetime
    opened_by: int
    closed_at: datetime | None
    escalated_to: dict[str, Any] | None
    rectification_deadline: dict[str, Any] | None  # the latest notice's: due_at, status (waiting | overdue | met | breached)
    tasks: list[dict[str, Any]]
    documents: list[dict[str, Any]]


# -- opening ----------------------------------------------------------------------------------------------
def open_matter(unit: Unit, body: Any) -> MatterView:
    require_role(unit.actor, "supervisor")
    if not isinstance(body, dict):
        raise InvalidInput("the body must be an object", [Problem("must be an object", field="body")])
    bureau = unit.session.get(Agency, unit.actor.agency_id)
    if bureau.kind != "supervision":
        raise Forbidden("supervision matters are opened by a supervision body (司法局/司法厅)")
    fields = _checked_fields(body)
    agency = _supervised_agency(unit, fields["agency_id"])
    alert = _alert(unit, fields.get("alert_id"), agency) if fields["source"] == "alert" else None
    complaint = _complaint(unit, fields.get("complaint_id"), agency) if fields["source"] == "complaint" else None
    subject = _subject_case(unit, fields.get("case_id"), agency, alert)
    supervisors = _supervisors(unit, fields.get("supervisor_ids"))
    _ensure_matter_row(unit)
    row = definitions.latest_executable(unit, SUPERVISION_PROCESS)
    year = unit.now.astimezone(CHINA_TZ).year
    serial = sequences.next_value(unit, SupervisionSequence, agency_id=bureau.id, year=year)
    case = Case(
        number=f"{bureau.abbreviation}监督〔{year}〕{serial}号", agency_id=bureau.id, matter_code=SUPERVISION_MATTER,
        definition_id=row.id, party={"type": "agency", "name": agency.name, "agency_id": agency.id, "code": agency.code},
        summary=fields["summary"], status="open", outcome=None, opened_at=unit.now, opened_by=unit.actor.user_id,
        closed_at=None, updated_at=unit.now, revision=0, last_audit_hash=audit.GENESIS,
    )
    unit.session.add(case)
    unit.session.flush()
    unit.session.add_all([CaseOfficer(case_id=case.id, user_id=u.id) for u in supervisors])
    matter = SupervisionMatter(
        case_id=case.id, supervised_agency_id=agency.id, source=fields["source"], alert_id=alert.id if alert else None,
        complaint_id=complaint.id if complaint else None, subject_case_id=subject.id if subject else None,
        opened_at=unit.now, opened_by=unit.actor.user_id,
    )
    unit.session.add(matter)
    unit.session.flush()
    audit.record(unit, "case.opened", {"number": case.number, "matter": SUPERVISION_MATTER, "officers": [u.id for u in supervisors]}, case=case)
    audit.record(unit, "supervision.matter_opened", {
        "matter_id": matter.id, "source": matter.source, "alert_id": matter.alert_id, "complaint_id": matter.complaint_id,
        "supervised_agency_id": agency.id, "subject_case_id": matter.subject_case_id,
    }, case=case)
    _link_sources(unit, matter, alert, complaint)
    instances.start(unit, case, row, _initial_data(unit, case, bureau, agency, matter, subject, supervisors))
    return _view(unit, matter)


def _checked_fields(body: dict[str, Any]) -> dict[str, Any]:
    problems: list[Problem] = []
    fields: dict[str, Any] = {}
    if type(body.get("agency_id")) is not int:
        problems.append(Problem("the id of the supervised enforcement agency (an integer)", field="agency_id"))
    fields["agency_id"] = body.get("agency_id")
    source = body.get("source")
    if source not in SOURCES:
        problems.append(Problem(f"one of {', '.join(SOURCES)}", field="source"))
    fields["source"] = source
    for name, needed in (("alert_id", "alert"), ("complaint_id", "complaint")):
        value = body.get(name)
        if source == needed and type(value) is not int:
            problems.append(Problem(f"required with source {needed}: an integer id", field=name))
        elif source in SOURCES and source != needed and value is not None:
            problems.append(Problem(f"only with source {needed}", field=name))
        fields[name] = value
    if body.get("case_id") is not None and type(body.get("case_id")) is not int:
        problems.append(Problem("an integer case id, or leave it out", field="case_id"))
    fields["case_id"] = body.get("case_id")
    summary = body.get("summary")
    if not isinstance(summary, str) or not 1 <= len(summary.strip()) <= 2000:
        problems.append(Problem("what the matter is about: text of 1 to 2000 characters", field="summary"))
    fields["summary"] = summary.strip() if isinstance(summary, str) else ""
    ids = body.get("supervisor_ids")
    if ids is not None and (not isinstance(ids, list) or not ids or not all(type(i) is int for i in ids)):
        problems.append(Problem("a non-empty list of user ids, or leave it out (you alone)", field="supervisor_ids"))
    fields["supervisor_ids"] = ids
    unknown = set(body) - {"agency_id", "source", "alert_id", "complaint_id", "case_id", "summary", "supervisor_ids"}
    problems += [Problem("unknown field", field=name) for name in sorted(unknown)]
    if problems:
        raise InvalidInput("the supervision matter is not acceptable", problems)
    return fields


def _supervised_agency(unit: Unit, agency_id: int) -> Agency:
    agency = unit.session.get(Agency, agency_id)
    if agency is None:
        raise InvalidInput(f"there is no agency {agency_id}", [Problem("unknown agency", field="agency_id")])
    if not unit.actor.oversees(agency.path):
        raise Forbidden(f"{agency.name} is outside your supervision scope")
    if agency.kind != "enforcement":
        raise InvalidInput(f"{agency.name} is not an enforcement agency", [Problem("must be an enforcement agency", field="agency_id")])
    return agency


def _alert(unit: Unit, alert_id: int, agency: Agency) -> ComplianceAlert:
    alert = unit.session.scalar(select(ComplianceAlert).where(ComplianceAlert.id == alert_id).with_for_update())
    if alert is None:
        raise InvalidInput(f"there is no alert {alert_id}", [Problem("unknown alert", field="alert_id")])
    path = unit.session.scalar(select(Agency.path).where(Agency.id == alert.agency_id))
    if not unit.actor.oversees(path):
        raise Forbidden(f"alert {alert_id} belongs to an agency outside your supervision scope")
    if alert.status == "dismissed":
        raise Conflict(f"alert {alert_id} was dismissed: a dismissed alert opens no matter", [Problem("dismissed", field="alert_id")])
    _refuse_twice(unit, SupervisionMatter.alert_id == alert.id, "alert_id", f"alert {alert_id}")
    if alert.agency_id != agency.id:
        raise InvalidInput(f"alert {alert_id} is about another agency", [Problem(f"the alert's agency is {alert.agency_id}", field="agency_id")])
    return alert


def _complaint(unit: Unit, complaint_id: int, agency: Agency) -> Complaint:
    row = unit.session.scalar(select(Complaint).where(Complaint.id == complaint_id).with_for_update())
    if row is None:
        raise InvalidInput(f"there is no complaint {complaint_id}", [Problem("unknown complaint", field="complaint_id")])
    if row.agency_id != unit.actor.agency_id:
        raise Forbidden("only the supervision body handling a complaint opens a matter from it")
    if row.kind != "conduct":
        raise InvalidInput("a complaint about a violation is a clue for the agency, not a supervision matter",
                           [Problem("must be a complaint about enforcement conduct (kind conduct)", field="complaint_id")])
    _refuse_twice(unit, SupervisionMatter.complaint_id == row.id, "complaint_id", f"complaint {complaint_id}")
    if row.status != "received":
        raise Conflict(f"complaint {complaint_id} is {row.status}", [Problem(f"is {row.status}", field="complaint_id")])
    if row.about_agency_id != agency.id:
        raise InvalidInput(f"complaint {complaint_id} is about another agency",
                           [Problem(f"the complaint is about agency {row.about_agency_id}", field="agency_id")])
    return row


def _refuse_twice(unit: Unit, condition: Any, field: str, what: str) -> None:
    number = unit.session.scalar(select(Case.number).join(SupervisionMatter, SupervisionMatter.case_id == Case.id).where(condition))
    if number is not None:
        raise Conflict(f"{what} opened supervision matter {number} already", [Problem(f"already matter {number}", field=field)])


def _subject_case(unit: Unit, case_id: int | None, agency: Agency, alert: ComplianceAlert | None) -> Case | None:
    if case_id is None:
        return unit.session.get(Case, alert.case_id) if alert is not None else None
    case = unit.session.get(Case, case_id)
    if case is None or is_supervision(case):
        raise InvalidInput(f"there is no enforcement case {case_id}", [Problem("unknown case", field="case_id")])
    if case.agency_id != agency.id:
        raise InvalidInput(f"case {case.number} is not a case of {agency.name}", [Problem("a case of the supervised agency", field="case_id")])
    if alert is not None and alert.case_id != case.id:
        raise InvalidInput(f"alert {alert.id} is about another case", [Problem(f"the alert's case is {alert.case_id}", field="case_id")])
    return case


def _supervisors(unit: Unit, ids: list[int] | None) -> list[User]:
    wanted = list(dict.fromkeys(ids or [unit.actor.user_id]))
    users = {u.id: u for u in unit.session.scalars(select(User).where(User.id.in_(wanted)))}
    bad = [i for i in wanted if not (users.get(i) and _assignable(unit, users[i]))]
    if bad:
        raise InvalidInput("the assigned supervisors are not acceptable",
                           [Problem(f"user {i} is not an active supervisor of your bureau", field="supervisor_ids") for i in bad])
    return [users[i] for i in wanted]


def _assignable(unit: Unit, user: User) -> bool:
    """Who may be assigned to a matter the acting supervisor opens: an active supervisor of their bureau."""
    return user.active and user.agency_id == unit.actor.agency_id and "supervisor" in user.roles


def _ensure_matter_row(unit: Unit) -> None:
    """The internal matter every supervision matter's case names (not a catalogue matter: hidden from it)."""
    data = settings()["supervision_procedure"]
    upsert = pg_insert if unit.session.bind.dialect.name == "postgresql" else sqlite_insert
    unit.session.execute(upsert(Matter.__table__).values(
        code=SUPERVISION_MATTER, name=data["matter_name"], category=SUPERVISION_CATEGORY, legal_basis=data["basis"],
        penalty_basis=None, process_id=SUPERVISION_PROCESS, domain=SUPERVISION_CATEGORY,
    ).on_conflict_do_nothing(index_elements=["code"]))


def _link_sources(unit: Unit, matter: SupervisionMatter, alert: ComplianceAlert | None, complaint: Complaint | None) -> None:
    if alert is not None:
        if alert.status == "open":  # opening a matter on it is taking it up
            alert.status, alert.handled_by, alert.handled_at = "acknowledged", unit.actor.user_id, unit.now
        audit.record(unit, "alert.matter_opened", {"alert_id": alert.id, "case_id": alert.case_id, "matter_id": matter.id},
                     agency_id=alert.agency_id)
    if complaint is not None:
        complaint.status, complaint.case_id, complaint.handled_by, complaint.updated_at = "case_opened", matter.case_id, unit.actor.user_id, unit.now
        complaint.reply = "已转为行政执法监督事项办理。"
        audit.record(unit, "complaint.supervision_opened", {"complaint_id": complaint.id, "matter_id": matter.id},
                     agency_id=complaint.agency_id)


def _initial_data(
    unit: Unit, case: Case, bureau: Agency, agency: Agency, matter: SupervisionMatter, subject: Case | None, supervisors: list[User],
) -> dict[str, Any]:
    opened = unit.core.now_iso()
    above = _escalation_body(unit)
    return {
        "case_id": case.id, "case_number": case.number, "agency_name": bureau.name, "opened_at": opened,
        "clue_received_at": opened, "party": case.party,
        "matter": {"code": SUPERVISION_MATTER, "name": settings()["supervision_procedure"]["matter_name"],
                   "legal_basis": settings()["supervision_procedure"]["basis"], "category": SUPERVISION_CATEGORY},
        "officer_ids": [u.id for u in supervisors], "officer_usernames": [u.username for u in supervisors],
        "supervised_agency": {"id": agency.id, "name": agency.name}, "source": matter.source,
        "subject_case_number": subject.number if subject else None, "summary": case.summary,
        "escalation_body": above.name if above else "上一级人民政府",
        "default_rectification_days": int(settings()["supervision_procedure"]["rectification_working_days"]),
        "notice_round": 0,
    }


def _escalation_body(unit: Unit) -> Agency | None:
    """The government above the supervisor's scope (as an escalated alert goes: alerts._level_above)."""
    from engine.supervision.alerts import _level_above

    above = _level_above(unit)
    return unit.session.get(Agency, above) if above is not None else None


# -- reading ----------------------------------------------------------------------------------------------
def list_matters(unit: Unit, *, status: str | None = None, page: int = 1, per_page: int = 50) -> tuple[list[MatterView], int]:
    """Supervisors and admins: the matters of the bureaus in their subtree; an agency head: those supervising
    their agency."""
    require_role(unit.actor, "supervisor", "admin", "agency_head")
    from engine.cases import scope_filter

    query = select(SupervisionMatter).join(Case, Case.id == SupervisionMatter.case_id).join(Agency, Agency.id == Case.agency_id)
    if unit.actor.has_role("supervisor", "admin"):
        query = query.where(*scope_filter(unit))
    else:
        query = query.where(SupervisionMatter.supervised_agency_id == unit.actor.agency_id)
    if status:
        query = query.where(_status_clause(status))
    total = unit.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = unit.session.scalars(query.order_by(SupervisionMatter.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return [_view(unit, m) for m in rows], total


def get_matter(unit: Unit, matter_id: int) -> MatterView:
    from engine.cases import check_visible

    matter = unit.session.get(SupervisionMatter, matter_id)
    if matter is None:
        raise NotFound(f"supervision matter {matter_id} does not exist")
    if not matter_access.rectifies(unit, matter.case_id):
        check_visible(unit, unit.session.get(Case, matter.case_id).agency_id)
    return _view(unit, matter)


def _status_clause(status: str) -> Any:
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}", [Problem(f"one of {', '.join(STATUSES)}", field="status")])
    if status in ("closed", "escalated"):
        return and_(Case.status == "closed", Case.outcome == status)
    step = next(b for b, s in STEP_STATUS.items() if s == status)
    return exists().where(TaskRow.case_id == Case.id, TaskRow.bpmn_id == step, TaskRow.state == "ready")


def _view(unit: Unit, matter: SupervisionMatter) -> MatterView:
    s = unit.session
    case = s.get(Case, matter.case_id)
    bureau, agency = s.get(Agency, case.agency_id), s.get(Agency, matter.supervised_agency_id)
    tasks = list(s.scalars(select(TaskRow).where(TaskRow.case_id == case.id).order_by(TaskRow.created_at, TaskRow.id)))
    ready = [t.bpmn_id for t in tasks if t.state == "ready"]
    status = (case.outcome if case.outcome in ("closed", "escalated") else "closed") if case.status == "closed" \
        else STEP_STATUS.get(ready[0] if ready else "", "notice")
    timer = s.scalar(select(TimerRow).where(TimerRow.case_id == case.id)  # the latest notice's (its clock starts last)
                     .order_by(TimerRow.started_at.desc(), TimerRow.due_at.desc()).limit(1))
    subject = s.get(Case, matter.subject_case_id) if matter.subject_case_id else None
    scope_root = s.get(Agency, bureau.parent_id) if bureau.parent_id else None  # the government the bureau supervises
    above = s.get(Agency, scope_root.parent_id) if status == "escalated" and scope_root and scope_root.parent_id else None
    staff = s.execute(select(User.id, User.username, User.name).join(CaseOfficer, CaseOfficer.user_id == User.id)
                      .where(CaseOfficer.case_id == case.id).order_by(User.id)).all()
    documents = s.execute(select(Document.id, Document.title, Document.number, Document.verification_code, Document.task_id)
                          .where(Document.case_id == case.id).order_by(Document.id)).all()
    return MatterView(
        id=matter.id, case_id=case.id, number=case.number, status=status, source=matter.source, summary=case.summary,
        supervising_agency=_agency(bureau), supervised_agency=_agency(agency), alert_id=matter.alert_id,
        complaint_id=matter.complaint_id, subject_case={"id": subject.id, "number": subject.number} if subject else None,
        supervisors=[{"id": i, "username": u, "name": n} for i, u, n in staff], opened_at=matter.opened_at,
        opened_by=matter.opened_by, closed_at=case.closed_at, escalated_to=_agency(above) if above else None,
        rectification_deadline=_deadline(timer, unit.now),
        tasks=[{"id": t.id, "bpmn_id": t.bpmn_id, "name": t.name, "lane": t.lane, "state": t.state, "due_at": t.due_at,
                "completed_at": t.completed_at} for t in tasks],
        documents=[{"id": i, "title": t, "number": n, "verification_code": c, "task_id": k} for i, t, n, c, k in documents],
    )


def _deadline(timer: TimerRow | None, now: datetime) -> dict[str, Any] | None:
    if timer is None:
        return None
    status = "overdue" if timer.status == "waiting" and timer.due_at is not None and timer.due_at <= now else timer.status
    return {"due_at": timer.due_at, "status": status, "legal_basis": timer.legal_basis}


def _agency(a: Agency) -> dict[str, Any]:
    return {"id": a.id, "code": a.code, "name": a.name, "level": a.level}


# -- for the pages ----------------------------------------------------------------------------------------
def matter_of_case(unit: Unit, case_id: int) -> int | None:
    """The id of the matter a case is the workflow of (None for an enforcement case); no scope check."""
    return unit.session.scalar(select(SupervisionMatter.id).where(SupervisionMatter.case_id == case_id))


def supervisable_agencies(unit: Unit) -> list[dict[str, Any]]:
    """The enforcement agencies the acting supervisor may open a matter against (their subtree), in tree order."""
    from engine.cases import scope_filter

    require_role(unit.actor, "supervisor")
    rows = unit.session.scalars(select(Agency).where(*scope_filter(unit), Agency.kind == "enforcement").order_by(Agency.path))
    return [_agency(a) for a in rows]


def assignable_supervisors(unit: Unit) -> list[dict[str, Any]]:
    """The supervisors a matter the acting supervisor opens may be assigned (`supervisor_ids`), by username."""
    require_role(unit.actor, "supervisor")
    users = unit.session.scalars(select(User).where(User.agency_id == unit.actor.agency_id, User.active.is_(True)).order_by(User.username))
    return [{"id": u.id, "username": u.username, "name": u.name} for u in users if _assignable(unit, u)]

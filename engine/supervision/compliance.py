"""Compliance rules: small checks over a case's projections and audit trail, each with its citation.

They run after every saved step (one call in `instances.save` marks the case; the rules run once per
transaction, just before it commits, so they see the step's audit event too) and on demand over
existing cases (`evaluate_scope`). A violation becomes one alert per rule, case and subject.

What a rule reads (the data contract, see docs/supervision.md): the case, its matter and the agency's
competence, the assigned officers' certificates, the `tasks` and `timers` projections, and the
`task.completed` audit events (their form data); plus the audit actions `evidence.*` (evidence added)
and the step-data fields `discretion_band` / `deviation_reason` that other capabilities write; and
`timer.recounted` (a limit that fired on a provisional count, recounted by engine/fired_limits.py).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import and_, bindparam, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.accounts import require_role
from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.models import (
    Agency,
    AgencyMatter,
    AuditEvent,
    Case,
    CaseOfficer,
    Matter,
    ProcessDefinition,
    TaskRow,
    TimerRow,
    User,
)
from engine.supervision.kinds import enforcement_case, is_supervision
from engine.supervision.models import ComplianceAlert
from engine.supervision.monitoring import settings
from engine.writes import writes_of

log = logging.getLogger("zhifa.compliance")
PENDING = "zhifa_compliance"


@dataclass(frozen=True)
class Step:
    task_id: str | None
    at: datetime
    actor_id: int | None
    data: dict[str, Any]


def _by_case(query: Any) -> Any:
    """A query of one case's rows built once (its parameter bound per call): building a select costs
    more Python than running it, and the rules run on every step."""
    return query.params  # called with case_id=...


# Rows, not ORM objects: the rules only read them (attribute names are the column names).
_users, _case_officers = User.__table__, CaseOfficer.__table__
_OFFICERS = _by_case(
    select(_users).join(_case_officers, _case_officers.c.user_id == _users.c.id).where(_case_officers.c.case_id == bindparam("case_id"))
)
_TASKS = _by_case(select(TaskRow.__table__).where(TaskRow.__table__.c.case_id == bindparam("case_id")))
_TIMERS = _by_case(select(TimerRow.__table__).where(TimerRow.__table__.c.case_id == bindparam("case_id")))
_TRAIL = _by_case(select(AuditEvent).where(AuditEvent.case_id == bindparam("case_id")).order_by(AuditEvent.at, AuditEvent.id))
_CONTEXT = _by_case(
    select(ProcessDefinition.process_id, Matter.code, AgencyMatter.agency_id)
    .select_from(Case)
    .join(ProcessDefinition, ProcessDefinition.id == Case.definition_id)
    .outerjoin(Matter, Matter.code == Case.matter_code)
    .outerjoin(AgencyMatter, and_(AgencyMatter.agency_id == Case.agency_id, AgencyMatter.matter_code == Case.matter_code))
    .where(Case.id == bindparam("case_id"))
)
_ALERTS = ComplianceAlert.__table__
_NEW_ALERT = {  # one alert per (rule, case, subject): an alert already raised stays as it is
    dialect: insert(_ALERTS).on_conflict_do_nothing(index_elements=["rule", "case_id", "subject"])
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


class Facts:
    """What the rules may look at, read once per case and only when a rule asks for it: a fired timer's
    rule reads the case's timers and officers, not its audit trail."""

    def __init__(self, unit: Unit, case: Case) -> None:
        self._session = unit.session
        self.case, self.now = case, unit.now

    def _rows(self, query: Any) -> list[Any]:
        return list(self._session.execute(query(case_id=self.case.id)))

    @cached_property
    def _context(self) -> tuple[str, bool, bool]:
        process_id, matter_code, competent_agency = self._session.execute(_CONTEXT(case_id=self.case.id)).one()
        return process_id, matter_code is not None, competent_agency is not None

    @property
    def process_id(self) -> str:
        return self._context[0]

    @property
    def matter_known(self) -> bool:
        return self._context[1]

    @property
    def competent(self) -> bool:
        return self._context[2]

    @cached_property
    def officers(self) -> list[Any]:  # rows of users
        return self._rows(_OFFICERS)

    @cached_property
    def tasks(self) -> list[Any]:  # rows of tasks
        return self._rows(_TASKS)

    @cached_property
    def timers(self) -> list[Any]:  # rows of timers
        return self._rows(_TIMERS)

    @cached_property
    def _trail(self) -> tuple[dict[str, list[Step]], list[AuditEvent]]:
        steps: dict[str, list[Step]] = {}  # bpmn_id -> completions, oldest first
        events: list[AuditEvent] = []  # every other audit event
        for e in self._session.scalars(_TRAIL(case_id=self.case.id)):
            if e.action == "task.completed":
                d = e.detail or {}
                steps.setdefault(d.get("bpmn_id"), []).append(Step(d.get("task_id"), e.at, e.actor_id, d.get("data") or {}))
            else:
                events.append(e)
        return steps, events

    @property
    def steps(self) -> dict[str, list[Step]]:
        return self._trail[0]

    @property
    def events(self) -> list[AuditEvent]:
        return self._trail[1]

    def done(self, bpmn_id: str, before: datetime | None = None) -> list[Step]:
        return [s for s in self.steps.get(bpmn_id, []) if before is None or s.at <= before]

    def last(self, bpmn_id: str) -> Step | None:
        found = self.steps.get(bpmn_id)
        return found[-1] if found else None

    def value(self, key: str) -> Any:
        """The newest value a completed step gave `key`."""
        for step in sorted((s for steps in self.steps.values() for s in steps), key=lambda s: s.at, reverse=True):
            if key in step.data:
                return step.data[key]
        return None

    @property
    def first_officer(self) -> int | None:
        return min((o.id for o in self.officers), default=None)


@dataclass(frozen=True)
class Violation:
    subject: str
    message: str
    officer_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    basis: str | None = None  # overrides the rule's citation (a timer's own legal basis)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    basis: str
    check: Callable[[Facts], Iterator[Violation]]
    # What can change the rule's outcome besides a completed step or added evidence (which run every rule):
    # "timers" (a timer fired) and "tasks" (a fired timer changed the tasks: an interrupting one cancels
    # the task it guards). A transaction that only fired timers runs just the rules watching what it changed.
    watches: frozenset[str] = frozenset()


# -- the rules ----------------------------------------------------------------------------------------------
def _outside_catalogue(f: Facts) -> Iterator[Violation]:
    if not f.matter_known:
        yield Violation(f"matter:{f.case.matter_code}", f"事项 {f.case.matter_code} 不在执法事项目录中", f.case.opened_by)
    elif not f.competent:
        yield Violation(f"matter:{f.case.matter_code}", f"本机关无事项 {f.case.matter_code} 的执法职权", f.case.opened_by)


def _uncertified_officers(f: Facts) -> Iterator[Violation]:
    for task in f.tasks:
        if task.bpmn_id in settings()["evidence_tasks"] and task.state == "completed" and task.completed_at:
            on = task.completed_at.astimezone(CHINA_TZ).date()
            valid = [o for o in f.officers if o.active and o.certificate_no and o.certificate_valid_until and o.certificate_valid_until >= on]
            if len(valid) < 2:
                yield Violation(
                    f"task:{task.id}", f"{task.name}完成时（{on.isoformat()}）持有效执法证的承办人员不足两名（{len(valid)}名）",
                    task.completed_by, {"bpmn_id": task.bpmn_id, "certified": [o.id for o in valid]},
                )


def _decided(f: Facts) -> Step | None:
    step = f.last("decide")
    return step if step is not None and step.data.get("decision") in ("punish", None) else None


def _no_prior_notice(f: Facts) -> Iterator[Violation]:
    decided = _decided(f)
    if decided is not None and not f.done("prior_notice", before=decided.at):
        yield Violation(f"task:{decided.task_id}", "作出行政处罚决定前未告知当事人拟作出的处罚及其权利", decided.actor_id)


def _major_without_legal_review(f: Facts) -> Iterator[Violation]:
    decided = f.last("decide")
    major = bool(f.value("is_major")) or bool(f.done("collective_discussion"))
    if decided is not None and major and not f.done("legal_review", before=decided.at):
        yield Violation(f"task:{decided.task_id}", "重大执法决定未经法制审核", decided.actor_id)


def _hearing_not_held(f: Facts) -> Iterator[Violation]:
    decided = f.last("decide")
    requested = [s for s in f.done("record_statement") if s.data.get("statement_response") == "hearing_request"]
    if decided is not None and requested and not f.done("hold_hearing", before=decided.at):
        yield Violation(f"task:{decided.task_id}", "当事人要求听证，未举行听证即作出决定", decided.actor_id)


def _service_not_recorded(f: Facts) -> Iterator[Violation]:
    if any(t.bpmn_id == "serve_decision" and t.state == "ready" for t in f.tasks):
        return  # service is waiting to be recorded
    decided = f.last("decide")
    if decided is None or decided.data.get("decision") == "transfer" or f.done("serve_decision"):
        return
    yield Violation(f"task:{decided.task_id}", "行政处罚决定书未记录送达", decided.actor_id)


def _fine_of(data: dict[str, Any]) -> Any:
    return data.get("fine_amount", data.get("proposed_fine_amount"))


def _discretion_unexplained(f: Facts) -> Iterator[Violation]:
    for bpmn_id, steps in f.steps.items():
        for step in steps:
            band, fine = step.data.get("discretion_band"), _fine_of(step.data)
            if not isinstance(band, dict) or not isinstance(fine, (int, float)):
                continue
            low, high = band.get("min"), band.get("max")
            outside = (isinstance(low, (int, float)) and fine < low) or (isinstance(high, (int, float)) and fine > high)
            if outside and not str(step.data.get("deviation_reason") or "").strip():
                yield Violation(
                    f"task:{step.task_id}", f"罚款 {fine} 元超出裁量基准 {low}–{high} 元，且未说明理由", step.actor_id,
                    {"bpmn_id": bpmn_id, "fine": fine, "band": band},
                )


def _simplified_above_threshold(f: Facts) -> Iterator[Violation]:
    rule = settings()["simplified_procedure"]
    if f.process_id not in rule["process_ids"]:
        return
    party_type = (f.case.party or {}).get("type", "person")
    limit = rule["max_fine"].get(party_type, rule["max_fine"]["person"])
    for bpmn_id, steps in f.steps.items():
        for step in steps:
            fine = _fine_of(step.data)
            if isinstance(fine, (int, float)) and fine > limit:
                yield Violation(
                    f"task:{step.task_id}", f"简易程序罚款 {fine} 元超过当场处罚限额 {limit} 元", step.actor_id,
                    {"bpmn_id": bpmn_id, "fine": fine, "limit": limit},
                )


def _deadline_overdue(f: Facts) -> Iterator[Violation]:
    for timer in f.timers:
        late = timer.status in ("overdue", "breached") or (timer.status == "waiting" and timer.due_at is not None and timer.due_at <= f.now)
        if late and (timer.kind or "deadline") == "deadline":
            due = timer.due_at.astimezone(CHINA_TZ).isoformat(timespec="minutes") if timer.due_at else "?"
            yield Violation(
                f"timer:{timer.id}", f"{timer.name}已届满（{due}）", f.first_officer,
                {"bpmn_id": timer.bpmn_id, "due_at": due}, basis=timer.legal_basis or None,
            )


def _evidence_after_decision(f: Facts) -> Iterator[Violation]:
    decided = f.done("decide")
    if not decided:
        return
    first = decided[0].at
    for e in f.events:
        if e.action.startswith("evidence.") and e.at > first:
            yield Violation(f"event:{e.id}", f"作出决定后补充证据（{e.action}）", e.actor_id, {"action": e.action})
    for step in f.done("investigate"):
        if step.at > first:
            yield Violation(f"task:{step.task_id}", "作出决定后又调查取证", step.actor_id)


def _day_text(instant: str) -> str:
    day = datetime.fromisoformat(instant).astimezone(CHINA_TZ).date()
    return f"{day.year}年{day.month}月{day.day}日"


RECOUNT_BASIS = (
    "期间计算：民事诉讼法第八十五条；市场监督管理行政处罚程序规定第八十条；民法典第二百条至第二百零四条。"
    "未公布节假日安排的年度按《全国年节及纪念日放假办法》第二条临时计算，以国务院办公厅节假日安排通知为准"
)


def recount_message(d: dict[str, Any]) -> str:
    """What a supervisor reads about a `timer.recounted` event (engine/fired_limits.py)."""
    fired, official = _day_text(d["fired_due"]), _day_text(d["official_due"])
    text = f"{d.get('name') or d.get('bpmn_id')}按临时节假日安排计算已于{fired}届满；按正式通知应于{official}届满。"
    if d.get("fired") == "early":
        text += "期限提前届满，当事人的法定期间被缩短，请核查据此采取的步骤并依法处理。"
    elif d.get("fired") == "late":
        text += "期限届满晚于法定届满日，请核查期间届满后采取的步骤。"
    if d.get("case_closed"):
        text += "案件已结案，本提示仅作记录。"
    return text


def _limit_recounted(f: Facts) -> Iterator[Violation]:
    for e in f.events:
        if e.action != "timer.recounted":
            continue
        d = e.detail or {}
        yield Violation(
            f"recount:{d['timer_id']}:{d['official_due'][:10]}", recount_message(d), f.first_officer,
            {"bpmn_id": d.get("bpmn_id"), "fired_due": d["fired_due"], "official_due": d["official_due"], "fired": d.get("fired")},
            basis=f"{d['legal_basis']}；{RECOUNT_BASIS}" if d.get("legal_basis") else None,
        )


RULES = [
    Rule("matter_outside_catalogue", "事项不在目录或超越职权", "high",
         "《广东省人民政府办公厅关于推进广东省行政执法信息平台和行政执法监督网络平台建设的指导意见》（2019-170）三(5)：未纳入目录管理系统的执法事项不得实施",
         _outside_catalogue),
    Rule("uncertified_officers", "调查取证不足两名持证人员", "high", "行政处罚法第四十二条、第五十五条", _uncertified_officers,
         frozenset({"tasks"})),
    Rule("decision_without_prior_notice", "未经告知作出处罚决定", "high", "行政处罚法第四十四条、第四十五条、第六十二条", _no_prior_notice),
    Rule("major_case_without_legal_review", "重大案件未经法制审核", "high",
         "行政处罚法第五十八条；市场监督管理行政处罚程序规定第五十条至第五十一条", _major_without_legal_review),
    Rule("hearing_not_held", "要求听证未举行", "high", "行政处罚法第六十三条、第六十四条", _hearing_not_held),
    Rule("service_not_recorded", "决定书未记录送达", "medium",
         "行政处罚法第六十一条；市场监督管理行政处罚程序规定第八十一条至第八十三条", _service_not_recorded,
         frozenset({"tasks"})),
    Rule("discretion_deviation_unexplained", "超出裁量基准未说明理由", "medium",
         "行政处罚法第三十四条；《广东省规范行政处罚自由裁量权规定》", _discretion_unexplained),
    Rule("simplified_above_threshold", "简易程序超过限额", "high", settings()["simplified_procedure"]["basis"], _simplified_above_threshold),
    Rule("deadline_overdue", "法定期限届满", "medium", "见期限的法定依据", _deadline_overdue, frozenset({"timers"})),
    Rule("evidence_after_decision", "决定后补充证据", "medium", "行政处罚法第四十七条（执法全过程记录）", _evidence_after_decision),
    Rule("limit_recounted", "期限按临时节假日安排届满，与正式通知不符", "high", RECOUNT_BASIS, _limit_recounted,
         frozenset({"recounts"})),
]
RULES_BY_ID = {r.id: r for r in RULES}
# The steps whose completion the rules read, and the step-data fields they read (see `triggers`).
TRIGGER_STEPS = frozenset({
    *settings()["evidence_tasks"], "prior_notice", "legal_review", "collective_discussion", "record_statement",
    "hold_hearing", "decide", "serve_decision", "investigate",
})
TRIGGER_FIELDS = ("fine_amount", "proposed_fine_amount", "discretion_band", "is_major")


# -- evaluation ----------------------------------------------------------------------------------------------
@dataclass
class _Pending:
    unit: Unit
    cases: dict[int, Case] = field(default_factory=dict)  # held: the session keeps loaded objects weakly
    changed: dict[int, set[str]] = field(default_factory=dict)  # case -> what its new audit events changed
    tasks_changed: set[int] = field(default_factory=set)  # cases whose task projections the transaction wrote


def after_save(unit: Unit, case: Case, *, tasks_changed: bool = True) -> None:
    """The hook in the save path: mark the case; its rules run once, just before the unit commits, if
    what the transaction recorded on it (its audit events) can break a rule; otherwise nothing is read.
    `tasks_changed`: whether the save wrote any of the case's task rows."""
    if is_supervision(case):  # a supervision matter is not an enforcement case: no rule is about it
        return
    pending = unit.session.info.get(PENDING)
    if pending is None:
        pending = unit.session.info[PENDING] = _Pending(unit)
    pending.cases[case.id] = case
    if tasks_changed:
        pending.tasks_changed.add(case.id)


def changes(action: str, detail: dict[str, Any]) -> frozenset[str]:
    """What an audit event changed that a rule reads: "steps" (a step a rule reads), "events" (evidence),
    "timers" (a fired timer), "recounts" (a fired limit recounted); nothing for any other event."""
    if action == "timer.fired":
        return frozenset({"timers"})
    if action == "timer.recounted":  # a fired limit recounted under an imported holiday notice (engine/fired_limits.py)
        return frozenset({"recounts"})
    if action.startswith("evidence."):
        return frozenset({"events"})
    if action != "task.completed":
        return frozenset()
    data = detail.get("data") or {}
    read = detail.get("bpmn_id") in TRIGGER_STEPS or any(key in data for key in TRIGGER_FIELDS)
    return frozenset({"steps"}) if read else frozenset()


def triggers(action: str, detail: dict[str, Any]) -> bool:
    """Whether an audit event can change a rule's outcome (a step a rule reads, a fired timer, evidence)."""
    return bool(changes(action, detail))


def rules_for(changed: set[str]) -> list[Rule]:
    """The rules a transaction's changes can break: all of them after a step or evidence; after timers
    fired and nothing else, those watching timers (and tasks, when the firing changed tasks)."""
    if changed - {"timers", "tasks", "recounts"}:
        return RULES
    return [rule for rule in RULES if rule.watches & changed]


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    pending = session.info.get(PENDING)
    if pending is not None:
        _note(pending, session)


def _note(pending: _Pending, session: Session) -> None:
    for obj in session.new:
        if isinstance(obj, AuditEvent) and obj.case_id is not None:
            _mark(pending, obj.case_id, changes(obj.action, obj.detail or {}))
    for row in writes_of(session).inserted(AuditEvent.__table__):  # events queued by audit.record
        if row["case_id"] is not None:
            _mark(pending, row["case_id"], changes(row["action"], row["detail"] or {}))


def _mark(pending: _Pending, case_id: int, changed: frozenset[str]) -> None:
    if changed:
        pending.changed.setdefault(case_id, set()).update(changed)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending is None:
        return
    _note(pending, session)
    for case_id in sorted(pending.cases.keys() & pending.changed.keys()):
        changed = pending.changed[case_id] | ({"tasks"} if case_id in pending.tasks_changed else set())
        evaluate_case(pending.unit, case_id, rules_for(changed), case=pending.cases[case_id])


def evaluate_case(unit: Unit, case_id: int, rules: list[Rule] | None = None, *, case: Case | None = None) -> list[tuple[str, str]]:
    """Run the rules (every rule unless named) on one case; store the alerts that are new and return
    their (rule, subject).

    Inserted with ON CONFLICT DO NOTHING on (rule, case, subject): an on-demand run and a step of the
    same case may race without locking the case and without failing either."""
    rules = RULES if rules is None else rules
    case = case if case is not None else unit.session.get(Case, case_id)
    if case is None or not rules:
        return []
    facts = Facts(unit, case)
    found = [(rule, v) for rule in rules for v in _checked(rule, facts)]
    statement = _NEW_ALERT[unit.session.bind.dialect.name]
    new, seen = [], set()
    for rule, v in found:
        if (rule.id, v.subject) in seen:
            continue
        seen.add((rule.id, v.subject))
        result = unit.session.execute(statement, {
            "rule": rule.id, "case_id": case_id, "agency_id": facts.case.agency_id,
            "officer_id": v.officer_id or facts.first_officer, "subject": v.subject, "severity": rule.severity,
            "basis": v.basis or rule.basis, "message": v.message, "detected_at": facts.now, "status": "open",
            "detail": v.detail,
        })
        if result.rowcount:
            new.append((rule.id, v.subject))
    return new


def _checked(rule: Rule, facts: Facts) -> list[Violation]:
    """A broken rule is logged and skipped: it must not undo the step it looks at."""
    try:
        return list(rule.check(facts))
    except Exception:  # the case is checked again at its next step or on demand
        log.exception("compliance rule %s failed on case %s", rule.id, facts.case.id)
        return []


def evaluate_scope(unit: Unit, agency_id: int | None = None) -> int:
    """On demand: run the rules over every case of the actor's scope (or an agency's subtree)."""
    from engine.cases import scope_filter
    from engine.supervision.monitoring import subtree_path

    require_role(unit.actor, "supervisor", "admin")
    query = select(Case.id).join(Agency, Agency.id == Case.agency_id).where(*scope_filter(unit), enforcement_case())
    if agency_id is not None:
        query = query.where(Agency.path.startswith(subtree_path(unit, agency_id)))
    return sum(len(evaluate_case(unit, case_id)) for case_id in list(unit.session.scalars(query.order_by(Case.id))))

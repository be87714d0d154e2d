"""Changing the clock of a case: an officer asks, the agency head approves, the timer moves.

`request_change` checks the request against the law (the timer's properties, `engine.case_clock`)
and sends it into the procedure as the BPMN message `clock_change`, which creates the head's
approval task (`approve_clock_change` in general_punishment.bpmn). When that task is completed
(`tasks.complete` calls `after_completion`), an approved change is checked again, applied to the
timer in the workflow state, projected, and audited. A change the law does not allow is refused
with `InvalidInput` (422) and nothing is stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from engine import audit, instances
from engine import calendar as legal_calendar
from engine.case_clock import (
    APPROVAL_PROPERTY,
    MESSAGE,
    Applied,
    ClockRules,
    apply_approved,
    changeable_timers,
    check_approval,
    check_request,
)
from engine.cases import check_visible
from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.models import Case, CaseOfficer, TimerRow


@dataclass(frozen=True)
class ClockChangeRequested:
    case_id: int
    approval_task_id: str | None  # the agency head's approval task the message created
    request: dict[str, Any]


def request_change(unit: Unit, case_id: int, body: Any) -> ClockChangeRequested:
    case = instances.lock_case(unit, case_id)
    check_visible(unit, case.agency_id)
    _check_may_request(unit, case)
    if case.status == "closed":
        raise Conflict(f"case {case.number} is closed")
    instance = instances.load(unit, case)
    if not instance.waiting_for_message(MESSAGE):
        raise Conflict("another change of this case's time limits is awaiting the agency head's approval")
    checked = check_request(unit.calendar, instance, body, unit.now.astimezone(CHINA_TZ).date())
    checked.update(requested_by=unit.actor.user_id, requested_by_name=unit.actor.name,
                   requested_at=unit.now.astimezone(CHINA_TZ).isoformat(timespec="seconds"))
    before = {t.id for t in instance.ready_tasks()}
    instance.send_message(MESSAGE, checked)
    instances.save(unit, case, instance)
    approval = next((t.id for t in instance.ready_tasks() if t.id not in before), None)
    audit.record(unit, "clock.change_requested", {"task_id": approval, **checked}, case=case)
    return ClockChangeRequested(case.id, approval, checked)


def _check_may_request(unit: Unit, case: Case) -> None:
    actor = unit.actor
    if actor.agency_id != case.agency_id:
        raise Forbidden("only the case's own agency can change its time limits")
    if actor.has_role("agency_head"):
        return
    if not actor.has_role("officer") or unit.session.get(CaseOfficer, (case.id, actor.user_id)) is None:
        raise Forbidden("a change of the time limits is asked for by an officer assigned to the case")


def after_completion(unit: Unit, case: Case, instance: Any, task: Any) -> Applied | None:
    """Called by `tasks.complete` for every completed task; acts on clock-change approvals only."""
    if task.properties.get(APPROVAL_PROPERTY) != "true":
        return None
    request = task.data.get("clock_request") or {}
    if not check_approval(request, task.data):
        audit.record(unit, "clock.change_refused", {"task_id": task.id, "request": request,
                                                    "opinion": task.data.get("clock_opinion")}, case=case)
        return None
    applied = apply_approved(unit.calendar, instance, request, task.data, unit.now.astimezone(CHINA_TZ).date())
    _record(unit, case, task, request, applied, "clock change approved")
    return applied


# A step whose own time the law excludes from the running limits (the hearing, SAMR-Proc Art. 64) carries
# these properties: the ground (one of the timers' `exclusions`), and the fields of its data that give the
# excluded period's first and last day (the first field present wins).
EXCLUSION_PROPERTY = "clockExclusion"
EXCLUSION_FROM = "clockExclusionFrom"
EXCLUSION_TO = "clockExclusionTo"


def after_excluded_step(unit: Unit, case: Case, instance: Any, task: Any) -> list[Applied]:
    """Called by `tasks.complete` for every completed task; acts on steps with `clockExclusion`: their
    period is taken out of every running limit whose `exclusions` name that ground, as an approved
    exclusion would (no approval: the law excludes it, nobody decides it). A period that cannot be
    excluded (it overlaps one already excluded, say) is recorded as not applied; an officer can still
    ask for the change."""
    ground = (task.properties.get(EXCLUSION_PROPERTY) or "").strip()
    if not ground:
        return []
    first = _day_of(task.data, task.properties.get(EXCLUSION_FROM))
    last = _day_of(task.data, task.properties.get(EXCLUSION_TO))
    today = unit.now.astimezone(CHINA_TZ).date()
    applied = []
    for view in changeable_timers(instance):
        rules = ClockRules.of(view)
        if ground not in rules.exclusions or not rules.allows("exclude"):
            continue
        request = {"timer": view.bpmn_id, "kind": "exclude", "ground": ground, "from": first, "to": last,
                   "reason": f"{task.name}的期间依法不计入{rules.name}（{rules.exclusion_basis}）"}
        try:
            done = apply_approved(unit.calendar, instance, request, {"approval_date": today.isoformat()}, today)
        except InvalidInput as exc:
            audit.record(unit, "clock.exclusion_not_applied", {
                "task_id": task.id, "timer": view.bpmn_id, "ground": ground, "from": first, "to": last,
                "problems": [p.message for p in exc.problems] or [exc.detail],
            }, case=case)
            continue
        request["legal_basis"] = rules.exclusion_basis
        _record(unit, case, task, request, done, f"{ground} excluded by law")
        applied.append(done)
    return applied


def _day_of(data: dict[str, Any], fields: str | None) -> str | None:
    for name in (fields or "").split():
        value = data.get(name)
        if isinstance(value, str) and value:
            try:
                return legal_calendar.legal_date(value).isoformat()
            except (TypeError, ValueError):
                continue
    return None


def _record(unit: Unit, case: Case, task: Any, request: dict[str, Any], applied: Applied, reason: str) -> None:
    unit.session.execute(update(TimerRow).where(TimerRow.id == applied.timer_id).values(provisional=applied.provisional))
    audit.record(unit, "clock.changed", {"task_id": task.id, "request": request, "clock": applied.clock}, case=case)
    detail = {
        "timer_id": applied.timer_id, "bpmn_id": applied.bpmn_id, "reason": f"{reason}: {applied.kind}",
        "legal_basis": request.get("legal_basis"),
        "due_before": applied.due_before.isoformat() if applied.due_before else None,
        "due_after": applied.due_after.isoformat() if applied.due_after else None,
        "provisional": applied.provisional,
    }
    if applied.due_variable is not None:  # the case data the later steps decide with moved too
        detail["due_variable"] = applied.due_variable
    audit.record(unit, "timer.rescheduled", detail, case=case)

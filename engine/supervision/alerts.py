"""Compliance alerts for supervisors: listed within their subtree (the supervisors of the agency's
ancestors), acknowledged, dismissed with a reason, or escalated to the level above."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from engine import audit
from engine.accounts import require_role
from engine.core import Unit
from engine.errors import Conflict, InvalidInput, NotFound, Problem
from engine.models import Agency, Case
from engine.supervision.compliance import RULES_BY_ID
from engine.supervision.matter_models import SupervisionMatter
from engine.supervision.models import ComplianceAlert

ALERT_STATUSES = ("open", "acknowledged", "dismissed", "escalated")


@dataclass(frozen=True)
class AlertView:
    id: int
    rule: str
    title: str
    case_id: int
    case_number: str
    agency_id: int
    agency_name: str
    officer_id: int | None
    severity: str
    basis: str
    message: str
    detected_at: datetime
    status: str
    handled_by: int | None
    handled_at: datetime | None
    reason: str | None
    escalated_to: int | None
    matter_id: int | None = None  # the supervision matter opened from it


def list_alerts(
    unit: Unit, *, status: str | None = None, agency_id: int | None = None, rule: str | None = None,
    case_id: int | None = None, page: int = 1, per_page: int = 50,
) -> tuple[list[AlertView], int]:
    """Alerts of the agencies in the actor's subtree (supervisors of an agency's ancestors see them)."""
    from engine.cases import scope_filter
    from engine.supervision.monitoring import subtree_path

    require_role(unit.actor, "supervisor", "admin", "agency_head")
    query = (
        select(ComplianceAlert, Case.number, Agency.name, SupervisionMatter.id).join(Case, Case.id == ComplianceAlert.case_id)
        .join(Agency, Agency.id == ComplianceAlert.agency_id)
        .outerjoin(SupervisionMatter, SupervisionMatter.alert_id == ComplianceAlert.id).where(*scope_filter(unit))
    )
    if status:
        if status not in ALERT_STATUSES:
            raise InvalidInput(f"unknown status {status!r}", [Problem(f"one of {', '.join(ALERT_STATUSES)}", field="status")])
        query = query.where(ComplianceAlert.status == status)
    if rule:
        if rule not in RULES_BY_ID:
            raise InvalidInput(f"unknown rule {rule!r}", [Problem(f"one of {', '.join(RULES_BY_ID)}", field="rule")])
        query = query.where(ComplianceAlert.rule == rule)
    if agency_id is not None:
        query = query.where(Agency.path.startswith(subtree_path(unit, agency_id)))
    if case_id is not None:
        query = query.where(ComplianceAlert.case_id == case_id)
    total = unit.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = unit.session.execute(
        query.order_by(ComplianceAlert.detected_at.desc(), ComplianceAlert.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return [_view(a, number, name, matter) for a, number, name, matter in rows], total


def handle_alert(unit: Unit, alert_id: int, action: str, reason: Any = None) -> AlertView:
    """acknowledge | dismiss (with a reason) | escalate (to the level above the supervisor's own)."""
    from engine.cases import check_visible

    require_role(unit.actor, "supervisor", "admin")
    alert = unit.session.scalar(select(ComplianceAlert).where(ComplianceAlert.id == alert_id).with_for_update())
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist")
    check_visible(unit, alert.agency_id)
    text = reason.strip() if isinstance(reason, str) else ""
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason must be text", [Problem("must be a string", field="reason")])
    if alert.status == "dismissed":
        raise Conflict(f"alert {alert_id} was dismissed already")
    if action == "acknowledge":
        if alert.status == "acknowledged":
            raise Conflict(f"alert {alert_id} is acknowledged already")
        alert.status = "acknowledged"
    elif action == "dismiss":
        if not text:
            raise InvalidInput("a dismissal needs a reason", [Problem("say why the alert is dismissed", field="reason")])
        alert.status = "dismissed"
    elif action == "escalate":
        above = _level_above(unit)
        if above is None:
            raise Conflict("there is no supervision level above yours")
        alert.status, alert.escalated_to = "escalated", above
    else:
        raise NotFound(f"no alert action {action!r}")
    alert.handled_by, alert.handled_at, alert.reason = unit.actor.user_id, unit.now, text or None
    audit.record(unit, f"alert.{action}", {"alert_id": alert.id, "case_id": alert.case_id, "rule": alert.rule, "reason": text or None},
                 agency_id=alert.agency_id)
    number = unit.session.scalar(select(Case.number).where(Case.id == alert.case_id))
    name = unit.session.scalar(select(Agency.name).where(Agency.id == alert.agency_id))
    matter = unit.session.scalar(select(SupervisionMatter.id).where(SupervisionMatter.alert_id == alert.id))
    return _view(alert, number, name, matter)


def _level_above(unit: Unit) -> int | None:
    """The government above the supervisor's scope (its supervisors see the escalated alert too)."""
    root = unit.session.scalar(select(Agency).where(Agency.path == (unit.actor.scope_path or unit.actor.agency_path)))
    return root.parent_id if root is not None else None


def _view(a: ComplianceAlert, number: str, agency_name: str, matter_id: int | None = None) -> AlertView:
    rule = RULES_BY_ID.get(a.rule)
    return AlertView(
        a.id, a.rule, rule.title if rule else a.rule, a.case_id, number, a.agency_id, agency_name, a.officer_id, a.severity,
        a.basis, a.message, a.detected_at, a.status, a.handled_by, a.handled_at, a.reason, a.escalated_to, matter_id,
    )

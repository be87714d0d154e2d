"""Who may work on a supervision matter's tasks and read its documents (the hooks in engine/tasks.py and
engine/documents/service.py call these; everything else about scope is the agency tree as usual).

- `supervisor` lane: a supervisor of the matter's own bureau who is assigned to the matter (its staff,
  as officers are to a case);
- `agency_head` lane: the head (role agency_head) of the **supervised** agency: a user of another agency,
  authorised explicitly by the matter's `supervised_agency_id`, for this lane only; the bureau's own heads
  may not report a rectification.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, false, select

from engine.core import Unit
from engine.errors import Forbidden
from engine.models import Case, TaskRow
from engine.supervision.kinds import is_supervision
from engine.supervision.matter_models import SupervisionMatter

SUPERVISOR_LANE, HEAD_LANE = "supervisor", "agency_head"


def rectifies(unit: Unit, case_id: int) -> bool:
    """The actor is the head of the agency this matter supervises."""
    actor = unit.actor
    if not actor.has_role("agency_head"):
        return False
    return bool(unit.session.scalar(select(exists().where(
        SupervisionMatter.case_id == case_id, SupervisionMatter.supervised_agency_id == actor.agency_id))))


def check_may_do(unit: Unit, row: Any, case: Case) -> None:
    """Instead of the enforcement rules (own agency, lane role, assigned officer) for a matter's task."""
    from engine.cases import check_visible

    actor = unit.actor
    if row.lane == HEAD_LANE:
        if not rectifies(unit, case.id):
            raise Forbidden(f"task {row.name} is for the head of the supervised agency")
        return
    if actor.agency_id != case.agency_id:
        check_visible(unit, case.agency_id)
        raise Forbidden("only the supervising bureau works on its supervision matters")
    if row.lane != SUPERVISOR_LANE or not actor.has_role(SUPERVISOR_LANE) or not row.assigned:
        raise Forbidden(f"task {row.name} is for the supervisors assigned to the matter")


def may_see_task(unit: Unit, row: TaskRow) -> bool:
    """A task outside the actor's scope they may still read: the rectification task of their agency."""
    return row.lane == HEAD_LANE and row.agency_id != unit.actor.agency_id and rectifies(unit, row.case_id)


def may_read_case(unit: Unit, case: Case) -> bool:
    """The supervised agency's head reads the matter's documents (the notice is addressed to them)."""
    return is_supervision(case) and case.agency_id != unit.actor.agency_id and rectifies(unit, case.id)


def granted_tasks(unit: Unit) -> Any:
    """WHERE clause (task lists): the rectification tasks of matters supervising the actor's agency."""
    if not unit.actor.has_role("agency_head"):
        return false()
    return and_(TaskRow.lane == HEAD_LANE, TaskRow.case_id.in_(
        select(SupervisionMatter.case_id).where(SupervisionMatter.supervised_agency_id == unit.actor.agency_id)))

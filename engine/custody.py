"""Chain of custody of seized and preserved items (查封扣押、先行登记保存): each item's history from being
taken to being returned, confiscated or destroyed, every step with who, when, where and evidence attached.
Steps are only appended (each one an audit event of the case); after a final step nothing follows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from engine import audit, instances
from engine.clock import parse_instant
from engine.core import Unit
from engine.errors import Conflict, InvalidInput, NotFound, Problem
from engine.evidence.service import check_may_add, readable_case
from engine.models import Case, User
from engine.record_models import CustodyEvent, CustodyItem, Evidence

MEASURES = ("seizure", "preservation")  # 查封扣押 (APL Art. 56 / Administrative Coercion Law) | 先行登记保存 (APL Art. 56)
FIRST = "taken"
MIDDLE = ("stored", "moved", "appraised")
FINAL = ("returned", "confiscated", "destroyed")
ACTIONS = (FIRST, *MIDDLE, *FINAL)


@dataclass(frozen=True)
class CustodyStep:
    id: int
    action: str
    at: datetime
    place: str
    handled_by: int
    note: str
    evidence_ids: list[int]
    recorded_by: int
    recorded_at: datetime


@dataclass(frozen=True)
class CustodyView:
    id: int
    case_id: int
    measure: str
    name: str
    description: str
    quantity: str
    status: str
    steps: list[CustodyStep]


def take(unit: Unit, case_id: int, body: dict[str, Any]) -> CustodyView:
    """Register an item as taken into custody (its first step)."""
    check_may_add(unit, case_id)
    case = instances.lock_case(unit, case_id)
    problems: list[Problem] = []
    measure = body.get("measure")
    if measure not in MEASURES:
        problems.append(Problem(f"one of {', '.join(MEASURES)}", field="measure"))
    name = _text(body, "name", 300, problems, required=True)
    step = _step(unit, case, body, FIRST, problems)
    if problems:
        raise InvalidInput("the item is not acceptable", problems)
    item = CustodyItem(
        case_id=case.id, agency_id=case.agency_id, measure=measure, name=name,
        description=_text(body, "description", 10_000, problems) or "", quantity=_text(body, "quantity", 60, problems) or "",
        status=FIRST, created_at=unit.now, created_by=unit.actor.user_id,
    )
    unit.session.add(item)
    unit.session.flush()
    _append(unit, case, item, step)
    return _view(unit, item)


def add_step(unit: Unit, item_id: int, body: dict[str, Any]) -> CustodyView:
    item = unit.session.get(CustodyItem, item_id)
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    readable_case(unit, item.case_id)
    check_may_add(unit, item.case_id)
    case = instances.lock_case(unit, item.case_id)
    action = body.get("action")
    problems: list[Problem] = []
    if action not in (*MIDDLE, *FINAL):
        problems.append(Problem(f"one of {', '.join((*MIDDLE, *FINAL))}", field="action"))
    elif item.status in FINAL:
        raise Conflict(f"item {item.name} was {item.status}; nothing follows")
    step = _step(unit, case, body, action, problems)
    if problems:
        raise InvalidInput("the step is not acceptable", problems)
    last = unit.session.scalar(select(CustodyEvent.at).where(CustodyEvent.item_id == item.id).order_by(CustodyEvent.id.desc()).limit(1))
    if last is not None and step["at"] < last:
        raise InvalidInput("a step cannot happen before the one before it", [Problem(f"not before {last.isoformat()}", field="at")])
    _append(unit, case, item, step)
    item.status = action
    return _view(unit, item)


def list_items(unit: Unit, case_id: int) -> list[CustodyView]:
    readable_case(unit, case_id)
    return [_view(unit, i) for i in unit.session.scalars(select(CustodyItem).where(CustodyItem.case_id == case_id).order_by(CustodyItem.id))]


def _text(body: dict[str, Any], name: str, limit: int, problems: list[Problem], *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            problems.append(Problem("required", field=name))
        return None
    if not isinstance(value, str) or len(value) > limit:
        problems.append(Problem(f"text of at most {limit} characters", field=name))
        return None
    return value.strip()


def _step(unit: Unit, case: Case, body: dict[str, Any], action: str, problems: list[Problem]) -> dict[str, Any]:
    at = None
    try:
        at = parse_instant(body["at"]) if isinstance(body.get("at"), str) else None
    except ValueError:
        at = None
    if at is None or at > unit.now:
        problems.append(Problem("ISO 8601 with a UTC offset, not in the future", field="at"))
    place = _text(body, "place", 300, problems, required=True)
    handled_by = body.get("handled_by", unit.actor.user_id)
    user = unit.session.get(User, handled_by) if type(handled_by) is int else None
    if user is None or user.agency_id != case.agency_id or "officer" not in user.roles:
        problems.append(Problem("an officer of the case's agency", field="handled_by"))
    evidence_ids = body.get("evidence_ids", [])
    if not isinstance(evidence_ids, list) or not all(type(i) is int for i in evidence_ids):
        problems.append(Problem("a list of evidence ids", field="evidence_ids"))
        evidence_ids = []
    elif evidence_ids:
        found = set(unit.session.scalars(select(Evidence.id).where(Evidence.id.in_(evidence_ids), Evidence.case_id == case.id)))
        problems.extend(Problem(f"evidence {i} is not of this case", field="evidence_ids") for i in evidence_ids if i not in found)
    return {"action": action, "at": at, "place": place, "handled_by": handled_by, "note": _text(body, "note", 10_000, problems) or "",
            "evidence_ids": list(dict.fromkeys(evidence_ids))}


def _append(unit: Unit, case: Case, item: CustodyItem, step: dict[str, Any]) -> None:
    row = CustodyEvent(item_id=item.id, case_id=case.id, recorded_by=unit.actor.user_id, recorded_at=unit.now, **step)
    unit.session.add(row)
    unit.session.flush()
    audit.record(unit, f"custody.{step['action']}", {"item_id": item.id, "item": item.name, "measure": item.measure,
                                                      "step_id": row.id, **step}, case=case)


def _view(unit: Unit, item: CustodyItem) -> CustodyView:
    steps = [
        CustodyStep(e.id, e.action, e.at.astimezone(UTC), e.place, e.handled_by, e.note, list(e.evidence_ids),
                    e.recorded_by, e.recorded_at.astimezone(UTC))
        for e in unit.session.scalars(select(CustodyEvent).where(CustodyEvent.item_id == item.id).order_by(CustodyEvent.id))
    ]
    return CustodyView(item.id, item.case_id, item.measure, item.name, item.description, item.quantity, item.status, steps)

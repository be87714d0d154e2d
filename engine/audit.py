"""One audit event per action, hash-chained per case: each event's hash covers the previous one."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from engine.core import Unit
from sqlalchemy import select

from engine.models import AuditEvent, Case

GENESIS = "0" * 64


def record(unit: Unit, action: str, detail: dict[str, Any], *, case: Case | None = None, agency_id: int | None = None) -> str:
    """Queue the event (it goes to the database with the unit's other writes); returns its hash."""
    prev = case.last_audit_hash if case is not None else GENESIS
    at = unit.now
    actor_id = unit.actor.user_id or None
    body = {
        "prev": prev,
        "case": case.id if case is not None else None,
        "actor": actor_id,
        "action": action,
        "at": at.isoformat(),
        "detail": detail,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    unit.writes.insert(AuditEvent.__table__, [{
        "case_id": case.id if case is not None else None,
        "agency_id": case.agency_id if case is not None else agency_id,
        "actor_id": actor_id, "action": action, "detail": detail, "at": at, "prev_hash": prev, "hash": digest,
    }])
    if case is not None:
        unit.writes.update_loaded(case, {"last_audit_hash": digest})
    return digest


def case_events(unit: Unit, case_id: int) -> list[dict[str, Any]]:
    rows = unit.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))
    return [
        {"id": e.id, "action": e.action, "actor_id": e.actor_id, "at": e.at, "detail": e.detail,
         "prev_hash": e.prev_hash, "hash": e.hash}
        for e in rows
    ]

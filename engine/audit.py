"""One audit event per action, hash-chained: each case has its own chain, every event that belongs to no
case (deployments, logins, exports) is in the system chain. An event's hash covers the previous
event's hash, the actor, the action, the case, the task, the time and a digest of its data, over a
canonical JSON form, so changing, deleting or reordering any row breaks the chain (`verify`).

Nothing here updates or deletes an event; on PostgreSQL a trigger refuses UPDATE and DELETE.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.models import AuditEvent, Case, TaskRow, User
from engine.record_models import SYSTEM_CHAIN, AuditChain

GENESIS = "0" * 64
HASH_FORMAT = 1  # part of every hashed body: a later change of the hashed fields gets a new number


def canonical(value: Any) -> Any:
    """The JSON form that is stored and hashed: keys as text, datetimes as UTC ISO 8601, and floats
    that are whole numbers as integers (PostgreSQL's JSONB gives them back that way)."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and infinity have no JSON form")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no canonical JSON form")


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_bytes(value)).hexdigest()


def utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    *, prev: str, case_id: int | None, task_id: str | None, actor_id: int | None, action: str, at: datetime, data_digest: str
) -> str:
    return digest({
        "v": HASH_FORMAT, "prev": prev, "case": case_id, "task": task_id, "actor": actor_id, "action": action,
        "at": utc_text(at), "data": data_digest,
    })


def record(
    unit: Unit, action: str, detail: dict[str, Any], *, case: Case | None = None, agency_id: int | None = None,
    task_id: str | None = None, actor_id: int | None = None,
) -> str:
    """Append an event to the case's chain (the case row must be locked by the caller) or, without a
    case, to the system chain (locked here); returns its hash. `actor_id` names the actor when the
    unit's is not yet known (a login)."""
    data = canonical(detail)
    if case is not None:
        prev, head = case.last_audit_hash, None
    else:
        head = _system_head(unit)
        prev = head.last_hash
    at = unit.now
    actor = actor_id if actor_id is not None else (unit.actor.user_id or None)
    task = task_id if task_id is not None else (data.get("task_id") if isinstance(data.get("task_id"), str) else None)
    data_digest = digest(data)
    own = event_hash(prev=prev, case_id=case.id if case else None, task_id=task, actor_id=actor, action=action, at=at, data_digest=data_digest)
    unit.writes.insert(AuditEvent.__table__, [{  # queued: it goes to the database with the unit's other writes
        "case_id": case.id if case is not None else None,
        "agency_id": case.agency_id if case is not None else agency_id,
        "actor_id": actor, "action": action, "detail": data, "at": at, "prev_hash": prev, "hash": own,
        "task_id": task, "data_digest": data_digest,
    }])
    if case is not None:
        unit.writes.update_loaded(case, {"last_audit_hash": own})
    else:
        unit.writes.update_loaded(head, {"last_hash": own, "updated_at": at})
    return own


def _system_head(unit: Unit) -> AuditChain:
    """The system chain's head row, locked until the unit ends (created at the first event, race-free)."""
    query = select(AuditChain).where(AuditChain.key == SYSTEM_CHAIN).with_for_update()
    head = unit.session.scalar(query)
    if head is None:
        insert = pg_insert if unit.session.bind.dialect.name == "postgresql" else sqlite_insert
        unit.session.execute(
            insert(AuditChain).values(key=SYSTEM_CHAIN, last_hash=GENESIS, updated_at=unit.now).on_conflict_do_nothing()
        )
        head = unit.session.scalar(query)
    return head


def case_events(unit: Unit, case_id: int) -> list[dict[str, Any]]:
    rows = unit.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))
    return [event_dict(e) for e in rows]


def event_dict(e: AuditEvent) -> dict[str, Any]:
    return {
        "id": e.id, "action": e.action, "actor_id": e.actor_id, "task_id": e.task_id, "at": e.at, "detail": e.detail,
        "data_digest": e.data_digest, "prev_hash": e.prev_hash, "hash": e.hash,
    }


# -- verification ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    """The first event of a chain that does not hold, and why."""

    chain: str
    event_id: int | None
    action: str | None
    reason: str

    def __str__(self) -> str:
        where = f"event {self.event_id} ({self.action})" if self.event_id is not None else "the chain's head"
        return f"{self.chain}: {where}: {self.reason}"


@dataclass(frozen=True)
class Verified:
    chains: int
    events: int
    broken: list[Broken]

    @property
    def ok(self) -> bool:
        return not self.broken


def check_chain(events: list[dict[str, Any]], *, chain: str, head: str | None) -> Broken | None:
    """Recompute a chain given as event dicts (as `event_dict` makes, datetimes or ISO text for `at`)."""
    prev = GENESIS
    for e in events:
        at = e["at"] if isinstance(e["at"], datetime) else datetime.fromisoformat(e["at"])
        if digest(e["detail"]) != e["data_digest"]:
            return Broken(chain, e["id"], e["action"], "its data does not match its data digest")
        if e["prev_hash"] != prev:
            return Broken(chain, e["id"], e["action"], "it does not follow the event before it (an event was removed, inserted or moved)")
        expected = event_hash(
            prev=prev, case_id=e.get("case_id"), task_id=e["task_id"], actor_id=e["actor_id"], action=e["action"], at=at,
            data_digest=e["data_digest"],
        )
        if expected != e["hash"]:
            return Broken(chain, e["id"], e["action"], "its hash does not match its content")
        prev = e["hash"]
    if head is not None and head != prev:
        last = events[-1] if events else None
        return Broken(chain, last["id"] if last else None, last["action"] if last else None,
                      "the recorded head is not the last event's hash (events at the end are missing)")
    return None


def verify(unit: Unit, case_id: int | None = None) -> Verified:
    """Recompute every chain (or one case's) from the stored rows and compare with the recorded heads."""
    if case_id is not None:
        found_case = unit.session.get(Case, case_id)
        cases = [found_case] if found_case is not None else []
    else:
        cases = list(unit.session.scalars(select(Case).order_by(Case.id)))
    broken: list[Broken] = []
    count = 0
    for case in cases:
        events = [dict(event_dict(e), case_id=e.case_id) for e in
                  unit.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id))]
        count += len(events)
        found = check_chain(events, chain=f"case {case.number}", head=case.last_audit_hash)
        if found:
            broken.append(found)
    chains = len(cases)
    if case_id is None:
        events = [dict(event_dict(e), case_id=None) for e in
                  unit.session.scalars(select(AuditEvent).where(AuditEvent.case_id.is_(None)).order_by(AuditEvent.id))]
        head = unit.session.get(AuditChain, SYSTEM_CHAIN)
        count += len(events)
        chains += 1
        found = check_chain(events, chain="system", head=head.last_hash if head else GENESIS)
        if found:
            broken.append(found)
    return Verified(chains, count, broken)


# -- daily head hashes ---------------------------------------------------------------------------------------


def daily_heads(unit: Unit, day: date) -> dict[str, Any]:
    """Each chain's head as of the end of `day` (China time) and one root hash over them all, to publish
    or anchor elsewhere: a chain rewritten later no longer leads to the published head."""
    end = datetime.combine(day + timedelta(days=1), time(0), CHINA_TZ)
    last_ids = {}
    for event_id, case_id in unit.session.execute(
        select(AuditEvent.id, AuditEvent.case_id).where(AuditEvent.at < end).order_by(AuditEvent.id)
    ):
        last_ids[case_id] = event_id
    rows = {e.id: e for e in unit.session.scalars(select(AuditEvent).where(AuditEvent.id.in_(list(last_ids.values()))))} if last_ids else {}
    numbers = dict(unit.session.execute(select(Case.id, Case.number).where(Case.id.in_([c for c in last_ids if c is not None]))).all()) if last_ids else {}
    heads = []
    for case_id, event_id in sorted(last_ids.items(), key=lambda kv: (kv[0] is not None, kv[0] or 0)):
        e = rows[event_id]
        heads.append({
            "chain": "system" if case_id is None else f"case:{case_id}", "case_number": numbers.get(case_id),
            "event_id": e.id, "at": utc_text(e.at), "hash": e.hash,
        })
    return {"date": day.isoformat(), "heads": heads, "root": digest([[h["chain"], h["hash"]] for h in heads])}


def export_daily_heads(unit: Unit, day: date) -> dict[str, Any]:
    """The daily heads, for supervisors and admins; the export is itself an event of the system chain."""
    if not unit.actor.has_role("supervisor", "admin", "system"):
        from engine.errors import Forbidden

        raise Forbidden("only supervisors and admins export the audit heads")
    heads = daily_heads(unit, day)
    record(unit, "audit.heads_exported", {"date": heads["date"], "root": heads["root"]})
    return heads


# -- timeline -------------------------------------------------------------------------------------------------


def timeline(unit: Unit, case: Case) -> list[dict[str, Any]]:
    """Every event of the case in order, with who did it and which step of the procedure it was."""
    events = list(unit.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)))
    actor_ids = {e.actor_id for e in events if e.actor_id}
    names = dict(unit.session.execute(select(User.id, User.name).where(User.id.in_(actor_ids))).all()) if actor_ids else {}
    task_ids = {e.task_id for e in events if e.task_id}
    steps = {t.id: (t.bpmn_id, t.name) for t in unit.session.scalars(select(TaskRow).where(TaskRow.id.in_(task_ids)))} if task_ids else {}
    out = []
    for e in events:
        bpmn_id, step_name = steps.get(e.task_id, (e.detail.get("bpmn_id"), e.detail.get("name")))
        out.append({
            "id": e.id, "at": e.at, "action": e.action,
            "actor": {"id": e.actor_id, "name": names.get(e.actor_id, "系统")} if e.actor_id else {"id": None, "name": "系统"},
            "step": {"task_id": e.task_id, "bpmn_id": bpmn_id, "name": step_name} if (bpmn_id or e.task_id) else None,
            "legal_basis": e.detail.get("legal_basis"),
            "hash": e.hash,
        })
    return out

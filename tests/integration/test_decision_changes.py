"""D7: a decision changed or revoked (by the agency, a reconsideration or a court) has its publication
withdrawn within 3 working days with the reason: `changes.record` writes the timer-like row and the
case's event, the publicity sweep withdraws (frozen clock, the 2026 holiday notices)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine.accounts import principal_for_username
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.models import AuditEvent
from engine.publicity import changes, sweep
from engine.publicity.models import DecisionChange, Publication, WebhookDelivery
from tests.support.publicity import COMPANY, PERSON, decided_case, open_case, schedule


def published_case(core: Core, clock: FrozenClock, party: dict[str, Any] = COMPANY, at: datetime | None = None) -> int:
    case_id = open_case(core, party)
    decided = (at or clock.now()).isoformat()
    schedule(core, case_id, {"decision_document_number": f"穗天市监罚〔2026〕{case_id}号", "decided_at": decided,
                             "penalties": ["fine"], "fine_amount": 50000, "confiscation_value": 0})
    sweep(core)
    return case_id


def record(core: Core, case_id: int, username: str = "head1", **fields: Any) -> changes.ChangeView:
    body = {"kind": "reconsideration", "result": "revoked", "reason": "复议机关认定事实不清，撤销原处罚决定", **fields}
    with core.unit() as unit:
        actor = principal_for_username(unit, username)
    with core.unit(actor) as unit:
        return changes.record(unit, case_id, body)


def publication(core: Core, case_id: int) -> Publication:
    with core.unit() as unit:
        return unit.session.scalars(select(Publication).where(Publication.case_id == case_id)).one()


def test_a_revocation_before_labour_day_is_due_after_the_holiday_and_withdrawn_by_the_sweep(core: Core, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 4, 20, 10, 0, tzinfo=CHINA_TZ))
    case_id = published_case(core, clock)
    assert publication(core, case_id).status == "published"
    clock.set(datetime(2026, 4, 30, 16, 0, tzinfo=CHINA_TZ))  # Thursday; 05-01..05-05 are the 劳动节 holidays
    change = record(core, case_id)
    assert change.due_at == datetime(2026, 5, 8, 23, 59, 59, tzinfo=CHINA_TZ)  # 05-06, 05-07, 05-08
    assert change.status == "pending" and "行政处罚法第四十八条第二款" in change.legal_basis
    assert publication(core, case_id).status == "published"  # the sweep withdraws it
    clock.advance(seconds=30)
    assert sweep(core) == (1, 0)
    row = publication(core, case_id)
    assert row.status == "withdrawn" and row.withdrawn_at == clock.now()
    assert row.withdrawal_due_at == change.due_at and row.withdrawn_at <= row.withdrawal_due_at
    assert row.withdrawal_notice.startswith("该行政处罚决定已由行政复议机关依法撤销") and "事实不清" in row.withdrawal_notice
    with core.unit() as unit:
        events = {a: d for a, d in unit.session.execute(
            select(AuditEvent.action, AuditEvent.detail).where(AuditEvent.case_id == case_id))}
        assert unit.session.get(DecisionChange, change.id).status == "done"
    assert events["review.outcome"]["kind"] == "reconsideration" and events["review.outcome"]["result"] == "revoked"
    assert events["publication.withdrawn"]["late"] is False
    assert events["publication.withdrawn"]["decision_change_id"] == change.id
    assert sweep(core) == (0, 0)  # done once


def test_a_change_before_national_day_counts_the_adjusted_working_saturday(core: Core, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 9, 21, 10, 0, tzinfo=CHINA_TZ))
    case_id = published_case(core, clock)
    clock.set(datetime(2026, 9, 30, 11, 0, tzinfo=CHINA_TZ))
    change = record(core, case_id, kind="self", result="altered", reason="本机关发现罚款数额计算错误，依法变更")
    assert change.due_at == datetime(2026, 10, 10, 23, 59, 59, tzinfo=CHINA_TZ)  # 10-08, 10-09, Saturday 10-10 (调休)
    with core.unit() as unit:  # the agency's own change is not a review outcome
        actions = set(unit.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id)))
    assert "decision.changed" in actions and "review.outcome" not in actions


def test_a_change_recorded_late_is_withdrawn_at_once_and_marked_late(core: Core, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 4, 1, 10, 0, tzinfo=CHINA_TZ))
    case_id = published_case(core, clock)
    clock.set(datetime(2026, 4, 13, 9, 0, tzinfo=CHINA_TZ))
    # the court's judgment took effect on Thursday 04-02; Qingming 04-04..04-06: due Wednesday 04-08
    change = record(core, case_id, kind="litigation", result="confirmed_illegal", changed_at="2026-04-02T15:00:00+08:00")
    assert change.due_at == datetime(2026, 4, 8, 23, 59, 59, tzinfo=CHINA_TZ)
    sweep(core)
    with core.unit() as unit:
        detail = unit.session.scalars(select(AuditEvent.detail).where(
            AuditEvent.case_id == case_id, AuditEvent.action == "publication.withdrawn")).one()
    assert detail["late"] is True and publication(core, case_id).status == "withdrawn"


def test_a_change_before_publication_cancels_it_and_a_withdrawal_is_sent_to_webhooks_only_when_public(
    core: Core, clock: FrozenClock
) -> None:
    case_id = decided_case(core, PERSON)
    assert publication(core, case_id).status == "scheduled"
    record(core, case_id, kind="self", result="revoked", reason="王小明提交新证据，本机关撤销原决定")
    sweep(core)
    row = publication(core, case_id)
    assert row.status == "cancelled" and "王小明" not in row.withdrawal_notice and "王某某" in row.withdrawal_notice
    with core.unit() as unit:
        assert unit.session.scalars(select(WebhookDelivery)).all() == []


def test_only_the_deciding_agency_records_a_change_with_valid_fields(core: Core, clock: FrozenClock) -> None:
    case_id = published_case(core, clock)
    with pytest.raises(Forbidden):
        record(core, case_id, username="officer1")
    with pytest.raises(InvalidInput) as bad:
        record(core, case_id, kind="appeal", result="upheld", reason="", changed_at="2099-01-01T00:00:00+08:00")
    assert {p.field for p in bad.value.problems} == {"kind", "result", "reason", "changed_at"}
    with pytest.raises(InvalidInput) as bad:
        record(core, case_id, changed_at="yesterday")
    assert [p.field for p in bad.value.problems] == ["changed_at"]
    with pytest.raises(NotFound):
        record(core, case_id + 999)
    with core.unit() as unit:
        assert unit.session.scalars(select(DecisionChange)).all() == []  # nothing stored for a refusal
    assert publication(core, case_id).status == "published"

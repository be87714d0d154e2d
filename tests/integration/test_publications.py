"""Publication of decisions: scheduled when the decision task completes (D3, 7 working days), published by
the sweep, withdrawn with a reason within 3 working days of the change (D7), ended after its period (D5);
warnings only are not published (SAMR Order 45); the record is masked and frozen.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine.accounts import principal_for_username
from engine.calendar import load_default_calendar
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.models import AuditEvent
from engine.publicity import publications, sweep
from engine.publicity.models import Publication
from engine.publicity.rules import rules_for
from tests.support.publicity import COMPANY, PERSON, decided_case, open_case, schedule


def rows(core: Core, case_id: int) -> list[Publication]:
    with core.unit() as unit:
        return list(unit.session.scalars(select(Publication).where(Publication.case_id == case_id)))


def test_the_decision_task_schedules_a_masked_publication_due_in_seven_working_days(core: Core) -> None:
    case_id = decided_case(core, PERSON)
    [row] = rows(core, case_id)
    assert row.status == "scheduled"
    assert row.number == "穗天市监罚〔2026〕1号"
    assert row.party_name == "王某某" and row.credit_code is None
    # decided Friday 2026-03-20: the 7th working day after is Tuesday 03-31 (D3), at its end (Civil Code Art. 203)
    assert row.due_at == datetime(2026, 3, 31, 23, 59, 59, tzinfo=CHINA_TZ)
    assert "国办发〔2018〕118号" in row.legal_basis
    assert row.decision.startswith("依据") and "罚款人民币2,000.00元" in row.decision
    for secret in ("王小明", "11010519491231002X", "13800138000", "体育西路"):
        assert secret not in row.search_text and secret not in row.decision


def test_an_organisation_keeps_its_name_and_credit_code(core: Core) -> None:
    [row] = rows(core, decided_case(core, COMPANY))
    assert (row.party_name, row.credit_code) == ("广州市天河区示例便利店有限公司", "91350100M000100Y43")
    assert "李大华" not in row.search_text and "天河路2号" not in row.search_text


def test_a_decision_heavier_than_notified_is_not_published_until_decided_again(core: Core) -> None:
    # notified 2000: a new prior notice is needed (5,000 is also above the benchmark band, so it needs a reason)
    case_id = decided_case(core, COMPANY, {"fine_amount": 5000, "deviation_reason": "违法行为持续时间长，社会影响较大。"})
    assert rows(core, case_id) == []


def test_warnings_only_are_not_published_under_samr_order_45(core: Core) -> None:
    case_id = decided_case(core, COMPANY, {"penalties": ["warning"], "fine_amount": 0})
    [row] = rows(core, case_id)
    assert row.status == "not_published" and "市场监督管理行政处罚信息公示规定" in row.status_basis
    sweep(core)
    assert rows(core, case_id)[0].status == "not_published"


def test_the_sweep_publishes_and_sets_the_end_of_publicity_by_sector_rule(core: Core, clock: FrozenClock) -> None:
    light = open_case(core, COMPANY)
    heavy = open_case(core, COMPANY)
    schedule(core, light, {"decision_document_number": "穗天市监罚〔2026〕11号", "decided_at": "2026-03-02T10:00:00+08:00",
                           "penalties": ["fine"], "fine_amount": 2000, "confiscation_value": 0})
    schedule(core, heavy, {"decision_document_number": "穗天市监罚〔2026〕12号", "decided_at": "2026-03-02T10:00:00+08:00",
                           "penalties": ["fine", "revoke_permit"], "fine_amount": 2000, "confiscation_value": 0})
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=CHINA_TZ))
    assert sweep(core) == (2, 0)
    [short], [long] = rows(core, light), rows(core, heavy)
    assert short.status == long.status == "published" and short.published_at == clock.now()
    assert short.expires_at == datetime(2026, 6, 3, 23, 59, 59, tzinfo=CHINA_TZ)  # 3 months (D5)
    assert long.expires_at == datetime(2029, 3, 5, 23, 59, 59, tzinfo=CHINA_TZ)  # 3 years; 2029-03-03 is a Saturday
    assert sweep(core) == (0, 0)
    clock.set(datetime(2026, 6, 4, 0, 0, tzinfo=CHINA_TZ))
    assert sweep(core) == (1, 0)
    assert rows(core, light)[0].status == "expired" and rows(core, heavy)[0].status == "published"


def test_withdrawal_is_due_three_working_days_after_the_change(core: Core, clock: FrozenClock) -> None:
    case_id = decided_case(core, COMPANY)
    sweep(core)
    [row] = rows(core, case_id)
    clock.set(datetime(2026, 4, 8, 9, 0, tzinfo=CHINA_TZ))
    with core.unit() as unit:
        head = principal_for_username(unit, "head1")
    with core.unit(head) as unit:
        view = publications.withdraw(unit, row.id, "复议机关撤销原处罚决定", "2026-04-03T16:00:00+08:00")
    # changed Friday 04-03; 04-04..04-06 are the Qingming holidays: the 3rd working day after is Thursday 04-09
    assert view.withdrawal_due_at == datetime(2026, 4, 9, 23, 59, 59, tzinfo=CHINA_TZ)
    assert view.status == "withdrawn" and view.late is False and view.withdrawal_reason == "复议机关撤销原处罚决定"
    with core.unit() as unit:
        actions = list(unit.session.scalars(
            select(AuditEvent.action).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)))
    assert actions[-3:] == ["publication.scheduled", "publication.published", "publication.withdrawn"]
    with core.unit(head) as unit, pytest.raises(Conflict):
        publications.withdraw(unit, row.id, "again")


def test_withdrawal_needs_the_deciding_agencys_head_and_a_reason(core: Core) -> None:
    case_id = decided_case(core, COMPANY)
    [row] = rows(core, case_id)
    with core.unit() as unit:
        officer, head = principal_for_username(unit, "officer1"), principal_for_username(unit, "head1")
    with core.unit(officer) as unit, pytest.raises(Forbidden):
        publications.withdraw(unit, row.id, "撤销")
    with core.unit(head) as unit, pytest.raises(InvalidInput) as bad:
        publications.withdraw(unit, row.id, "  ")
    assert bad.value.problems[0].field == "reason"
    with core.unit(head) as unit, pytest.raises(InvalidInput):
        publications.withdraw(unit, row.id, "撤销", (core.now() + timedelta(days=1)).isoformat())
    with core.unit(head) as unit:
        assert publications.withdraw(unit, row.id, "决定已变更").status == "cancelled"  # never published


def test_a_publication_record_is_frozen(core: Core) -> None:
    [row] = rows(core, decided_case(core, PERSON))
    with pytest.raises(ValueError, match="frozen"), core.unit() as unit:
        unit.session.get(Publication, row.id).party_name = "王小明"
    assert rows(core, row.case_id)[0].party_name == "王某某"


def test_deciding_twice_with_one_number_schedules_once(core: Core) -> None:
    case_id = open_case(core, COMPANY)
    decision = {"decision_document_number": "穗天市监罚〔2026〕9号", "decided_at": "2026-03-02T10:00:00+08:00",
                "penalties": ["fine"], "fine_amount": 100, "confiscation_value": 0}
    assert schedule(core, case_id, decision) is not None
    assert schedule(core, case_id, decision) is None


def test_sector_rules_are_data_with_citations() -> None:
    rules = rules_for("market_supervision")
    assert rules.exempt(["warning"]) and not rules.exempt(["warning", "fine"]) and not rules.exempt([])
    assert (rules.publish_within.amount, rules.publish_within.unit) == (7, "working_days")
    assert (rules.withdraw_within.amount, rules.withdraw_within.unit) == (3, "working_days")
    assert rules.public_for(["fine"], 10000).unit == "months" and rules.public_for(["fine"], 10001).unit == "years"
    other = rules_for("unknown_sector")
    assert not other.exempt(["warning"]) and other.short_duration is None


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(day=st.dates(date(2026, 1, 1), date(2026, 11, 30)), hour=st.integers(0, 23))
def test_publication_and_withdrawal_due_days_follow_the_calendar(day: date, hour: int) -> None:
    """D3 and D7 end on the 7th / 3rd working day strictly after the start day, counted day by day here."""
    calendar = load_default_calendar()
    start = datetime(day.year, day.month, day.day, hour, tzinfo=CHINA_TZ)
    rules = rules_for("market_supervision")
    for period, amount in ((rules.publish_within, 7), (rules.withdraw_within, 3)):
        due = period.due(calendar, start)
        assert (due.hour, due.minute, due.second) == (23, 59, 59)
        counted, cursor = 0, day
        while counted < amount:
            cursor += timedelta(days=1)
            counted += calendar.is_working_day(cursor)
        assert due.date() == cursor


def test_the_low_fine_threshold_is_marked_unverified_in_the_data_and_the_audit(core: Core, clock: FrozenClock) -> None:
    """D5 leaves "a low fine" to the province: the figure is a placeholder [U] until legal staff set it."""
    rules = rules_for("market_supervision")
    assert rules.short_fine_verified is False and "[U] UNVERIFIED PLACEHOLDER" in _short_note()
    assert rules.threshold_unverified(["fine"]) and not rules.threshold_unverified(["fine", "revoke_permit"])
    assert not rules.threshold_unverified(["circulate_criticism"])  # 通报批评 is 3 months whatever the threshold
    case_id = open_case(core, COMPANY)
    schedule(core, case_id, {"decision_document_number": "穗天市监罚〔2026〕77号", "decided_at": "2026-03-02T10:00:00+08:00",
                             "penalties": ["fine"], "fine_amount": 500, "confiscation_value": 0})
    sweep(core)
    with core.unit() as unit:
        detail = unit.session.scalars(select(AuditEvent.detail).where(
            AuditEvent.case_id == case_id, AuditEvent.action == "publication.published")).one()
    assert detail["threshold_unverified"] is True


def _short_note() -> str:
    import json
    from importlib import resources

    data = json.loads(resources.files("engine").joinpath("data/publicity.json").read_text(encoding="utf-8"))
    return data["sectors"]["market_supervision"]["short_duration"]["note"]

"""冻结存款、汇款 (processes/deposit_freezing.bpmn): approval, the freeze decision delivered within 3
working days, the 30-day period with one 30-day extension, transfer or unfreezing, and unfreezing when the
period expires (C4). Live and through save/restore round trips.

Due dates by hand (time-limits.md §0, §2; 2026): frozen Monday 2026-03-02 → 3 working days: Thursday
2026-03-05; 30 days: Wednesday 2026-04-01; extended to 60 days: 2026-05-01 is 劳动节 → Wednesday 2026-05-06.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from engine import task_rules
from engine.clock import CHINA_TZ
from engine.errors import InvalidInput
from engine.spiff import Definition
from tests.engine.conftest import PROCESSES, Case, library_definition

PROCESS_FILE = PROCESSES / "deposit_freezing.bpmn"
ORGANIZATION = {"type": "organization", "name": "广州某某贸易有限公司", "credit_code": "91440101MA59XXXX1X"}


@pytest.fixture(scope="module")
def freeze_definition() -> Definition:
    return library_definition(PROCESS_FILE)


@pytest.fixture
def make(runtime, freeze_definition, clock, roundtrip) -> Callable[[], Case]:
    def start() -> Case:
        case = Case(runtime, freeze_definition, clock, roundtrip)
        case.at("2026-03-02T09:30")
        return case.start({
            "case_id": 8, "case_number": "穗天市监强〔2026〕8号", "agency_name": "广州市天河区市场监督管理局",
            "clue_received_at": "2026-03-02T09:00:00+08:00", "opened_at": "2026-03-02T09:00:00+08:00",
            "party": ORGANIZATION, "matter": {"code": "440202002001", "name": "冻结存款、汇款", "legal_basis": "略", "category": "coercion"},
            "officer_ids": [1, 2],
        })
    return start


APPLICATION = {"grounds": "当事人涉嫌违法经营，需冻结其违法所得。", "freeze_legal_basis": "依照法律规定（示例）", "bank_name": "某银行天河支行",
               "account": "6222000000000000", "amount_involved": 500000, "amount_to_freeze": 500000, "not_frozen_elsewhere": True,
               "applied_at": "2026-03-02T09:30:00+08:00"}
APPROVE = {"approved": True, "approval_opinion": "同意。", "approved_at": "2026-03-02T09:30:00+08:00"}
NOTICE = {"bank_notice_number": "穗天市监冻通〔2026〕1号", "frozen_at": "2026-03-02T10:00:00+08:00", "amount_frozen": 500000,
          "officers_present": ["张明", "李华"], "enforcement_ids_shown": True}
DELIVERY = {"freeze_decision_number": "穗天市监冻〔2026〕1号", "freeze_decision_delivered_at": "2026-03-04T10:00:00+08:00",
            "service_method": "direct"}
EXTEND = {"freeze_action": "extend", "extension_reason": "资金流向复杂", "proposal_reasons": "需进一步核查。"}
HANDLE = {"freeze_action": "handle", "proposal_reasons": "调查终结。"}
UNFREEZE = {"unfreeze_number": "穗天市监解冻〔2026〕1号", "unfrozen_at": "2026-03-20T10:00:00+08:00", "bank_notified": True,
            "party_notified": True}


def handling(outcome: str) -> dict:
    return {"freeze_outcome": outcome, "freeze_handling_number": "穗天市监冻处〔2026〕1号", "freeze_handling_opinion": "同意。",
            "freeze_handling_decided_at": "2026-03-20T10:00:00+08:00"}


def due_day(timer) -> str:
    local = timer.due_at.astimezone(CHINA_TZ)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    return local.date().isoformat()


def frozen(case: Case) -> Case:
    case.complete("apply_freeze", APPLICATION)
    case.complete("approve_freeze", APPROVE)
    case.at("2026-03-02T10:30")
    case.complete("notify_bank", NOTICE)
    assert due_day(case.timer("timer_c4_delivery")) == "2026-03-05"
    case.at("2026-03-04T10:00")
    case.complete("deliver_freeze_decision", DELIVERY)
    assert case.timer("timer_c4_delivery").status == "met"
    assert "冻结决定书" in case.documents["deliver_freeze_decision"] and "500000.00" in case.documents["deliver_freeze_decision"]
    assert due_day(case.timer("timer_c4_period")) == "2026-04-01"
    return case


def test_transfer_within_the_period(make) -> None:
    case = frozen(make())
    case.at("2026-03-20T10:00")
    case.complete("decide_freeze", HANDLE)
    case.complete("approve_freeze_handling", handling("transfer"))
    case.complete("record_transfer", {"handled_at": "2026-03-20T11:00:00+08:00", "handling_record": "已通知银行划拨。", "witnesses": ["张明", "李华"]})
    assert case.completed and case.data["outcome"] == "transferred"


def test_unfreezing_by_decision(make) -> None:
    case = frozen(make())
    case.at("2026-03-20T10:00")
    case.complete("decide_freeze", HANDLE)
    case.complete("approve_freeze_handling", handling("unfreeze"))
    case.complete("unfreeze_deposits", UNFREEZE)
    assert case.completed and "决定解除冻结" in case.documents["unfreeze_deposits"]


def test_extension_then_expiry_unfreezes(make) -> None:
    case = frozen(make())
    case.complete("decide_freeze", EXTEND)
    case.complete("approve_freeze_extension", {"extension_approved": True, "extension_opinion": "同意延长三十日。",
                                               "extension_notice_number": "穗天市监冻延〔2026〕1号",
                                               "extension_notified_at": "2026-03-04T15:00:00+08:00"})
    assert due_day(case.timer("timer_c4_period")) == "2026-05-06"
    task = case.task("decide_freeze")
    with pytest.raises(InvalidInput) as err:
        task_rules.check(task.properties, task.data, EXTEND, datetime(2026, 3, 5, tzinfo=CHINA_TZ), task.bpmn_id)
    assert err.value.problems[0].field == "freeze_action" and "第三十二条" in err.value.problems[0].message
    case.at("2026-05-07T00:00:01")
    assert case.fire() == ["timer_c4_period"]
    assert case.ready() == ["unfreeze_deposits"]
    case.complete("unfreeze_deposits", {**UNFREEZE, "unfrozen_at": "2026-05-07T00:00:01+08:00"})
    assert case.completed and case.data["outcome"] == "unfrozen" and "冻结期限届满" in case.documents["unfreeze_deposits"]


def test_refused_extension_keeps_the_period_and_late_delivery_is_flagged(make) -> None:
    case = make()
    case.complete("apply_freeze", APPLICATION)
    case.complete("approve_freeze", APPROVE)
    case.at("2026-03-02T10:30")
    case.complete("notify_bank", NOTICE)
    case.at("2026-03-06T09:00")
    assert case.fire() == ["timer_c4_delivery"]
    case.complete("deliver_freeze_decision", {**DELIVERY, "freeze_decision_delivered_at": "2026-03-06T09:00:00+08:00"})
    assert case.timer("timer_c4_delivery").status == "breached"
    case.complete("decide_freeze", EXTEND)
    case.complete("approve_freeze_extension", {"extension_approved": False, "extension_opinion": "不符合条件。"})
    assert due_day(case.timer("timer_c4_period")) == "2026-04-01"


def test_head_refuses_and_forms_mirror_the_law(make) -> None:
    case = make()
    assert case.form_errors("apply_freeze", {**APPLICATION, "not_frozen_elsewhere": False})  # no double freezing (ACL Art. 29)
    case.complete("apply_freeze", APPLICATION)
    case.complete("approve_freeze", {**APPROVE, "approved": False})
    assert case.completed and case.data["outcome"] == "not_approved"

"""The demo: base data (engine.seed) plus a few cases at different stages of the general procedure,
driven through the same service functions the API calls, as the users who would do each step.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine import cases, tasks
from engine.accounts import principal_for_username
from engine.core import Core
from engine.models import Case, TaskRow, User
from engine.publicity import sweep as publicity_sweep
from engine.seed import seed_demo

# Form data for each task of the general procedure (keys follow forms/<task>.schema.json).
STEP_DATA: dict[str, dict[str, Any]] = {
    "verify_clue": {
        "clue_source": "complaint", "verification_summary": "经现场核查，当事人店铺价签缺失，投诉属实。",
        "suspected_violation": True, "within_limitation": True, "within_jurisdiction": True,
        "filing_recommendation": "file", "recommendation_reasons": "有违法事实，属本局管辖，在追责时效内。",
    },
    "approve_filing": {"filing_decision": "file", "filing_opinion": "同意立案。", "approval_date": "2026-03-03"},
    "investigate": {
        "findings": "当事人销售商品未按规定明码标价。", "evidence_summary": "现场检查笔录、照片、询问笔录。",
        "investigation_ended_on": "2026-03-10", "proposed_outcome": "punish",
        "proposed_legal_basis": "《价格违法行为行政处罚规定》第十三条", "discretion_tier": "general",
        "discretion_reasons": "首次被查处，积极配合调查。", "proposed_penalties": ["warning", "fine"],
        "proposed_fine_amount": 2000, "proposed_confiscation_value": 0, "is_major": False, "hearing_scope_other": False,
    },
    "case_review": {"case_review_result": "pass", "case_review_opinion": "事实清楚，证据确实充分，适用依据正确。"},
    "prior_notice": {
        "notice_document_number": "穗天市监罚告〔2026〕1号", "served_at": "2026-03-12T10:00:00+08:00",
        "service_method": "direct", "notice_content": "拟给予警告并处罚款2000元，当事人享有陈述、申辩的权利。",
    },
    "record_statement": {
        "statement_response": "statement", "response_submitted_on": "2026-03-13", "statement_summary": "当事人称已整改。",
        "statement_review": "经复核，整改情况属实，但不影响违法事实认定。", "statement_adopted": False,
    },
    "decide": {
        "decision": "punish", "decision_document_number": "穗天市监罚〔2026〕1号", "decided_at": "2026-03-20T10:00:00+08:00",
        "decision_reasons": "违法事实清楚，依法予以处罚。", "penalties": ["warning", "fine"], "fine_amount": 2000,
        "confiscation_value": 0,
    },
    "serve_decision": {"served_at": "2026-03-23T10:00:00+08:00", "service_method": "direct", "recipient": "当事人本人"},
    "record_payment": {
        "paid_at": "2026-03-30T10:00:00+08:00", "amount_paid": 2000, "late_fee_paid": 0, "payment_receipt_number": "粤财缴20260330001",
    },
    "close_case": {"closure_reason": "executed", "closure_report": "罚款已缴清，案件执行完毕，申请结案。"},
    "approve_closure": {"closure_decision": "approve", "closure_opinion": "同意结案。"},
    "archive": {"archive_number": "穗天市监档〔2026〕1号", "archived_at": "2026-04-10T10:00:00+08:00", "volume_count": 1},
}

# Who does each lane in the demo agency.
LANE_USERS = {"officer": "officer1", "legal_reviewer": "reviewer1", "agency_head": "head1"}

DEMO_CASES = [
    # (matter, party, summary, bpmn ids to complete)
    ("440201003001", {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"},
     "投诉：商品未明码标价", []),
    ("440201002001", {"type": "organization", "name": "广州示例化妆品有限公司", "credit_code": "91440101MA5CXXQ00X"},
     "巡查发现：广告使用“最佳”用语", ["verify_clue", "approve_filing"]),
    ("440201004001", {"type": "person", "name": "王小明", "id_number": "11010519491231002X"},
     "网店首页未公示营业执照信息", ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice"]),
]


# Decided cases whose decisions the publicity sweep publishes (against an organisation and a natural person).
PUBLISHED_DEMO_CASES = [
    ("440201003001", {"type": "organization", "name": "广州市天河区示例百货有限公司", "credit_code": "91440106MA59XYW00C",
                      "address": "广州市天河区天河路100号"}, "举报：促销商品未标示价格", "穗天市监罚〔2026〕2号", 2000),
    ("440201004001", {"type": "person", "name": "李晓梅", "id_number": "44010619850312004X", "phone": "13700000001"},
     "网店首页未公示营业执照信息", "穗天市监罚〔2026〕3号", 5000),  # inside the 一般 band of 电子商务法 Art. 76
]
TO_DECISION = ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice", "record_statement", "decide"]


def seed_everything(core: Core) -> bool:
    """Base data and the demo cases, once."""
    created = seed_demo(core, core.settings.demo_password)
    if created:
        for matter, party, summary, steps in DEMO_CASES:
            case_id = open_demo_case(core, matter, party, summary)
            run_steps(core, case_id, steps)
        # Dated today (the steps' sample dates are in March 2026): a notice served in March would have let its
        # statement period (P7) run out before the demo runs, and the case could not reach its decision.
        now, today = core.now_iso(), core.now_iso()[:10]
        for matter, party, summary, number, fine in PUBLISHED_DEMO_CASES:
            case_id = open_demo_case(core, matter, party, summary)
            run_steps(core, case_id, TO_DECISION, {
                "approve_filing": {"approval_date": today},
                "investigate": {"proposed_fine_amount": fine, "investigation_ended_on": today},
                "prior_notice": {"served_at": now, "notice_content": f"拟给予警告并处罚款{fine}元，当事人享有陈述、申辩的权利。"},
                "record_statement": {"response_submitted_on": today},
                "decide": {"decision_document_number": number, "fine_amount": fine, "decided_at": now},
            })
        publicity_sweep(core)
    return created


def open_demo_case(core: Core, matter: str, party: dict[str, Any], summary: str) -> int:
    with core.unit() as unit:
        officer = principal_for_username(unit, "officer1")
        ids = list(unit.session.scalars(select(User.id).where(User.username.in_(["officer1", "officer2"]))))
    with core.unit(officer) as unit:
        return cases.open_case(unit, matter, party, ids, summary).id


def run_steps(core: Core, case_id: int, steps: list[str], overrides: dict[str, dict[str, Any]] | None = None) -> None:
    """Complete the named tasks in order, each as the demo user of its lane."""
    for bpmn_id in steps:
        with core.unit() as unit:
            row = unit.session.scalar(
                select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == bpmn_id, TaskRow.state == "ready")
            )
            if row is None:
                number = unit.session.get(Case, case_id).number
                raise LookupError(f"task {bpmn_id} is not ready in case {number}")
            actor = principal_for_username(unit, LANE_USERS[row.lane])
            task_id = row.id
        data = {**STEP_DATA[bpmn_id], **((overrides or {}).get(bpmn_id, {}))}
        with core.unit(actor) as unit:
            tasks.complete(unit, task_id, data)

"""行政处罚一般程序 (processes/general_punishment.bpmn): every path, every statutory timer.

Expected due dates are computed by hand from /work/shared/legal/time-limits.md (section 0 counting
rules, section 2 holiday table for 2026), not by calling the calendar:

* start day excluded; working-day periods end on the N-th working day after the start day;
* calendar-day periods end on start + N days, moved forward to the next working day;
* 2026 rest days used below: 04-04..04-06 (清明), 05-01..05-05 (劳动节), weekends;
  05-09 (Saturday) is an adjusted working day.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

from engine.clock import CHINA_TZ

PROCESS_FILE = Path(__file__).resolve().parents[2] / "processes" / "general_punishment.bpmn"
HEARING_FILE = PROCESS_FILE.with_name("hearing.bpmn")
BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
           "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}

PERSON = {"type": "person", "name": "张三", "id_number": "440106199001011234"}
ORGANIZATION = {"type": "organization", "name": "广州某某贸易有限公司", "credit_code": "91440101MA59XXXX1X"}
MATTER = {
    "code": "440201018002",
    "name": "电子商务经营者未在首页显著位置公示营业执照信息",
    "legal_basis": "《中华人民共和国电子商务法》第十五条、第七十六条",
    "category": "行政处罚",
}
OFFICERS = ["officer-1", "officer-2"]
FILED_AT = "2026-03-02T15:00:00+08:00"

LANES = {
    "verify_clue": "officer", "approve_filing": "agency_head", "investigate": "officer",
    "case_review": "legal_reviewer", "prior_notice": "officer", "record_statement": "officer",
    "hearing_notice": "officer", "hold_hearing": "legal_reviewer", "legal_review": "legal_reviewer",
    "collective_discussion": "agency_head", "decide": "agency_head", "serve_decision": "officer",
    "approve_clock_change": "agency_head",
    "record_payment": "officer", "close_case": "officer", "approve_closure": "agency_head", "archive": "officer",
}


def case_data(party: dict | None = None) -> dict:
    return {
        "case_id": "case-0001",
        "case_number": "穗市监立〔2026〕1号",
        "clue_received_at": "2026-03-02T09:00:00+08:00",
        "opened_at": "2026-03-02T09:00:00+08:00",
        "party": party or ORGANIZATION,
        "matter": MATTER,
        "officer_ids": OFFICERS,
        "officer_usernames": OFFICERS,
    }


def iso(local: str) -> str:
    return local + ":00+08:00"


def due_day(timer) -> str:
    assert timer.due_at is not None
    local = timer.due_at.astimezone(CHINA_TZ)
    assert (local.hour, local.minute, local.second) == (23, 59, 59), "a day period ends at 24:00"
    return local.date().isoformat()


# -- form payloads ---------------------------------------------------------------------------
def verify_form(recommend: str = "file") -> dict:
    return {
        "clue_source": "complaint",
        "verification_summary": "经核查，当事人网店首页未公示营业执照信息。",
        "suspected_violation": recommend == "file",
        "within_limitation": True,
        "within_jurisdiction": True,
        "filing_recommendation": recommend,
        "recommendation_reasons": "符合立案条件。" if recommend == "file" else "违法行为轻微并已改正。",
    }


def filing_form(decision: str = "file", day: str = "2026-03-02") -> dict:
    form = {"filing_decision": decision, "filing_opinion": "同意。", "approval_date": day}
    if decision == "not_file":
        form["not_filing_ground"] = "minor_corrected"
    return form


def investigate_form(outcome: str = "punish", fine: float = 50000, penalties: tuple = ("warning", "fine"),
                     major: bool = False, confiscation: float = 0, other_heavy: bool = False) -> dict:
    form = {
        "findings": "当事人自2025年起经营网店，首页未公示营业执照信息。",
        "evidence_summary": "网页截图、询问笔记、营业执照复印件。",
        "investigation_ended_on": "2026-03-03",
        "proposed_outcome": outcome,
        "proposed_legal_basis": "《中华人民共和国电子商务法》第十五条、第七十六条第一款第（一）项。",
        "proposed_penalties": list(penalties) if outcome == "punish" else [],
        "proposed_fine_amount": fine if outcome == "punish" else 0,
        "proposed_confiscation_value": confiscation,
        "is_major": major,
        "hearing_scope_other": other_heavy,
    }
    if outcome == "punish":
        form["discretion_tier"] = "general"
    elif outcome == "no_punish":
        form["no_punish_ground"] = "first_minor"
    else:
        form["transfer_target"] = "广州市公安局"
        form["transfer_reason"] = "涉嫌犯罪。"
    return form


def review_form(result: str = "pass") -> dict:
    return {"case_review_result": result, "case_review_opinion": "事实清楚，证据确凿。" if result == "pass" else "证据不足。"}


def notice_form(served_at: str) -> dict:
    return {
        "notice_document_number": "穗市监罚告〔2026〕1号",
        "served_at": served_at,
        "service_method": "direct",
        "notice_content": "经查，你单位网店首页未公示营业执照信息，违反了电子商务法第十五条。",
    }


def statement_form(response: str, submitted_on: str | None = None) -> dict:
    form = {"statement_response": response}
    if response != "none":
        form["response_submitted_on"] = submitted_on
        form["statement_summary"] = "当事人称已整改。" if response == "statement" else "当事人要求举行听证。"
    if response == "statement":
        form["statement_review"] = "当事人所述整改情况属实，但不影响违法事实的认定。"
        form["statement_adopted"] = False
    return form


def hearing_notice_form(served_at: str, hearing_date: str, presiding: str = "reviewer-9") -> dict:
    return {
        "hearing_notice_number": "穗市监听〔2026〕1号",
        "hearing_notice_served_at": served_at,
        "hearing_date": hearing_date,
        "hearing_time": "09:30",
        "hearing_place": "本局听证室",
        "hearing_public": True,
        "presiding_officer_name": "李四",
        "presiding_officer_id": presiding,
    }


def hearing_form(attendance: str, held_at: str) -> dict:
    form = {"hearing_attendance": attendance, "hearing_held_at": held_at, "hearing_report": "建议维持拟处罚意见。"}
    if attendance == "attended":
        form["hearing_record"] = "当事人陈述了整改情况，调查人员出示了证据。"
    return form


def legal_review_form(result: str = "pass") -> dict:
    return {"legal_review_result": result, "legal_review_opinion": "程序合法，适用依据正确。" if result == "pass"
            else "裁量依据不充分，退回纠正。", "reviewer_qualified": True}


def discussion_form(conclusion: str = "punish") -> dict:
    return {"discussion_held_at": iso("2026-03-23T09:00"), "participants": "王局长、赵副局长、钱副局长",
            "discussion_record": "一致同意拟处罚意见。", "discussion_conclusion": conclusion}


def decide_form(decision: str, decided_at: str, fine: float = 0, penalties: tuple = (),
                confiscation: float = 0) -> dict:
    form = {
        "decision": decision,
        "decision_document_number": "穗市监罚字〔2026〕1号",
        "decided_at": decided_at,
        "decision_reasons": "依据《中华人民共和国电子商务法》第七十六条第一款第（一）项。",
        "penalties": list(penalties),
        "fine_amount": fine,
        "confiscation_value": confiscation,
    }
    if decision == "transfer":
        form["transfer_target"] = "广州市公安局"
    return form


def serve_form(served_at: str) -> dict:
    return {"served_at": served_at, "service_method": "direct", "recipient": "当事人法定代表人"}


def payment_form(paid_at: str, amount: float, late_fee: float = 0) -> dict:
    return {"paid_at": paid_at, "amount_paid": amount, "late_fee_paid": late_fee,
            "payment_receipt_number": "4401-2026-000123"}


# -- shared steps -----------------------------------------------------------------------------
def file_case(case, party: dict | None = None):
    case.start(case_data(party))
    assert case.ready() == ["verify_clue"]
    case.at("2026-03-02T11:00")
    case.complete("verify_clue", verify_form())
    case.at("2026-03-02T15:00")
    case.complete("approve_filing", filing_form())
    assert case.ready() == ["investigate"]
    assert case.task("investigate").data["filed_at"] == FILED_AT
    return case


def investigate_and_review(case, inv: dict, inv_at="2026-03-03T10:00", review_at="2026-03-04T10:00"):
    case.at(inv_at)
    case.complete("investigate", inv)
    case.at(review_at)
    case.complete("case_review", review_form())


def give_notice(case, at="2026-03-05T10:00"):
    case.at(at)
    case.complete("prior_notice", notice_form(iso(at)))
    assert case.ready() == ["record_statement"]


def close_and_archive(case, reason: str, at: str):
    case.at(at)
    case.complete("close_case", {"closure_reason": reason, "closure_report": "案件已办结，建议结案。"})
    case.complete("approve_closure", {"closure_decision": "approve", "closure_opinion": "同意结案。"})
    case.complete("archive", {"archive_number": "2026-行政处罚-001", "archived_at": iso(at), "volume_count": 1})
    assert case.completed


# =============================================================================================
# Paths
# =============================================================================================
def test_not_filed(make_case):
    case = make_case().start(case_data())
    p2 = case.timer("timer_p2_filing")
    # 15 working days after Mon 2026-03-02: 03-03..06 (4), 09..13 (9), 16..20 (14), 23 (15)
    assert (p2.status, due_day(p2), p2.started_at) == ("pending", "2026-03-23", "2026-03-02T09:00:00+08:00")
    assert p2.properties.items() >= {"legal_basis": "市场监督管理行政处罚程序规定第十八条", "limit": "15 working_days",
                                     "kind": "deadline", "clock_start": "clue_received_at",
                                     "extension_limit": "15 working_days"}.items()
    assert p2.attached_to == "filing_stage" and not p2.interrupting

    case.at("2026-03-03T10:00")
    case.complete("verify_clue", verify_form("not_file"))
    assert case.ready() == ["approve_filing"]
    case.at("2026-03-04T10:00")
    case.complete("approve_filing", filing_form("not_file", "2026-03-04"))

    assert case.completed
    assert case.data["outcome"] == "not_filed"
    assert "filed_at" not in case.data
    assert case.timer("timer_p2_filing").status == "met"
    assert "不予立案" in case.documents["approve_filing"]


def test_filing_overdue_is_reported_without_stopping_the_case(make_case):
    case = make_case().start(case_data())
    case.at("2026-03-23T23:59")
    assert case.fire() == []
    assert case.timer("timer_p2_filing").status == "pending"

    case.at("2026-03-24T00:00")
    assert case.timer("timer_p2_filing").status == "overdue"  # due, not yet fired
    assert case.fire() == ["timer_p2_filing"]
    assert case.timer("timer_p2_filing").status == "overdue"  # fired, filing still open
    assert case.ready() == ["verify_clue"]

    case.at("2026-03-24T10:00")
    case.complete("verify_clue", verify_form())
    case.complete("approve_filing", filing_form(day="2026-03-24"))
    assert case.timer("timer_p2_filing").status == "breached"
    assert case.task("investigate").data["filed_at"] == "2026-03-24T10:00:00+08:00"


def test_no_punishment(make_case):
    case = file_case(make_case())
    p5 = case.timer("timer_p5_handling")
    # 2026-03-02 + 90 days = 05-31, a Sunday -> Monday 06-01
    assert (p5.status, due_day(p5), p5.started_at) == ("pending", "2026-06-01", FILED_AT)
    assert p5.properties["legal_basis"] == "行政处罚法第六十条；市场监督管理行政处罚程序规定第六十四条"
    assert p5.properties["limit"] == "90 calendar_days"
    assert case.timer("timer_p2_filing").status == "met"

    case.at("2026-03-10T10:00")
    case.complete("investigate", investigate_form("no_punish"))
    p6 = case.timer("timer_p6_case_review")
    # 10 working days after Tue 03-10: 03-11..13 (3), 16..20 (8), 23, 24 (10)
    assert (p6.status, due_day(p6), p6.started_at) == ("pending", "2026-03-24", "2026-03-10T10:00:00+08:00")

    case.at("2026-03-25T09:00")
    assert case.timer("timer_p6_case_review").status == "overdue"
    assert case.fire() == ["timer_p6_case_review"]
    assert case.timer("timer_p6_case_review").status == "overdue"
    case.complete("case_review", review_form())
    assert case.timer("timer_p6_case_review").status == "breached"
    assert case.ready() == ["decide"], "no prior notice for a decision not to punish"

    case.at("2026-03-26T10:00")
    case.complete("decide", decide_form("no_punish", iso("2026-03-26T10:00")))
    assert case.timer("timer_p5_handling").status == "met"
    assert case.ready() == ["serve_decision"]
    document = case.documents["decide"]
    assert "不予行政处罚决定书" in document
    assert "六十日内" in document and "行政复议法》第二十条" in document
    assert "六个月内" in document and "行政诉讼法》第四十六条" in document

    p11 = case.timer("timer_p11_service")
    # 7 working days after Thu 03-26: 03-27 (1), 03-30..04-03 (6), [04-04..06 清明], 04-07 (7)
    assert (p11.status, due_day(p11), p11.started_at) == ("pending", "2026-04-07", iso("2026-03-26T10:00"))
    case.at("2026-03-27T10:00")
    case.complete("serve_decision", serve_form(iso("2026-03-27T10:00")))
    assert case.timer("timer_p11_service").status == "met"
    assert case.ready() == ["close_case"], "nothing to pay"
    assert case.timers("timer_p12_payment") == []

    p17 = case.timer("timer_p17_closure")
    # closure counts from the decision not to punish: 15 working days after 03-26 -> 04-17
    assert (p17.status, due_day(p17), p17.started_at) == ("pending", "2026-04-17", iso("2026-03-26T10:00"))
    close_and_archive(case, "not_punished", "2026-04-01T10:00")
    assert case.timer("timer_p17_closure").status == "met"
    assert "结案审批表" in case.documents["approve_closure"]


def test_transfer_skips_service_and_payment(make_case):
    case = file_case(make_case())
    investigate_and_review(case, investigate_form("transfer"))
    assert case.ready() == ["decide"]

    case.at("2026-04-28T10:00")
    case.complete("decide", decide_form("transfer", iso("2026-04-28T10:00")))
    assert case.ready() == ["close_case"]
    assert case.timers("timer_p11_service") == [] and case.timers("timer_p12_payment") == []
    assert "案件移送函" in case.documents["decide"]

    p17 = case.timer("timer_p17_closure")
    # 15 working days after Tue 04-28: 04-29, 04-30 (2), [05-01..05 劳动节], 05-06..08 (5),
    # 05-09 adjusted working Saturday (6), 05-11..15 (11), 05-18..21 (15)
    assert (p17.status, due_day(p17), p17.started_at) == ("pending", "2026-05-21", iso("2026-04-28T10:00"))
    assert p17.properties == {"legal_basis": "市场监督管理行政处罚程序规定第七十七条", "limit": "15 working_days",
                              "kind": "deadline", "clock_start": "closure_clock_start"}

    case.at("2026-05-21T23:00")
    assert case.timer("timer_p17_closure").status == "pending"
    case.at("2026-05-22T09:00")
    assert case.timer("timer_p17_closure").status == "overdue"
    assert case.fire() == ["timer_p17_closure"]
    assert case.ready() == ["close_case"]
    close_and_archive(case, "transferred", "2026-05-22T10:00")
    assert case.timer("timer_p17_closure").status == "breached"


def test_punish_after_statement_and_payment_in_time(make_case):
    case = file_case(make_case())
    investigate_and_review(case, investigate_form("punish", fine=50000))
    p6 = case.timer("timer_p6_case_review")
    # 10 working days after Tue 03-03: 03-04..06 (3), 09..13 (8), 16, 17 (10)
    assert (p6.status, due_day(p6)) == ("met", "2026-03-17")
    assert case.ready() == ["prior_notice"]
    assert case.task("prior_notice").data["hearing_scope"] is False, "50,000 yuan for an organisation"

    give_notice(case)
    notice = case.documents["prior_notice"]
    assert "行政处罚告知书" in notice and "陈述和申辩" in notice and "五个工作日" in notice
    assert "要求举行听证" not in notice
    p7 = case.timer("timer_p7_statement")
    # 5 working days after Thu 03-05: 03-06 (1), 03-09..12 (5)
    assert (p7.status, due_day(p7), p7.started_at) == ("pending", "2026-03-12", iso("2026-03-05T10:00"))
    assert p7.interrupting and p7.attached_to == "record_statement"
    assert p7.properties["limit"] == "5 working_days" and p7.properties["clock_start"] == "notice_served_at"
    assert case.task("record_statement").data["statement_due_on"] == "2026-03-12"

    case.at("2026-03-09T10:00")
    case.complete("record_statement", statement_form("statement", "2026-03-09"))
    assert case.timer("timer_p7_statement").status == "met"
    assert case.ready() == ["decide"], "not major, no hearing: no legal review, no collective discussion"
    assert case.task("decide").data["statement_waived"] is False

    case.at("2026-03-16T10:00")
    case.complete("decide", decide_form("punish", iso("2026-03-16T10:00"), 50000, ("warning", "fine")))
    decision = case.documents["decide"]
    assert "行政处罚决定书" in decision and "50000.00" in decision
    assert "十五日内" in decision and "百分之三" in decision and "不停止执行" in decision
    # 7 working days after Mon 03-16: 03-17..20 (4), 03-23..25 (7)
    assert due_day(case.timer("timer_p11_service")) == "2026-03-25"

    case.at("2026-03-17T10:00")
    case.complete("serve_decision", serve_form(iso("2026-03-17T10:00")))
    assert "送达回证" in case.documents["serve_decision"]
    p12 = case.timer("timer_p12_payment")
    # 03-17 + 15 days = 04-01, a Wednesday
    assert (p12.status, due_day(p12), p12.started_at) == ("pending", "2026-04-01", iso("2026-03-17T10:00"))
    assert p12.properties == {"legal_basis": "行政处罚法第六十七条第三款", "limit": "15 calendar_days",
                              "kind": "deadline", "clock_start": "decision_served_at",
                              "due_variable": "payment_due_at", "due_variable_format": "instant"}
    assert case.task("record_payment").data["payment_due_at"] == "2026-04-01T23:59:59+08:00"

    case.at("2026-03-30T10:00")
    case.complete("record_payment", payment_form(iso("2026-03-30T10:00"), 50000))
    assert case.timer("timer_p12_payment").status == "met"
    assert case.ready() == ["close_case"]
    data = case.task("close_case").data
    assert data["late_fee_amount"] == "0.00" and data["payment_complete"] is True
    assert data["execution_completed_at"] == iso("2026-03-30T10:00")
    p17 = case.timer("timer_p17_closure")
    # 15 working days after Mon 03-30: 03-31..04-03 (4), 04-07..10 (8), 04-13..17 (13), 04-20, 21 (15)
    assert (due_day(p17), p17.started_at) == ("2026-04-21", iso("2026-03-30T10:00"))

    close_and_archive(case, "executed", "2026-04-02T10:00")
    statuses = {t.bpmn_id: t.status for t in case.all_timers()}
    assert statuses == {
        "timer_p2_filing": "met", "timer_p5_handling": "met", "timer_p6_case_review": "met",
        "timer_p7_statement": "met", "timer_p11_service": "met", "timer_p12_payment": "met",
        "timer_p17_closure": "met",
    }


def test_deemed_waiver_late_service_and_late_payment(make_case):
    case = file_case(make_case())
    investigate_and_review(case, investigate_form("punish", fine=50000))
    give_notice(case)

    case.at("2026-03-12T23:59")
    assert case.fire() == []
    case.at("2026-03-13T00:00")
    assert case.timer("timer_p7_statement").status == "overdue"
    assert case.fire() == ["timer_p7_statement"]
    assert case.timer("timer_p7_statement").status == "fired"
    assert case.ready() == ["decide"]
    data = case.task("decide").data
    assert data["statement_waived"] is True and data["hearing_requested"] is False

    case.at("2026-03-16T10:00")
    case.complete("decide", decide_form("punish", iso("2026-03-16T10:00"), 50000, ("fine",)))
    assert "视为放弃" in case.documents["decide"]

    case.at("2026-03-26T09:00")
    assert case.timer("timer_p11_service").status == "overdue"
    assert case.fire() == ["timer_p11_service"]
    assert case.ready() == ["serve_decision"]

    case.at("2026-04-20T10:00")
    case.complete("serve_decision", serve_form(iso("2026-04-20T10:00")))
    assert case.timer("timer_p11_service").status == "breached"
    # 04-20 + 15 days = 05-05, a 劳动节 rest day -> 05-06
    assert due_day(case.timer("timer_p12_payment")) == "2026-05-06"

    case.at("2026-05-07T09:00")
    assert case.fire() == ["timer_p12_payment"]
    assert case.timer("timer_p12_payment").status == "overdue"

    case.at("2026-05-15T10:00")
    case.complete("record_payment", payment_form(iso("2026-05-15T10:00"), 50000))
    # 9 days late (05-07..05-15) x 3% x 50,000 = 13,500.00; the late fee is still owed
    assert case.ready() == ["record_payment"]
    data = case.task("record_payment").data
    assert data["late_fee_amount"] == "13500.00" and data["payment_complete"] is False

    case.complete("record_payment", payment_form(iso("2026-05-15T10:00"), 50000, 13500))
    assert case.ready() == ["close_case"]
    assert case.task("close_case").data["late_fee_amount"] == "13500.00"
    assert case.timer("timer_p12_payment").status == "breached"
    # 15 working days after Fri 05-15: 05-18..22 (5), 05-25..29 (10), 06-01..05 (15)
    assert due_day(case.timer("timer_p17_closure")) == "2026-06-05"
    close_and_archive(case, "executed", "2026-05-18T10:00")
    assert "13500.00" in case.documents["approve_closure"]


def test_late_fee_is_capped_at_the_fine(make_case):
    case = file_case(make_case())
    investigate_and_review(case, investigate_form("punish", fine=10000, penalties=("fine",)))
    give_notice(case)
    case.at("2026-03-06T10:00")
    case.complete("record_statement", statement_form("none"))
    assert case.task("decide").data["statement_waived"] is True
    case.at("2026-03-16T10:00")
    case.complete("decide", decide_form("punish", iso("2026-03-16T10:00"), 10000, ("fine",)))
    case.at("2026-03-17T10:00")
    case.complete("serve_decision", serve_form(iso("2026-03-17T10:00")))  # payment due 04-01

    case.at("2026-05-08T10:00")  # 37 days late: 111 % of the fine, capped at 100 %
    case.complete("record_payment", payment_form(iso("2026-05-08T10:00"), 10000))
    assert case.task("record_payment").data["late_fee_amount"] == "10000.00"
    case.complete("record_payment", payment_form(iso("2026-05-08T10:00"), 10000, 10000))
    assert case.ready() == ["close_case"]


def test_major_case_with_hearing_legal_review_and_collective_discussion(make_case):
    case = file_case(make_case(), PERSON)
    investigate_and_review(case, investigate_form("punish", fine=20000, penalties=("fine",), major=True))
    assert case.task("prior_notice").data["hearing_scope"] is True, "20,000 yuan for a natural person"
    give_notice(case)
    assert "要求举行听证" in case.documents["prior_notice"]

    case.at("2026-03-06T10:00")
    case.complete("record_statement", statement_form("hearing_request", "2026-03-06"))
    assert case.timer("timer_p7_statement").status == "met"
    assert case.ready() == ["hearing_notice"]

    # served Mon 03-09: the 7th working day after it is Wed 03-18 (03-10..13, 03-16..18)
    case.at("2026-03-09T10:00")
    case.complete("hearing_notice", hearing_notice_form(iso("2026-03-09T10:00"), "2026-03-17"))
    assert case.ready() == ["hearing_notice"], "a hearing 6 working days after the notice is refused"
    data = case.task("hearing_notice").data
    assert (data["hearing_date_ok"], data["hearing_date_earliest"]) == (False, "2026-03-18")

    case.complete("hearing_notice", hearing_notice_form(iso("2026-03-09T10:00"), "2026-03-18", presiding="officer-1"))
    assert case.ready() == ["hearing_notice"], "an investigator of the case cannot preside"
    assert case.task("hearing_notice").data["presiding_officer_ok"] is False

    assert case.task("hearing_notice").lane == "officer", "the hearing runs as a call activity (hearing.bpmn)"
    case.complete("hearing_notice", hearing_notice_form(iso("2026-03-09T10:00"), "2026-03-18"))
    assert case.ready() == ["hold_hearing"]
    assert case.task("hold_hearing").lane == "legal_reviewer"
    assert "听证通知书" in case.documents["hearing_notice"]

    case.at("2026-03-18T15:00")
    case.complete("hold_hearing", hearing_form("attended", iso("2026-03-18T09:30")))
    assert case.ready() == ["legal_review"]
    assert "听证报告" in case.documents["hold_hearing"]
    p6 = case.timer("timer_p6_legal_review")
    # 10 working days after Wed 03-18: 03-19, 20 (2), 03-23..27 (7), 03-30..04-01 (10)
    assert (p6.status, due_day(p6), p6.started_at) == ("pending", "2026-04-01", iso("2026-03-18T15:00"))
    assert p6.properties["legal_basis"].startswith("行政处罚法第五十八条")

    case.at("2026-03-20T10:00")
    case.complete("legal_review", legal_review_form())
    assert case.timer("timer_p6_legal_review").status == "met"
    assert case.ready() == ["collective_discussion"]
    case.at("2026-03-23T10:00")
    case.complete("collective_discussion", discussion_form())
    assert case.ready() == ["decide"]
    case.complete("decide", decide_form("punish", iso("2026-03-23T10:00"), 20000, ("fine",)))
    assert "依法举行了听证" in case.documents["decide"]

    case.at("2026-03-24T10:00")
    case.complete("serve_decision", serve_form(iso("2026-03-24T10:00")))
    case.at("2026-04-03T10:00")
    case.complete("record_payment", payment_form(iso("2026-04-03T10:00"), 20000))
    close_and_archive(case, "executed", "2026-04-07T10:00")


def test_hearing_postponed_then_party_absent(make_case):
    case = file_case(make_case())
    heavy = ("warning", "revoke_permit")
    investigate_and_review(case, investigate_form("punish", fine=0, penalties=heavy))
    assert case.task("prior_notice").data["hearing_scope"] is True, "revoking a permit is in scope"
    give_notice(case)
    case.at("2026-03-06T10:00")
    case.complete("record_statement", statement_form("hearing_request", "2026-03-06"))
    case.at("2026-03-09T10:00")
    case.complete("hearing_notice", hearing_notice_form(iso("2026-03-09T10:00"), "2026-03-18"))

    case.at("2026-03-18T09:30")
    case.complete("hold_hearing", hearing_form("postponed", iso("2026-03-18T09:30")))
    assert case.ready() == ["hearing_notice"]

    # served Thu 03-19: 03-20 (1), 03-23..27 (6), 03-30 (7)
    case.at("2026-03-19T10:00")
    case.complete("hearing_notice", hearing_notice_form(iso("2026-03-19T10:00"), "2026-03-30"))
    assert case.ready() == ["hold_hearing"]
    case.at("2026-03-30T10:00")
    case.complete("hold_hearing", hearing_form("absent_without_cause", iso("2026-03-30T09:30")))
    assert case.ready() == ["legal_review"], "a hearing procedure took place: legal review is mandatory"
    data = case.task("legal_review").data
    assert (data["hearing_terminated"], data["hearing_held"]) == (True, False)
    # 10 working days after Mon 03-30: 03-31..04-03 (4), 04-07..10 (8), 04-13, 14 (10)
    assert due_day(case.timer("timer_p6_legal_review")) == "2026-04-14"

    case.at("2026-04-01T10:00")
    case.complete("legal_review", legal_review_form())
    assert case.ready() == ["decide"], "not major: no collective discussion"
    case.at("2026-04-02T10:00")
    case.complete("decide", decide_form("punish", iso("2026-04-02T10:00"), 0, heavy))
    assert "听证终止" in case.documents["decide"]
    case.at("2026-04-03T10:00")
    case.complete("serve_decision", serve_form(iso("2026-04-03T10:00")))
    assert case.ready() == ["close_case"], "no fine to pay"
    data = case.task("close_case").data
    assert data["execution_completed_at"] == iso("2026-04-03T10:00")
    # 15 working days after Fri 04-03: 04-07..10 (4), 04-13..17 (9), 04-20..24 (14), 04-27 (15)
    assert due_day(case.timer("timer_p17_closure")) == "2026-04-27"
    close_and_archive(case, "executed", "2026-04-08T10:00")


def test_case_review_and_legal_review_send_the_case_back(make_case):
    case = file_case(make_case())
    case.at("2026-03-03T10:00")
    case.complete("investigate", investigate_form("punish", fine=50000, major=True))
    case.at("2026-03-04T10:00")
    case.complete("case_review", review_form("return"))
    assert case.ready() == ["investigate"]

    case.at("2026-03-09T10:00")
    case.complete("investigate", investigate_form("punish", fine=50000, major=True))
    first, second = case.timers("timer_p6_case_review")
    assert first.status == "met"
    # 10 working days after Mon 03-09: 03-10..13 (4), 03-16..20 (9), 03-23 (10)
    assert (second.status, due_day(second), second.started_at) == ("pending", "2026-03-23", iso("2026-03-09T10:00"))
    case.complete("case_review", review_form())
    give_notice(case, "2026-03-10T10:00")
    case.at("2026-03-11T10:00")
    case.complete("record_statement", statement_form("statement", "2026-03-11"))
    assert case.ready() == ["legal_review"], "major case"

    case.complete("legal_review", legal_review_form("return"))
    assert case.ready() == ["investigate"]
    case.complete("investigate", investigate_form("punish", fine=40000, major=True))
    assert case.task("case_review").data["notice_given"] is False, "a corrected case is notified again"
    case.complete("case_review", review_form())
    assert case.ready() == ["prior_notice"]
    give_notice(case, "2026-03-12T10:00")
    case.complete("record_statement", statement_form("none"))
    case.complete("legal_review", legal_review_form())
    case.complete("collective_discussion", discussion_form())
    case.complete("decide", decide_form("punish", iso("2026-03-16T10:00"), 40000, ("warning", "fine")))
    assert case.ready() == ["serve_decision"]


def test_a_decision_heavier_than_notified_needs_a_new_notice(make_case):
    case = file_case(make_case())
    investigate_and_review(case, investigate_form("no_punish"))
    case.at("2026-03-05T10:00")
    case.complete("decide", decide_form("punish", iso("2026-03-05T10:00"), 5000, ("fine",)))
    assert case.ready() == ["prior_notice"], "no punishment without prior notice (APL Art. 62)"
    assert case.task("prior_notice").data["proposed_fine_amount"] == 5000

    give_notice(case, "2026-03-06T10:00")
    case.complete("record_statement", statement_form("none"))
    case.complete("decide", decide_form("punish", iso("2026-03-09T10:00"), 8000, ("fine",)))
    assert case.ready() == ["prior_notice"], "8,000 yuan exceeds the 5,000 yuan notified"

    give_notice(case, "2026-03-10T10:00")
    case.complete("record_statement", statement_form("none"))
    case.complete("decide", decide_form("punish", iso("2026-03-11T10:00"), 8000, ("fine",)))
    assert case.ready() == ["serve_decision"]


@pytest.mark.parametrize(
    ("fine", "submitted_on", "why"),
    [(5000, "2026-03-06", "5,000 yuan for an organisation is outside the hearing scope"),
     (200000, "2026-03-13", "requested after the 5 working days ending 03-12")],
)
def test_hearing_request_refused(make_case, fine, submitted_on, why):
    case = file_case(make_case())
    investigate_and_review(case, investigate_form("punish", fine=fine, penalties=("fine",)))
    give_notice(case)
    case.at("2026-03-06T10:00")
    case.complete("record_statement", statement_form("hearing_request", submitted_on))
    assert case.ready() == ["decide"], why
    data = case.task("decide").data
    assert (data["hearing_requested"], data["hearing_request_refused"]) == (False, True), why


def test_handling_overdue_is_reported_and_breached(make_case):
    case = file_case(make_case())
    case.at("2026-06-01T23:00")
    assert case.fire() == []
    case.at("2026-06-02T00:00")
    assert case.timer("timer_p5_handling").status == "overdue"
    assert case.fire() == ["timer_p5_handling"]
    assert case.ready() == ["investigate"]
    assert case.timer("timer_p5_handling").status == "overdue"
    investigate_and_review(case, investigate_form("no_punish"), "2026-06-02T10:00", "2026-06-03T10:00")
    case.complete("decide", decide_form("no_punish", iso("2026-06-03T10:00")))
    assert case.timer("timer_p5_handling").status == "breached"


# =============================================================================================
# The diagram, its forms and its templates
# =============================================================================================
def lanes_and_user_tasks(path: Path) -> tuple[dict[str, set[str]], list]:
    tree = etree.parse(str(path))
    process = tree.find("bpmn:process", BPMN_NS)
    lanes = {lane.get("name"): {ref.text for ref in lane.findall("bpmn:flowNodeRef", BPMN_NS)}
             for lane in process.findall("bpmn:laneSet/bpmn:lane", BPMN_NS)}
    return lanes, tree.findall(".//bpmn:userTask", BPMN_NS)


def test_user_tasks_lanes_forms_and_templates(make_case):
    tree = etree.parse(str(PROCESS_FILE))
    process = tree.find("bpmn:process", BPMN_NS)
    assert (process.get("id"), process.get("name"), process.get("isExecutable")) == (
        "general_punishment", "行政处罚一般程序", "true")
    lanes, user_tasks = lanes_and_user_tasks(PROCESS_FILE)
    assert set(lanes) == {"officer", "legal_reviewer", "agency_head"}
    assert not ({"filing_stage", "handling_stage"} & set().union(*lanes.values())), "subprocesses stay out of lanes"
    call = tree.find(".//bpmn:callActivity", BPMN_NS)
    assert (call.get("id"), call.get("calledElement")) == ("call_hearing", "hearing")
    hearing_lanes, hearing_tasks = lanes_and_user_tasks(HEARING_FILE)
    assert set(hearing_lanes) == {"officer", "legal_reviewer"}
    for name, refs in hearing_lanes.items():
        lanes[name] |= refs
    user_tasks += hearing_tasks
    assert {t.get("id") for t in user_tasks} == set(LANES)
    for task in user_tasks:
        assert task.get("id") in lanes[LANES[task.get("id")]]
        props = {p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", BPMN_NS)}
        assert props["formJsonSchemaFilename"] == f"{task.get('id')}.schema.json"
        assert props["formUiSchemaFilename"] == f"{task.get('id')}.uischema.json"
    required_documents = {"approve_filing": "filing_approval.html.j2", "prior_notice": "prior_notice.html.j2",
                          "hearing_notice": "hearing_notice.html.j2", "decide": "punishment_decision.html.j2",
                          "serve_decision": "service_receipt.html.j2", "approve_closure": "closure_approval.html.j2"}
    templates = {t.get("id"): p.get("value") for t in user_tasks
                 for p in t.iterfind(".//spiffworkflow:property[@name='documentTemplate']", BPMN_NS)}
    assert required_documents.items() <= templates.items()

    # the runtime reports the same lanes
    case = file_case(make_case())
    assert case.task("investigate").lane == "officer"
    seen = {t.bpmn_id: t.lane for t in case.all_user_tasks()}
    assert seen == {"verify_clue": "officer", "approve_filing": "agency_head", "investigate": "officer"}


def test_every_timer_cites_its_law(general_definition):
    tree = etree.parse(str(PROCESS_FILE))
    timers = tree.findall(".//bpmn:boundaryEvent", BPMN_NS)
    assert len(timers) == 8
    for timer in timers:
        props = {p.get("name"): p.get("value") for p in timer.iterfind(".//spiffworkflow:property", BPMN_NS)}
        assert {"legal_basis", "limit", "kind", "clock_start"} <= set(props), timer.get("id")
        if "clock_changes" in props:  # what the law lets change, with its citation
            assert props["extension_limit"] and "第" in props["extension_basis"] and "第" in props["exclusion_basis"]
        assert props["kind"] == "deadline"
        expression = timer.find(".//bpmn:timeDate", BPMN_NS).text
        assert expression.startswith(f"deadline({props['clock_start']}, "), timer.get("id")


def test_forms_refuse_what_the_law_forbids(make_case):
    case = file_case(make_case())
    assert case.form_errors("investigate", {**investigate_form(), "proposed_fine_amount": -1})
    assert case.form_errors("investigate", {**investigate_form(), "proposed_penalties": []}), \
        "a proposed punishment names at least one penalty"
    assert case.form_errors("investigate", {**investigate_form(), "unknown": 1})
    investigate_and_review(case, investigate_form("punish", fine=200000, penalties=("fine",)))
    give_notice(case)
    assert case.form_errors("record_statement", {"statement_response": "statement"}), "date and content needed"
    case.complete("record_statement", statement_form("hearing_request", "2026-03-06"))
    assert case.form_errors("hearing_notice", {**hearing_notice_form(iso("2026-03-09T10:00"), "2026-03-18"),
                                               "hearing_time": "25:00"})
    case.complete("hearing_notice", hearing_notice_form(iso("2026-03-09T10:00"), "2026-03-18"))
    case.complete("hold_hearing", hearing_form("attended", iso("2026-03-18T09:30")))
    assert case.form_errors("legal_review", {**legal_review_form(), "reviewer_qualified": False})


def test_start_data_is_not_overwritten(make_case):
    case = file_case(make_case())
    data = case.task("investigate").data
    assert data["case_number"] == "穗市监立〔2026〕1号" and data["officer_ids"] == OFFICERS
    assert datetime.fromisoformat(data["filed_at"]).utcoffset().total_seconds() == 8 * 3600

"""行政执法监督 (processes/supervision_matter.bpmn): every path, live and through save/restore round trips:
closed; returned for further rectification then closed; escalated; the rectification deadline passing
(the non-interrupting timer fires and the report is still due).

Due date by hand (time-limits.md §0; 2026 holidays): notice served Friday 2026-03-20, 10 working days:
03-23..03-27 (5), 03-30..04-03 (5) → Friday 2026-04-03 (清明 04-04 to 04-06 comes after)."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.clock import CHINA_TZ
from engine.spiff import Definition
from tests.engine.conftest import PROCESSES, Case, library_definition

AGENCY = {"type": "agency", "name": "广州市天河区市场监督管理局", "agency_id": 6, "code": "GZ-TH-SJJ"}


@pytest.fixture(scope="module")
def supervision_definition() -> Definition:
    return library_definition(PROCESSES / "supervision_matter.bpmn", require_statutory_timers=True, require_paths_to_end=True)


@pytest.fixture
def make(runtime, supervision_definition, clock, roundtrip) -> Callable[[], Case]:
    def start() -> Case:
        case = Case(runtime, supervision_definition, clock, roundtrip)
        return case.start({
            "case_id": 9, "case_number": "穗司监督〔2026〕1号", "agency_name": "广州市司法局",
            "opened_at": "2026-03-20T09:00:00+08:00", "party": AGENCY,
            "matter": {"code": "SUPERVISION", "name": "行政执法监督事项", "legal_basis": "《广东省行政执法监督条例》", "category": "supervision"},
            "officer_ids": [7], "source": "alert", "subject_case_number": "穗天市监〔2026〕7号",
            "supervised_agency": {"id": 6, "name": AGENCY["name"]}, "escalation_body": "广东省人民政府",
            "summary": "重大案件未经法制审核", "default_rectification_days": 30, "notice_round": 0,
        })
    return start


def notice(days: int = 10, served: str = "2026-03-20T10:00:00+08:00") -> dict:
    return {"findings": "重大案件作出处罚决定前未经法制审核。", "supervision_basis": "《中华人民共和国行政处罚法》第五十八条",
            "requirements": "补正法制审核程序，落实重大执法决定法制审核制度。", "rectification_days": days, "notice_served_at": served}


def report(rectified: bool = True, at: str = "2026-03-30T10:00:00+08:00") -> dict:
    form = {"rectification_measures": "已补正法制审核，组织全局培训。", "rectified": rectified, "responsible_person": "刘局长", "reported_at": at}
    if not rectified:
        form["outstanding_reasons"] = "制度修订尚需党组会议审议，预计两周内完成。"
    return form


def review(result: str) -> dict:
    form = {"review_result": result, "review_opinion": "经审查。"}
    if result == "escalated":
        form["escalation_reason"] = "两次整改仍未到位。"
    return form


def due_day(timer) -> str:
    local = timer.due_at.astimezone(CHINA_TZ)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    return local.date().isoformat()


def test_notice_report_review_closed(make) -> None:
    case = make()
    assert case.ready() == ["issue_notice"]
    case.at("2026-03-20T10:30")
    case.complete("issue_notice", notice())
    doc = case.documents["issue_notice"]
    assert "行政执法监督通知书" in doc and AGENCY["name"] in doc and "10个工作日内" in doc and "穗天市监〔2026〕7号" in doc
    assert "广东省人民政府" in doc
    timer = case.timer("timer_rectification")
    assert due_day(timer) == "2026-04-03" and timer.properties["kind"] == "supervision"
    assert "[U]" in timer.properties["legal_basis"]
    assert case.ready() == ["rectification_report"] and case.data["notice_round"] == 1
    case.at("2026-03-30T10:00")
    case.complete("rectification_report", report())
    assert case.ready() == ["review_rectification"]
    assert [t.status for t in case.timers("timer_rectification")] == ["met"]
    case.complete("review_rectification", review("closed"))
    assert case.completed and case.data["outcome"] == "closed"


def test_returned_for_further_rectification_then_closed(make) -> None:
    case = make()
    case.at("2026-03-20T10:30")
    case.complete("issue_notice", notice())
    case.at("2026-03-30T10:00")
    case.complete("rectification_report", report(rectified=False))
    case.complete("review_rectification", review("returned"))
    assert case.ready() == ["issue_notice"] and not case.completed
    case.at("2026-03-31T09:00")
    case.complete("issue_notice", notice(days=5, served="2026-03-31T09:00:00+08:00"))
    assert case.data["notice_round"] == 2
    timers = case.timers("timer_rectification")
    assert len(timers) == 2 and due_day(timers[-1]) == "2026-04-08"  # 04-01, 04-02, 04-03, (清明 04-04..06), 04-07, 04-08
    case.at("2026-04-07T10:00")
    case.complete("rectification_report", report(at="2026-04-07T10:00:00+08:00"))
    case.complete("review_rectification", review("closed"))
    assert case.completed and case.data["outcome"] == "closed"


def test_escalated_to_the_level_above(make) -> None:
    case = make()
    case.at("2026-03-20T10:30")
    case.complete("issue_notice", notice())
    case.at("2026-03-30T10:00")
    case.complete("rectification_report", report(rectified=False))
    case.complete("review_rectification", review("escalated"))
    assert case.completed and case.data["outcome"] == "escalated"


def test_rectification_overdue_fires_the_timer_and_the_report_is_still_due(make) -> None:
    case = make()
    case.at("2026-03-20T10:30")
    case.complete("issue_notice", notice())
    case.at("2026-04-03T23:59")
    assert case.fire() == []
    case.at("2026-04-04T00:00")
    assert len(case.fire()) == 1
    assert [t.status for t in case.timers("timer_rectification")] == ["overdue"]  # fired, the report still open
    assert case.ready() == ["rectification_report"] and not case.completed
    case.at("2026-04-08T10:00")
    case.complete("rectification_report", report(at="2026-04-08T10:00:00+08:00"))
    assert [t.status for t in case.timers("timer_rectification")] == ["breached"]
    case.complete("review_rectification", review("escalated"))
    assert case.completed and case.data["outcome"] == "escalated"


@pytest.mark.parametrize("task, form, message", [
    ("issue_notice", {**notice(), "rectification_days": 0}, "minimum"),
    ("issue_notice", {k: v for k, v in notice().items() if k != "requirements"}, "requirements"),
])
def test_forms_refuse_what_the_procedure_cannot_use(make, task, form, message) -> None:
    assert any(message in m for m in make().form_errors(task, form))


def test_an_unrectified_report_needs_its_reasons_and_an_escalation_its_reason(make) -> None:
    case = make()
    case.at("2026-03-20T10:30")
    case.complete("issue_notice", notice())
    bad = report(rectified=False)
    del bad["outstanding_reasons"]
    assert any("outstanding_reasons" in m for m in case.form_errors("rectification_report", bad))
    case.complete("rectification_report", report())
    assert any("escalation_reason" in m for m in case.form_errors("review_rectification", {"review_result": "escalated", "review_opinion": "x"}))

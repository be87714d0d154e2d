"""The supervision procedure through the API (SQLite and PostgreSQL): a supervisor of 广州市司法局 opens a
matter against 天河区市场监督管理局 from a compliance alert, a conduct complaint or on their own initiative;
the notice is issued as a numbered document; the supervised agency's head (head1, a user of *that* agency,
authorised by the matter) reports the rectification through the task API; the supervisor closes it,
returns it or escalates it. A matter never counts as an enforcement case.

Due date by hand (2026 calendar): notice served Monday 2026-03-23 with 10 working days → 03-24..03-27 (4),
03-30..04-03 (5), 04-07 (清明 04-04..04-06 is a holiday) → Tuesday 2026-04-07, 23:59:59 +08:00.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.clock import CHINA_TZ
from engine.core import Core, Principal
from engine.errors import Forbidden
from engine.models import Agency, AuditEvent, Case
from engine.supervision import matters
from engine.supervision.matter_models import SupervisionMatter
from engine.timers import run_due
from tests.api.test_read_api import (
    PRICE_TAGS,
    TIANHE_PARTY,
    agency_id,
    open_case,
    user_ids,
)
from tests.api.test_supervision_alerts_api import AFTER_P2

URL = "/api/v1/supervision/matters"
SERVED = "2026-03-23T10:00:00+08:00"
NOTICE = {"findings": "案件立案期限届满仍未作出立案决定。", "supervision_basis": "《市场监督管理行政处罚程序规定》第十八条",
          "requirements": "立即核查处理，并建立期限预警制度。", "rectification_days": 10, "notice_served_at": SERVED}
REPORT = {"rectification_measures": "已作出立案决定，建立期限预警。", "rectified": True, "responsible_person": "刘局长",
          "reported_at": "2026-03-30T10:00:00+08:00"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


@pytest.fixture
def tianhe_alert(core: Core, login: Any) -> dict[str, Any]:
    """A 天河 case whose filing deadline (P2) passed: the sweep raises its deadline alert."""
    case = open_case(core, login("officer1"), ("officer1", "officer2"), PRICE_TAGS, TIANHE_PARTY, "天河")
    core.clock.set(AFTER_P2)
    assert run_due(core) == 1
    [alert] = login("supervisor1").get("/api/v1/supervision/alerts").get_json()["items"]
    core.clock.set(at("2026-03-23T10:30"))
    return {"case": case, "alert": alert}


def open_from_alert(core: Core, client: Any, alert: dict[str, Any], **extra: Any) -> Any:
    body = {"agency_id": agency_id(core, "GZ-TH-SJJ"), "source": "alert", "alert_id": alert["id"], "summary": "立案期限届满未立案", **extra}
    return client.post(URL, json=body)


def notice_and_report(core: Core, login: Any, matter: dict[str, Any]) -> dict[str, Any]:
    supervisor, head = login("supervisor1"), login("head1")
    supervisor.complete(matter["case_id"], "issue_notice", NOTICE)
    task = next(t for t in supervisor.get(f"{URL}/{matter['id']}").get_json()["tasks"] if t["bpmn_id"] == "issue_notice")
    issued = supervisor.post(f"/api/v1/cases/{matter['case_id']}/documents", json={"task_id": task["id"]})
    assert issued.status_code == 201, issued.get_json()
    core.clock.set(at("2026-03-30T10:00"))
    head.complete(matter["case_id"], "rectification_report", REPORT)
    return issued.get_json()


def test_from_an_alert_to_a_closed_matter(core: Core, login: Any, tianhe_alert: dict[str, Any]) -> None:
    supervisor, head = login("supervisor1"), login("head1")
    response = open_from_alert(core, supervisor, tianhe_alert["alert"])
    assert response.status_code == 201, response.get_json()
    matter = response.get_json()
    assert matter["number"] == "穗司监督〔2026〕1号" and matter["status"] == "notice" and matter["source"] == "alert"
    assert matter["supervised_agency"]["code"] == "GZ-TH-SJJ" and matter["supervising_agency"]["code"] == "GZ-SFJ"
    assert matter["subject_case"] == {"id": tianhe_alert["case"]["id"], "number": tianhe_alert["case"]["number"]}
    assert [s["username"] for s in matter["supervisors"]] == ["supervisor1"]
    [alert] = supervisor.get("/api/v1/supervision/alerts").get_json()["items"]
    assert (alert["matter_id"], alert["status"]) == (matter["id"], "acknowledged")  # the alert shows its matter

    assert [t["bpmn_id"] for t in supervisor.get("/api/v1/tasks?mine=true").get_json()["items"]] == ["issue_notice"]
    supervisor.complete(matter["case_id"], "issue_notice", NOTICE)
    seen = supervisor.get(f"{URL}/{matter['id']}").get_json()
    assert seen["status"] == "rectification"
    assert seen["rectification_deadline"]["due_at"] == "2026-04-07T15:59:59+00:00" and seen["rectification_deadline"]["status"] == "waiting"
    assert "[U]" in seen["rectification_deadline"]["legal_basis"]
    notice_task = next(t for t in seen["tasks"] if t["bpmn_id"] == "issue_notice")
    issued = supervisor.post(f"/api/v1/cases/{matter['case_id']}/documents", json={"task_id": notice_task["id"]})
    assert issued.status_code == 201, issued.get_json()
    document = issued.get_json()
    assert document["title"] == "行政执法监督通知书" and document["number"] == "穗司督通〔2026〕1号" and document["verification_code"]

    # The supervised agency's head: sees the task and the notice; nobody else of that agency may do it.
    mine = head.get("/api/v1/tasks?mine=true").get_json()["items"]
    assert [(t["bpmn_id"], t["due_at"]) for t in mine] == [("rectification_report", "2026-04-07T15:59:59+00:00")]
    assert head.get(f"/api/v1/tasks/{mine[0]['id']}").status_code == 200
    pdf = head.get(f"/api/v1/documents/{document['id']}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert head.get(f"{URL}/{matter['id']}").status_code == 200
    assert head.get(f"/api/v1/cases/{matter['case_id']}").status_code == 200  # the matter's case view, by the grant
    assert login("officer1").get(f"/api/v1/cases/{matter['case_id']}").status_code == 403
    assert [m["id"] for m in head.get(URL).get_json()["items"]] == [matter["id"]]
    assert login("officer1").get(f"/api/v1/tasks/{mine[0]['id']}").status_code == 403
    assert login("officer1").post(f"/api/v1/tasks/{mine[0]['id']}/complete", json={"data": REPORT}).status_code == 403
    assert supervisor.post(f"/api/v1/tasks/{mine[0]['id']}/complete", json={"data": REPORT}).status_code == 403
    assert login("officer1").get(f"/api/v1/documents/{document['id']}").status_code == 403
    core.clock.set(at("2026-03-30T10:00"))
    head.complete(matter["case_id"], "rectification_report", REPORT)
    review = supervisor.ready(matter["case_id"], "review_rectification")
    assert head.post(f"/api/v1/tasks/{review['id']}/complete", json={"data": {"review_result": "closed", "review_opinion": "x"}}).status_code == 403
    supervisor.complete(matter["case_id"], "review_rectification", {"review_result": "closed", "review_opinion": "整改到位。"})
    done = supervisor.get(f"{URL}/{matter['id']}").get_json()
    assert done["status"] == "closed" and done["closed_at"] and done["rectification_deadline"]["status"] == "met"
    assert done["escalated_to"] is None
    assert [m["id"] for m in supervisor.get(f"{URL}?status=closed").get_json()["items"]] == [matter["id"]]
    assert supervisor.get(f"{URL}?status=review").get_json()["items"] == []
    with core.unit() as unit:
        actions = list(unit.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == matter["case_id"]).order_by(AuditEvent.id)))
    assert actions[:2] == ["case.opened", "supervision.matter_opened"] and "document.issued" in actions
    assert actions.count("task.completed") == 3 and actions[-1] == "case.closed"


def test_returned_for_further_rectification_then_closed(core: Core, login: Any, tianhe_alert: dict[str, Any]) -> None:
    supervisor = login("supervisor1")
    matter = open_from_alert(core, supervisor, tianhe_alert["alert"]).get_json()
    notice_and_report(core, login, matter)
    supervisor.complete(matter["case_id"], "review_rectification", {"review_result": "returned", "review_opinion": "未到位。"})
    assert supervisor.get(f"{URL}/{matter['id']}").get_json()["status"] == "notice"
    supervisor.complete(matter["case_id"], "issue_notice", {**NOTICE, "rectification_days": 3, "notice_served_at": "2026-03-30T10:00:00+08:00"})
    second = supervisor.get(f"{URL}/{matter['id']}").get_json()
    assert [t["bpmn_id"] for t in second["tasks"]].count("issue_notice") == 2  # a new notice, a new deadline
    assert second["status"] == "rectification" and second["rectification_deadline"]["due_at"] == "2026-04-02T15:59:59+00:00"
    login("head1").complete(matter["case_id"], "rectification_report", {**REPORT, "reported_at": "2026-03-30T10:00:00+08:00"})
    supervisor.complete(matter["case_id"], "review_rectification", {"review_result": "closed", "review_opinion": "整改到位。"})
    assert supervisor.get(f"{URL}/{matter['id']}").get_json()["status"] == "closed"


def test_escalated_to_the_government_above(core: Core, login: Any, tianhe_alert: dict[str, Any]) -> None:
    supervisor = login("supervisor1")
    matter = open_from_alert(core, supervisor, tianhe_alert["alert"]).get_json()
    notice_and_report(core, login, matter)
    refused = login("supervisor1").ready(matter["case_id"], "review_rectification")
    missing = supervisor.post(f"/api/v1/tasks/{refused['id']}/complete", json={"data": {"review_result": "escalated", "review_opinion": "x"}})
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "escalation_reason"
    supervisor.complete(matter["case_id"], "review_rectification",
                        {"review_result": "escalated", "review_opinion": "拒不整改。", "escalation_reason": "两次通知仍未整改。"})
    seen = supervisor.get(f"{URL}/{matter['id']}").get_json()
    assert seen["status"] == "escalated" and seen["escalated_to"]["code"] == "GD"
    assert [m["id"] for m in login("admin").get(f"{URL}?status=escalated").get_json()["items"]] == [matter["id"]]


def test_the_rectification_deadline_fires_and_nothing_counts_as_enforcement(core: Core, login: Any, tianhe_alert: dict[str, Any]) -> None:
    supervisor = login("supervisor1")
    sfj = agency_id(core, "GZ-SFJ")
    before = {
        "overview": supervisor.get(f"/api/v1/supervision/overview?agency_id={sfj}").get_json()["totals"],
        "alerts": supervisor.get("/api/v1/supervision/alerts").get_json()["total"],
        "cases": supervisor.get("/api/v1/cases").get_json()["total"],
    }
    matter = open_from_alert(core, supervisor, tianhe_alert["alert"]).get_json()
    supervisor.complete(matter["case_id"], "issue_notice", NOTICE)
    core.clock.set(at("2026-04-08T00:00"))
    assert run_due(core) == 1  # the rectification deadline fires like any timer
    seen = supervisor.get(f"{URL}/{matter['id']}").get_json()
    assert seen["rectification_deadline"]["status"] == "overdue" and seen["status"] == "rectification"
    [listed] = supervisor.get(f"/api/v1/timers?case_id={matter['case_id']}").get_json()["items"]
    assert (listed["kind"], listed["status"]) == ("supervision", "overdue")  # a timer like any other, listed as such
    after = supervisor.get(f"/api/v1/supervision/overview?agency_id={sfj}").get_json()["totals"]
    assert after == before["overview"]  # no open case, no red timer for the bureau
    assert supervisor.get("/api/v1/supervision/alerts").get_json()["total"] == before["alerts"]  # no rule ran on it
    assert supervisor.get("/api/v1/cases").get_json()["total"] == before["cases"]
    stages = supervisor.get("/api/v1/supervision/stages").get_json()["items"]
    assert "rectification_report" not in {s["bpmn_id"] for s in stages}
    officers = supervisor.get("/api/v1/supervision/officers").get_json()["items"]
    assert "supervisor1" not in {o["officer"]["username"] for o in officers}
    indicators = supervisor.get("/api/v1/supervision/indicators?from=2026-03-01&to=2026-04-30").get_json()
    bureau = next(c for c in indicators["children"] if c["agency"]["code"] == "GZ-SFJ")
    assert set(bureau["counts"].values()) == {0}
    listed = supervisor.get("/api/v1/matters?all=true").get_json()["items"]
    assert listed and all(m["code"] != "SUPERVISION" for m in listed)
    assert all(m["code"] != "SUPERVISION" for m in login("officer1").get("/api/v1/public/catalogue").get_json()["items"])
    core.clock.set(at("2026-04-08T10:30"))
    login("head1").complete(matter["case_id"], "rectification_report", {**REPORT, "reported_at": "2026-04-08T10:00:00+08:00"})
    supervisor.complete(matter["case_id"], "review_rectification",
                        {"review_result": "escalated", "review_opinion": "逾期报告。", "escalation_reason": "逾期未整改。"})
    assert supervisor.get(f"{URL}/{matter['id']}").get_json()["rectification_deadline"]["status"] == "breached"
    sampled = supervisor.post("/api/v1/supervision/reviews", json={"from": "2026-04-01", "to": "2026-04-30", "per_agency": 5})
    assert sampled.status_code == 422  # the closed matter is not a closed case to review


def test_from_a_conduct_complaint_and_on_initiative(core: Core, http: Any, login: Any) -> None:
    supervisor = login("supervisor1")
    lodged = http.post("/api/v1/public/complaints", json={"kind": "conduct", "agency": "GZ-TH-SJJ", "subject": "执法人员张明",
                                                          "content": "检查时未出示执法证件，态度粗暴。"})
    assert lodged.status_code == 201, lodged.get_json()
    [complaint] = supervisor.get("/api/v1/complaints").get_json()["items"]
    tianhe = agency_id(core, "GZ-TH-SJJ")
    opened = supervisor.post(URL, json={"agency_id": tianhe, "source": "complaint", "complaint_id": complaint["id"], "summary": "投诉执法不规范"})
    assert opened.status_code == 201, opened.get_json()
    assert opened.get_json()["complaint_id"] == complaint["id"] and opened.get_json()["subject_case"] is None
    public = http.get(f"/api/v1/public/complaints/{lodged.get_json()['tracking_code']}").get_json()
    assert public["status"] == "case_opened" and "监督" in public["reply"]
    twice = supervisor.post(URL, json={"agency_id": tianhe, "source": "complaint", "complaint_id": complaint["id"], "summary": "再次"})
    assert twice.status_code == 409 and twice.get_json()["errors"][0]["field"] == "complaint_id"
    case = open_case(core, login("officer1"), ("officer1", "officer2"), PRICE_TAGS, TIANHE_PARTY, "天河")
    own = supervisor.post(URL, json={"agency_id": tianhe, "source": "initiative", "case_id": case["id"], "summary": "日常监督抽查",
                                     "supervisor_ids": user_ids(core, "supervisor1")})
    assert own.status_code == 201 and own.get_json()["number"] == "穗司监督〔2026〕2号"
    assert own.get_json()["subject_case"]["number"] == case["number"]
    assert supervisor.get(URL).get_json()["total"] == 2


def test_a_dismissed_alert_or_one_already_taken_up_opens_nothing(core: Core, login: Any, tianhe_alert: dict[str, Any]) -> None:
    supervisor = login("supervisor1")
    assert open_from_alert(core, supervisor, tianhe_alert["alert"]).status_code == 201
    twice = open_from_alert(core, supervisor, tianhe_alert["alert"])
    assert twice.status_code == 409 and twice.get_json()["errors"][0]["field"] == "alert_id"
    assert "穗司监督〔2026〕1号" in twice.get_json()["detail"]


def test_a_dismissed_alert_is_409(core: Core, login: Any, tianhe_alert: dict[str, Any]) -> None:
    supervisor = login("supervisor1")
    supervisor.post(f"/api/v1/supervision/alerts/{tianhe_alert['alert']['id']}/dismiss", json={"reason": "已依法延长"})
    response = open_from_alert(core, supervisor, tianhe_alert["alert"])
    assert response.status_code == 409 and response.get_json()["errors"][0]["field"] == "alert_id"
    assert supervisor.get(URL).get_json()["total"] == 0


def test_an_alert_from_another_subtree_is_403(core: Core, tianhe_alert: dict[str, Any]) -> None:
    """A supervisor whose scope is 越秀 (as a district bureau's would be) may not take up a 天河 alert."""
    with core.unit() as unit:
        from engine.accounts import principal_for_username

        supervisor = principal_for_username(unit, "supervisor1")
        yuexiu = unit.session.scalar(select(Agency.path).where(Agency.code == "GZ-YX"))
    narrow = Principal(supervisor.user_id, supervisor.username, supervisor.name, supervisor.agency_id, supervisor.agency_path,
                       supervisor.roles, yuexiu)
    body = {"agency_id": agency_id(core, "GZ-YX-SJJ"), "source": "alert", "alert_id": tianhe_alert["alert"]["id"], "summary": "x"}
    with pytest.raises(Forbidden, match="outside your supervision scope"), core.unit(narrow) as unit:
        matters.open_matter(unit, body)
    body["agency_id"] = agency_id(core, "GZ-TH-SJJ")
    with pytest.raises(Forbidden, match="outside your supervision scope"), core.unit(narrow) as unit:
        matters.open_matter(unit, body)


@pytest.mark.parametrize("body, status, field", [
    ({"source": "initiative", "summary": "x"}, 422, "agency_id"),
    ({"agency_id": "GZ-TH-SJJ", "source": "initiative", "summary": "x"}, 422, "agency_id"),
    ({"agency_id": "@tianhe", "source": "audit", "summary": "x"}, 422, "source"),
    ({"agency_id": "@tianhe", "source": "initiative", "summary": "  "}, 422, "summary"),
    ({"agency_id": "@tianhe", "source": "alert", "summary": "x"}, 422, "alert_id"),
    ({"agency_id": "@tianhe", "source": "initiative", "summary": "x", "complaint_id": 1}, 422, "complaint_id"),
    ({"agency_id": "@tianhe", "source": "initiative", "summary": "x", "alert_id": 999999}, 422, "alert_id"),
    ({"agency_id": "@tianhe", "source": "alert", "alert_id": 999999, "summary": "x"}, 422, "alert_id"),
    ({"agency_id": "@tianhe", "source": "initiative", "summary": "x", "case_id": 999999}, 422, "case_id"),
    ({"agency_id": "@tianhe", "source": "initiative", "summary": "x", "supervisor_ids": ["@officer1"]}, 422, "supervisor_ids"),
    ({"agency_id": "@tianhe", "source": "initiative", "summary": "x", "priority": "high"}, 422, "priority"),
    ({"agency_id": "@district", "source": "initiative", "summary": "x"}, 422, "agency_id"),
    ({"agency_id": 999999, "source": "initiative", "summary": "x"}, 422, "agency_id"),
    ({"agency_id": "@province", "source": "initiative", "summary": "x"}, 403, None),
])
def test_bad_input_is_a_4xx_naming_the_field_and_changes_nothing(core: Core, login: Any, body: dict, status: int, field: str | None) -> None:
    ids = {"@tianhe": agency_id(core, "GZ-TH-SJJ"), "@district": agency_id(core, "GZ-TH"), "@province": agency_id(core, "GD")}
    if "supervisor_ids" in body:
        body = {**body, "supervisor_ids": user_ids(core, "officer1")}
    body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    supervisor = login("supervisor1")
    with core.unit() as unit:
        counts = (unit.session.scalar(select(func.count()).select_from(Case)), unit.session.scalar(select(func.count()).select_from(AuditEvent)))
    response = supervisor.post(URL, json=body)
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    if field:
        assert field in {e.get("field") for e in response.get_json()["errors"]}
    with core.unit() as unit:
        assert (unit.session.scalar(select(func.count()).select_from(Case)),
                unit.session.scalar(select(func.count()).select_from(SupervisionMatter))) == (counts[0], 0)
        assert unit.session.scalar(select(func.count()).select_from(AuditEvent)) == counts[1]


def test_who_may_open_and_read(core: Core, login: Any) -> None:
    body = {"agency_id": agency_id(core, "GZ-TH-SJJ"), "source": "initiative", "summary": "x"}
    assert login("officer1").post(URL, json=body).status_code == 403
    assert login("head1").post(URL, json=body).status_code == 403
    assert login("officer1").get(URL).status_code == 403
    assert login("supervisor1").get(f"{URL}?status=open").status_code == 422
    assert login("supervisor1").get(f"{URL}/999999").status_code == 404
    matter = login("supervisor1").post(URL, json=body).get_json()
    assert login("officer3").get(f"{URL}/{matter['id']}").status_code == 403  # 越秀: neither its bureau nor supervised

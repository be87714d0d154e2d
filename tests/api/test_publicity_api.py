"""The officers' side over HTTP: a decision completed through the API is scheduled, the sweep publishes it,
the public sees it; the head withdraws it with a reason; supervisors see overdue publications; webhooks are
registered by an administrator.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.demo import STEP_DATA
from engine.publicity import sweep
from tests.api.test_read_api import open_case
from tests.support.publicity import COMPANY, TO_DECISION


def decide_through_the_api(core: Core, login: Any) -> int:
    officer, head, reviewer = login("officer1"), login("head1"), login("reviewer1")
    by_lane = {"officer": officer, "agency_head": head, "legal_reviewer": reviewer}
    case = open_case(core, officer, ("officer1", "officer2"), "440201003001", COMPANY, "投诉：未明码标价")
    for bpmn_id in TO_DECISION:
        lane = next(t["lane"] for t in officer.get(f"/api/v1/tasks?case_id={case['id']}&state=ready").get_json()["items"])
        by_lane[lane].complete(case["id"], bpmn_id, STEP_DATA[bpmn_id])
    return case["id"]


def test_decided_through_the_api_then_published_then_withdrawn(http: Any, login: Any, core: Core, clock: FrozenClock) -> None:
    case_id = decide_through_the_api(core, login)
    head = login("head1")
    [row] = head.get(f"/api/v1/publications?case_id={case_id}").get_json()["items"]
    assert row["status"] == "scheduled"
    assert datetime.fromisoformat(row["due_at"]) == datetime(2026, 3, 31, 23, 59, 59, tzinfo=CHINA_TZ)
    assert http.get("/api/v1/public/decisions").get_json()["total"] == 0

    sweep(core)
    assert http.get("/api/v1/public/decisions?credit_code=91350100M000100Y43").get_json()["total"] == 1

    assert login("officer1").post(f"/api/v1/publications/{row['id']}/withdraw", json={"reason": "x"}).status_code == 403
    assert head.post(f"/api/v1/publications/{row['id']}/withdraw", json={}).status_code == 422
    clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=CHINA_TZ))
    done = head.post(f"/api/v1/publications/{row['id']}/withdraw",
                     json={"reason": "行政复议决定撤销", "changed_at": "2026-03-03T10:00:00+08:00"})
    assert done.status_code == 200, done.get_json()
    due = datetime.fromisoformat(done.get_json()["withdrawal_due_at"])
    assert due == datetime(2026, 3, 6, 23, 59, 59, tzinfo=CHINA_TZ)  # 3 working days after Tuesday 03-03
    assert http.get("/api/v1/public/decisions").get_json()["total"] == 0
    assert head.post(f"/api/v1/publications/{row['id']}/withdraw", json={"reason": "again"}).status_code == 409
    assert head.post("/api/v1/publications/999999/withdraw", json={"reason": "x"}).status_code == 404


def test_supervisors_see_overdue_publications_of_their_scope(login: Any, core: Core, clock: FrozenClock) -> None:
    decide_through_the_api(core, login)
    supervisor = login("supervisor1")
    assert supervisor.get("/api/v1/publications?status=overdue").get_json()["total"] == 0
    clock.set(datetime(2026, 4, 1, 0, 0, 1, tzinfo=CHINA_TZ))  # past the D3 due date, the sweep has not run
    [late] = supervisor.get("/api/v1/publications?status=overdue").get_json()["items"]
    assert late["legal_basis"].startswith("国办发〔2018〕118号")
    assert login("officer3").get("/api/v1/publications").get_json()["total"] == 0  # another agency
    assert supervisor.get("/api/v1/publications?status=late").status_code == 422
    sweep(core)
    [published] = supervisor.get("/api/v1/publications?status=published").get_json()["items"]
    assert published["late"] is True


def test_webhooks_over_http(login: Any, http: Any) -> None:
    admin = login("admin")
    created = admin.post("/api/v1/webhooks", json={"name": "示例便利店", "url": "https://example.org/zhifa",
                                                   "credit_code": "91350100M000100Y43"})
    assert created.status_code == 201 and len(created.get_json()["secret"]) == 64
    sub_id = created.get_json()["subscription"]["id"]
    assert admin.get(f"/api/v1/webhooks/{sub_id}/deliveries").get_json() == {"items": []}
    assert admin.post("/api/v1/webhooks", json={"name": "x", "url": "javascript:alert(1)"}).status_code == 422
    assert login("officer1").post("/api/v1/webhooks", json={"name": "x", "url": "https://example.org"}).status_code == 403
    assert http.post("/api/v1/webhooks", json={}).status_code == 401


def test_a_decision_without_a_typed_number_is_published_under_its_issued_documents_number(
    http: Any, login: Any, core: Core,
) -> None:
    officer, head, reviewer = login("officer1"), login("head1"), login("reviewer1")
    by_lane = {"officer": officer, "agency_head": head, "legal_reviewer": reviewer}
    case = open_case(core, officer, ("officer1", "officer2"), "440201003001", COMPANY, "投诉：未明码标价")
    for bpmn_id in TO_DECISION:
        lane = next(t["lane"] for t in officer.get(f"/api/v1/tasks?case_id={case['id']}&state=ready").get_json()["items"])
        data = {k: v for k, v in STEP_DATA[bpmn_id].items() if k != "decision_document_number"}  # left to Zhifa
        by_lane[lane].complete(case["id"], bpmn_id, data)
    assert head.get(f"/api/v1/publications?case_id={case['id']}").get_json()["items"] == []  # no number yet

    decide = next(t["id"] for t in officer.get(f"/api/v1/tasks?case_id={case['id']}&state=completed").get_json()["items"]
                  if t["bpmn_id"] == "decide")
    issued = officer.post(f"/api/v1/cases/{case['id']}/documents", json={"task_id": decide})
    assert issued.status_code == 201, issued.get_json()
    number = issued.get_json()["number"]
    assert number.startswith("穗天市监罚〔2026〕")
    [row] = head.get(f"/api/v1/publications?case_id={case['id']}").get_json()["items"]
    assert row["status"] == "scheduled" and row["number"] == number
    sweep(core)
    [public] = http.get("/api/v1/public/decisions?credit_code=91350100M000100Y43").get_json()["items"]
    assert public["number"] == number  # the public record and the document carry one number

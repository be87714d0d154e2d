"""双随机一公开 through the API on SQLite and PostgreSQL: a directory, a draw from a recorded seed that
opens one inspection case per drawn subject with the two drawn inspectors, reproducible and audited;
bad draws are 422s naming the field; an inspection case runs to its end."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import CHINA_TZ, FrozenClock
from engine.inspection import pick
from tests.engine.test_inspection_procedure import PUBLISH, plan, record

MATTER = "440203001001"
CODES = ["91350100M000100Y43", "91440106MA5CXXXX2N", "91440106MA5D00003P"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def directory(head: Any) -> list[int]:
    ids = []
    for i, code in enumerate(CODES):
        response = head.post("/api/v1/inspections/subjects", json={
            "party": {"type": "organization", "name": f"广州市天河区示例食品店{i + 1}", "credit_code": code}, "category": "食品经营者"})
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def test_random_draw_opens_reproducible_inspection_cases(login: Any, clock: FrozenClock) -> None:
    head, officer = login("head1"), login("officer1")
    subjects = directory(head)
    assert officer.post("/api/v1/inspections/subjects", json={"party": {}, "category": "x"}).status_code == 403
    response = head.post("/api/v1/inspections/draws", json={"plan_name": "2026年第一季度食品经营者抽查", "matter_code": MATTER,
                                                            "count": 2, "category": "食品经营者", "seed": "5eed0001"})
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["seed"] == "5eed0001" and made["reproduced"] is True and made["subject_pool"] == sorted(subjects)
    roster = made["inspector_pool"]
    assert len(roster) >= 2
    expected = pick("5eed0001", subjects, roster, 2)
    assert [(r["subject_id"], r["officer_ids"]) for r in made["result"]] == [(e["subject_id"], e["officer_ids"]) for e in expected]
    for item in made["result"]:
        case = head.get(f"/api/v1/cases/{item['case_id']}").get_json()
        assert sorted(o["id"] for o in case["officers"]) == item["officer_ids"]
        assert case["matter"]["process_id"] == "administrative_inspection" and "抽取编号" in case["summary"]
        audit = head.get(f"/api/v1/cases/{item['case_id']}/audit").get_json()["items"]
        drawn = [e for e in audit if e["action"] == "inspection.drawn"]
        assert drawn and drawn[0]["detail"]["seed"] == "5eed0001"
    again = head.get(f"/api/v1/inspections/draws/{made['id']}").get_json()
    assert again["reproduced"] is True and again["result"] == made["result"]
    assert login("officer3").get(f"/api/v1/inspections/draws/{made['id']}").status_code == 403  # another district

    # The first drawn case, inspected by its two drawn officers.
    first = made["result"][0]
    users = {o["id"]: o["username"] for o in officer.get("/api/v1/officers").get_json()["items"]}
    inspector = login(users[first["officer_ids"][0]])
    case_id = first["case_id"]
    inspector.complete(case_id, "prepare_inspection", {**plan(), "draw_reference": f"抽取编号 {made['id']}"})
    clock.set(at("2026-03-02T11:00:00"))
    inspector.complete(case_id, "conduct_inspection", record(False))
    clock.set(at("2026-03-10T10:00:00"))
    case = inspector.complete(case_id, "publish_result", PUBLISH)
    assert case["status"] == "closed" and case["outcome"] == "compliant"


def test_bad_draws_are_refused_and_change_nothing(login: Any) -> None:
    head = login("head1")
    directory(head)
    bad = head.post("/api/v1/inspections/draws", json={"plan_name": "", "matter_code": "440201003001", "count": 9, "seed": "XYZ"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"plan_name", "matter_code", "count", "seed"}
    assert head.get("/api/v1/cases").get_json()["total"] == 0
    assert login("officer1").post("/api/v1/inspections/draws", json={"plan_name": "x", "matter_code": MATTER, "count": 1}).status_code == 403


def test_an_inspection_that_found_a_violation_is_referred_with_its_evidence(login: Any, clock: FrozenClock) -> None:
    officer, head = login("officer1"), login("head1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    party = {"type": "organization", "name": "广州市天河区示例食品店", "credit_code": CODES[1]}
    case_id = officer.post("/api/v1/cases", json={"matter_code": MATTER, "party": party, "officer_ids": ids,
                                                  "summary": "日常检查"}).get_json()["id"]
    officer.complete(case_id, "prepare_inspection", plan("routine"))
    clock.set(at("2026-03-02T11:00:00"))
    officer.complete(case_id, "conduct_inspection", record(True))
    early = officer.post(f"/api/v1/inspections/cases/{case_id}/referral", json={"matter_code": "440201001002"})
    assert early.status_code == 409  # the head has not decided to file a case yet
    clock.set(at("2026-03-10T10:00:00"))
    officer.complete(case_id, "publish_result", {**PUBLISH, "result_summary": "发现问题。"})
    head.complete(case_id, "decide_follow_up", {"follow_up": "order_and_file", "follow_up_opinion": "责令改正并立案查处。",
                                                "correction_order_number": "穗天市监责改〔2026〕1号", "correction_deadline": "2026-03-20",
                                                "correction_requirements": "建立进货查验记录制度"})
    not_inspection = officer.post(f"/api/v1/inspections/cases/{case_id}/referral", json={"matter_code": "nope"})
    assert not_inspection.status_code == 422 and not_inspection.get_json()["errors"][0]["field"] == "matter_code"

    response = officer.post(f"/api/v1/inspections/cases/{case_id}/referral", json={"matter_code": "440201001002"})
    assert response.status_code == 201, response.get_json()
    referral = response.get_json()
    assert referral["evidence"]["record_number"] == "穗天市监检记〔2026〕7号"
    assert referral["evidence"]["suspected_violation"] == "未建立进货查验记录制度"
    punishment = officer.get(f"/api/v1/cases/{referral['punishment_case_id']}").get_json()
    assert punishment["matter"]["process_id"] == "general_punishment" and punishment["party"]["name"] == party["name"]
    assert sorted(o["id"] for o in punishment["officers"]) == sorted(ids)
    p2 = {t["bpmn_id"]: t for t in punishment["timers"]}["timer_p2_filing"]
    assert p2["started_at"].startswith("2026-03-02T10:00:00")  # the filing clock starts on the inspection day
    received = [e for e in officer.get(f"/api/v1/cases/{punishment['id']}/audit").get_json()["items"]
                if e["action"] == "inspection.evidence_received"]
    assert received and received[0]["detail"]["evidence"]["findings"] == "检查了进货查验记录。"
    assert officer.get(f"/api/v1/inspections/cases/{punishment['id']}/referral").get_json()["inspection_case_id"] == case_id
    again = officer.post(f"/api/v1/inspections/cases/{case_id}/referral", json={"matter_code": "440201001002"})
    assert again.status_code == 409
    assert officer.post(f"/api/v1/inspections/cases/{punishment['id']}/referral",
                        json={"matter_code": "440201001002"}).status_code == 422  # not an inspection

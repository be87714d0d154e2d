"""裁量基准 at the decision step of the general procedure (SQLite and PostgreSQL): the form's band, a fine
outside it refused without a written reason (nothing changed), recorded as a deviation with one,
and supervision reading the deviations of its city."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import CHINA_TZ, FrozenClock
from engine.demo import STEP_DATA

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def case_at_decision(login: Any, clock: FrozenClock) -> tuple[Any, int]:
    officer, head, reviewer = login("officer1"), login("head1"), login("reviewer1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    case = officer.post("/api/v1/cases", json={"matter_code": "440201003001", "party": PARTY, "officer_ids": ids,
                                               "summary": "投诉：未明码标价"}).get_json()
    officer.complete(case["id"], "verify_clue", STEP_DATA["verify_clue"])
    head.complete(case["id"], "approve_filing", STEP_DATA["approve_filing"])
    clock.set(at("2026-03-10T10:00:00"))
    officer.complete(case["id"], "investigate", STEP_DATA["investigate"])
    reviewer.complete(case["id"], "case_review", STEP_DATA["case_review"])
    clock.set(at("2026-03-12T10:00:00"))
    officer.complete(case["id"], "prior_notice", STEP_DATA["prior_notice"])
    officer.complete(case["id"], "record_statement", STEP_DATA["record_statement"])
    clock.set(at("2026-03-20T10:00:00"))
    return head, case["id"]


def test_fine_outside_the_band_needs_a_reason_and_is_recorded(login: Any, clock: FrozenClock) -> None:
    head, case_id = case_at_decision(login, clock)
    task = head.ready(case_id, "decide")
    band = head.get(f"/api/v1/discretion/tasks/{task['id']}").get_json()
    # 不按规定明码标价: 5,000 yuan maximum, tier 一般 (from the investigation) → 1,500-3,500 (30/40/30).
    assert (band["tier"], band["band_low"], band["band_high"]) == ("general", "1500.00", "3500.00")
    assert band["penalty_basis"] == "价格违法行为行政处罚规定第十三条" and band["has_benchmark"] is True
    assert head.get(f"/api/v1/discretion/tasks/{task['id']}?tier=heavier").get_json()["band_low"] == "3500.00"

    decide = {**STEP_DATA["decide"], "fine_amount": 1000}
    refused = head.complete(case_id, "decide", decide, status=422)
    assert [e["field"] for e in refused["errors"]] == ["fine_amount", "deviation_reason"]
    assert "1500.00–3500.00元" in refused["errors"][0]["message"]
    assert head.ready(case_id, "decide")["id"] == task["id"]  # nothing changed
    supervisor = login("supervisor1")
    assert supervisor.get("/api/v1/discretion/deviations").get_json()["total"] == 0

    # Within the band of the tier the facts give, no reason is needed: 从轻 (harm eliminated, APL Art. 32) 0-1,500.
    facts = {"mitigating": ["eliminated_harm"]}
    case = head.complete(case_id, "decide", {**decide, "discretion_facts": facts})
    assert [t["bpmn_id"] for t in case["tasks"] if t["state"] == "ready"] == ["serve_decision"]
    assert supervisor.get("/api/v1/discretion/deviations").get_json()["total"] == 0


def test_deviation_with_reason_is_visible_to_supervision(login: Any, clock: FrozenClock) -> None:
    head, case_id = case_at_decision(login, clock)
    reason = "当事人系残疾人个体经营者，经营困难，已主动整改，经集体讨论决定低于基准幅度处罚。"
    case = head.complete(case_id, "decide", {**STEP_DATA["decide"], "fine_amount": 800, "deviation_reason": reason})
    assert [t["bpmn_id"] for t in case["tasks"] if t["state"] == "ready"] == ["serve_decision"]
    listed = login("supervisor1").get("/api/v1/discretion/deviations").get_json()
    assert listed["total"] == 1
    (item,) = listed["items"]
    assert (item["case_id"], item["tier"], item["tier_name"], item["direction"]) == (case_id, "general", "一般", "below")
    assert (item["band_low"], item["band_high"], item["fine_amount"], item["reason"]) == ("1500.00", "3500.00", "800.00", reason)
    assert item["agency_name"] == "广州市天河区市场监督管理局"
    assert login("officer3").get("/api/v1/discretion/deviations").get_json()["total"] == 0  # another district
    audit = head.get(f"/api/v1/cases/{case_id}/audit").get_json()["items"]
    assert "discretion.deviation" in [e["action"] for e in audit]


def test_the_published_benchmark_answers_anyone_signed_in(login: Any) -> None:
    officer = login("officer3")
    found = officer.post("/api/v1/discretion/assess", json={
        "matter_code": "440201001002", "facts": {"mitigating": ["eliminated_harm"]}}).get_json()
    assert (found["tier"], found["tier_name"], found["band_low"], found["band_high"]) == ("lighter", "从轻", "5000.00", "18500.00")
    bad = officer.post("/api/v1/discretion/assess", json={"matter_code": "440201001002", "facts": {"harm": 3}})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "facts.harm"
    unknown = officer.post("/api/v1/discretion/assess", json={"matter_code": "nope"})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "matter_code"


def test_the_benchmarks_are_published_rule_by_rule(login: Any) -> None:
    tables = {t["id"]: t for t in login("officer3").get("/api/v1/discretion/benchmarks").get_json()["items"]}
    assert set(tables) == {"disposition_tier", "fine_benchmark"}
    tier = tables["disposition_tier"]
    assert tier["hit_policy"] == "UNIQUE" and [r["number"] for r in tier["rules"]] == list(range(1, 9))
    assert tier["rules"][0]["description"].startswith("无主观过错") and tier["rules"][-1]["when"] == ["-"] * 10
    fine = tables["fine_benchmark"]
    price = next(r for r in fine["rules"] if r["when"][0] == '"440201003001"')
    assert price["then"][:3] == ["0", "5000", '"amount"'] and [o["name"] for o in fine["outputs"]][:2] == ["fine_min", "fine_max"]

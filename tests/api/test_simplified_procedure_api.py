"""行政处罚简易程序 through the API on SQLite and PostgreSQL: the Art. 51 limit refuses a fine too high
for the procedure (422 saying why, nothing changed), then the case runs to its end."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import CHINA_TZ, FrozenClock

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
SIMPLIFIED_MATTER = "440201003901"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def decision(fine: float, decided_at: str = "2026-03-02T10:00:00+08:00") -> dict[str, Any]:
    return {
        "enforcement_ids_shown": True, "decision_document_number": "穗天市监当罚〔2026〕0001号", "decided_at": decided_at,
        "place": "天河路1号", "findings": "销售商品未按规定明码标价。", "legal_basis_cited": "《价格违法行为行政处罚规定》第十三条",
        "penalties": ["fine"], "fine_amount": fine, "statement_heard": True, "statement_summary": "当事人无异议。",
        "party_signed": True, "payment_method": "bank",
    }


def test_simplified_case_from_the_spot_to_the_end(login: Any, clock: FrozenClock) -> None:
    officer, head = login("officer1"), login("head1")
    matters = {m["code"]: m for m in officer.get("/api/v1/matters").get_json()["items"]}
    assert matters[SIMPLIFIED_MATTER]["process_id"] == "simplified_punishment"
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    clock.set(at("2026-03-02T10:30:00"))
    response = officer.post("/api/v1/cases", json={"matter_code": SIMPLIFIED_MATTER, "party": PARTY, "officer_ids": ids,
                                                   "summary": "现场检查：未明码标价"})
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    case_id = case["id"]
    assert [t["bpmn_id"] for t in case["tasks"] if t["state"] == "ready"] == ["onsite_decide"]
    revision_before = len(officer.get(f"/api/v1/cases/{case_id}/audit").get_json()["items"])

    refused = officer.complete(case_id, "onsite_decide", decision(5000), status=422)
    assert refused["status"] == 422 and refused["title"] == "Invalid input"
    (error,) = refused["errors"]
    assert error["field"] == "fine_amount" and error["element_id"] == "onsite_decide"
    assert "3000" in error["message"] and "行政处罚法第五十一条" in error["message"] and "普通程序" in error["message"]
    future = officer.complete(case_id, "onsite_decide", decision(100, "2026-03-02T11:00:00+08:00"), status=422)
    assert [e["field"] for e in future["errors"]] == ["decided_at"]
    # Nothing changed: the same task is ready and no audit event was written.
    assert officer.ready(case_id, "onsite_decide")
    assert len(officer.get(f"/api/v1/cases/{case_id}/audit").get_json()["items"]) == revision_before

    case = officer.complete(case_id, "onsite_decide", decision(3000))
    assert sorted(t["bpmn_id"] for t in case["tasks"] if t["state"] == "ready") == ["record_payment", "submit_filing"]
    timers = {t["bpmn_id"]: t for t in case["timers"]}
    assert timers["timer_q3_filing"]["due_at"].startswith("2026-03-11T15:59:59")  # 7 working days, 24:00 +08:00
    assert timers["timer_q3_filing"]["legal_basis"].endswith("市场监督管理行政处罚程序规定第七十条")
    assert timers["timer_q5_payment"]["due_at"].startswith("2026-03-17T15:59:59")  # 15 calendar days

    clock.set(at("2026-03-05T10:00:00"))
    officer.complete(case_id, "submit_filing", {"filed_at": "2026-03-05T09:00:00+08:00", "materials": ["decision_copy"]})
    head.complete(case_id, "accept_filing", {"filing_result": "accepted", "filing_opinion": "予以备案。", "accepted_on": "2026-03-05"})
    case = officer.complete(case_id, "record_payment", {"paid_at": "2026-03-05T09:30:00+08:00", "amount_paid": 3000,
                                                        "late_fee_paid": 0, "payment_receipt_number": "GZ0001"})
    assert case["status"] == "closed" and case["outcome"] == "punished"
    assert {t["status"] for t in case["timers"]} == {"met"}

"""POST/GET /api/v1/cases/{id}/decision-changes (D7): the deciding agency records a change of its decision;
the publicity sweep withdraws the publication and the public API stops showing it (SQLite and PostgreSQL)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.core import Core
from engine.publicity import sweep
from engine.publicity.models import DecisionChange
from tests.support.publicity import COMPANY, open_case, schedule

CHANGE = {"kind": "reconsideration", "result": "altered", "reason": "复议机关变更罚款数额"}


def published(core: Core) -> int:
    case_id = open_case(core, COMPANY)
    schedule(core, case_id, {"decision_document_number": "穗天市监罚〔2026〕61号", "decided_at": "2026-03-02T08:00:00+08:00",
                             "penalties": ["fine"], "fine_amount": 20000, "confiscation_value": 0})
    sweep(core)
    return case_id


def test_a_recorded_change_withdraws_the_publication_at_the_next_sweep(http: Any, login: Any, core: Core) -> None:
    case_id = published(core)
    assert http.get("/api/v1/public/decisions").get_json()["total"] == 1
    head = login("head1")
    created = head.post(f"/api/v1/cases/{case_id}/decision-changes", json=CHANGE)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "pending" and body["due_at"] == "2026-03-05T23:59:59+08:00"  # Mon 03-02 + 3 working days
    sweep(core)
    assert http.get("/api/v1/public/decisions").get_json()["total"] == 0
    [listed] = head.get(f"/api/v1/cases/{case_id}/decision-changes").get_json()["items"]
    assert listed["status"] == "done" and listed["notice"].startswith("该行政处罚决定已由行政复议机关依法变更")
    withdrawn = head.get("/api/v1/publications", query_string={"status": "withdrawn"}).get_json()["items"]
    assert [w["withdrawal_due_at"] for w in withdrawn] == ["2026-03-05T15:59:59+00:00"]


def test_bad_changes_are_refused_and_store_nothing(login: Any, core: Core) -> None:
    case_id = published(core)
    head = login("head1")
    bad = head.post(f"/api/v1/cases/{case_id}/decision-changes", json={"kind": ["self"], "result": {}, "reason": 3})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert {e["field"] for e in bad.get_json()["errors"]} == {"kind", "result", "reason"}
    assert head.post(f"/api/v1/cases/{case_id}/decision-changes", data="x").status_code == 422
    assert login("officer1").post(f"/api/v1/cases/{case_id}/decision-changes", json=CHANGE).status_code == 403
    assert head.post(f"/api/v1/cases/{case_id + 999}/decision-changes", json=CHANGE).status_code == 404
    with core.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(DecisionChange)) == 0

"""Indicators per period against a hand-computed fixture, and the XLSX export with the same numbers.

The fixture writes projection and audit rows directly (what the engine would have projected), for
March 2026, seen on 2026-04-02:

天河 (GZ-TH-SJJ, 2 certified officers)      越秀 (GZ-YX-SJJ, 2 certified officers)
c1 opened 03-02, filed, decided 03-20,       y1 opened 03-03, filed, decided 03-15
   legal review + hearing, fine 5000 outside    P2 due 03-20 met
   its band 1000-3000; P2 due 03-23 met      y2 opened 03-04, not filed
c2 opened 03-05, filed, decided 03-25,
   revoked on reconsideration 03-28; P2 due 03-26 overdue
c3 opened 03-10, not filed; P2 due 03-31 still waiting (overdue by 04-02)
c4 opened 02-20, decided 03-03; P2 due 04-05 waiting (outside the period)
"""
from __future__ import annotations

import io
import uuid
from datetime import datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.audit import digest
from engine.clock import CHINA_TZ
from engine.core import Core, Unit
from engine.models import (
    Agency,
    AuditEvent,
    Case,
    Matter,
    ProcessDefinition,
    TaskRow,
    TimerRow,
    User,
)


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"2026-{day}T10:00:00+08:00")


class Builder:
    def __init__(self, unit: Unit):
        self.unit = unit
        s = unit.session
        self.definition = s.scalar(select(ProcessDefinition.id).limit(1))
        self.matter = s.scalar(select(Matter.code).limit(1))
        self.user = s.scalar(select(User.id).where(User.username == "officer1"))
        self.agencies = dict(s.execute(select(Agency.code, Agency.id)).all())

    def case(self, agency: str, opened: str, number: str) -> Case:
        case = Case(
            number=number, agency_id=self.agencies[agency], matter_code=self.matter, definition_id=self.definition,
            party={"type": "person", "name": "甲"}, summary="", status="open", opened_at=at(opened), opened_by=self.user,
            updated_at=at(opened), revision=1, last_audit_hash="0" * 64,
        )
        self.unit.session.add(case)
        self.unit.session.flush()
        return case

    def task(self, case: Case, bpmn_id: str, state: str = "completed", done: str | None = None) -> None:
        self.unit.session.add(TaskRow(
            id=str(uuid.uuid4()), case_id=case.id, agency_id=case.agency_id, bpmn_id=bpmn_id, name=bpmn_id, lane="officer",
            state=state, created_at=case.opened_at, completed_at=at(done) if done else None,
        ))

    def timer(self, case: Case, due: str, status: str) -> None:
        self.unit.session.add(TimerRow(
            id=str(uuid.uuid4()), case_id=case.id, agency_id=case.agency_id, bpmn_id="timer_p2_filing", name="P2", kind="deadline",
            due_at=datetime.fromisoformat(f"2026-{due}T23:59:59+08:00"), status=status, interrupting=False, provisional=False,
        ))

    def event(self, case: Case, action: str, detail: dict[str, Any], when: str) -> None:
        self.unit.session.add(AuditEvent(
            case_id=case.id, agency_id=case.agency_id, actor_id=self.user, action=action, detail=detail, at=at(when),
            prev_hash="0" * 64, hash=uuid.uuid4().hex * 2, data_digest=digest(detail),
        ))

    def decide(self, case: Case, when: str, **data: Any) -> None:
        self.task(case, "decide", done=when)
        self.event(case, "task.completed", {"bpmn_id": "decide", "data": {"decision": "punish", **data}}, when)


@pytest.fixture
def march(core: Core) -> None:
    with core.unit() as unit:
        b = Builder(unit)
        c1 = b.case("GZ-TH-SJJ", "03-02", "c1")
        b.task(c1, "investigate", done="03-10")
        b.task(c1, "legal_review", done="03-18")
        b.task(c1, "hold_hearing", done="03-16")
        b.decide(c1, "03-20", fine_amount=5000, discretion_band={"min": 1000, "max": 3000})
        b.timer(c1, "03-23", "met")
        c2 = b.case("GZ-TH-SJJ", "03-05", "c2")
        b.task(c2, "investigate", done="03-12")
        b.decide(c2, "03-25", fine_amount=2000, discretion_band={"min": 1000, "max": 3000})
        b.event(c2, "review.outcome", {"kind": "reconsideration", "result": "revoked"}, "03-28")
        b.timer(c2, "03-26", "overdue")
        c3 = b.case("GZ-TH-SJJ", "03-10", "c3")
        b.timer(c3, "03-31", "waiting")
        c4 = b.case("GZ-TH-SJJ", "02-20", "c4")
        b.task(c4, "investigate", done="02-25")
        b.decide(c4, "03-03", fine_amount=500)
        b.timer(c4, "04-05", "waiting")
        y1 = b.case("GZ-YX-SJJ", "03-03", "y1")
        b.task(y1, "investigate", state="ready")
        b.decide(y1, "03-15", fine_amount=2000, discretion_band={"min": 1000, "max": 3000})
        b.event(y1, "review.outcome", {"kind": "litigation", "result": "upheld"}, "03-30")
        b.timer(y1, "03-20", "met")
        b.case("GZ-YX-SJJ", "03-04", "y2")
    core.clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=CHINA_TZ))


TIANHE = {
    "counts": {"clues": 3, "filed": 2, "decisions": 3, "certified_officers": 2, "timers_due": 3, "overdue": 2,
               "deviations": 1, "legal_reviews": 1, "hearings": 1, "corrections": 1},
    "rates": {"investigation_rate": 0.6667, "decisions_per_officer": 1.5, "overdue_rate": 0.6667, "deviation_rate": 0.3333,
              "legal_review_rate": 0.3333, "hearing_rate": 0.3333, "correction_rate": 0.3333},
}
YUEXIU = {
    "counts": {"clues": 2, "filed": 1, "decisions": 1, "certified_officers": 2, "timers_due": 1, "overdue": 0,
               "deviations": 0, "legal_reviews": 0, "hearings": 0, "corrections": 0},
    "rates": {"investigation_rate": 0.5, "decisions_per_officer": 0.5, "overdue_rate": 0.0, "deviation_rate": 0.0,
              "legal_review_rate": 0.0, "hearing_rate": 0.0, "correction_rate": 0.0},
}
GUANGZHOU = {
    "counts": {"clues": 5, "filed": 3, "decisions": 4, "certified_officers": 4, "timers_due": 4, "overdue": 2,
               "deviations": 1, "legal_reviews": 1, "hearings": 1, "corrections": 1},
    "rates": {"investigation_rate": 0.6, "decisions_per_officer": 1.0, "overdue_rate": 0.5, "deviation_rate": 0.25,
              "legal_review_rate": 0.25, "hearing_rate": 0.25, "correction_rate": 0.25},
}


def test_indicators_match_the_hand_computed_fixture(march: None, login: Any) -> None:
    response = login("supervisor1").get("/api/v1/supervision/indicators?from=2026-03-01&to=2026-03-31")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["period"] == {"from": "2026-03-01", "to": "2026-03-31"} and body["agency"]["code"] == "GZ"
    assert {k: body["totals"][k] for k in ("counts", "rates")} == GUANGZHOU
    children = {c["agency"]["code"]: {k: c[k] for k in ("counts", "rates")} for c in body["children"]}
    assert children["GZ-TH"] == TIANHE and children["GZ-YX"] == YUEXIU
    assert children["GZ-SFJ"]["rates"]["investigation_rate"] is None  # nothing to divide by


def test_the_xlsx_export_has_the_same_numbers(march: None, login: Any) -> None:
    client = login("supervisor1")
    body = client.get("/api/v1/supervision/indicators?from=2026-03-01&to=2026-03-31").get_json()
    response = client.get("/api/v1/supervision/indicators.xlsx?from=2026-03-01&to=2026-03-31")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[1]
    assert header[:3] == ("机关", "层级", "线索数")
    by_name = {r[0]: r for r in rows[2:]}
    for item in [*body["children"], body["totals"]]:
        name = item["agency"]["name"] if item is not body["totals"] else f"合计（{item['agency']['name']}）"
        values = list(item["counts"].values()) + list(item["rates"].values())
        assert list(by_name[name][2:]) == values


def test_a_shorter_period_and_a_drill_down(core: Core, march: None, login: Any) -> None:
    with core.unit() as unit:
        tianhe = unit.session.scalar(select(Agency.id).where(Agency.code == "GZ-TH"))
    body = login("supervisor1").get(f"/api/v1/supervision/indicators?from=2026-03-01&to=2026-03-09&agency_id={tianhe}").get_json()
    assert body["totals"]["counts"]["clues"] == 2 and body["totals"]["counts"]["decisions"] == 1  # c1, c2; c4's decision
    assert [c["agency"]["code"] for c in body["children"]] == ["GZ-TH-SJJ"]


@pytest.mark.parametrize("query, field", [
    ("from=2026-03-01", "to"), ("to=2026-03-31", "from"), ("from=2026-3-1&to=2026-03-31", "from"),
    ("from=2026-04-01&to=2026-03-31", "from"), ("from=2026-03-01&to=2026-02-30", "to"),
])
def test_a_bad_period_is_422(login: Any, query: str, field: str) -> None:
    for url in ("/api/v1/supervision/indicators", "/api/v1/supervision/indicators.xlsx"):
        response = login("supervisor1").get(f"{url}?{query}")
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["field"] == field


def test_outside_the_subtree_is_403(core: Core, login: Any) -> None:
    with core.unit() as unit:
        province = unit.session.scalar(select(Agency.id).where(Agency.code == "GD"))
    response = login("supervisor1").get(f"/api/v1/supervision/indicators?from=2026-03-01&to=2026-03-31&agency_id={province}")
    assert response.status_code == 403

"""Holiday years through the API: a deadline counted through a provisional year (2027 has no notice
yet) is flagged; importing the official year moves the open timer, in the projection and in the
workflow state, with an audit event; malformed data is refused naming the entry and changes nothing.

The "official" 2027 data below is a test fixture, not the real notice (not published yet): its Spring
Festival runs 02-06..02-15 so that the provisional due date (Monday 02-15) becomes a rest day.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine.calendar_models import CalendarYear
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.demo import STEP_DATA
from engine.models import AuditEvent
from engine.timers import run_due

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def official_2027(**changes: Any) -> dict[str, Any]:
    first = date(2027, 2, 6)
    days = [{"name": "春节", "date": (first + timedelta(days=i)).isoformat(), "isOffDay": True} for i in range(10)]
    days += [{"name": "元旦", "date": "2027-01-01", "isOffDay": True},
             {"name": "春节", "date": "2027-02-20", "isOffDay": False}]
    entry = {"year": 2027, "papers": ["https://www.gov.cn/test/2027-notice (test fixture)"], "days": days}
    entry.update(changes)
    return entry


def filed_in_november(login: Any, clock: FrozenClock) -> tuple[int, dict[str, Any]]:
    clock.set(at("2026-11-16T09:00:00"))  # a Monday
    officer, head = login("officer1"), login("head1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    case = officer.post("/api/v1/cases", json={"matter_code": "440201003001", "party": PARTY, "officer_ids": ids}).get_json()
    officer.complete(case["id"], "verify_clue", STEP_DATA["verify_clue"])
    case = head.complete(case["id"], "approve_filing", STEP_DATA["approve_filing"])
    return case["id"], {t["bpmn_id"]: t for t in case["timers"]}["timer_p5_handling"]


def p5(login: Any, case_id: int) -> dict[str, Any]:
    case = login("officer1").get(f"/api/v1/cases/{case_id}").get_json()
    return {t["bpmn_id"]: t for t in case["timers"]}["timer_p5_handling"]


def test_importing_the_official_year_moves_the_provisional_timer(login: Any, core: Core, clock: FrozenClock) -> None:
    case_id, timer = filed_in_november(login, clock)
    # 2026-11-16 + 90 days = Sunday 2027-02-14 -> Monday 02-15 under the provisional calendar.
    assert timer["due_at"] == "2027-02-15T15:59:59+00:00" and timer["provisional"] is True
    admin = login("admin")
    years = {y["year"]: y for y in admin.get("/api/v1/calendar/years").get_json()["items"]}
    assert years[2027]["provisional"] is True and years[2026]["provisional"] is False
    assert admin.get("/api/v1/calendar/due?start=2026-11-16&amount=90&unit=calendar_days").get_json() == {
        "date": "2027-02-15", "at": "2027-02-15T23:59:59+08:00", "provisional": True}

    response = admin.http.put("/api/v1/calendar/years/2027", json=official_2027(), headers=admin._headers())
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["replaced"] == "provisional"
    assert result["year"]["provisional"] is False and result["year"]["rest_days"] == 11
    assert [(m["case_id"], m["bpmn_id"], m["due_after"]) for m in result["rescheduled"]] == [
        (case_id, "timer_p5_handling", "2027-02-16T23:59:59+08:00")]

    moved = p5(login, case_id)
    assert moved["due_at"] == "2027-02-16T15:59:59+00:00" and moved["provisional"] is False
    assert admin.get("/api/v1/calendar/due?start=2026-11-16&amount=90&unit=calendar_days").get_json()["provisional"] is False
    with core.unit() as unit:
        events = unit.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ["calendar.year_imported", "timer.rescheduled"])).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["calendar.year_imported", "timer.rescheduled"]
    assert events[1].case_id == case_id
    assert events[1].detail["due_before"].startswith("2027-02-15") and events[1].detail["reason"].startswith("holiday year 2027")

    # The workflow's own timer moved too: nothing fires on 02-16, the deadline passes at its end.
    clock.set(at("2027-02-16T23:00:00"))
    assert run_due(core) == 0
    clock.set(at("2027-02-17T00:00:01"))
    assert run_due(core) == 1
    assert p5(login, case_id)["status"] == "overdue"


def test_replacing_a_stored_year_and_a_new_core_sees_it(login: Any, core: Core, clock: FrozenClock) -> None:
    admin = login("admin")
    assert admin.http.put("/api/v1/calendar/years/2027", json=official_2027(), headers=admin._headers()).status_code == 200
    again = admin.http.put("/api/v1/calendar/years/2027", json=official_2027(days=official_2027()["days"][:5]),
                           headers=admin._headers())
    assert again.status_code == 200 and again.get_json()["replaced"] == "stored"
    other = Core(core.settings, clock=clock, db=core.db)  # another process
    assert other.calendar.is_provisional_year(2027)  # packaged data only until it reads the database
    with other.unit():
        pass
    assert not other.calendar.is_provisional_year(2027)
    assert other.calendar.is_working_day(date(2027, 2, 11))  # 02-11.. no longer rest days in the new entry


@pytest.mark.parametrize("username", ["officer1", "head1", "supervisor1", "designer1"])
def test_only_administrators_import_years(login: Any, username: str) -> None:
    user = login(username)
    response = user.http.put("/api/v1/calendar/years/2027", json=official_2027(), headers=user._headers())
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("entry", "field", "says"),
    [
        pytest.param(official_2027(days=[{"name": "春节", "date": "2027-02-30", "isOffDay": True}]), "days[0]",
                     "not an ISO date", id="no-such-date"),
        pytest.param(official_2027(days=[{"name": "春节", "date": "06/02/2027", "isOffDay": True}]), "days[0]",
                     "not an ISO date", id="not-iso"),
        pytest.param(official_2027(days=[*official_2027()["days"], {"name": "x", "date": "2027-03-03", "isOffDay": False}]),
                     "days[12]", "not a weekend day", id="weekday-as-adjusted-working-day"),
        pytest.param(official_2027(days=[{"name": "春节", "date": "2027-02-08", "isOffDay": "yes"}]), "days[0]",
                     "boolean", id="isOffDay-not-boolean"),
        pytest.param(official_2027(year=2028), "year", "not 2027", id="year-mismatch"),
        pytest.param(official_2027(papers=[]), "source", "notice", id="no-source"),
        pytest.param(official_2027(days=[]), "days", "non-empty", id="no-days"),
        pytest.param(official_2027(provisional=True), "provisional", "published", id="provisional"),
    ],
)
def test_malformed_years_are_refused_naming_the_entry_and_change_nothing(
    login: Any, core: Core, clock: FrozenClock, entry: dict[str, Any], field: str, says: str
) -> None:
    case_id, before = filed_in_november(login, clock)
    admin = login("admin")
    response = admin.http.put("/api/v1/calendar/years/2027", json=entry, headers=admin._headers())
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert any(e.get("field") == field and says in e["message"] for e in problem["errors"]), problem
    assert p5(login, case_id) == before
    with core.unit() as unit:
        assert unit.session.scalars(select(CalendarYear)).all() == []
        assert unit.session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar.year_imported")).all() == []


def test_due_endpoint_refuses_bad_parameters(login: Any) -> None:
    officer = login("officer1")
    assert officer.get("/api/v1/calendar/due?start=2026-03-02&amount=15&unit=working_days").get_json()["date"] == "2026-03-23"
    missing = officer.get("/api/v1/calendar/due?start=2026-03-02")
    assert missing.status_code == 422 and {e["field"] for e in missing.get_json()["errors"]} == {"amount", "unit"}
    bad_unit = officer.get("/api/v1/calendar/due?start=2026-03-02&amount=1&unit=fortnights")
    assert bad_unit.status_code == 422 and bad_unit.get_json()["errors"][0]["field"] == "unit"
    bad_date = officer.get("/api/v1/calendar/due?start=2026-02-30&amount=1&unit=calendar_days")
    assert bad_date.status_code == 422 and bad_date.get_json()["errors"][0]["field"] == "start"


def test_recomputation_keeps_the_approved_extension(login: Any, core: Core, clock: FrozenClock) -> None:
    case_id, _ = filed_in_november(login, clock)
    officer, head, admin = login("officer1"), login("head1"), login("admin")
    response = officer.post(f"/api/v1/cases/{case_id}/clock-changes", json={"kind": "extend", "amount": 30, "reason": "案情复杂。"})
    assert response.status_code == 201, response.get_json()
    head.complete(case_id, "approve_clock_change",
                  {"clock_decision": "approve", "clock_opinion": "同意。", "approval_date": "2026-11-16"})
    # 120 days after 2026-11-16 = Tuesday 2027-03-16, still provisional
    assert (p5(login, case_id)["due_at"], p5(login, case_id)["provisional"]) == ("2027-03-16T15:59:59+00:00", True)
    notice = official_2027(days=[*official_2027()["days"], {"name": "测试", "date": "2027-03-16", "isOffDay": True}])
    result = admin.http.put("/api/v1/calendar/years/2027", json=notice, headers=admin._headers()).get_json()
    assert [m["due_after"] for m in result["rescheduled"]] == ["2027-03-17T23:59:59+08:00"]
    assert (p5(login, case_id)["due_at"], p5(login, case_id)["provisional"]) == ("2027-03-17T15:59:59+00:00", False)

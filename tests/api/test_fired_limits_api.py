"""A limit that ran out on the provisional count, through the REST API and the case page (Flask test client,
SQLite and PostgreSQL): `PUT /api/v1/calendar/years/2027` lists it under `recounted`, apart from the moved
waiting timers; the case's timers carry `recounted_due_at`; the case page shows the note in Chinese.
The cases and the 2027 fixture are those of tests/integration/test_fired_limits.py (counted by hand there)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from api import create_app
from engine.clock import FrozenClock
from engine.core import Core
from tests.integration.test_fired_limits import (
    P7,
    at,
    official_2027,
    ran_out_on_the_provisional_count,
)
from tests.web.test_web_http import client


def test_the_import_response_lists_recounted_limits_and_the_case_shows_them(login: Any, core: Core, clock: FrozenClock) -> None:
    a, b = ran_out_on_the_provisional_count(core, clock)
    clock.set(at("2027-01-07T09:00:00"))
    admin = login("admin")
    response = admin.http.put("/api/v1/calendar/years/2027", json=official_2027("2027-01-06"), headers=admin._headers())
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    [recounted] = result["recounted"]
    assert {k: recounted[k] for k in ("case_id", "bpmn_id", "fired_due", "official_due", "fired", "provisional", "case_closed")} == {
        "case_id": a, "bpmn_id": P7, "fired_due": "2027-01-06T23:59:59+08:00", "official_due": "2027-01-07T23:59:59+08:00",
        "fired": "early", "provisional": False, "case_closed": False}
    assert recounted["legal_basis"].startswith("市场监督管理行政处罚程序规定第五十七条第二款")
    assert P7 not in {m["bpmn_id"] for m in result["rescheduled"]}

    officer = login("officer1")
    timers = {t["bpmn_id"]: t for t in officer.get(f"/api/v1/cases/{a}").get_json()["timers"]}
    assert (timers[P7]["status"], timers[P7]["provisional"], timers[P7]["recounted_due_at"]) == (
        "fired", False, "2027-01-07T15:59:59+00:00")
    untouched = {t["bpmn_id"]: t for t in officer.get(f"/api/v1/cases/{b}").get_json()["timers"]}[P7]
    assert (untouched["provisional"], untouched["recounted_due_at"]) == (False, None)

    web = web_client(core, "officer1")
    page = web.get(f"/cases/{a}").get_data(as_text=True)
    assert "本期限按临时节假日安排计算已于2027-01-06届满；按正式通知应于2027-01-07届满。" in page
    assert "期限提前届满，当事人的法定期间被缩短。" in page
    assert "按正式节假日安排重新计算期限" in page  # the timeline entry of the audit event
    other = web.get(f"/cases/{b}").get_data(as_text=True)
    assert "按临时节假日安排计算" not in other


def web_client(core: Core, username: str) -> Any:
    return client(create_app(Core(replace(core.settings, token_ttl_seconds=3600, secret_key="test-secret"),
                                  clock=core.clock, db=core.db)), username)


def test_the_calendar_page_lists_recounted_limits_apart_from_moved_timers(core: Core, clock: FrozenClock) -> None:
    import io
    import json
    import re

    from tests.web.test_web_http import csrf

    a, _ = ran_out_on_the_provisional_count(core, clock)
    clock.set(at("2027-01-07T09:00:00"))
    web = web_client(core, "admin")
    listed = web.get("/calendar").get_data(as_text=True)
    assert "2027" in listed and "暂定" in listed and 'enctype="multipart/form-data"' in listed

    body = json.dumps(official_2027("2027-01-06"), ensure_ascii=False).encode()
    page = web.post("/calendar", data={"csrf_token": csrf(web, "/calendar"), "entry": (io.BytesIO(body), "2027.json")},
                    content_type="multipart/form-data").get_data(as_text=True)
    assert "已导入2027年" in page
    moved = re.search(r'<table class="list rescheduled">(.*?)</table>', page, re.DOTALL).group(1)
    recounted = re.search(r'<table class="list recounted">(.*?)</table>', page, re.DOTALL).group(1)
    assert "timer_p5_handling" in moved and P7 not in moved  # P5 still waits: moved (no longer provisional)
    assert f'href="/cases/{a}"' in recounted and "2027-01-06" in recounted and "2027-01-07" in recounted
    assert "提前届满" in recounted

    refused = web.post("/calendar", data={"csrf_token": csrf(web, "/calendar"), "entry": (io.BytesIO(b"{"), "2027.json")},
                       content_type="multipart/form-data")
    assert refused.status_code == 200 and "该文件不是 JSON 格式的节假日年度数据。" in refused.get_data(as_text=True)
    officer = web_client(core, "officer1")
    assert 'enctype="multipart/form-data"' not in officer.get("/calendar").get_data(as_text=True)  # reading only
    assert officer.post("/calendar", data={"csrf_token": csrf(officer, "/calendar"),
                                           "entry": (io.BytesIO(body), "2027.json")},
                        content_type="multipart/form-data").status_code == 403

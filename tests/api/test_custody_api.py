"""Chain of custody: an item taken, stored, moved, appraised and finally returned, confiscated or destroyed,
each step with who, when, where and evidence; nothing after a final step; scope and archived cases."""
from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from tests.api.conftest import Client
from tests.support import evidence_samples as samples

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}


@pytest.fixture
def officer(login: Any) -> Client:
    return login("officer1")


@pytest.fixture
def case_id(officer: Client) -> int:
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    return officer.post("/api/v1/cases", json={"matter_code": "440201003001", "party": PARTY, "officer_ids": ids}).get_json()["id"]


def photo(officer: Client, case_id: int) -> int:
    response = officer.post(f"/api/v1/cases/{case_id}/evidence", data=samples.multipart({}, "清单.png", samples.png()),
                            content_type=samples.CONTENT_TYPE)
    return response.get_json()["id"]


def take(officer: Client, case_id: int, **extra: Any) -> Any:
    return officer.post(f"/api/v1/cases/{case_id}/custody", json={
        "measure": "seizure", "name": "无标价商品（洗发水）", "quantity": "24瓶", "at": "2026-03-02T08:00:00+08:00",
        "place": "当事人店铺", **extra,
    })


def test_an_item_goes_from_taken_to_returned_with_every_step_audited(officer: Client, case_id: int) -> None:
    evidence_id = photo(officer, case_id)
    created = take(officer, case_id, evidence_ids=[evidence_id])
    assert created.status_code == 201, created.get_json()
    item = created.get_json()
    assert item["status"] == "taken" and item["steps"][0]["evidence_ids"] == [evidence_id]
    for action, place in (("stored", "天河区市场监管局暂扣物品仓库"), ("moved", "鉴定机构"), ("appraised", "鉴定机构"),
                          ("returned", "当事人店铺")):
        response = officer.post(f"/api/v1/custody/{item['id']}/steps",
                                json={"action": action, "at": "2026-03-02T08:30:00+08:00", "place": place})
        assert response.status_code == 201, response.get_json()
    listed = officer.get(f"/api/v1/cases/{case_id}/custody").get_json()["items"]
    assert [s["action"] for s in listed[0]["steps"]] == ["taken", "stored", "moved", "appraised", "returned"]
    assert listed[0]["status"] == "returned"
    events = [e["action"] for e in officer.get(f"/api/v1/cases/{case_id}/audit").get_json()["items"]]
    assert [e for e in events if e.startswith("custody.")] == [
        "custody.taken", "custody.stored", "custody.moved", "custody.appraised", "custody.returned"]
    efile = officer.get(f"/api/v1/cases/{case_id}/efile")
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(efile.data)).read("manifest.json"))
    assert [s["action"] for s in manifest["custody"][0]["steps"]][-1] == "returned"
    after = officer.post(f"/api/v1/custody/{item['id']}/steps", json={"action": "destroyed", "at": "2026-03-02T08:40:00+08:00",
                                                                       "place": "仓库"})
    assert after.status_code == 409


def test_bad_steps_are_422_naming_the_field(officer: Client, case_id: int, login: Any) -> None:
    bad = take(officer, case_id, measure="borrowed", at="2027-01-01T00:00:00+08:00", place="", evidence_ids=[999999])
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"measure", "at", "place", "evidence_ids"}
    item = take(officer, case_id).get_json()
    earlier = officer.post(f"/api/v1/custody/{item['id']}/steps", json={"action": "stored", "at": "2026-03-01T08:00:00+08:00",
                                                                         "place": "仓库"})
    assert earlier.status_code == 422 and earlier.get_json()["errors"][0]["field"] == "at"
    again = officer.post(f"/api/v1/custody/{item['id']}/steps", json={"action": "taken", "at": "2026-03-02T08:00:00+08:00",
                                                                       "place": "仓库"})
    assert again.status_code == 422
    assert take(login("officer3"), case_id).status_code == 404
    assert login("officer3").get(f"/api/v1/cases/{case_id}/custody").status_code == 404
    assert login("officer3").post(f"/api/v1/custody/{item['id']}/steps", json={"action": "stored"}).status_code == 404
    assert [i["steps"][0]["action"] for i in officer.get(f"/api/v1/cases/{case_id}/custody").get_json()["items"]] == ["taken"]

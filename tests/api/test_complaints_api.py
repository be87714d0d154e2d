"""Complaints (投诉举报): lodged without login with attachments, a tracking code and a status page without
the complainant; a violation complaint is a clue in the agency's inbox due for verification in 15 working
days (P2) and opens a case whose filing clock starts at receipt; a conduct complaint goes to supervision.
"""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.models import TimerRow
from engine.publicity.models import Complaint, ComplaintAttachment
from tests.api.test_read_api import agency_id, user_ids

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
FIELDS = {
    "kind": "violation", "agency": "GZ-TH-SJJ", "matter": "440201003001", "subject": "天河路某便利店",
    "content": "该店销售的饮料均未标明价格，结账时随意收费。", "complainant_name": "陈投诉",
    "complainant_phone": "13912345678",
}


def lodge(http: Any, fields: dict[str, str] | None = None, files: list[tuple[bytes, str, str]] | None = None) -> Any:
    data: dict[str, Any] = dict(FIELDS if fields is None else fields)
    data["attachments"] = [FileStorage(io.BytesIO(content), name, content_type=kind) for content, name, kind in (files or [])]
    # Encoded here, in memory: the test client would spool a large body to a temporary file it never closes.
    stream, _length, boundary = stream_encode_multipart(data, use_tempfile=False)
    return http.post("/api/v1/public/complaints", data=stream.read(), content_type=f"multipart/form-data; boundary={boundary}")


def stored(core: Core) -> tuple[int, int]:
    with core.unit() as unit:
        return (unit.session.scalar(select(func.count()).select_from(Complaint)),
                unit.session.scalar(select(func.count()).select_from(ComplaintAttachment)))


def test_a_violation_complaint_becomes_a_clue_with_the_p2_limit(http: Any, login: Any, core: Core) -> None:
    response = lodge(http, files=[(PDF, "照片说明.pdf", "application/pdf"), (PNG, "../../etc/价签.png", "image/png")])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert len(body["tracking_code"]) == 16 and body["handled_by"] == "广州市天河区市场监督管理局"
    status = http.get(f"/api/v1/public/complaints/{body['tracking_code'].lower()}")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    public = status.get_json()
    assert public["status"] == "received" and public["agency"] == "广州市天河区市场监督管理局"
    assert "陈投诉" not in status.get_data(as_text=True) and "13912345678" not in status.get_data(as_text=True)
    assert public["verify_due_at"] == "2026-03-23T15:59:59+00:00"  # 15 working days after Monday 03-02: 03-23

    [clue] = login("officer1").get("/api/v1/complaints").get_json()["items"]
    assert clue["complainant"] == {"name": "陈投诉", "phone": "13912345678"}
    assert clue["legal_basis"].startswith("市场监督管理行政处罚程序规定第十八条")
    assert [a["filename"] for a in clue["attachments"]] == ["照片说明.pdf", "价签.png"]
    pdf = login("officer1").get(f"/api/v1/complaints/{clue['id']}/attachments/{clue['attachments'][0]['id']}")
    assert pdf.status_code == 200 and pdf.data == PDF and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert login("officer3").get(f"/api/v1/complaints/{clue['id']}/attachments/{clue['attachments'][0]['id']}").status_code == 403
    assert login("officer1").get(f"/api/v1/complaints/{clue['id']}/attachments/999999").status_code == 404
    assert login("officer3").get("/api/v1/complaints").get_json()["items"] == []  # another agency's inbox
    assert login("officer3").get(f"/api/v1/complaints/{clue['id']}").status_code == 403
    assert login("supervisor1").get(f"/api/v1/complaints/{clue['id']}").status_code == 403


def test_a_case_opened_from_a_complaint_starts_its_filing_clock_at_receipt(
    http: Any, login: Any, core: Core, clock: FrozenClock
) -> None:
    code = lodge(http).get_json()["tracking_code"]
    officer = login("officer1")
    [clue] = officer.get("/api/v1/complaints").get_json()["items"]
    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=CHINA_TZ))
    party = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
    opened = officer.post(f"/api/v1/complaints/{clue['id']}/case",
                          json={"party": party, "officer_ids": user_ids(core, "officer1", "officer2")})
    assert opened.status_code == 201, opened.get_json()
    with core.unit() as unit:
        timer = unit.session.scalar(select(TimerRow).where(TimerRow.case_id == opened.get_json()["id"], TimerRow.bpmn_id == "timer_p2_filing"))
    assert timer.due_at == datetime(2026, 3, 23, 23, 59, 59, tzinfo=CHINA_TZ)  # from the receipt (03-02), not 03-09
    assert http.get(f"/api/v1/public/complaints/{code}").get_json()["status"] == "case_opened"
    again = officer.post(f"/api/v1/complaints/{clue['id']}/case", json={"party": party, "officer_ids": []})
    assert again.status_code == 409


def test_a_conduct_complaint_goes_to_supervision(http: Any, login: Any, core: Core) -> None:
    fields = {"kind": "conduct", "agency": "GZ-TH-SJJ", "subject": "执法人员张明", "content": "检查时未出示执法证件，态度粗暴。"}
    body = lodge(http, fields).get_json()
    assert body["handled_by"] == "广州市司法局"
    assert login("officer1").get("/api/v1/complaints").get_json()["items"] == []
    supervisor = login("supervisor1")
    [item] = supervisor.get("/api/v1/complaints").get_json()["items"]
    assert item["verify_due_at"] is None and item["about_agency"] == "广州市天河区市场监督管理局"
    assert item["about_agency_id"] == agency_id(core, "GZ-TH-SJJ")
    closed = supervisor.post(f"/api/v1/complaints/{item['id']}/close", json={"outcome": "closed", "reply": "经核查，已责令整改。"})
    assert closed.status_code == 200
    public = http.get(f"/api/v1/public/complaints/{body['tracking_code']}").get_json()
    assert (public["status"], public["reply"]) == ("closed", "经核查，已责令整改。")
    assert supervisor.post(f"/api/v1/complaints/{item['id']}/case", json={}).status_code == 409


@pytest.mark.parametrize("fields, files, field", [
    ({**FIELDS, "content": ""}, [], "content"),
    ({**FIELDS, "kind": "other"}, [], "kind"),
    ({**FIELDS, "agency": "GZ-SFJ"}, [], "agency"),  # not an enforcement agency
    ({**FIELDS, "matter": "999"}, [], "matter"),
    ({k: v for k, v in FIELDS.items() if k != "subject"}, [], "subject"),
    (FIELDS, [(b"MZ\x90\x00", "virus.exe", "application/octet-stream")], "attachments"),
    (FIELDS, [(b"<html></html>", "fake.pdf", "application/pdf")], "attachments"),  # content is not a PDF
    (FIELDS, [(b"", "empty.png", "image/png")], "attachments"),
    (FIELDS, [(PNG, f"{i}.png", "image/png") for i in range(6)], "attachments"),
    (FIELDS, [(PDF + b"0" * (5 * 1024 * 1024), "big.pdf", "application/pdf")], "attachments"),
])
def test_a_rejected_complaint_stores_nothing(http: Any, core: Core, fields: dict[str, str], files: list[Any], field: str) -> None:
    response = lodge(http, fields, [(PDF, "ok.pdf", "application/pdf"), *files])
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in [e.get("field") for e in response.get_json()["errors"]]
    assert stored(core) == (0, 0)


def test_json_complaints_and_unknown_tracking_codes(http: Any) -> None:
    response = http.post("/api/v1/public/complaints", json={**FIELDS})
    assert response.status_code == 201
    assert http.post("/api/v1/public/complaints", data="x", content_type="text/plain").status_code == 422
    assert http.get("/api/v1/public/complaints/AAAAAAAAAAAAAAAA").status_code == 404
    assert http.get("/api/v1/public/complaints/short").status_code == 404


def test_the_inbox_needs_a_login_and_a_handling_role(http: Any, login: Any) -> None:
    assert http.get("/api/v1/complaints").status_code == 401
    assert login("designer1").get("/api/v1/complaints").status_code == 403

"""The pages' upload routes without a browser (Flask test client, SQLite and PostgreSQL): they need the
page's CSRF token, answer refusals as JSON naming the problem, and keep each upload to its uploader."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from api import create_app
from engine.core import Core
from tests.web.conftest import open_case_in
from tests.web.test_web_http import login

DAMAGED_PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4d40000000049454e44ae426082")


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()


def _client(core: Core) -> Any:
    settings = replace(core.settings, token_ttl_seconds=3600, secret_key="test-secret")
    return create_app(Core(settings, clock=core.clock, db=core.db)).test_client()


def _token(http: Any, case_id: int) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', http.get(f"/cases/{case_id}").get_data(as_text=True))
    assert found
    return found.group(1)


@pytest.fixture
def case_id(core: Core) -> int:
    return open_case_in(core)


def test_upload_routes_need_the_csrf_token(core, case_id):  # type: ignore[no-untyped-def]
    http = _client(core)
    login(http)
    body = {"length": len(PNG), "filename": "a.png", "metadata": {"title": "照片"}}
    assert http.post(f"/cases/{case_id}/uploads", json=body).status_code == 400
    token = _token(http, case_id)
    created = http.post(f"/cases/{case_id}/uploads", json=body, headers={"X-CSRFToken": token})
    assert created.status_code == 201
    uid = created.get_json()["id"]
    chunk = {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    assert http.patch(f"/uploads/{uid}", data=PNG, headers=chunk).status_code == 400
    assert http.get(f"/uploads/{uid}").get_json()["offset"] == 0
    sent = http.patch(f"/uploads/{uid}", data=PNG[:10], headers={**chunk, "X-CSRFToken": token})
    assert sent.status_code == 204 and sent.headers["Upload-Offset"] == "10"
    early = http.post(f"/uploads/{uid}/finish", headers={"X-CSRFToken": token})
    assert early.status_code == 409 and "10 of" in early.get_json()["detail"]
    wrong = http.patch(f"/uploads/{uid}", data=PNG[10:], headers={**chunk, "X-CSRFToken": token})
    assert wrong.status_code == 409  # the server stands at 10, not 0
    http.patch(f"/uploads/{uid}", data=PNG[10:], headers={**chunk, "Upload-Offset": "10", "X-CSRFToken": token})
    done = http.post(f"/uploads/{uid}/finish", headers={"X-CSRFToken": token})
    assert done.status_code == 201 and len(done.get_json()["sha256"]) == 64
    assert done.get_json()["sha256"] in http.get(f"/cases/{case_id}/evidence").get_data(as_text=True)


def test_refusals_name_the_field_and_uploads_are_the_uploaders_own(core, case_id):  # type: ignore[no-untyped-def]
    http = _client(core)
    login(http)
    token = _token(http, case_id)
    refused = http.post(f"/cases/{case_id}/uploads", json={"length": 0, "filename": "a.png"}, headers={"X-CSRFToken": token})
    assert refused.status_code == 422 and refused.get_json()["problems"][0]["field"] == "length"
    created = http.post(f"/cases/{case_id}/uploads", json={"length": 5, "filename": "a.png"}, headers={"X-CSRFToken": token})
    uid = created.get_json()["id"]
    other = _client(core)
    login(other, "officer2")
    assert other.get(f"/uploads/{uid}").status_code == 404
    reviewer = _client(core)
    login(reviewer, "reviewer1")
    page = reviewer.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="evidence-gallery"' in page and 'id="evidence-upload"' not in page  # sees evidence, adds none


def test_a_damaged_image_is_stored_as_received(core, case_id):  # type: ignore[no-untyped-def]
    http = _client(core)
    login(http)
    token = _token(http, case_id)
    created = http.post(f"/cases/{case_id}/uploads", json={"length": len(DAMAGED_PNG), "filename": "坏.png"}, headers={"X-CSRFToken": token})
    uid = created.get_json()["id"]
    http.patch(f"/uploads/{uid}", data=DAMAGED_PNG, headers={"Upload-Offset": "0", "X-CSRFToken": token,
                                                            "Content-Type": "application/offset+octet-stream"})
    done = http.post(f"/uploads/{uid}/finish", headers={"X-CSRFToken": token})
    assert done.status_code == 201
    gallery = http.get(f"/cases/{case_id}/evidence").get_data(as_text=True)
    assert done.get_json()["sha256"] in gallery  # a thumbnail only where Pillow can read the image

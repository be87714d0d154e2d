"""Evidence through the API: multipart upload streamed and hashed while received, type from the bytes,
size limit, capture metadata, thumbnails, immutability with corrections, scope (404), resumable upload
with an interrupted chunk, and a 1 GB upload with flat memory.
"""
from __future__ import annotations

import hashlib
import io
import resource
import tempfile
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import func, select

from api import create_app
from engine import audit
from engine.cli import main
from engine.core import Core
from engine.db import Database
from engine.models import AuditEvent
from engine.record_models import Evidence
from engine.settings import from_env
from tests.api.conftest import Client
from tests.conftest import empty_case_tables
from tests.support import evidence_samples as samples

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
PROBLEM = "application/problem+json"


def open_case(officer: Client) -> int:
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    response = officer.post("/api/v1/cases", json={"matter_code": "440201003001", "party": PARTY, "officer_ids": ids})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def upload(client: Client, case_id: int, content: bytes, filename: str = "photo.png", **fields: str) -> Any:
    return client.post(
        f"/api/v1/cases/{case_id}/evidence", data=samples.multipart(fields, filename, content),
        content_type=samples.CONTENT_TYPE,
    )


def send_stream(client: Client, method: str, url: str, body: Any, length: int, content_type: str,
                headers: dict[str, str] | None = None) -> Any:
    """A request whose body is read from `body` as the server asks for it (the test client wants a
    seekable stream otherwise): the WSGI input is the generator-backed stream itself."""
    return client.http.open(
        url, method=method, content_type=content_type, headers={**client._headers(), **(headers or {})},
        environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(length), "CONTENT_TYPE": content_type},
    )


def stored_files(core: Core) -> list[Path]:
    root = core.settings.data_dir
    return [p for p in root.rglob("*") if p.is_file() and p.parent.name != "uploads" and p.suffix != ".db"]


def evidence_count(core: Core) -> int:
    with core.unit() as unit:
        return unit.session.scalar(select(func.count()).select_from(Evidence)) or 0


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == PROBLEM
    return response.get_json()


@pytest.fixture
def officer(login: Any) -> Client:
    return login("officer1")


@pytest.fixture
def case_id(officer: Client) -> int:
    return open_case(officer)


# -- multipart upload ---------------------------------------------------------------------------------------
def test_a_photo_is_stored_with_hash_type_metadata_and_thumbnail(officer: Client, case_id: int, core: Core) -> None:
    photo = samples.png()
    response = upload(
        officer, case_id, photo, "现场照片.png", title="店内价签缺失", captured_at="2026-03-02T08:30:00+08:00",
        device_id="DSJ-0012", latitude="23.1291", longitude="113.2644", description="货架第二排",
    )
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert item["sha256"] == hashlib.sha256(photo).hexdigest()
    assert (item["content_type"], item["size"], item["filename"]) == ("image/png", len(photo), "现场照片.png")
    assert item["title"] == "店内价签缺失" and item["device_id"] == "DSJ-0012"
    assert item["captured_at"].startswith("2026-03-02T00:30:00") and item["latitude"] == pytest.approx(23.1291)
    assert item["officer_id"] == officer.get("/api/v1/me").get_json()["id"]
    assert response.headers["Location"] == f"/api/v1/evidence/{item['id']}"

    listed = officer.get(f"/api/v1/cases/{case_id}/evidence").get_json()["items"]
    assert [e["id"] for e in listed] == [item["id"]]
    content = officer.get(f"/api/v1/evidence/{item['id']}/content")
    assert content.status_code == 200 and content.data == photo
    assert content.mimetype == "image/png" and content.headers["ETag"] == f'"{item["sha256"]}"'
    assert "UTF-8''%E7%8E%B0" in content.headers["Content-Disposition"]
    thumb = officer.get(f"/api/v1/evidence/{item['id']}/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert max(image.size) <= 320 and image.format == "JPEG"

    events = officer.get(f"/api/v1/cases/{case_id}/audit").get_json()["items"]
    added = [e for e in events if e["action"] == "evidence.added"]
    assert added and added[0]["detail"]["sha256"] == item["sha256"] and added[0]["detail"]["position"] == [23.1291, 113.2644]
    with core.unit() as unit:
        assert audit.verify(unit, case_id).ok


def test_pdf_and_video_are_accepted_without_thumbnail(officer: Client, case_id: int) -> None:
    pdf = upload(officer, case_id, samples.PDF, "询问笔录.pdf")
    video = upload(officer, case_id, samples.mp4(4096), "执法记录仪.mp4")
    assert pdf.get_json()["content_type"] == "application/pdf" and video.get_json()["content_type"] == "video/mp4"
    assert pdf.get_json()["thumbnail_sha256"] is None
    problem(officer.get(f"/api/v1/evidence/{pdf.get_json()['id']}/thumbnail"), 404)


@pytest.mark.parametrize(("content", "detected"), [(samples.ELF, "application/x-"), (samples.SHELL, "text/x-shellscript")])
def test_a_type_not_allowed_is_415_naming_it_and_nothing_is_stored(
    officer: Client, case_id: int, core: Core, content: bytes, detected: str
) -> None:
    body = problem(upload(officer, case_id, content, "photo.jpg"), 415)  # the name does not matter, the bytes do
    assert detected in body["detail"] and "photo.jpg" in body["detail"]
    assert evidence_count(core) == 0 and stored_files(core) == []


@pytest.fixture
def small_limit(core: Core, clock: Any) -> Client:
    settings = replace(core.settings, max_evidence_bytes=10_000)
    http = create_app(Core(settings, clock=clock, db=core.db)).test_client()
    return Client(http, "officer1")


def test_over_the_limit_is_413_and_nothing_is_stored(small_limit: Client, core: Core) -> None:
    case_id = open_case(small_limit)
    problem(upload(small_limit, case_id, samples.mp4(10_001), "video.mp4"), 413)
    assert evidence_count(core) == 0 and stored_files(core) == []
    assert upload(small_limit, case_id, samples.mp4(10_000), "video.mp4").status_code == 201


def test_a_declared_length_over_the_limit_is_refused_unread(small_limit: Client, core: Core) -> None:
    case_id = open_case(small_limit)
    head, tail = samples.multipart_frame({}, "video.mp4")
    body = samples.GeneratedBody(head, 5_000_000, tail)
    response = send_stream(small_limit, "POST", f"/api/v1/cases/{case_id}/evidence", body,
                           len(head) + 5_000_000 + len(tail), samples.CONTENT_TYPE)
    problem(response, 413)
    assert body.sent == 0 and stored_files(core) == []


def test_bad_metadata_names_the_fields_and_stores_nothing(officer: Client, case_id: int, core: Core) -> None:
    body = problem(upload(officer, case_id, samples.png(), captured_at="2027-01-01T00:00:00+08:00", latitude="91",
                          longitude="1", colour="red", officer_id="999999"), 422)
    assert {e["field"] for e in body["errors"]} == {"captured_at", "latitude", "colour", "officer_id"}
    problem(upload(officer, case_id, samples.png(), latitude="23.1"), 422)
    assert evidence_count(core) == 0 and stored_files(core) == []


def test_no_file_part_and_not_multipart_are_422(officer: Client, case_id: int) -> None:
    body = samples.multipart({"title": "x"}, "a.png", b"", name="attachment")
    problem(officer.post(f"/api/v1/cases/{case_id}/evidence", data=body, content_type=samples.CONTENT_TYPE), 422)
    problem(officer.post(f"/api/v1/cases/{case_id}/evidence", json={"file": "x"}), 422)
    truncated = samples.multipart({}, "a.png", samples.png())[:-10]
    problem(officer.post(f"/api/v1/cases/{case_id}/evidence", data=truncated, content_type=samples.CONTENT_TYPE), 422)


# -- scope and immutability -----------------------------------------------------------------------------------
def test_evidence_of_a_case_the_user_may_not_see_is_404(officer: Client, case_id: int, login: Any, core: Core) -> None:
    item = upload(officer, case_id, samples.png()).get_json()
    other = login("officer3")  # 越秀: another agency
    problem(upload(other, case_id, samples.png()), 404)
    problem(other.get(f"/api/v1/cases/{case_id}/evidence"), 404)
    problem(other.get(f"/api/v1/evidence/{item['id']}"), 404)
    problem(other.get(f"/api/v1/evidence/{item['id']}/content"), 404)
    problem(officer.get("/api/v1/cases/999999/evidence"), 404)
    assert login("supervisor1").get(f"/api/v1/evidence/{item['id']}").status_code == 200  # oversees the city
    problem(login("supervisor1").post(f"/api/v1/cases/{case_id}/evidence", data=samples.multipart({}, "a.png", samples.png()),
                                      content_type=samples.CONTENT_TYPE), 403)
    assert evidence_count(core) == 1


def test_evidence_cannot_be_changed_only_corrected(officer: Client, case_id: int, http: Any) -> None:
    first = upload(officer, case_id, samples.png(colour="red"), "a.png").get_json()
    for method in (http.put, http.delete, http.patch):
        assert method(f"/api/v1/evidence/{first['id']}", headers=officer._headers()).status_code == 405
    problem(upload(officer, case_id, samples.png(colour="blue"), "b.png", corrects_id="999999"), 422)
    second = upload(officer, case_id, samples.png(colour="blue"), "b.png", corrects_id=str(first["id"]),
                    description="更正：原照片拍错货架").get_json()
    assert second["corrects_id"] == first["id"]
    again = officer.get(f"/api/v1/evidence/{first['id']}").get_json()
    assert again["corrected_by"] == [second["id"]] and again["sha256"] == first["sha256"]


# -- resumable upload -----------------------------------------------------------------------------------------
def patch(client: Client, upload_id: str, offset: int, body: Any, length: int | None = None) -> Any:
    url = f"/api/v1/uploads/{upload_id}"
    if length is not None:
        return send_stream(client, "PATCH", url, body, length, "application/offset+octet-stream", {"Upload-Offset": str(offset)})
    headers = {**client._headers(), "Upload-Offset": str(offset)}
    return client.http.patch(url, data=body, headers=headers, content_type="application/offset+octet-stream")


def test_a_resumed_upload_ends_with_the_right_hash(officer: Client, case_id: int, core: Core) -> None:
    size = 3 * 1024 * 1024 + 123
    whole = b"".join(samples.GeneratedBody.payload_blocks(size))
    created = officer.post(f"/api/v1/cases/{case_id}/uploads", json={
        "length": size, "filename": "执法记录仪.mp4", "metadata": {"device_id": "DSJ-0012", "title": "现场执法视频"},
    })
    assert created.status_code == 201, created.get_json()
    upload_id = created.get_json()["id"]
    assert created.headers["Location"] == f"/api/v1/uploads/{upload_id}"

    assert patch(officer, upload_id, 0, whole[:1_000_000]).status_code == 204
    # The connection drops 700 000 bytes into a 2 MB chunk: what arrived is kept.
    dropped = samples.GeneratedBody(b"", 0, b"")
    dropped.pieces = iter([whole[1_000_000:3_000_000]])
    dropped.stop_after = 700_000
    response = patch(officer, upload_id, 1_000_000, dropped, length=2_000_000)
    assert response.status_code == 400
    head = officer.http.head(f"/api/v1/uploads/{upload_id}", headers=officer._headers())
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "1700000"
    assert head.headers["Upload-Length"] == str(size)
    problem(officer.post(f"/api/v1/uploads/{upload_id}/finish"), 409)  # bytes missing
    problem(patch(officer, upload_id, 1_000_000, whole[1_000_000:]), 409)  # not where it stands
    assert evidence_count(core) == 0
    done = patch(officer, upload_id, 1_700_000, whole[1_700_000:])
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(size)

    finished = officer.post(f"/api/v1/uploads/{upload_id}/finish")
    assert finished.status_code == 201, finished.get_json()
    item = finished.get_json()
    assert item["sha256"] == hashlib.sha256(whole).hexdigest() and item["size"] == size
    assert item["content_type"] == "video/mp4" and item["device_id"] == "DSJ-0012"
    assert officer.get(f"/api/v1/evidence/{item['id']}/content").data == whole
    assert not list((core.settings.data_dir / "uploads").iterdir())
    problem(officer.post(f"/api/v1/uploads/{upload_id}/finish"), 409)


def test_abandoned_uploads_expire(officer: Client, case_id: int, core: Core, clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    upload_id = officer.post(f"/api/v1/cases/{case_id}/uploads", json={"length": 100, "filename": "a.mp4"}).get_json()["id"]
    assert patch(officer, upload_id, 0, samples.MP4_HEAD).status_code == 204
    part = core.settings.data_dir / "uploads" / f"{upload_id}.part"
    assert part.exists()
    monkeypatch.setenv("ZHIFA_DATABASE_URL", core.db.url)
    monkeypatch.setenv("ZHIFA_DATA_DIR", str(core.settings.data_dir))
    monkeypatch.setenv("ZHIFA_NOW", (clock.now() + timedelta(hours=71)).isoformat())
    assert "expired 0" in CliRunner().invoke(main, ["evidence", "expire-uploads"], catch_exceptions=False).output
    monkeypatch.setenv("ZHIFA_NOW", (clock.now() + timedelta(hours=73)).isoformat())
    assert "expired 1" in CliRunner().invoke(main, ["evidence", "expire-uploads"], catch_exceptions=False).output
    assert not part.exists()
    assert officer.get(f"/api/v1/uploads/{upload_id}").get_json()["status"] == "expired"
    problem(patch(officer, upload_id, 100, b"x"), 409)
    problem(officer.post(f"/api/v1/uploads/{upload_id}/finish"), 409)


def test_resumable_upload_refusals(officer: Client, case_id: int, login: Any, core: Core) -> None:
    problem(officer.post(f"/api/v1/cases/{case_id}/uploads", json={"length": 3 * 1024**3, "filename": "a.mp4"}), 413)
    problem(officer.post(f"/api/v1/cases/{case_id}/uploads", json={"length": "10", "filename": "a.mp4"}), 422)
    problem(officer.post(f"/api/v1/cases/{case_id}/uploads", json={"length": 10, "filename": "a.mp4",
                                                                     "metadata": {"latitude": 200, "longitude": 1}}), 422)
    problem(login("officer3").post(f"/api/v1/cases/{case_id}/uploads", json={"length": 10, "filename": "a.mp4"}), 404)
    upload_id = officer.post(f"/api/v1/cases/{case_id}/uploads", json={"length": 10, "filename": "a.sh"}).get_json()["id"]
    colleague = login("officer2")  # same agency, not their upload
    assert colleague.http.head(f"/api/v1/uploads/{upload_id}", headers=colleague._headers()).status_code == 404
    problem(colleague.get(f"/api/v1/uploads/{upload_id}"), 404)
    problem(officer.get("/api/v1/uploads/not-a-uuid"), 404)
    problem(patch(officer, upload_id, 0, b"#!/bin/sh\nrm -rf /\n"), 413)  # 19 bytes into 10: refused unread
    assert officer.get(f"/api/v1/uploads/{upload_id}").get_json()["offset"] == 0
    assert patch(officer, upload_id, 0, b"#!/bin/sh\n").status_code == 204
    problem(officer.post(f"/api/v1/uploads/{upload_id}/finish"), 415)
    assert evidence_count(core) == 0 and stored_files(core) == []


# -- memory ------------------------------------------------------------------------------------------------------
@pytest.fixture
def sqlite_officer(sqlite_db: Database, clock: Any, tmp_path: Path) -> Iterator[tuple[Client, Core]]:
    """Memory does not depend on the database: this one runs once, on SQLite. The gigabyte is spooled
    and stored under a data folder in /dev/shm where there is one: the test measures the process's
    memory, and a shared CI disk would only make it slow (the server code is the same)."""
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else tmp_path) as data_dir:
        settings = replace(from_env({}), database_url=sqlite_db.url, data_dir=Path(data_dir), token_ttl_seconds=400 * 86400)
        core = Core(settings, clock=clock, db=sqlite_db)
        yield Client(create_app(core).test_client(), "officer1"), core
        with sqlite_db.transaction() as session:
            empty_case_tables(session)


def test_a_1_gb_upload_streams_with_flat_memory(sqlite_officer: tuple[Client, Core]) -> None:
    """The body is generated while the server reads it; neither side ever holds it. Peak Python heap
    during the upload stays under 16 MiB and the process's peak RSS grows by less than 64 MiB."""
    officer, _ = sqlite_officer
    case_id = open_case(officer)
    size = 1024**3
    head, tail = samples.multipart_frame({"title": "执法记录仪全程录像"}, "record.mp4")
    expected = hashlib.sha256()
    for block in samples.GeneratedBody.payload_blocks(size):
        expected.update(block)
    body = samples.GeneratedBody(head, size, tail)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        response = send_stream(officer, "POST", f"/api/v1/cases/{case_id}/evidence", body,
                               len(head) + size + len(tail), samples.CONTENT_TYPE)
        _, heap_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert item["size"] == size and item["sha256"] == expected.hexdigest()
    assert heap_peak < 16 * 1024 * 1024, heap_peak
    assert rss_growth_kib < 64 * 1024, rss_growth_kib


def test_a_dropped_multipart_upload_leaves_nothing(officer: Client, case_id: int, core: Core) -> None:
    head, tail = samples.multipart_frame({"title": "录像"}, "record.mp4")
    size = 5 * 1024 * 1024
    body = samples.GeneratedBody(head, size, tail, stop_after=3 * 1024 * 1024)  # the connection drops
    response = send_stream(officer, "POST", f"/api/v1/cases/{case_id}/evidence", body, len(head) + size + len(tail),
                           samples.CONTENT_TYPE)
    assert response.status_code == 400
    assert evidence_count(core) == 0 and stored_files(core) == []


def test_a_body_without_its_boundary_is_refused_without_collecting_it(officer: Client, case_id: int, core: Core) -> None:
    size = 8 * 1024 * 1024
    body = samples.GeneratedBody(b"", size, b"")  # bytes, but never the declared boundary
    response = send_stream(officer, "POST", f"/api/v1/cases/{case_id}/evidence", body, size, samples.CONTENT_TYPE)
    assert problem(response, 422)["errors"][0]["field"] == "file"
    assert body.sent < size and evidence_count(core) == 0


def test_the_audit_event_of_a_refused_upload_is_not_written(officer: Client, case_id: int, core: Core) -> None:
    with core.unit() as unit:
        before = unit.session.scalar(select(func.count()).select_from(AuditEvent))
    problem(upload(officer, case_id, samples.SHELL, "x.png"), 415)
    with core.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(AuditEvent)) == before

"""The electronic case file: export (API and CLI), what the manifest holds, `zhifa efile verify` naming any
changed byte, archiving that freezes a case and records the file's hash, and the timeline.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine import audit as audit_module
from engine.cli import main
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.demo import run_steps
from engine.efile import verify_zip
from engine.models import AuditEvent
from tests.api.conftest import Client
from tests.api.test_documents_api import INQUIRY
from tests.support import evidence_samples as samples

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
ALL_STEPS = ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice", "record_statement", "decide",
             "serve_decision", "record_payment", "close_case", "approve_closure", "archive"]


def open_case(officer: Client) -> int:
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    response = officer.post("/api/v1/cases", json={"matter_code": "440201003001", "party": PARTY, "officer_ids": ids,
                                                   "summary": "投诉：未明码标价"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def add_evidence(officer: Client, case_id: int, content: bytes, filename: str, **fields: str) -> dict[str, Any]:
    response = officer.post(f"/api/v1/cases/{case_id}/evidence", data=samples.multipart(fields, filename, content),
                            content_type=samples.CONTENT_TYPE)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def officer(login: Any) -> Client:
    return login("officer1")


@pytest.fixture
def case_with_evidence(officer: Client) -> tuple[int, list[dict[str, Any]]]:
    case_id = open_case(officer)
    items = [add_evidence(officer, case_id, samples.png(), "现场照片.png", title="价签缺失", device_id="DSJ-0012"),
             add_evidence(officer, case_id, samples.PDF, "询问笔录.pdf")]
    return case_id, items


def efile_of(officer: Client, case_id: int, tmp_path: Path) -> Path:
    response = officer.get(f"/api/v1/cases/{case_id}/efile")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/zip"
    path = tmp_path / "efile.zip"
    path.write_bytes(response.data)
    assert response.headers["ETag"] == f'"{hashlib.sha256(response.data).hexdigest()}"'
    return path


def rewrite(source: Path, target: Path, change: Any) -> None:
    """Copy a ZIP member by member, letting `change(name, data)` return new bytes (or None to drop it)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info.filename))
            if data is not None:
                new.writestr(info.filename, data)


def test_the_efile_holds_case_party_evidence_chain_procedure_and_path(
    officer: Client, case_with_evidence: tuple[int, list[dict[str, Any]]], tmp_path: Path, core: Core,
) -> None:
    case_id, items = case_with_evidence
    path = efile_of(officer, case_id, tmp_path)
    with zipfile.ZipFile(path) as z:
        body = json.loads(z.read("manifest.json"))
        names = set(z.namelist())
        index = z.read("index.html").decode("utf-8")
        photo = z.read(body["evidence"][0]["file"])
    assert body["case"]["number"] == "穗天市监〔2026〕1号" and body["party"]["name"] == PARTY["name"]
    assert body["procedure"]["process_id"] == "general_punishment" and body["procedure"]["version"] >= 1
    assert body["documents"] == []
    assert [e["sha256"] for e in body["evidence"]] == [i["sha256"] for i in items]
    assert body["evidence"][0]["device_id"] == "DSJ-0012" and hashlib.sha256(photo).hexdigest() == items[0]["sha256"]
    assert names == {"manifest.json", "index.html", *(e["file"] for e in body["evidence"])}
    events = body["audit"]["events"]
    assert [e["action"] for e in events] == ["case.opened", "evidence.added", "evidence.added"]
    assert body["audit"]["head"] == events[-1]["hash"]
    assert "电子卷宗" in index and "穗天市监〔2026〕1号" in index and items[1]["sha256"] in index
    assert verify_zip(path) == []
    run_steps(core, case_id, ["verify_clue", "approve_filing"])
    body = json.loads(zipfile.ZipFile(efile_of(officer, case_id, tmp_path)).read("manifest.json"))
    assert [s["bpmn_id"] for s in body["path"]] == ["verify_clue", "approve_filing"]
    assert body["path"][0]["by"] and body["path"][0]["state"] == "completed"


def test_the_efile_holds_the_issued_documents_and_a_changed_pdf_is_named(
    officer: Client, case_with_evidence: Any, tmp_path: Path,
) -> None:
    case_id, _ = case_with_evidence
    issued = officer.post(f"/api/v1/cases/{case_id}/documents", json={"template": "inquiry_record", "data": INQUIRY})
    assert issued.status_code == 201, issued.get_json()
    doc = issued.get_json()
    path = efile_of(officer, case_id, tmp_path)
    with zipfile.ZipFile(path) as z:
        body = json.loads(z.read("manifest.json"))
        [listed] = body["documents"]
        pdf = z.read(listed["file"])
    assert (listed["number"], listed["sha256"]) == (doc["number"], doc["sha256"])
    assert pdf == officer.get(f"/api/v1/documents/{doc['id']}/pdf").data and hashlib.sha256(pdf).hexdigest() == doc["sha256"]
    assert verify_zip(path) == []

    changed = tmp_path / "changed.zip"
    rewrite(path, changed, lambda name, data: data[:-10] + b"0000000000" if name == listed["file"] else data)
    result = CliRunner().invoke(main, ["efile", "verify", str(changed)], catch_exceptions=False)
    assert result.exit_code == 1 and listed["file"] in result.output


def test_the_export_is_audited_in_the_system_chain(
    officer: Client, case_with_evidence: Any, tmp_path: Path, core: Core,
) -> None:
    case_id, _ = case_with_evidence
    path = efile_of(officer, case_id, tmp_path)

    events = officer.get(f"/api/v1/cases/{case_id}/audit").get_json()["items"]
    assert "efile.exported" not in [e["action"] for e in events]  # the case's own chain is not touched by a read
    with core.unit() as unit:
        exported = [e for e in unit.session.scalars(select(AuditEvent).where(AuditEvent.case_id.is_(None)))
                    if e.action == "efile.exported"]
        assert audit_module.verify(unit).ok
    assert [e.detail["sha256"] for e in exported] == [hashlib.sha256(path.read_bytes()).hexdigest()]
    assert exported[0].detail["case_id"] == case_id and exported[0].actor_id is not None


@pytest.mark.parametrize("tamper", ["evidence byte", "manifest sha", "manifest party", "audit event", "dropped event",
                                    "extra file", "missing file", "index"])
def test_efile_verify_names_what_was_changed(
    officer: Client, case_with_evidence: Any, tmp_path: Path, tamper: str,
) -> None:
    case_id, _ = case_with_evidence
    path = efile_of(officer, case_id, tmp_path)
    body = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    photo_name = body["evidence"][0]["file"]

    def change(name: str, data: bytes) -> bytes | None:
        if tamper == "evidence byte" and name == photo_name:
            return data[:100] + bytes([data[100] ^ 1]) + data[101:]
        if tamper == "missing file" and name == photo_name:
            return None
        if tamper == "index" and name == "index.html":
            return data.replace("询问笔录".encode(), "询问记录".encode())
        if name == "manifest.json" and tamper.startswith(("manifest", "audit", "dropped")):
            m = json.loads(data)
            if tamper == "manifest sha":
                m["evidence"][0]["sha256"] = hashlib.sha256(b"other").hexdigest()
            elif tamper == "manifest party":
                m["party"]["name"] = "另一家公司"
            elif tamper == "audit event":
                m["audit"]["events"][1]["detail"]["size"] = 1
            else:
                del m["audit"]["events"][1]
            return json.dumps(m, ensure_ascii=False).encode()
        return data

    changed = tmp_path / "changed.zip"
    rewrite(path, changed, change)
    if tamper == "extra file":
        with zipfile.ZipFile(changed, "a") as z:
            z.writestr("evidence/999999_extra.png", samples.png())
    result = CliRunner().invoke(main, ["efile", "verify", str(changed)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    expected = {
        "evidence byte": photo_name, "manifest sha": photo_name, "manifest party": "manifest.json",
        "audit event": "data digest", "dropped event": "does not follow", "extra file": "evidence/999999_extra.png",
        "missing file": f"{photo_name}: missing", "index": "index.html",
    }[tamper]
    assert expected in result.output
    ok = CliRunner().invoke(main, ["efile", "verify", str(path)], catch_exceptions=False)
    assert ok.exit_code == 0 and ok.output.startswith("ok:")


def test_a_flipped_byte_anywhere_in_the_zip_is_caught(
    officer: Client, case_with_evidence: Any, tmp_path: Path, core: Core, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A byte of a member's data fails its hash (or the ZIP's CRC); a byte of the ZIP's own headers (a
    timestamp in the central directory, say) fails --recorded: the export's hash is in the audit trail."""
    case_id, _ = case_with_evidence
    original = efile_of(officer, case_id, tmp_path)
    data = original.read_bytes()
    monkeypatch.setenv("ZHIFA_DATABASE_URL", core.db.url)
    ok = CliRunner().invoke(main, ["efile", "verify", "--recorded", str(original)], catch_exceptions=False)
    assert ok.exit_code == 0 and "recorded: export event" in ok.output, ok.output
    with zipfile.ZipFile(original) as z:
        members = [(i.header_offset, i.compress_size) for i in z.infolist()]
    for offset in [h + 60 + size // 2 for h, size in members] + [len(data) - 30, len(data) - 200]:
        damaged = bytearray(data)
        damaged[offset] ^= 0x40
        target = tmp_path / f"damaged-{offset}.zip"
        target.write_bytes(bytes(damaged))
        result = CliRunner().invoke(main, ["efile", "verify", "--recorded", str(target)], catch_exceptions=False)
        assert result.exit_code == 1, (offset, result.output)
        assert target.name in result.output or verify_zip(target), offset
    member_offsets = [h + 60 + size // 2 for h, size in members]
    for offset in member_offsets:
        damaged = bytearray(data)
        damaged[offset] ^= 0x40
        target = tmp_path / f"member-{offset}.zip"
        target.write_bytes(bytes(damaged))
        assert verify_zip(target), offset  # caught without the database too


def test_cli_export_writes_the_same_file(core: Core, officer: Client, case_with_evidence: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    case_id, items = case_with_evidence
    monkeypatch.setenv("ZHIFA_DATABASE_URL", core.db.url)
    monkeypatch.setenv("ZHIFA_DATA_DIR", str(core.settings.data_dir))
    out = tmp_path / "卷宗.zip"
    result = CliRunner().invoke(main, ["efile", "export", str(case_id), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert verify_zip(out) == []
    body = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert [e["sha256"] for e in body["evidence"]] == [i["sha256"] for i in items]
    missing = CliRunner().invoke(main, ["efile", "export", "999999", "-o", str(tmp_path / "x.zip")], catch_exceptions=False)
    assert missing.exit_code == 1 and "999999" in missing.output


def test_the_efile_of_a_case_the_user_may_not_see_is_refused(login: Any, case_with_evidence: Any) -> None:
    case_id, _ = case_with_evidence
    assert login("officer3").get(f"/api/v1/cases/{case_id}/efile").status_code == 403
    assert login("officer1").get("/api/v1/cases/999999/efile").status_code == 404


# -- archiving ------------------------------------------------------------------------------------------------
def close(core: Core, clock: FrozenClock, case_id: int) -> None:
    """Through the general procedure to closed, each step on a day its form data fits."""
    for day, steps in (((3, 2), ALL_STEPS[:2]), ((3, 10), ALL_STEPS[2:4]), ((3, 12), ALL_STEPS[4:5]), ((3, 13), ALL_STEPS[5:6]),
                       ((3, 20), ALL_STEPS[6:7]), ((3, 23), ALL_STEPS[7:8]), ((3, 30), ALL_STEPS[8:])):
        clock.set(datetime(2026, *day, 10, 0, tzinfo=CHINA_TZ))
        run_steps(core, case_id, steps)


def test_archiving_freezes_a_closed_case_and_records_the_file_hash(
    officer: Client, login: Any, case_with_evidence: Any, core: Core, clock: FrozenClock, tmp_path: Path,
) -> None:
    case_id, _ = case_with_evidence
    head = login("head1")
    refused = head.post(f"/api/v1/cases/{case_id}/archive")
    assert refused.status_code == 409 and "closed" in refused.get_json()["detail"]
    close(core, clock, case_id)
    assert officer.get(f"/api/v1/cases/{case_id}").get_json()["status"] == "closed"
    assert login("officer3").post(f"/api/v1/cases/{case_id}/archive").status_code == 403

    archived = head.post(f"/api/v1/cases/{case_id}/archive")
    assert archived.status_code == 201, archived.get_json()
    record = archived.get_json()
    assert officer.get(f"/api/v1/cases/{case_id}").get_json()["status"] == "archived"
    content = officer.get(f"/api/v1/cases/{case_id}/archive/content")
    assert hashlib.sha256(content.data).hexdigest() == record["sha256"] and len(content.data) == record["size"]
    stored = tmp_path / "archived.zip"
    stored.write_bytes(content.data)
    assert verify_zip(stored) == []
    events = officer.get(f"/api/v1/cases/{case_id}/audit").get_json()["items"]
    assert events[-1]["action"] == "case.archived" and events[-1]["detail"]["sha256"] == record["sha256"]
    assert officer.get(f"/api/v1/cases/{case_id}/archive").get_json()["sha256"] == record["sha256"]

    # Frozen: no more evidence (also not by a resumable upload), no second archive.
    assert officer.post(f"/api/v1/cases/{case_id}/evidence", data=samples.multipart({}, "x.png", samples.png()),
                        content_type=samples.CONTENT_TYPE).status_code == 409
    assert officer.post(f"/api/v1/cases/{case_id}/uploads", json={"length": 10, "filename": "a.mp4"}).status_code == 409
    assert head.post(f"/api/v1/cases/{case_id}/archive").status_code == 409
    assert officer.get(f"/api/v1/cases/{case_id}/evidence").status_code == 200  # reading goes on


def test_an_upload_started_before_archiving_cannot_finish_after(
    officer: Client, login: Any, case_with_evidence: Any, core: Core, clock: FrozenClock,
) -> None:
    case_id, _ = case_with_evidence
    upload_id = officer.post(f"/api/v1/cases/{case_id}/uploads", json={"length": len(samples.PDF), "filename": "a.pdf"}).get_json()["id"]
    assert officer.http.patch(f"/api/v1/uploads/{upload_id}", data=samples.PDF, content_type="application/offset+octet-stream",
                              headers={**officer._headers(), "Upload-Offset": "0"}).status_code == 204
    close(core, clock, case_id)
    assert login("head1").post(f"/api/v1/cases/{case_id}/archive").status_code == 201
    assert officer.post(f"/api/v1/uploads/{upload_id}/finish").status_code == 409


def test_archive_record_of_a_case_not_archived_is_404(officer: Client, case_with_evidence: Any) -> None:
    case_id, _ = case_with_evidence
    assert officer.get(f"/api/v1/cases/{case_id}/archive").status_code == 404


# -- timeline ---------------------------------------------------------------------------------------------------
def test_the_timeline_lists_every_event_with_who_and_which_step(
    officer: Client, case_with_evidence: Any, core: Core, login: Any,
) -> None:
    case_id, _ = case_with_evidence
    run_steps(core, case_id, ["verify_clue", "approve_filing"])
    body = officer.get(f"/api/v1/cases/{case_id}/timeline").get_json()
    items = body["items"]
    assert body["number"] == "穗天市监〔2026〕1号"
    assert [i["action"] for i in items] == ["case.opened", "evidence.added", "evidence.added", "task.completed", "task.completed"]
    assert [i["id"] for i in items] == sorted(i["id"] for i in items)
    assert items[0]["actor"]["name"] and items[0]["step"] is None
    assert [i["step"]["name"] for i in items[3:]] == ["核查线索", "立案审批"]
    assert items[3]["step"]["bpmn_id"] == "verify_clue" and items[4]["actor"]["name"] != items[3]["actor"]["name"]
    assert login("officer3").get(f"/api/v1/cases/{case_id}/timeline").status_code == 403

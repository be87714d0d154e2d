"""The case page's documents and evidence in the browser: issuing a completed task's document (preview,
view, download), and capturing evidence at phone size through the resumable upload, which survives a
dropped chunk and shows the SHA-256 the server computed."""
from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from engine.documents.models import Document
from engine.evidence.service import part_path
from engine.record_models import EvidenceUpload
from tests.web.conftest import PHONE, open_case


def test_officer_issues_a_tasks_document_and_downloads_it(pages, server):  # type: ignore[no-untyped-def]
    case_id, _ = open_case(server, ["verify_clue", "approve_filing"])
    page = pages.login("officer1", PHONE)
    page.goto(f"/cases/{case_id}")
    section = page.locator("section#documents")
    expect(section.get_by_role("heading", level=2)).to_have_text("执法文书")
    expect(section.locator("tr.document")).to_have_count(0)
    expect(section.get_by_text("尚未制发文书。")).to_be_visible()
    todo = section.locator("li[data-task=approve_filing]")
    expect(todo).to_contain_text("立案审批")
    preview = page.request.get(todo.get_by_role("link", name="预览").get_attribute("href"))
    assert preview.status == 200 and preview.headers["content-type"] == "application/pdf"
    assert preview.body().startswith(b"%PDF")
    with server.core.unit() as unit:
        assert unit.session.scalar(select(Document).where(Document.case_id == case_id)) is None  # a preview stores nothing
    todo.get_by_role("button", name="制发立案审批的文书").click()
    expect(page.get_by_role("status")).to_contain_text("立案审批表已制发，文号")
    row = section.locator("tr.document")
    expect(row).to_have_count(1)
    with server.core.unit() as unit:
        issued = unit.session.scalar(select(Document).where(Document.case_id == case_id))
        doc_number, code, sha = issued.number, issued.verification_code, issued.sha256
    expect(row.locator(".doc-number")).to_have_text(doc_number)
    expect(row.locator(".doc-code")).to_have_text(code)
    expect(row).to_contain_text("2026-03-")
    expect(section.locator("li[data-task=approve_filing]")).to_have_count(0)  # issued once only
    with page.expect_download() as download:
        row.get_by_role("link", name="下载").click()
    saved = Path(download.value.path()).read_bytes()
    assert hashlib.sha256(saved).hexdigest() == sha and download.value.suggested_filename.endswith(".pdf")
    shown = page.request.get(row.get_by_role("link", name="查看").get_attribute("href"))
    assert shown.headers["content-disposition"].startswith("inline") and hashlib.sha256(shown.body()).hexdigest() == sha


def _noise_png(path: Path, size: int = 700) -> bytes:
    """A photo-like image larger than two upload chunks (noise does not compress)."""
    from PIL import Image

    rng = random.Random(7)
    image = Image.frombytes("RGB", (size, size), bytes(rng.getrandbits(8) for _ in range(size * size * 3)))
    image.save(path, format="PNG")
    return path.read_bytes()


def test_officer_uploads_a_photo_at_phone_size_resuming_after_a_dropped_chunk(pages, server, tmp_path):  # type: ignore[no-untyped-def]
    case_id, _ = open_case(server, ["verify_clue"])
    content = _noise_png(tmp_path / "现场照片.png")
    assert len(content) > 2 * 524288
    page = pages.login("officer1", PHONE)
    page.goto(f"/cases/{case_id}")
    section = page.locator("section#evidence")
    expect(section.locator("li.empty")).to_have_text("尚无证据。")
    picker = section.get_by_label("照片、录音或视频")
    expect(picker).to_have_attribute("accept", "image/*,audio/*,video/*")
    expect(picker).to_have_attribute("capture", "environment")

    patches: list[str] = []

    def drop_second_chunk(route):  # type: ignore[no-untyped-def]
        if route.request.method == "PATCH":
            patches.append(route.request.headers["upload-offset"])
            if len(patches) == 2:
                route.abort("connectionreset")  # the phone loses its connection mid-upload
                return
        route.continue_()

    page.route(re.compile(r".*/uploads/[0-9a-f-]{36}$"), drop_second_chunk)
    picker.set_input_files(str(tmp_path / "现场照片.png"))
    section.get_by_label("标题").fill("现场货架照片")
    section.get_by_role("button", name="上传").click()
    sha = hashlib.sha256(content).hexdigest()
    expect(page.locator("#evidence-status code.hash")).to_have_text(sha)
    expect(page.locator("#evidence-status")).to_contain_text("已保存。SHA-256：")
    item = section.locator("li.evidence-item")
    expect(item).to_have_count(1)
    expect(item.locator(".title")).to_have_text("现场货架照片")
    expect(item.locator("code.hash")).to_have_text(sha)
    thumbnail = item.get_by_role("img", name="现场货架照片")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth > 0 && img.naturalWidth <= 320")
    # The dropped chunk was sent again from the offset the server kept; nothing twice, nothing lost.
    assert patches == ["0", "524288", "524288", "1048576"][: len(patches)] and len(patches) == -(-len(content) // 524288) + 1
    with server.core.unit() as unit:
        upload = unit.session.scalar(select(EvidenceUpload).where(EvidenceUpload.case_id == case_id))
        assert upload.status == "finished"
    assert not part_path(server.core, upload.id).exists()
    pages.errors[:] = [e for e in pages.errors if "ERR_CONNECTION_RESET" not in e]  # the drop we caused
    # Reloaded, the page shows the same item (the gallery is the server's, not the script's).
    page.reload()
    expect(section.locator("li.evidence-item code.hash")).to_have_text(sha)

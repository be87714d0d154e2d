"""Evidence capture metadata at phone size: the capture time comes from the file (lastModified), the device
from the browser, the location from navigator.geolocation (granted to the page); the server refuses a time
later than Zhifa's clock and a latitude out of range at their fields, and the gallery shows what was stored."""
from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from engine.clock import CHINA_TZ
from engine.record_models import Evidence
from tests.web.conftest import PHONE, open_case

GUANGZHOU = {"latitude": 23.1291, "longitude": 113.2644}


def _photo(path: Path) -> Path:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, format="PNG")
    path.write_bytes(out.getvalue())
    return path


def test_upload_with_capture_time_device_and_location(pages, server, tmp_path):  # type: ignore[no-untyped-def]
    case_id, _ = open_case(server, ["verify_clue"])
    photo = _photo(tmp_path / "现场.png")
    stamp = datetime(2026, 3, 1, 15, 20, tzinfo=CHINA_TZ).timestamp()
    os.utime(photo, (stamp, stamp))  # the file was taken yesterday by Zhifa's clock
    page = pages.login("officer1", PHONE)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation(GUANGZHOU)
    page.goto(f"/cases/{case_id}")
    section = page.locator("section#evidence")
    fresh = _photo(tmp_path / "刚拍.png")  # written now by the machine's clock: later than Zhifa's frozen clock
    section.get_by_label("照片、录音或视频").set_input_files(str(fresh))
    expect(section.get_by_label("采集设备")).not_to_have_value("")
    expect(section.get_by_label("采集时间（北京时间）")).to_have_value("")  # not taken: it would be in the future
    section.get_by_label("照片、录音或视频").set_input_files(str(photo))
    expect(section.get_by_label("采集时间（北京时间）")).to_have_value("2026-03-01T15:20")  # from lastModified
    agent = page.evaluate("navigator.userAgent")
    expect(section.get_by_label("采集设备")).to_have_value(agent[:120])
    section.get_by_role("button", name="使用当前位置").click()
    expect(section.get_by_label("纬度")).to_have_value("23.129100")
    expect(section.get_by_label("经度")).to_have_value("113.264400")

    # A time later than Zhifa's clock and a latitude out of range: refused at their fields, nothing stored.
    section.get_by_label("采集时间（北京时间）").fill("2026-03-02T10:00")  # the clock stands at 09:00
    section.get_by_label("纬度").fill("95")
    section.get_by_label("标题").fill("现场照片")
    section.get_by_role("button", name="上传").click()
    expect(page.locator("#evidence-captured_at-errors")).to_have_text("请输入不晚于当前时间的时间。")
    expect(page.locator("#evidence-latitude-errors")).to_have_text("请输入 -90 至 90 之间的纬度。")
    expect(section.get_by_label("纬度")).to_have_attribute("aria-invalid", "true")
    with server.core.unit() as unit:
        assert unit.session.scalar(select(Evidence).where(Evidence.case_id == case_id)) is None

    section.get_by_label("采集时间（北京时间）").fill("2026-03-02T08:30")
    section.get_by_role("button", name="使用当前位置").click()
    expect(section.get_by_label("纬度")).to_have_value("23.129100")
    section.get_by_role("button", name="上传").click()
    expect(page.locator("#evidence-status code.hash")).to_be_visible()
    expect(page.locator("#evidence-captured_at-errors li")).to_have_count(0)
    item = section.locator("li.evidence-item")
    expect(item).to_have_count(1)
    expect(item.locator(".captured")).to_have_text("采集于 2026-03-02 08:30")
    expect(item.locator(".device")).to_have_text(f"采集设备: {agent[:120]}")
    expect(item.locator(".position")).to_have_text("采集地点: 23.129100, 113.264400")
    with server.core.unit() as unit:
        stored = unit.session.scalar(select(Evidence).where(Evidence.case_id == case_id))
        assert stored.captured_at == datetime(2026, 3, 2, 8, 30, tzinfo=CHINA_TZ)
        assert (stored.latitude, stored.longitude, stored.device_id) == (23.1291, 113.2644, agent[:120])
    # The refusal's 422 is the server's answer the page shows, not an error of the page.
    pages.errors[:] = [e for e in pages.errors if "status of 422" not in e]

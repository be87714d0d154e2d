"""The public pages in a real browser (Chromium through Playwright), without login: the search finds a party
by part of its name and a natural person shows as 王某某; the QR code's URL lands on the verification page;
a complaint with an attachment leads to its tracking page; phone size; the English switch; the read-only
diagram. Any console error fails the test (tests/web/conftest.py)."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from engine.publicity import sweep
from engine.publicity.models import ComplaintAttachment
from tests.api.test_document_qr import issued_pdf
from tests.support.documents import pdf_qr_codes
from tests.support.publicity import COMPANY, PERSON, open_case, schedule
from tests.web.conftest import PHONE, diagram_ready

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def publish(core: Any, party: dict[str, Any], number: str) -> None:
    case_id = open_case(core, party)
    schedule(core, case_id, {"decision_document_number": number, "decided_at": "2026-03-02T08:00:00+08:00",
                             "penalties": ["fine"], "fine_amount": 3000, "confiscation_value": 0})
    sweep(core)


def fits_the_phone(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"


def test_the_search_finds_a_party_by_part_of_its_name_at_phone_size(pages, server):  # type: ignore[no-untyped-def]
    publish(server.core, PERSON, "穗天市监罚〔2026〕41号")
    publish(server.core, COMPANY, "穗天市监罚〔2026〕42号")
    page = pages.new(PHONE)
    page.goto("/public")
    expect(page.get_by_role("heading", level=1)).to_have_text("行政执法信息公开")
    page.get_by_role("link", name=re.compile("^行政处罚决定公示")).click()
    page.get_by_label("当事人名称、文号或事项（可部分匹配）").fill("示例便利")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#result-count")).to_have_text("共找到 1 条已公示的处罚决定")
    expect(page.locator(".result .party")).to_contain_text("广州市天河区示例便利店有限公司")
    fits_the_phone(page)

    page.get_by_label("当事人名称、文号或事项（可部分匹配）").fill("王")
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".result .party")).to_have_text("王某某")
    page.get_by_role("link", name="穗天市监罚〔2026〕41号").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("行政处罚决定")
    record = page.locator("dl.record")
    expect(record).to_contain_text("王某某")
    expect(record).to_contain_text("罚款人民币3,000.00元")
    assert "王小明" not in page.content() and PERSON["id_number"] not in page.content()
    fits_the_phone(page)


def test_the_qr_code_of_a_document_opens_its_verification_page(pages, server):  # type: ignore[no-untyped-def]
    doc, pdf = issued_pdf(server.core)
    [[url]] = pdf_qr_codes(pdf)[:1]
    path = url.removeprefix(server.core.settings.public_base_url)
    assert path == f"/api/v1/public/documents/{doc.verification_code}"
    page = pages.new(PHONE)
    page.goto(path)  # what a phone does with the scanned URL (on this server's address)
    expect(page).to_have_url(re.compile(f"/public/verify/{doc.verification_code}$"))
    expect(page.locator("#doc-number")).to_have_text(doc.number)
    expect(page.locator("#hash-match")).to_have_text("一致")
    expect(page.locator(".verification")).not_to_contain_text(COMPANY["name"])
    fits_the_phone(page)
    # typed by hand (any case, without dashes) it lands on the same page; unknown codes: test_public_pages_http.py
    page.goto("/public/verify")
    page.get_by_label("验证码").fill(doc.verification_code.lower().replace("-", ""))
    page.get_by_role("button", name="核验").click()
    expect(page.locator("#doc-number")).to_have_text(doc.number)


def test_a_complaint_with_an_attachment_leads_to_its_tracking_page(pages, server):  # type: ignore[no-untyped-def]
    page = pages.new(PHONE)
    page.goto("/public/complaints/new")
    page.get_by_label("违法行为（举报）").check()
    page.get_by_label("执法事项（选填）").select_option("440201003001")
    page.get_by_label("被投诉举报的对象").fill("天河路某便利店")
    page.get_by_label("具体情况（10 至 5000 字）").fill("该店销售的饮料均未标明价格，结账时随意收费。")
    page.locator("#complainant_name").fill("陈投诉")
    page.locator("#agency").select_option("GZ-TH-SJJ")
    fits_the_phone(page)
    page.get_by_label("附件（选填）").set_input_files([{"name": "价签.png", "mimeType": "image/png", "buffer": PNG}])
    page.get_by_role("button", name="提交投诉举报").click()
    code = page.locator("#tracking-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{16}", code)
    expect(page.locator("#complaint-status")).to_have_text("已收到")
    expect(page.locator("#handled-by")).to_have_text("广州市天河区市场监督管理局")
    assert "陈投诉" not in page.content()
    with server.core.unit() as unit:
        [attachment] = unit.session.scalars(select(ComplaintAttachment)).all()
        assert attachment.filename == "价签.png" and attachment.content == PNG

    other = pages.new()
    other.goto("/public/complaints")
    other.get_by_label("查询码").fill(code.lower())
    other.get_by_role("button", name="查询状态").click()
    expect(other.locator("#complaint-status")).to_have_text("已收到")


def test_the_english_switch_and_the_read_only_diagram(pages, server):  # type: ignore[no-untyped-def]
    page = pages.new()
    page.goto("/public/catalogue")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue of matters")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#m-440201003001").get_by_role("link", name="Diagram and time limits").click()
    diagram_ready(page)
    expect(page.get_by_role("heading", name="Statutory time limits")).to_be_visible()
    assert page.locator("table.list tbody tr").count() >= 1
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", name="法定期限")).to_be_visible()

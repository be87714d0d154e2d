"""Library documents from the case page at phone size: a 询问笔录 written in the form generated from its
schema (forms/documents/inquiry_record.schema.json), refused at the field that is missing, previewed
(unnumbered, nothing stored), issued, and listed with the case's documents."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from engine.documents.models import Document
from tests.web.conftest import PHONE, open_case


def test_officer_issues_an_inquiry_record_from_the_case_page(pages, server):  # type: ignore[no-untyped-def]
    case_id, _ = open_case(server, ["verify_clue", "approve_filing"])
    page = pages.login("officer1", PHONE)
    page.goto(f"/cases/{case_id}")
    section = page.locator("section#documents")
    expect(section.locator("li[data-template=inspection_record]")).to_have_count(1)
    section.get_by_role("link", name="制作询问笔录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("询问笔录")
    page.get_by_label("询问开始时间").fill("2026-03-02T08:00")
    page.get_by_label("询问结束时间").fill("2026-03-02T08:40")
    page.get_by_label("询问地点").fill("本局询问室")
    person = page.locator("#f-person")
    person.get_by_label("公民身份号码").fill("440106198001010011")
    person.get_by_label("与当事人关系").fill("店长")
    person.get_by_label("联系电话").fill("13800000000")
    page.get_by_label("记录人").fill("李华")
    page.locator("#f-qa-0-q").fill("店内商品为何没有标价？")
    page.locator("#f-qa-0-a").fill("价签更换时遗漏，约有一周时间。")
    page.get_by_role("button", name="制发").click()  # the name of the person questioned is missing

    expect(page.locator("#form-invalid")).to_be_visible()
    expect(page.locator("#f-person-name-errors")).to_have_text("此项为必填项。")
    expect(page.locator("#f-qa-0-a")).to_have_value("价签更换时遗漏，约有一周时间。")  # what was typed stays
    with server.core.unit() as unit:
        assert unit.session.scalar(select(Document).where(Document.case_id == case_id)) is None
    page.locator("#f-person").get_by_label("姓名").fill("陈示例")

    form = page.locator("form.form")
    preview_url = form.get_by_role("button", name="预览").get_attribute("formaction")
    fields = {name: form.locator(f"[name='{name}']").input_value() for name in (
        "csrf_token", "started_at", "ended_at", "place", "person.name", "person.id_number", "person.relation",
        "person.phone", "recorder", "qa.0.q", "qa.0.a")}
    preview = page.request.post(preview_url, form=fields)
    assert preview.status == 200 and preview.headers["content-type"] == "application/pdf" and preview.body().startswith(b"%PDF")
    with server.core.unit() as unit:
        assert unit.session.scalar(select(Document).where(Document.case_id == case_id)) is None  # nothing stored

    page.get_by_role("button", name="制发").click()
    expect(page.get_by_role("status")).to_contain_text("询问笔录已制发，文号")
    with server.core.unit() as unit:
        issued = unit.session.scalar(select(Document).where(Document.case_id == case_id))
        assert issued.template == "inquiry_record.html.j2" and issued.task_id is None
        number = issued.number
    assert "询〔2026〕" in number
    row = page.locator("section#documents tr.document")
    expect(row).to_have_count(1)
    expect(row.locator(".doc-number")).to_have_text(number)
    expect(row).to_contain_text("询问笔录")

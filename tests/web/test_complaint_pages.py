"""The complaint pages in the browser: an officer finds a complaint in the inbox through the navigation, opens
a case from it (the case page follows); another complaint is refused without a reply at the reply field, then
recorded as 不予立案 with the reply the public status page shows."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from engine.models import User
from engine.publicity import complaints
from engine.publicity.models import Complaint

CLUE = {"kind": "violation", "agency": "GZ-TH-SJJ", "matter": "440201003001", "subject": "天河路某便利店",
        "content": "该店销售的饮料均未标明价格，结账时随意收费。", "complainant_name": "陈投诉"}


def _lodge(server, subject: str) -> int:  # type: ignore[no-untyped-def]
    with server.core.unit() as unit:
        code = complaints.lodge(unit, {**CLUE, "subject": subject}, []).tracking_code
        return unit.session.scalar(select(Complaint.id).where(Complaint.tracking_code == code))


def _row(server, complaint_id: int) -> tuple[str, int | None, str | None]:  # type: ignore[no-untyped-def]
    with server.core.unit() as unit:
        row = unit.session.get(Complaint, complaint_id)
        return row.status, row.case_id, row.reply


def test_an_officer_opens_a_case_from_a_complaint_and_closes_another(pages, server):  # type: ignore[no-untyped-def]
    first, second = _lodge(server, "天河路某便利店"), _lodge(server, "体育西路某餐馆")
    with server.core.unit() as unit:
        officer2 = unit.session.scalar(select(User.id).where(User.username == "officer2"))
    page = pages.login("officer1")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="投诉举报").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投诉举报")
    expect(page.locator("tr.complaint")).to_have_count(2)
    row = page.locator(f"tr.complaint[data-complaint-id='{first}']")
    expect(row).to_contain_text("违法行为")
    expect(row).to_contain_text("待核查")
    row.get_by_role("link", name="天河路某便利店").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("天河路某便利店")
    expect(page.locator("dd.deadline")).to_contain_text("市场监督管理行政处罚程序规定第十八条")
    form = page.locator("section[aria-labelledby=h-case]")
    form.get_by_label("当事人名称").fill("广州市天河区示例便利店有限公司")
    form.get_by_label("统一社会信用代码").fill("91350100M000100Y43")
    form.locator(f"input[name=officer_ids][value='{officer2}']").check()
    form.get_by_role("button", name="登记案件").click()
    expect(page.get_by_role("status")).to_contain_text("已登记")
    status, case_id, _reply = _row(server, first)
    assert status == "case_opened" and page.url.endswith(f"/cases/{case_id}")

    page.goto(f"/complaints/{second}")
    close = page.locator("section[aria-labelledby=h-close]")
    close.get_by_label("不予立案").check()
    close.get_by_role("button", name="记录处理结果").click()
    expect(page.locator("#close-reply-errors")).to_have_text("请填写给投诉举报人的答复（1至2000字）。")
    assert _row(server, second) == ("received", None, None)
    close = page.locator("section[aria-labelledby=h-close]")
    expect(close.get_by_label("不予立案")).to_be_checked()  # the choice stays
    close.get_by_label("给投诉举报人的答复").fill("经核查，该店已明码标价。")
    close.get_by_role("button", name="记录处理结果").click()
    expect(page.get_by_role("status")).to_contain_text("不予立案")
    expect(page.locator("dd.reply")).to_have_text("经核查，该店已明码标价。")
    assert _row(server, second) == ("not_filed", None, "经核查，该店已明码标价。")


def test_a_supervisor_opens_a_matter_from_a_conduct_complaint_at_phone_size(pages, server):  # type: ignore[no-untyped-def]
    from tests.web.conftest import PHONE

    with server.core.unit() as unit:
        code = complaints.lodge(unit, {"kind": "conduct", "agency": "GZ-TH-SJJ", "subject": "执法人员张明",
                                       "content": "检查时未出示执法证件，态度粗暴。"}, []).tracking_code
        conduct = unit.session.scalar(select(Complaint.id).where(Complaint.tracking_code == code))
    page = pages.login("supervisor1", PHONE)
    page.goto("/complaints")
    row = page.locator(f"tr.complaint[data-complaint-id='{conduct}']")
    expect(row).to_contain_text("执法行为")
    row.get_by_role("link", name="执法人员张明").click()
    expect(page.locator("dd.about")).to_have_text("广州市天河区市场监督管理局")
    expect(page.locator("section[aria-labelledby=h-case]")).to_have_count(0)  # no case from a conduct complaint
    form = page.locator("section[aria-labelledby=h-matter]")
    form.get_by_label("监督事由").fill("")
    form.get_by_role("button", name="立监督事项").click()
    expect(page.locator("#matter-summary-errors")).to_have_text("请填写监督事由（1至2000字）。")
    assert _row(server, conduct) == ("received", None, None)
    page.locator("section[aria-labelledby=h-matter]").get_by_label("监督事由").fill("投诉举报：检查时未出示执法证件")
    page.locator("section[aria-labelledby=h-matter]").get_by_role("button", name="立监督事项").click()
    expect(page).to_have_url(re.compile(r"/supervision/matters/\d+$"))
    expect(page.locator("dd.supervised")).to_have_text("广州市天河区市场监督管理局")
    expect(page.locator("dd.source")).to_contain_text(f"投诉 {conduct}")
    assert _row(server, conduct)[0] == "case_opened"

"""Officer pages in the browser: open a case from the catalogue, the inbox, the task form with the
server's validation errors, completing a task, the diagram marks, search, and a phone-sized screen."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine.demo import STEP_DATA
from tests.web.conftest import PHONE, diagram_ready, open_case


def marked(page, element_id: str, marker: str):  # type: ignore[no-untyped-def]
    return page.locator(f'g.djs-element.{marker}[data-element-id="{element_id}"]')


def test_officer_opens_a_case_from_the_catalogue(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("officer1")
    page.get_by_role("link", name="立案登记").click()
    page.get_by_label("执法事项（目录）").select_option("440201003001")
    page.get_by_label("法人或其他组织").check()
    page.get_by_label("当事人名称（姓名）").fill("广州市天河区示例超市有限公司")
    page.get_by_label("统一社会信用代码").fill("91350100M000100Y44")  # a wrong check character
    page.get_by_label("案情（线索摘要）").fill("投诉：价签缺失")
    page.get_by_role("button", name="登记案件").click()
    # The engine's refusals, in Chinese at their fields: first the party's, then the officers'.
    expect(page.locator("#party\\.credit_code-errors")).to_have_text("请填写有效的18位统一社会信用代码。")
    expect(page.get_by_role("alert").first).to_have_text("案件未登记：请更正标出的项目。")
    page.get_by_label("统一社会信用代码").fill("91350100M000100Y43")
    page.get_by_role("button", name="登记案件").click()
    # One officer is not enough (APL Art. 42): the error is shown at the officers field.
    expect(page.locator("#officer_ids-errors")).to_have_text("请至少选择两名持有执法证件的执法人员（《行政处罚法》第四十二条）。")
    expect(page.locator("#party\\.credit_code-errors")).to_have_count(0)
    expect(page.get_by_label("当事人名称（姓名）")).to_have_value("广州市天河区示例超市有限公司")
    page.get_by_label("李华").check()
    page.get_by_role("button", name="登记案件").click()
    expect(page.get_by_role("status")).to_contain_text("已登记")
    expect(page.get_by_role("heading", level=1)).to_contain_text("穗天市监〔2026〕1号")  # the refusals took no number
    expect(page.get_by_text("广州市天河区示例超市有限公司")).to_be_visible()
    diagram_ready(page)
    expect(marked(page, "verify_clue", "current")).to_have_count(1)
    expect(page.locator("ol.timeline li[data-action='case.opened']")).to_have_count(1)


def test_inbox_sorted_by_deadline_with_marks(pages, server):  # type: ignore[no-untyped-def]
    open_case(server, summary="只有立案期限的线索")
    _, late_number = open_case(server, ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice"])
    _, soon_number = open_case(server, ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice"])
    # The statement period (5 working days from service on 2026-03-12) ends 2026-03-19: the first case
    # is looked at two days before its end, so it is yellow; advance the clock past it to make it red.
    server.clock.set(server.clock.now().replace(day=18))
    page = pages.login("officer1")
    items = page.locator("li.task")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_have_class(re.compile("mark-yellow"))
    expect(items.nth(0).locator(".left")).to_contain_text("剩余")
    # 核查线索 has no limit of its own: the filing period of its stage (P2, ends 2026-03-23) binds it.
    expect(items.nth(2)).to_have_class(re.compile("mark-green"))
    expect(items.nth(2).locator(".due")).to_contain_text("2026-03-23 23:59 (P2 立案期限")
    server.clock.set(server.clock.now().replace(day=20))
    page.reload()
    expect(items.nth(0)).to_have_class(re.compile("mark-red"))
    expect(items.nth(0).locator(".left")).to_contain_text("已超期")
    assert {late_number, soon_number} == {items.nth(0).locator(".case-no").inner_text(), items.nth(1).locator(".case-no").inner_text()}


def test_task_form_shows_server_errors_then_completes(pages, server):  # type: ignore[no-untyped-def]
    case_id, number = open_case(server)
    page = pages.login("officer1")
    page.get_by_role("link", name="核查线索").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("核查线索")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#form-invalid")).to_be_visible()
    expect(page.locator("#f-verification_summary-errors")).to_have_text("此项为必填项。")
    expect(page.locator("#f-clue_source-errors")).to_have_text("此项为必填项。")
    # What was entered survives the refusal; fill in the rest.
    data = STEP_DATA["verify_clue"]
    page.get_by_label("投诉", exact=True).check()
    page.get_by_label("核查情况").fill(data["verification_summary"])
    for name in ("suspected_violation", "within_limitation", "within_jurisdiction"):
        page.locator(f"#f-{name}").get_by_label("是").check()
    page.get_by_label("建议立案").check()
    page.locator("#f-recommendation_reasons").fill(data["recommendation_reasons"])
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text("核查线索：已办理。")
    assert page.url.endswith(f"/cases/{case_id}")
    expect(page.locator("ol.timeline li[data-action='task.completed']")).to_contain_text("办理：核查线索")
    diagram_ready(page)
    expect(marked(page, "verify_clue", "completed")).to_have_count(1)
    expect(marked(page, "approve_filing", "current")).to_have_count(1)
    # The filing period's timer is drawn with its due date and legal basis.
    expect(page.locator(".timer-overlay").first).to_contain_text("市场监督管理行政处罚程序规定第十八条")
    page.goto("/inbox")
    expect(page.locator("li.task")).to_have_count(0)
    assert number


def test_wrong_type_is_reported_at_the_field(pages, server):  # type: ignore[no-untyped-def]
    open_case(server, ["verify_clue", "approve_filing"])
    page = pages.login("officer1")
    page.get_by_role("link", name="调查取证").click()
    page.get_by_label("拟罚款金额").fill("两千")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#f-proposed_fine_amount-errors")).to_have_text("请输入数字。")
    expect(page.get_by_label("拟罚款金额")).to_have_value("两千")
    expect(page.get_by_label("拟罚款金额")).to_have_attribute("aria-invalid", "true")


def test_case_search_updates_the_list_in_place(pages, server):  # type: ignore[no-untyped-def]
    open_case(server, summary="巡查发现：广告违规")
    _, number = open_case(server, summary="投诉：短斤缺两")
    page = pages.login("officer1")
    page.get_by_role("link", name="案件", exact=True).click()
    expect(page.locator("#case-results tbody tr")).to_have_count(2)
    page.get_by_label("案号或案情摘要").fill("短斤缺两")
    expect(page.locator("#case-results tbody tr")).to_have_count(1)
    expect(page.locator("#case-results")).to_contain_text(number)
    expect(page).to_have_url(re.compile(r"q=%E7%9F%AD"))  # htmx pushed the search into the address


def test_officer_pages_at_phone_size(pages, server):  # type: ignore[no-untyped-def]
    case_id, _ = open_case(server, ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice"])
    page = pages.login("officer1", viewport=PHONE)

    def fits() -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{page.url} is {width}px wide"

    fits()
    page.get_by_role("link", name="陈述申辩/听证申请").click()
    expect(page.get_by_role("button", name="提交")).to_be_visible()
    fits()
    page.goto(f"/cases/{case_id}")
    diagram_ready(page)
    expect(marked(page, "record_statement", "current")).to_have_count(1)
    box = page.locator("#diagram").bounding_box()
    assert box is not None and box["width"] <= PHONE["width"] and box["height"] > 200
    fits()
    page.goto("/cases")
    expect(page.locator("#case-results tbody tr")).to_have_count(1)
    fits()
    page.goto("/cases/new")
    fits()

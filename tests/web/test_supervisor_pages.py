"""Supervisors in the browser: overdue and due-soon counts by agency, drilled down the agency tree to
the overdue case."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from tests.web.conftest import PHONE, diagram_ready, open_case


def test_supervisor_drills_down_to_an_overdue_case(pages, server):  # type: ignore[no-untyped-def]
    steps = ["verify_clue", "approve_filing", "investigate", "case_review", "prior_notice"]
    case_id, number = open_case(server, steps)  # the statement period ends 2026-03-19 (5 working days)
    open_case(server)  # only its filing period runs (15 working days)
    server.clock.set(server.clock.now() + timedelta(days=18))  # 2026-03-20: the statement period has passed
    page = pages.login("supervisor1")
    expect(page.get_by_role("heading", level=1)).to_have_text("法定期限监督")
    expect(page.locator("nav.crumbs strong")).to_have_text("广州市人民政府")
    expect(page.locator("#total-overdue")).to_have_text("1")
    expect(page.locator("#board-chart")).to_be_visible()
    expect(page.locator("#fig-open")).to_have_text("2")
    expect(page.locator("#fig-overdue")).to_have_text("1")
    expect(page.locator("#fig-rate")).to_contain_text("%")
    expect(page.locator("#figures-chart")).to_be_visible()
    rows = page.locator("table.board tbody tr")
    expect(rows.filter(has_text="广州市天河区人民政府").locator("td").nth(1)).to_have_text("1")
    expect(rows.filter(has_text="广州市越秀区人民政府").locator("td").nth(1)).to_have_text("0")
    page.get_by_role("link", name="广州市天河区人民政府").click()  # htmx swaps the board in place
    expect(page.locator("nav.crumbs strong")).to_have_text("广州市天河区人民政府")
    expect(page).to_have_url(f"{server.url}/supervision?agency_id=5")
    page.get_by_role("link", name="广州市天河区市场监督管理局").click()
    expect(page.locator("nav.crumbs strong")).to_have_text("广州市天河区市场监督管理局")
    overdue = page.locator("table.timers tr.timer-overdue")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text("陈述申辩")
    expect(overdue).to_contain_text("已超期")
    overdue.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.locator("table.timers tr.timer-overdue")).to_contain_text("已超期")
    assert page.url.endswith(f"/cases/{case_id}")


def test_supervisor_board_at_phone_size(pages, server):  # type: ignore[no-untyped-def]
    open_case(server)
    page = pages.login("supervisor1", viewport=PHONE)
    expect(page.locator("#total-soon")).to_have_text("0")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_officer_sees_only_their_agency(pages, server):  # type: ignore[no-untyped-def]
    open_case(server)
    page = pages.login("officer3")  # 越秀区: the 天河区 case is not theirs
    page.goto("/supervision")
    expect(page.locator("nav.crumbs strong")).to_have_text("广州市越秀区市场监督管理局")
    expect(page.locator("table.timers tbody")).to_contain_text("无。")
    page.goto("/cases")
    expect(page.locator("#case-results")).to_contain_text("没有找到案件。")


def test_step_durations_heatmap_on_the_diagram(pages, server):  # type: ignore[no-untyped-def]
    from engine.demo import run_steps

    case_id, _ = open_case(server)
    server.clock.advance(days=2)
    run_steps(server.core, case_id, ["verify_clue"])
    server.clock.advance(hours=5)
    run_steps(server.core, case_id, ["approve_filing"])
    page = pages.login("supervisor1")
    page.get_by_role("link", name="各环节用时（流程图热力图）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("各环节用时")
    rows = page.locator("table.durations tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-element-id", "verify_clue")
    expect(rows.first).to_contain_text("2天0小时")
    diagram_ready(page)
    expect(page.locator('g.djs-element.heat-4[data-element-id="verify_clue"]')).to_have_count(1)
    expect(page.locator('g.djs-element.heat-0[data-element-id="approve_filing"]')).to_have_count(1)
    expect(page.locator(".heat-overlay").first).to_be_visible()

"""Legal staff edit a discretion table in dmn-js: a changed rule saved as a new version is the band the
discretion API gives from then on; a broken table is refused with the engine's error shown beside it."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine.accounts import issue_token
from tests.conftest import PASSWORD


def table_ready(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#dmn-editor[data-ready=true]")


def edit_cell(page, element_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    cell = page.locator(f'#dmn-editor td[data-element-id="{element_id}"]')
    cell.scroll_into_view_if_needed()
    cell.click()
    editable = cell.locator("[contenteditable=true]").first
    editable.press("Control+a")
    editable.press_sequentially(text)
    expect(cell).to_contain_text(text)


def assessed_band(page, server) -> dict:  # type: ignore[no-untyped-def,type-arg]
    with server.core.unit() as unit:
        token = issue_token(unit, "officer1", PASSWORD).access_token
    response = page.request.post("/api/v1/discretion/assess", headers={"Authorization": f"Bearer {token}"},
                                 data={"matter_code": "440201003001", "tier": "general"})
    assert response.status == 200
    return response.json()


def test_a_rule_edited_in_dmn_js_is_the_band_in_force(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("designer1")
    page.goto("/procedures")
    page.get_by_role("link", name="裁量基准（决策表）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("行政处罚裁量基准")
    page.get_by_role("link", name="罚款裁量基准（市场监督管理）").click()
    table_ready(page)
    before = assessed_band(page, server)
    assert (before["band_low"], before["band_high"]) == ("1500.00", "3500.00")
    # 不按规定明码标价 (rule 5): 一般 from 30-70 % of the range to 40-60 %.
    edit_cell(page, "fine_benchmark_rule_5_out_5", "0.4")
    edit_cell(page, "fine_benchmark_rule_5_out_6", "0.6")
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator("#save-result")).to_have_text("已保存为第1版，即时生效。")
    after = assessed_band(page, server)
    assert (after["band_low"], after["band_high"]) == ("2000.00", "3000.00")
    page.reload()
    table_ready(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("第1版")
    expect(page.locator("table.history tbody tr")).to_have_count(2)
    expect(page.locator('#dmn-editor td[data-element-id="fine_benchmark_rule_5_out_5"]')).to_contain_text("0.4")


def test_a_broken_table_is_refused_with_the_error_shown(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("designer1")
    page.goto("/procedures/discretion/fine_benchmark")
    table_ready(page)
    edit_cell(page, "fine_benchmark_rule_5_out_2", '__import__("os")')
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator("#save-result")).to_contain_text("未保存")
    expect(page.locator("#save-errors li").first).to_contain_text(re.compile("fine_benchmark_rule_5"))
    expect(page.locator("#dmn-editor .dmn-error").first).to_be_visible()
    assert assessed_band(page, server)["band_high"] == "3500.00"


def test_others_may_not_edit_the_tables(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("reviewer1")
    page.goto("/procedures")
    expect(page.get_by_role("link", name="裁量基准（决策表）")).to_have_count(0)
    response = page.request.get("/procedures/discretion/fine_benchmark")
    assert response.status == 403

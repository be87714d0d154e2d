"""The discretion band on the decision form, at phone size: the page shows the 从轻/一般/从重 bands with the
basis, a script warns when the fine leaves the band of the tier (and follows a change of tier), and the
server's check decides: refused at the fields without a reason for the deviation, accepted with one."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from engine.demo import LANE_USERS, TO_DECISION
from engine.discretion_models import DiscretionDeviation
from engine.models import TaskRow
from tests.web.conftest import PHONE, open_case


def _decide(server, case_id):  # type: ignore[no-untyped-def]
    with server.core.unit() as unit:
        row = unit.session.scalar(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == "decide", TaskRow.state == "ready"))
        return row.id, LANE_USERS[row.lane]


def test_a_fine_outside_the_band_needs_a_reason(pages, server):  # type: ignore[no-untyped-def]
    case_id, _ = open_case(server, TO_DECISION[:-1])
    task_id, who = _decide(server, case_id)
    page = pages.login(who, PHONE)
    page.goto(f"/tasks/{task_id}")
    band = page.locator("#discretion-band")
    expect(band.get_by_role("heading")).to_have_text("行政处罚裁量基准")
    expect(band.locator(".tier")).to_have_text("一般")
    expect(band.locator(".applicable")).to_have_text("1500.00–3500.00元")
    expect(band.locator(".penalty-basis")).to_have_text("价格违法行为行政处罚规定第十三条")
    expect(band.locator("tr[data-tier=lighter]")).to_contain_text("从轻")
    expect(band.locator("tr[data-tier=heavier] td").nth(1)).to_have_text("5000.00")
    expect(band.locator("tr.current")).to_have_attribute("data-tier", "general")

    page.locator("#f-decision").get_by_label("给予行政处罚").check()
    page.get_by_label("决定书文号").fill("穗天市监罚〔2026〕9号")
    page.locator("#f-decided_at").fill("2026-03-02T09:00")
    page.get_by_label("事实、理由及依据").fill("违法事实清楚，证据确凿。")
    page.locator("#f-penalties").get_by_label("罚款", exact=True).check()
    page.get_by_label("没收违法所得、非法财物金额（价值）").fill("0")
    warning = page.locator("#band-warning")
    expect(warning).to_be_hidden()
    page.get_by_label("罚款金额").fill("4800")
    expect(warning).to_be_visible()  # the script warns before the form is sent
    # A change of tier fetches that tier's band: 4800 is inside 从重.
    page.get_by_label("裁量阶次").select_option("heavier")
    expect(band.locator(".applicable")).to_have_text("3500.00–5000.00元")
    expect(warning).to_be_hidden()
    page.get_by_label("裁量阶次").select_option("general")
    expect(band.locator(".applicable")).to_have_text("1500.00–3500.00元")
    expect(warning).to_be_visible()

    page.get_by_role("button", name="提交").click()  # the server refuses: no reason
    expect(page.locator("#form-invalid")).to_be_visible()
    expect(page.locator("#f-fine_amount-errors")).to_contain_text("不在“一般”阶次的裁量幅度1500.00–3500.00元内")
    expect(page.locator("#f-deviation_reason-errors")).to_contain_text("偏离裁量基准的理由为必填项")
    expect(page.get_by_label("罚款金额")).to_have_value("4800")
    with server.core.unit() as unit:
        assert unit.session.get(TaskRow, task_id).state == "ready"
        assert unit.session.scalar(select(DiscretionDeviation).where(DiscretionDeviation.case_id == case_id)) is None

    page.get_by_label("偏离裁量基准的理由").fill("当事人拒不改正且多次违法，但不属于从重情形清单，经集体讨论决定。")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text("已办理")
    with server.core.unit() as unit:
        assert unit.session.get(TaskRow, task_id).state == "completed"
        deviation = unit.session.scalar(select(DiscretionDeviation).where(DiscretionDeviation.case_id == case_id))
        assert (deviation.fine_amount, deviation.direction, deviation.band_high) == ("4800.00", "above", "3500.00")

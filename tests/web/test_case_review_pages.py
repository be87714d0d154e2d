"""Case review (案卷评查) in the browser: a supervisor draws a sample (errors at the fields, the seed shown
and reusable), assigns himself and scores a case against the checklist (out-of-range scores refused at the
item), and reads the per-agency results; legal staff edit the checklist."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from engine.models import Case
from tests.api.test_supervision_indicators_api import Builder, at


def closed_cases(server: Any) -> dict[str, list[int]]:
    """Cases of 天河 and 越秀 closed in February 2026 (the server's clock stands at 2 March)."""
    made: dict[str, list[int]] = {"GZ-TH-SJJ": [], "GZ-YX-SJJ": []}
    with server.core.unit() as unit:
        b = Builder(unit)
        for agency, days in (("GZ-TH-SJJ", ["02-05", "02-10", "02-20"]), ("GZ-YX-SJJ", ["02-12", "02-25"])):
            for i, day in enumerate(days):
                case: Case = b.case(agency, "01-10", f"穗评〔2026〕{agency[3:5]}{i}号")
                case.status, case.closed_at = "closed", at(day)
                made[agency].append(case.id)
    return made


def test_supervisor_draws_a_sample_and_scores_a_case(pages, server):  # type: ignore[no-untyped-def]
    closed_cases(server)
    page = pages.login("supervisor1")
    page.get_by_role("link", name="案卷评查").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("案卷评查")
    draw = page.locator("section", has=page.get_by_role("heading", name="抽取案卷"))
    # A period in which nothing was closed: refused at the period field, nothing drawn.
    draw.get_by_label("结案日期自").fill("2026-01-01")
    draw.get_by_label("结案日期至").fill("2026-01-31")
    draw.get_by_label("每个机关抽取件数").fill("2")
    draw.get_by_role("button", name="抽取").click()
    expect(page.locator("#r-from-errors")).to_have_text("该期间内这些机关没有结案的案件。")
    expect(page.get_by_label("结案日期自")).to_have_attribute("aria-invalid", "true")
    draw.get_by_label("每个机关抽取件数").fill("0")
    draw.get_by_label("结案日期自").fill("2026-02-01")
    draw.get_by_label("结案日期至").fill("2026-02-28")
    draw.get_by_role("button", name="抽取").click()
    expect(page.locator("#r-per_agency-errors")).to_have_text("请输入 1 至 1000 的整数。")
    draw.get_by_label("每个机关抽取件数").fill("2")
    draw.get_by_label("随机种子").fill("7")
    draw.get_by_role("button", name="抽取").click()

    expect(page.get_by_role("status")).to_contain_text("已抽取 4 件案卷，随机种子 7")
    expect(page.locator("#sample-seed")).to_have_text("7")
    rows = page.locator("table.sampled-cases tbody tr")
    expect(rows).to_have_count(4)
    results = page.locator("table.results tbody tr")
    expect(results).to_have_count(2)
    expect(results.first.locator(".sampled")).to_have_text("2")
    expect(results.first.locator(".mean")).to_have_text("—")
    sampled = [r.get_attribute("data-case") for r in rows.all()]

    # The seed is reusable: the same seed draws the same cases.
    page.get_by_role("link", name="用此随机种子再次抽取").click()
    expect(page.get_by_label("随机种子")).to_have_value("7")
    expect(page.get_by_label("结案日期自")).to_have_value("2026-02-01")
    page.get_by_role("button", name="抽取").click()
    expect(page.locator("table.sampled-cases tbody tr")).to_have_count(4)
    assert [r.get_attribute("data-case") for r in page.locator("table.sampled-cases tbody tr").all()] == sampled

    first = page.locator("table.sampled-cases tbody tr").first
    first.get_by_role("button", name="分配").click()  # nobody chosen
    expect(page.locator("table.sampled-cases tbody tr").first.locator(".field-errors")).to_have_text("请选择法制审核人员或者监督人员。")
    first = page.locator("table.sampled-cases tbody tr").first
    first.get_by_label(f"{sampled[0]}的评查人").select_option(label="赵监督（广州市司法局）")
    first.get_by_role("button", name="分配").click()
    expect(page.get_by_role("status")).to_contain_text("已分配评查人。")

    page.get_by_role("link", name="案卷评查").first.click()
    mine = page.locator("table.mine")
    mine.get_by_role("link", name=f"评查{sampled[0]}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{sampled[0]}的评查")
    items = page.locator("form.checklist input[type=number]")
    count = items.count()
    assert count >= 2
    maxima = [int(items.nth(i).get_attribute("max")) for i in range(count)]
    items.nth(0).fill(str(maxima[0] + 1))  # above the item's maximum
    for i in range(1, count):
        items.nth(i).fill(str(maxima[i]))
    page.get_by_label("评查意见").fill("送达回证未载明送达方式。")
    page.get_by_role("button", name="保存评分").click()
    expect(page.locator("form.checklist .field.invalid .field-errors")).to_have_text(f"请输入 0 至 {maxima[0]} 的整数。")
    page.locator("form.checklist input[type=number]").nth(0).fill(str(maxima[0] - 1))
    page.get_by_role("button", name="保存评分").click()
    total = sum(maxima) - 1
    expect(page.get_by_role("status")).to_contain_text(f"{sampled[0]}已评分：{total}分")

    page.locator("table.samples tbody tr").first.get_by_role("link").click()  # the newest sample
    row = page.locator(f"table.sampled-cases tr[data-case='{sampled[0]}']")
    expect(row.locator(".total")).to_contain_text(f"{total} / {sum(maxima)}")
    expect(row.locator(".findings")).to_have_text("送达回证未载明送达方式。")
    first_agency = page.locator("table.results tbody tr").first
    expect(first_agency.locator(".reviewed")).to_have_text("1")
    expect(first_agency.locator(".mean")).to_have_text(str(float(total)))
    expect(first_agency.locator(".with-findings")).to_have_text("1")


def test_legal_staff_edit_the_checklist(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("reviewer1")
    page.goto("/supervision/review-checklist")
    expect(page.get_by_role("heading", level=1)).to_have_text("评查标准")
    rows = page.locator("table.checklist-items tbody tr")
    filled = sum(1 for r in rows.all() if r.locator("input").first.input_value())
    assert filled >= 2
    blank = rows.nth(filled)
    blank.get_by_label(f"编号（第{filled + 1}项）").fill("archive")
    blank.get_by_label(f"评查项目（第{filled + 1}项）").fill("案卷装订、归档符合规定")
    blank.get_by_label(f"满分（第{filled + 1}项）").fill("200")
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator(f"#c-{filled}-max_score-errors")).to_have_text("请输入 1 至 100 的整数。")
    page.get_by_label(f"满分（第{filled + 1}项）").fill("10")
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.get_by_role("status")).to_contain_text("评查标准已保存为第")
    expect(page.get_by_label(f"评查项目（第{filled + 1}项）")).to_have_value("案卷装订、归档符合规定")

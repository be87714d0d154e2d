"""Legal staff in the browser: the procedure library, editing in the modeler, deploying a new version,
a refused deployment marked on the offending element, and the version history."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.conftest import diagram_ready


def general(page):  # type: ignore[no-untyped-def]
    """The general punishment procedure's entry in the library (one section per procedure)."""
    return page.get_by_role("region", name=re.compile("行政处罚一般程序"))


def test_designer_edits_and_deploys_a_new_version(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("designer1")
    expect(page.get_by_role("heading", level=1)).to_have_text("程序库")
    general(page).get_by_role("link", name="在建模器中编辑").click()
    diagram_ready(page)
    page.locator('g.djs-element[data-element-id="verify_clue"]').click()
    expect(page.locator("#prop-id")).to_have_text("verify_clue")
    expect(page.get_by_label("名称")).to_have_value("核查线索")
    page.get_by_label("名称").fill("核查线索（含现场核查）")
    page.get_by_label("名称").press("Enter")
    page.get_by_role("button", name="部署为新版本").click()
    expect(page.locator("#deploy-result")).to_contain_text("已部署为第2版。")
    page.get_by_role("link", name="查看新版本").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("v2")
    diagram_ready(page)
    expect(page.locator('g.djs-element[data-element-id="verify_clue"]')).to_contain_text("核查线索（含现场核查）")
    history = page.locator("table.history tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("v2")
    expect(history.nth(1)).to_contain_text("v1")
    # The diff from v1: the renamed task is the one changed element, marked on the diagram.
    history.nth(0).get_by_role("link", name="与上一版比较").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("第1版至第2版的变更")
    changes = page.locator("table.elements tbody tr")
    expect(changes).to_have_count(1)
    expect(changes.first).to_have_attribute("data-element-id", "verify_clue")
    expect(changes.first).to_contain_text("修改")
    diagram_ready(page)
    expect(page.locator('g.djs-element.diff-changed[data-element-id="verify_clue"]')).to_have_count(1)
    expect(page.locator("details.file-diff pre")).to_contain_text("+")


def test_refused_deployment_is_shown_on_the_element(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("designer1")
    page.goto("/procedures")
    general(page).get_by_role("link", name="在建模器中编辑").click()
    diagram_ready(page)
    page.get_by_role("button", name="全图").click()
    page.locator('g.djs-element[data-element-id="investigate"]').click()
    expect(page.get_by_label("表单（JSON Schema 文件）")).to_have_value("investigate.schema.json")
    page.get_by_label("表单（JSON Schema 文件）").fill("no_such_form.schema.json")
    page.get_by_label("表单（JSON Schema 文件）").press("Enter")
    page.get_by_role("button", name="部署为新版本").click()
    expect(page.locator("#deploy-result")).to_contain_text("未部署")
    expect(page.locator("#deploy-errors li")).to_contain_text(re.compile("investigate.*no_such_form.schema.json"))
    expect(page.locator('g.djs-element.deploy-error[data-element-id="investigate"]')).to_have_count(1)
    expect(page.locator(".error-overlay")).to_contain_text("no_such_form.schema.json")
    page.goto("/procedures")
    expect(general(page).get_by_text("最新版本：第1版")).to_be_visible()


def test_officers_cannot_open_the_modeler(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("officer1")
    page.goto("/procedures")
    expect(page.get_by_role("link", name="在建模器中编辑")).to_have_count(0)
    page.get_by_role("link", name="行政处罚一般程序").click()
    diagram_ready(page)


def test_form_editing_with_live_preview_and_deployment(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("designer1")
    page.goto("/procedures")
    page.get_by_role("link", name="行政处罚一般程序").click()
    page.get_by_role("link", name="编辑表单 verify_clue.schema.json").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("verify_clue.schema.json")
    preview = page.locator("#preview")
    expect(preview.locator("#preview-title")).to_have_text("核查线索")
    expect(preview.get_by_label("核查情况")).to_be_visible()
    schema = page.get_by_label("JSON Schema（表单结构）")
    text = schema.input_value()
    schema.fill(text.replace('"title": "核查情况"', '"title": "核查情况（现场）"'))
    expect(preview.get_by_label("核查情况（现场）")).to_be_visible()  # htmx re-rendered the preview
    schema.fill(text.replace('"type": "object"', '"type": "object",,', 1))
    expect(preview.locator("#preview-errors")).to_contain_text("verify_clue.schema.json")
    schema.fill(text.replace('"title": "核查情况"', '"title": "核查情况（现场）"'))
    expect(preview.get_by_label("核查情况（现场）")).to_be_visible()
    page.get_by_role("button", name="部署为新版本").click()
    expect(page.get_by_role("status")).to_contain_text("已部署为第2版。")
    expect(page.get_by_role("heading", level=1)).to_contain_text("v2")
    # The new version's task form shows the new title.
    page.get_by_role("link", name="编辑表单 verify_clue.schema.json").click()
    expect(page.locator("#preview").get_by_label("核查情况（现场）")).to_be_visible()

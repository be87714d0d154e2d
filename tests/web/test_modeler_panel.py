"""The modeler's side panel beyond names and forms: a timer's statutory properties (legal basis, limit and
its unit, kind) and a user task's document template, edited from the keyboard and deployed; deployment
refusals stay marked on the element they name."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from engine import definitions
from engine.models import ProcessDefinition
from tests.web.conftest import diagram_ready


def open_modeler(pages):  # type: ignore[no-untyped-def]
    page = pages.login("designer1")
    page.goto("/procedures")
    page.get_by_role("region", name=re.compile("行政处罚一般程序")).get_by_role("link", name="在建模器中编辑").click()
    diagram_ready(page)
    return page


def pick(page, element_id: str) -> None:  # type: ignore[no-untyped-def]
    """Scroll the element into the middle of the canvas (as a user pans), then click it."""
    page.evaluate("id => window.zhifaModeler.get('canvas').scrollToElement(id, { top: 200, left: 300 })", element_id)
    page.locator(f'g.djs-element[data-element-id="{element_id}"]').click()


def newest_bpmn(server) -> str:  # type: ignore[no-untyped-def]
    with server.core.unit() as unit:
        newest = unit.session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.process_id == "general_punishment")
                                     .order_by(ProcessDefinition.version.desc()).limit(1))
        return definitions.main_xml(unit, newest)[1].decode("utf-8")


def test_timer_properties_and_a_template_edited_in_the_panel(pages, server):  # type: ignore[no-untyped-def]
    page = open_modeler(pages)
    pick(page, "timer_p2_filing")
    expect(page.locator("#prop-id")).to_have_text("timer_p2_filing")
    basis = page.get_by_label("法律依据")
    expect(basis).to_have_value("市场监督管理行政处罚程序规定第十八条")
    expect(page.get_by_label("期限长度")).to_have_value("15")
    expect(page.get_by_label("期限单位")).to_have_value("working_days")
    expect(page.get_by_label("类型")).to_have_value("deadline")
    expect(page.locator("#prop-timer-expression")).to_contain_text("deadline(clue_received_at, 15")
    expect(page.get_by_label("文书模板")).to_be_hidden()  # not a user task
    basis.fill("市场监督管理行政处罚程序规定（2022年修正）第十八条第一款")
    basis.press("Tab")  # keyboard only: the change is applied when the field is left
    page.get_by_label("期限长度").fill("10")
    page.get_by_label("期限长度").press("Tab")
    page.get_by_label("期限单位").select_option("calendar_days")
    page.get_by_label("类型").select_option("warning")
    # A user task without a document gets one.
    pick(page, "verify_clue")
    template = page.get_by_label("文书模板")
    expect(template).to_have_value("")
    expect(page.locator("#prop-timer-box")).to_be_hidden()
    template.fill("inspection_record.html.j2")
    template.press("Tab")
    page.get_by_role("button", name="部署为新版本").click()
    expect(page.locator("#deploy-result")).to_contain_text("已部署为第2版。")
    xml = newest_bpmn(server)
    timer = xml[xml.index('id="timer_p2_filing"'):xml.index("</bpmn:boundaryEvent>", xml.index('id="timer_p2_filing"'))]
    assert 'name="legal_basis" value="市场监督管理行政处罚程序规定（2022年修正）第十八条第一款"' in timer
    assert 'name="limit" value="10 calendar_days"' in timer and 'name="kind" value="warning"' in timer
    task = xml[xml.index('<bpmn:userTask id="verify_clue"'):xml.index("</bpmn:userTask>", xml.index('id="verify_clue"'))]
    assert 'name="documentTemplate" value="inspection_record.html.j2"' in task


def test_a_timer_without_legal_basis_is_refused_on_the_element(pages, server):  # type: ignore[no-untyped-def]
    page = open_modeler(pages)
    pick(page, "timer_p2_filing")
    page.get_by_label("法律依据").fill("")
    page.get_by_label("法律依据").press("Tab")
    page.get_by_role("button", name="部署为新版本").click()
    expect(page.locator("#deploy-result")).to_contain_text("未部署")
    expect(page.locator("#deploy-errors li").first).to_contain_text(re.compile("timer_p2_filing.*legal_basis"))
    expect(page.locator('g.djs-element.deploy-error[data-element-id="timer_p2_filing"]')).to_have_count(1)
    # A template that does not exist is named on its task.
    page.get_by_label("法律依据").fill("市场监督管理行政处罚程序规定第十八条")
    page.get_by_label("法律依据").press("Tab")
    pick(page, "investigate")
    expect(page.get_by_label("文书模板")).to_have_value("investigation_report.html.j2")
    page.get_by_label("文书模板").fill("no_such_report.html.j2")
    page.get_by_label("文书模板").press("Tab")
    page.get_by_role("button", name="部署为新版本").click()
    expect(page.locator("#deploy-errors li").first).to_contain_text("no_such_report.html.j2")
    expect(page.locator('g.djs-element.deploy-error[data-element-id="investigate"]')).to_have_count(1)
    expect(page.locator('g.djs-element.deploy-error[data-element-id="timer_p2_filing"]')).to_have_count(0)

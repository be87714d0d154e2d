"""Legal staff edit a procedure's document template: the preview (HTML, and the PDF) follows the edit, a
syntax error is shown with its line, and deploying stores a new version of the procedure with the template."""
from __future__ import annotations

import re

import pypdfium2
from playwright.sync_api import expect
from sqlalchemy import select

from engine import definitions
from engine.models import ProcessDefinition


def pdf_text(content: bytes) -> str:
    document = pypdfium2.PdfDocument(content)
    try:
        return "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def test_edit_preview_and_deploy_a_template(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("designer1")
    page.goto("/procedures")
    page.get_by_role("link", name="行政处罚一般程序").first.click()
    page.get_by_role("link", name="编辑文书模板 filing_approval.html.j2").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("filing_approval.html.j2")
    frame = page.frame_locator("#preview-frame")
    expect(frame.get_by_text("核查情况", exact=True)).to_be_visible()
    expect(page.locator("#preview-title")).to_contain_text("样例数据")
    source = page.get_by_label("模板（Jinja2 HTML）")
    text = source.input_value()
    edited = text.replace("<th>核查情况</th>", "<th>核查情况（含现场核查）</th>")
    source.fill(edited)
    expect(frame.get_by_text("核查情况（含现场核查）")).to_be_visible()  # htmx re-rendered the preview
    # A syntax error is named with its line, beside the editor.
    line = next(n for n, l in enumerate(edited.splitlines(), 1) if "{{ case_number }}" in l)
    source.fill(edited.replace("{{ case_number }}", "{{ case_number }", 1))
    expect(page.locator("#preview-errors")).to_contain_text(f"第{line}行")
    # An undefined name is named too.
    source.fill(edited.replace("{{ case_number }}", "{{ case_numbr }}", 1))
    expect(page.locator("#preview-errors")).to_contain_text("case_numbr")
    source.fill(edited)
    expect(frame.get_by_text("核查情况（含现场核查）")).to_be_visible()
    # The PDF preview renders the edited text too.
    token = page.locator('#template-editor input[name="csrf_token"]').input_value()
    pdf = page.request.post(page.url + "/preview.pdf", form={"csrf_token": token, "source": edited, "case_id": ""})
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "核查情况（含现场核查）" in re.sub(r"\s", "", pdf_text(pdf.body()))  # a narrow cell wraps the label
    page.get_by_role("button", name="部署为新版本").click()
    expect(page.get_by_role("status")).to_contain_text("已部署为第2版。")
    expect(page.get_by_role("heading", level=1)).to_contain_text("v2")
    with server.core.unit() as unit:
        newest = unit.session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.process_id == "general_punishment")
                                     .order_by(ProcessDefinition.version.desc()).limit(1))
        stored = definitions.file_content(unit, newest, "filing_approval.html.j2").decode("utf-8")
    assert "核查情况（含现场核查）" in stored
    page.get_by_role("link", name="编辑文书模板 filing_approval.html.j2").click()
    expect(page.locator("#preview-frame")).to_have_count(1)
    expect(page.frame_locator("#preview-frame").get_by_text("核查情况（含现场核查）")).to_be_visible()


def test_a_broken_template_is_not_deployed(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("designer1")
    page.goto("/procedures")
    page.get_by_role("link", name="行政处罚一般程序").first.click()
    page.get_by_role("link", name="编辑文书模板 filing_approval.html.j2").click()
    source = page.get_by_label("模板（Jinja2 HTML）")
    source.fill(source.input_value().replace("{% endfor %}", "", 1))
    expect(page.locator("#preview-errors")).to_contain_text(re.compile("filing_approval.html.j2"))
    page.get_by_role("button", name="部署为新版本").click()
    expect(page.locator("#deploy-problems")).to_contain_text("filing_approval.html.j2")
    expect(page.get_by_label("模板（Jinja2 HTML）")).not_to_have_value(re.compile(r"\{% endfor %\}"))  # the text kept
    with server.core.unit() as unit:
        versions = unit.session.scalars(select(ProcessDefinition.version).where(
            ProcessDefinition.process_id == "general_punishment")).all()
    assert versions == [1]

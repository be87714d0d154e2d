"""Supervision matters (监督事项) in the browser: a supervisor of 广州市司法局 takes up a compliance alert
with 「立案监督」, issues the 监督通知书 on the generic task page and as a numbered PDF; the head of 天河区市场监督管理局
(head1, a user of the *supervised* agency) finds the rectification report in their inbox and submits it; the
supervisor reviews and closes the matter. On own initiative: the refusals at their fields first (no agency,
an unknown case number, no reason, a case of another agency), then opened about a case. A second matter
from the same alert is refused with the engine's message, and officers have no matters page.

Dates by hand (2026 calendar): the notice served Monday 2026-03-02 with 10 working days → 03-03..03-06 (4),
03-09..03-13 (5), 03-16 (1) → Monday 2026-03-16 23:59 China time.
"""
from __future__ import annotations

from datetime import datetime

from playwright.sync_api import expect
from sqlalchemy import func, select

from engine.clock import CHINA_TZ
from engine.supervision.matter_models import SupervisionMatter
from tests.web.conftest import open_case, raise_alert


def _nav(page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("navigation").get_by_role("link", name=name)


def _matters(server) -> list[tuple[int, str | None, int | None, int | None]]:  # type: ignore[no-untyped-def]
    with server.core.unit() as unit:
        return list(unit.session.execute(select(SupervisionMatter.id, SupervisionMatter.source, SupervisionMatter.alert_id,
                                                SupervisionMatter.subject_case_id).order_by(SupervisionMatter.id)).all())


def test_from_an_alert_to_a_closed_matter(pages, server):  # type: ignore[no-untyped-def]
    case_id, case_number = open_case(server)
    alert_id = raise_alert(server, case_id)
    supervisor = pages.login("supervisor1")
    _nav(supervisor, "预警").click()
    supervisor.locator(f"li.alert[data-alert-id='{alert_id}']").get_by_role("button", name="立案监督").click()
    expect(supervisor.get_by_role("status")).to_contain_text("监督事项 穗司监督〔2026〕1号 已立项。")
    expect(supervisor.get_by_role("heading", level=1)).to_contain_text("穗司监督〔2026〕1号")
    expect(supervisor.locator("h1 .matter-status")).to_have_text("待制发通知书")
    expect(supervisor.locator("dd.supervised")).to_have_text("广州市天河区市场监督管理局")
    expect(supervisor.locator("dd.source")).to_contain_text(f"合规预警 · 预警 {alert_id}")
    expect(supervisor.locator("dd.subject").get_by_role("link", name=case_number)).to_be_visible()
    expect(supervisor.locator("p.summary")).to_contain_text("执法人员不足两名")
    [(matter_id, source, from_alert, subject)] = _matters(server)
    assert (source, from_alert, subject) == ("alert", alert_id, case_id)

    # The notice on the generic task page, then issued as a numbered PDF from the matter's page.
    supervisor.locator("tr[data-task=issue_notice]").get_by_role("link", name="制发监督通知书").click()
    expect(supervisor.get_by_role("heading", level=1)).to_have_text("监督通知书")
    supervisor.get_by_label("发现的问题").fill("两名执法人员中一名未取得执法证件。")
    supervisor.get_by_label("监督依据").fill("《中华人民共和国行政处罚法》第四十二条")
    supervisor.get_by_label("整改要求").fill("立即更换具备执法资格的人员，并报告整改情况。")
    supervisor.get_by_label("整改期限（工作日）").fill("10")
    supervisor.get_by_label("送达时间").fill("2026-03-02T09:00")
    supervisor.get_by_role("button", name="提交").click()
    expect(supervisor.get_by_role("status")).to_contain_text("制发监督通知书：已办理。")
    assert supervisor.url.endswith(f"/supervision/matters/{matter_id}")  # the matter's case page leads to the matter
    expect(supervisor.locator("h1 .matter-status")).to_have_text("整改中")
    expect(supervisor.locator("p.deadline")).to_contain_text("2026-03-16 23:59")
    expect(supervisor.locator("p.deadline .badge")).to_have_class("badge green")
    supervisor.locator("li[data-task=issue_notice]").get_by_role("button", name="制发").click()
    expect(supervisor.get_by_role("status")).to_contain_text("行政执法监督通知书已制发，文号穗司督通〔2026〕1号。")
    assert f"/supervision/matters/{matter_id}" in supervisor.url
    document = supervisor.locator("tr.document")
    expect(document.locator(".doc-number")).to_have_text("穗司督通〔2026〕1号")
    expect(supervisor.locator("li[data-task=issue_notice]")).to_have_count(0)  # issued once
    pdf_href = document.get_by_role("link", name="查看").get_attribute("href")
    response = supervisor.request.get(pdf_href)
    assert response.status == 200 and response.body().startswith(b"%PDF")
    expect(supervisor.locator("tr[data-task=rectification_report]")).to_contain_text("被监督机关负责人")
    expect(supervisor.locator("tr[data-task=rectification_report]").get_by_role("link")).to_have_count(0)  # not theirs

    # The supervised agency's head: the task in their inbox, the notice readable, the report submitted.
    server.clock.set(datetime(2026, 3, 12, 10, 0, tzinfo=CHINA_TZ))
    head = pages.login("head1")
    _nav(head, "我的待办").click()
    task = head.locator("li.task", has_text="提交整改报告")
    expect(task).to_contain_text("穗司监督〔2026〕1号")
    expect(task).to_contain_text("2026-03-16 23:59")
    expect(task).to_have_class("task mark-green")
    task.get_by_role("link", name="穗司监督〔2026〕1号").click()  # the case number leads to the matter's page
    expect(head.get_by_role("heading", level=1)).to_contain_text("穗司监督〔2026〕1号")
    assert head.request.get(pdf_href).body().startswith(b"%PDF")  # the notice is addressed to them
    expect(head.locator("li[data-task=issue_notice]")).to_have_count(0)  # they do not issue the bureau's documents
    head.locator("tr[data-task=rectification_report]").get_by_role("link", name="提交整改报告").click()
    expect(head.get_by_role("heading", level=1)).to_have_text("整改报告")
    head.get_by_role("button", name="提交").click()  # nothing filled in: refused at the fields
    expect(head.locator("#form-invalid")).to_be_visible()
    expect(head.locator("#f-rectification_measures-errors")).to_have_text("此项为必填项。")
    head.get_by_label("整改措施").fill("已更换为两名持证执法人员，并组织执法资格培训。")
    head.locator("#f-rectified").get_by_label("是").check()
    head.get_by_label("整改责任人").fill("刘局长")
    head.get_by_label("报告时间").fill("2026-03-12T09:30")
    head.get_by_role("button", name="提交").click()
    expect(head.get_by_role("status")).to_contain_text("提交整改报告：已办理。")
    expect(head.locator("h1 .matter-status")).to_have_text("待审查整改")
    expect(head.locator("p.deadline .badge")).to_have_text("按期完成")
    _nav(head, "我的待办").click()
    expect(head.locator("li.task", has_text="提交整改报告")).to_have_count(0)

    # The supervisor reviews and closes the matter.
    _nav(supervisor, "监督事项").click()
    row = supervisor.locator(f"tr.matter[data-matter-id='{matter_id}']")
    expect(row.locator(".matter-status")).to_have_text("待审查整改")
    expect(row.locator(".deadline .badge")).to_have_class("badge green")
    row.get_by_role("link", name="穗司监督〔2026〕1号").click()
    supervisor.locator("tr[data-task=review_rectification]").get_by_role("link", name="审查整改情况").click()
    supervisor.get_by_label("整改到位，办结").check()
    supervisor.get_by_label("审查意见").fill("整改到位，同意办结。")
    supervisor.get_by_role("button", name="提交").click()
    expect(supervisor.get_by_role("status")).to_contain_text("审查整改情况：已办理。")
    expect(supervisor.locator("h1 .matter-status")).to_have_text("已办结")
    expect(supervisor.locator("ol.timeline li[data-action='case.closed']")).to_contain_text("监督事项结束：已办结")
    expect(supervisor.locator("ol.timeline li[data-action='document.issued']")).to_contain_text("穗司督通〔2026〕1号")
    expect(supervisor.locator("tr.task-row a")).to_have_count(0)  # nothing left to do

    _nav(supervisor, "监督事项").click()
    supervisor.get_by_label("状态").select_option("closed")
    supervisor.get_by_role("button", name="显示").click()
    expect(supervisor.locator("tr.matter")).to_have_count(1)
    supervisor.get_by_label("状态").select_option("rectification")
    supervisor.get_by_role("button", name="显示").click()
    expect(supervisor.locator("tr.matter")).to_have_count(0)
    expect(supervisor.get_by_text("没有监督事项。")).to_be_visible()


def test_on_own_initiative_refused_at_the_fields_then_opened(pages, server):  # type: ignore[no-untyped-def]
    case_id, case_number = open_case(server)
    page = pages.login("supervisor1")
    _nav(page, "监督事项").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("监督事项")
    expect(page.get_by_text("没有监督事项。")).to_be_visible()
    form = page.locator("form", has=page.get_by_role("button", name="立监督事项"))
    form.get_by_role("button", name="立监督事项").click()
    expect(page.locator("#form-invalid")).to_have_text("未立监督事项：请更正标出的字段。")
    expect(page.locator("#m-agency_id-errors")).to_have_text("请选择被监督的行政执法机关。")
    expect(page.locator("#m-summary-errors")).to_have_text("请填写监督事由（1至2000字）。")
    expect(page.get_by_label("被监督机关")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("被监督机关").select_option(label="广州市越秀区市场监督管理局")
    page.get_by_label("涉及案件（案号）").fill("穗天市监〔2026〕999号")
    page.get_by_label("监督事由").fill("日常监督抽查：执法人员资格")
    page.get_by_role("button", name="立监督事项").click()
    expect(page.locator("#m-case_id-errors")).to_have_text("请填写被监督机关的案件编号，或者留空。")
    expect(page.locator("#m-agency_id-errors")).to_have_count(0)
    expect(page.get_by_label("监督事由")).to_have_value("日常监督抽查：执法人员资格")  # kept as typed

    page.get_by_label("涉及案件（案号）").fill(case_number)  # a case of 天河, not of 越秀
    page.get_by_role("button", name="立监督事项").click()
    expect(page.locator("#m-case_id-errors")).to_have_text("该案件不是被监督机关的案件。")
    assert _matters(server) == []

    page.get_by_label("被监督机关").select_option(label="广州市天河区市场监督管理局")
    page.get_by_role("button", name="立监督事项").click()
    expect(page.get_by_role("status")).to_contain_text("监督事项 穗司监督〔2026〕1号 已立项。")
    expect(page.locator("dd.source")).to_have_text("依职权")
    expect(page.locator("dd.subject").get_by_role("link", name=case_number)).to_be_visible()
    expect(page.locator("p.summary")).to_have_text("日常监督抽查：执法人员资格")
    assert [m[1:] for m in _matters(server)] == [("initiative", None, case_id)]

    _nav(page, "监督事项").click()
    row = page.locator("tr.matter")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("广州市天河区市场监督管理局")
    expect(row).to_contain_text("依职权")
    expect(row.locator(".matter-status")).to_have_text("待制发通知书")
    expect(row.locator(".deadline")).to_have_text("—")
    page.get_by_role("link", name="English").click()  # English second
    expect(page.get_by_role("heading", level=1)).to_have_text("Supervision matters")
    expect(page.locator("tr.matter .matter-status")).to_have_text("notice to issue")
    expect(page.get_by_role("heading", name="Open a matter on my own initiative")).to_be_visible()


def test_a_second_matter_from_the_same_alert_is_refused(pages, server):  # type: ignore[no-untyped-def]
    case_id, _ = open_case(server)
    alert_id = raise_alert(server, case_id)
    first, second = pages.login("supervisor1"), pages.login("supervisor1")
    for page in (first, second):
        page.goto("/supervision/alerts")
    first.locator(f"li.alert[data-alert-id='{alert_id}']").get_by_role("button", name="立案监督").click()
    expect(first.get_by_role("status")).to_contain_text("穗司监督〔2026〕1号 已立项")
    second.locator(f"li.alert[data-alert-id='{alert_id}']").get_by_role("button", name="立案监督").click()  # a stale page
    expect(second.get_by_role("status")).to_have_text(f"预警 {alert_id} 未立案监督：已据此立监督事项 穗司监督〔2026〕1号。")
    assert len(_matters(server)) == 1
    second.get_by_label("状态").select_option("acknowledged")  # taking it up acknowledged it
    second.get_by_role("button", name="显示").click()
    card = second.locator(f"li.alert[data-alert-id='{alert_id}']")
    expect(card.get_by_role("button", name="立案监督")).to_have_count(0)
    card.get_by_role("link", name=f"监督事项 {_matters(server)[0][0]}").click()
    expect(second.get_by_role("heading", level=1)).to_contain_text("穗司监督〔2026〕1号")


def test_officers_have_no_matters_page(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("officer1")
    expect(_nav(page, "监督事项")).to_have_count(0)
    assert page.request.get("/supervision/matters").status == 403
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    assert page.request.post("/supervision/matters", form={"agency_id": "1", "summary": "x"}).status == 400  # no CSRF token
    refused = page.request.post("/supervision/matters", form={"csrf_token": token, "agency_id": "1", "summary": "x"})
    assert refused.status == 403
    assert page.request.post("/supervision/alerts/1/matter", form={"csrf_token": token, "agency_id": "1", "summary": "x"}).status == 403
    with server.core.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(SupervisionMatter)) == 0

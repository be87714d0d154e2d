"""The supervisor's alert inbox in the browser: open alerts of the subtree; acknowledge, dismiss (a
reason is required: refused at the field first), escalate; each through a CSRF-protected form."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from engine.models import AuditEvent
from engine.supervision.models import ComplianceAlert
from tests.web.conftest import open_case, raise_alert


def _status(server, alert_id: int) -> tuple[str, str | None, int | None]:  # type: ignore[no-untyped-def]
    with server.core.unit() as unit:
        row = unit.session.get(ComplianceAlert, alert_id)
        return row.status, row.reason, row.escalated_to


def test_supervisor_handles_alerts_in_the_inbox(pages, server):  # type: ignore[no-untyped-def]
    case_id, number = open_case(server)
    first, second, third = (raise_alert(server, case_id, m) for m in ("执法人员不足两名（一）", "执法人员不足两名（二）", "执法人员不足两名（三）"))
    page = pages.login("supervisor1")
    page.get_by_role("link", name="预警").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("执法监督预警")
    expect(page.locator("li.alert")).to_have_count(3)
    card = page.locator(f"li.alert[data-alert-id='{first}']")
    expect(card).to_contain_text("执法人员不足两名（一）")
    expect(card).to_contain_text("行政处罚法第四十二条")
    expect(card.get_by_role("link", name=number)).to_be_visible()

    card.get_by_role("button", name="确认知悉").click()
    expect(page.get_by_role("status")).to_contain_text(f"预警 {first} 已确认知悉")
    assert _status(server, first)[0] == "acknowledged"
    expect(page.locator("li.alert")).to_have_count(2)  # the inbox lists the open ones

    card = page.locator(f"li.alert[data-alert-id='{second}']")
    card.get_by_role("button", name="排除").click()
    expect(page.locator(f"#reason-{second}-errors")).to_have_text("请说明排除该预警的理由。")
    assert _status(server, second)[0] == "open"
    card = page.locator(f"li.alert[data-alert-id='{second}']")
    card.get_by_label("排除理由").fill("经核实，证件已在有效期内续期。")
    card.get_by_role("button", name="排除").click()
    expect(page.get_by_role("status")).to_contain_text(f"预警 {second} 已排除")
    assert _status(server, second)[:2] == ("dismissed", "经核实，证件已在有效期内续期。")

    page.locator(f"li.alert[data-alert-id='{third}']").get_by_role("button", name="提交上级").click()
    expect(page.get_by_role("status")).to_contain_text(f"预警 {third} 已提交上级")
    status, _, above = _status(server, third)
    assert status == "escalated" and above is not None
    expect(page.locator("li.alert")).to_have_count(0)
    expect(page.get_by_text("没有预警。")).to_be_visible()

    page.get_by_label("状态").select_option("dismissed")
    page.get_by_role("button", name="显示").click()
    expect(page.locator(f"li.alert[data-alert-id='{second}']")).to_contain_text("经核实，证件已在有效期内续期。")
    with server.core.unit() as unit:
        actions = set(unit.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("alert.%"))))
    assert actions == {"alert.acknowledge", "alert.dismiss", "alert.escalate"}


def test_alert_forms_need_the_csrf_token(pages, server):  # type: ignore[no-untyped-def]
    case_id, _ = open_case(server)
    alert_id = raise_alert(server, case_id, "执法人员不足两名")
    page = pages.login("supervisor1")
    refused = page.request.post(f"/supervision/alerts/{alert_id}", form={"action": "acknowledge"})
    assert refused.status == 400
    assert _status(server, alert_id)[0] == "open"


def test_officers_have_no_alert_inbox(pages, server):  # type: ignore[no-untyped-def]
    page = pages.login("officer1")
    expect(page.get_by_role("link", name="预警")).to_have_count(0)
    response = page.request.get("/supervision/alerts")
    assert response.status == 403

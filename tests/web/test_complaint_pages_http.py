"""The complaint pages without a browser (Flask test client, SQLite and PostgreSQL): who sees the inbox and a
complaint, the attachment download, 「立案」 from a violation complaint (the case's filing clock from the
receipt), 「不予立案/办结」 with the reply the public reads, 「立案监督」 from a conduct complaint, and every
refusal shown at its field with nothing changed."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from api import create_app
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.models import Case, TimerRow
from engine.publicity import complaints
from engine.publicity.models import Complaint
from engine.supervision.matter_models import SupervisionMatter
from tests.api.test_read_api import user_ids
from tests.web.test_web_http import client, csrf

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
VIOLATION = {"kind": "violation", "agency": "GZ-TH-SJJ", "matter": "440201003001", "subject": "天河路某便利店",
             "content": "该店销售的饮料均未标明价格，结账时随意收费。", "complainant_name": "陈投诉", "complainant_phone": "13912345678"}
CONDUCT = {"kind": "conduct", "agency": "GZ-TH-SJJ", "subject": "执法人员张明", "content": "检查时未出示执法证件，态度粗暴。"}
PARTY = {"party.type": "organization", "party.name": "广州市天河区示例便利店有限公司", "party.credit_code": "91350100M000100Y43"}


@pytest.fixture
def app(core: Core) -> Any:
    return create_app(Core(replace(core.settings, token_ttl_seconds=3600, secret_key="test-secret"), clock=core.clock, db=core.db))


def lodged(core: Core, fields: dict[str, str], files: list[complaints.Upload] | None = None) -> int:
    with core.unit() as unit:
        code = complaints.lodge(unit, fields, files or []).tracking_code
        return unit.session.scalar(select(Complaint.id).where(Complaint.tracking_code == code))


def row(core: Core, complaint_id: int) -> tuple[str, int | None, str | None]:
    with core.unit() as unit:
        found = unit.session.get(Complaint, complaint_id)
        return found.status, found.case_id, found.reply


def counts(core: Core) -> tuple[int, int]:
    with core.unit() as unit:
        return (unit.session.scalar(select(func.count()).select_from(Case)),
                unit.session.scalar(select(func.count()).select_from(SupervisionMatter)))


def errors(html: str, field_id: str) -> list[str]:
    found = re.search(rf'<ul class="field-errors" id="{re.escape(field_id)}-errors">(.*?)</ul>', html, re.DOTALL)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def post(http: Any, path: str, page: str, **form: Any) -> Any:
    return http.post(path, data={"csrf_token": csrf(http, page), **form})


def test_who_sees_the_inbox_and_the_complaint(app: Any, core: Core) -> None:
    clue = lodged(core, VIOLATION, [complaints.Upload("价签照片.pdf", "application/pdf", PDF)])
    conduct = lodged(core, CONDUCT)
    officer = client(app, "officer1")
    inbox = officer.get("/complaints").get_data(as_text=True)
    assert f'data-complaint-id="{clue}"' in inbox and f'data-complaint-id="{conduct}"' not in inbox
    assert "违法行为" in inbox and "待核查" in inbox and "2026-03-23 23:59" in inbox  # P2: 15 working days
    assert 'href="/complaints"' in inbox  # the navigation link
    page = officer.get(f"/complaints/{clue}").get_data(as_text=True)
    assert "陈投诉" in page and "13912345678" in page and "市场监督管理行政处罚程序规定第十八条" in page
    assert 'name="party.name"' in page and 'name="outcome"' in page and "立案监督" not in page
    [href] = re.findall(r'href="(/complaints/\d+/attachments/\d+)"', page)
    download = officer.get(href)
    assert download.status_code == 200 and download.data == PDF and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert officer.get(f"/complaints/{clue}/attachments/999999").status_code == 404
    assert officer.get(f"/complaints/{conduct}").status_code == 403  # the supervision body's
    assert officer.get("/complaints/999999").status_code == 404

    other = client(app, "officer3")  # 越秀: another agency
    assert f'data-complaint-id="{clue}"' not in other.get("/complaints").get_data(as_text=True)
    assert other.get(f"/complaints/{clue}").status_code == 403
    assert other.get(href).status_code == 403
    head = client(app, "head1")
    assert f'data-complaint-id="{clue}"' in head.get("/complaints").get_data(as_text=True)

    supervisor = client(app, "supervisor1")
    listed = supervisor.get("/complaints").get_data(as_text=True)
    assert f'data-complaint-id="{conduct}"' in listed and f'data-complaint-id="{clue}"' not in listed
    page = supervisor.get(f"/complaints/{conduct}").get_data(as_text=True)
    assert "执法行为" in page and "立案监督" in page and "广州市天河区市场监督管理局" in page and 'name="party.name"' not in page
    assert supervisor.get(f"/complaints/{clue}").status_code == 403
    designer = client(app, "designer1")
    assert designer.get("/complaints").status_code == 403
    assert 'href="/complaints"' not in designer.get("/procedures").get_data(as_text=True)


def test_a_case_opened_from_a_complaint_counts_from_the_receipt(app: Any, core: Core, clock: FrozenClock) -> None:
    clue = lodged(core, VIOLATION)
    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=CHINA_TZ))
    officer = client(app, "officer1")
    response = post(officer, f"/complaints/{clue}/case", f"/complaints/{clue}", matter_code="440201003001",
                    officer_ids=[str(i) for i in user_ids(core, "officer1", "officer2")], summary="", **PARTY)
    assert response.status_code == 302, response.get_data(as_text=True)
    status, case_id, reply = row(core, clue)
    assert (status, reply) == ("case_opened", "已受理，正在依法核查处理。")
    assert response.headers["Location"].endswith(f"/cases/{case_id}")
    with core.unit() as unit:
        assert unit.session.get(Case, case_id).summary == "投诉举报：天河路某便利店"
        timer = unit.session.scalar(select(TimerRow).where(TimerRow.case_id == case_id, TimerRow.bpmn_id == "timer_p2_filing"))
    assert timer.due_at == datetime(2026, 3, 23, 23, 59, 59, tzinfo=CHINA_TZ)  # from the receipt (03-02), not 03-09
    page = officer.get(f"/complaints/{clue}").get_data(as_text=True)
    assert "已立案" in page and f'href="/cases/{case_id}"' in page and 'name="party.name"' not in page
    again = post(officer, f"/complaints/{clue}/case", f"/complaints/{clue}", matter_code="440201003001",
                 officer_ids=[str(i) for i in user_ids(core, "officer1", "officer2")], **PARTY)
    assert again.status_code == 200 and "投诉举报已处理（已立案），未作任何更改。" in errors(again.get_data(as_text=True), "case-form")
    assert counts(core) == (1, 0)


NO_MATTER = {k: v for k, v in VIOLATION.items() if k != "matter"}


@pytest.mark.parametrize("fields, change, field_id, message", [
    (VIOLATION, {"officer_ids": ["@officer1"]}, "case-officer_ids", "请至少选择两名持有执法证件的执法人员（《行政处罚法》第四十二条）。"),
    (VIOLATION, {"party.type": ""}, "case-party.type", "请选择当事人是单位还是自然人。"),
    (VIOLATION, {"party.name": ""}, "case-party.name", "请填写当事人名称。"),
    (VIOLATION, {"party.credit_code": "123"}, "case-party.credit_code", "请填写有效的18位统一社会信用代码。"),
    (VIOLATION, {"matter_code": "999"}, "case-matter_code", "请选择执法事项。"),
    (NO_MATTER, {"matter_code": ""}, "case-matter_code", "请选择执法事项。"),  # the complaint names none either
])
def test_a_refused_case_is_shown_at_its_field_and_changes_nothing(
    app: Any, core: Core, fields: dict[str, str], change: dict[str, Any], field_id: str, message: str
) -> None:
    clue = lodged(core, fields)
    form: dict[str, Any] = {"matter_code": "440201003001", "officer_ids": ["@officer1", "@officer2"], **PARTY, **change}
    form["officer_ids"] = [str(user_ids(core, v[1:])[0]) for v in form["officer_ids"]]
    officer = client(app, "officer1")
    response = post(officer, f"/complaints/{clue}/case", f"/complaints/{clue}", **form)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert errors(html, field_id) == [message], html
    assert html.count('aria-invalid="true"') == (0 if field_id in ("case-party.type", "case-officer_ids") else 1)  # choices: fieldsets
    assert 'id="form-invalid"' in html and f'value="{form.get("party.name")}"' in html  # what was typed stays
    assert row(core, clue) == ("received", None, None) and counts(core) == (0, 0)


def test_not_filed_with_the_reply_the_public_reads(app: Any, core: Core) -> None:
    clue = lodged(core, VIOLATION)
    officer = client(app, "officer1")
    for form, field_id, message in [
        ({"outcome": "", "reply": "经核查，不属实。"}, "close-outcome", "请选择处理结果。"),
        ({"outcome": "dropped", "reply": "经核查，不属实。"}, "close-outcome", "请选择处理结果。"),
        ({"outcome": "not_filed", "reply": "  "}, "close-reply", "请填写给投诉举报人的答复（1至2000字）。"),
        ({"outcome": "not_filed", "reply": "x" * 2001}, "close-reply", "请填写给投诉举报人的答复（1至2000字）。"),
    ]:
        response = post(officer, f"/complaints/{clue}/close", f"/complaints/{clue}", **form)
        assert response.status_code == 200
        assert errors(response.get_data(as_text=True), field_id) == [message]
        assert row(core, clue) == ("received", None, None)
    done = post(officer, f"/complaints/{clue}/close", f"/complaints/{clue}", outcome="not_filed", reply="经核查，该店已明码标价。")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/complaints/{clue}")
    assert row(core, clue) == ("not_filed", None, "经核查，该店已明码标价。")
    page = officer.get(f"/complaints/{clue}").get_data(as_text=True)
    assert "不予立案" in page and "经核查，该店已明码标价。" in page and 'name="outcome"' not in page and 'name="party.name"' not in page
    again = post(officer, f"/complaints/{clue}/close", f"/complaints/{clue}", outcome="closed", reply="x")
    assert again.status_code == 200 and errors(again.get_data(as_text=True), "close-form") == ["投诉举报已处理（不予立案），未作任何更改。"]
    assert row(core, clue) == ("not_filed", None, "经核查，该店已明码标价。")
    listed = officer.get("/complaints?status=not_filed").get_data(as_text=True)
    assert f'data-complaint-id="{clue}"' in listed
    assert f'data-complaint-id="{clue}"' not in officer.get("/complaints?status=received").get_data(as_text=True)


def test_a_supervision_matter_from_a_conduct_complaint(app: Any, core: Core) -> None:
    conduct = lodged(core, CONDUCT)
    supervisor = client(app, "supervisor1")
    refused = post(supervisor, f"/complaints/{conduct}/matter", f"/complaints/{conduct}", summary="x" * 2001)
    assert refused.status_code == 200
    assert errors(refused.get_data(as_text=True), "matter-summary") == ["请填写监督事由（1至2000字）。"]
    assert row(core, conduct) == ("received", None, None) and counts(core) == (0, 0)

    opened = post(supervisor, f"/complaints/{conduct}/matter", f"/complaints/{conduct}", summary="投诉举报：执法人员张明")
    assert opened.status_code == 302
    with core.unit() as unit:
        matter = unit.session.scalars(select(SupervisionMatter)).one()
        assert matter.complaint_id == conduct
    assert opened.headers["Location"].endswith(f"/supervision/matters/{matter.id}")
    assert row(core, conduct)[0] == "case_opened"
    page = supervisor.get(f"/complaints/{conduct}").get_data(as_text=True)
    assert f'href="/cases/{matter.case_id}">查看监督事项</a>' in page and 'name="summary"' not in page
    assert supervisor.get(f"/cases/{matter.case_id}").headers["Location"].endswith(f"/supervision/matters/{matter.id}")
    again = post(supervisor, f"/complaints/{conduct}/matter", "/complaints", summary="再次")
    assert again.status_code == 200
    with core.unit() as unit:
        number = unit.session.get(Case, matter.case_id).number
    assert errors(again.get_data(as_text=True), "matter-form") == [f"已据此立监督事项 {number}。"]
    assert counts(core)[1] == 1


def test_other_agencies_and_forms_without_the_token_change_nothing(app: Any, core: Core) -> None:
    clue, conduct = lodged(core, VIOLATION), lodged(core, CONDUCT)
    other, supervisor, head = client(app, "officer3"), client(app, "supervisor1"), client(app, "head1")
    officers = [str(i) for i in user_ids(core, "officer3", "officer4")]
    assert post(other, f"/complaints/{clue}/case", "/complaints", matter_code="440201003001", officer_ids=officers, **PARTY).status_code == 403
    assert post(other, f"/complaints/{clue}/close", "/complaints", outcome="not_filed", reply="不属实。").status_code == 403
    assert post(other, f"/complaints/{conduct}/matter", "/complaints", summary="监督").status_code == 403
    assert post(head, f"/complaints/{clue}/matter", "/complaints", summary="监督").status_code == 403  # not a supervisor
    assert post(other, "/complaints/999999/close", "/complaints", outcome="not_filed", reply="不属实。").status_code == 404
    refused = post(supervisor, f"/complaints/{conduct}/case", "/complaints", matter_code="440201003001", **PARTY)
    assert refused.status_code == 200  # a conduct complaint opens no case: said at the top of its page
    assert errors(refused.get_data(as_text=True), "case-form") == ["对执法行为的投诉由行政执法监督办理，不立执法案件。"]
    officer = client(app, "officer1")
    assert officer.post(f"/complaints/{clue}/close", data={"outcome": "not_filed", "reply": "不属实。"}).status_code == 400  # no CSRF token
    assert row(core, clue) == ("received", None, None) and row(core, conduct) == ("received", None, None)
    assert counts(core) == (0, 0)


def test_the_inbox_pages(app: Any, core: Core) -> None:
    for i in range(21):
        lodged(core, {**VIOLATION, "subject": f"便利店{i:02d}"})
    officer = client(app, "officer1")
    first = officer.get("/complaints").get_data(as_text=True)
    assert first.count('class="complaint"') == 20 and "1 / 2" in first and "共 21 件投诉举报" in first
    second = officer.get("/complaints?page=2&status=received").get_data(as_text=True)
    assert second.count('class="complaint"') == 1 and "2 / 2" in second
    assert "没有投诉举报。" in officer.get("/complaints?status=closed").get_data(as_text=True)
    assert officer.get("/complaints?status=bogus&page=x").get_data(as_text=True).count('class="complaint"') == 20  # unknown: all

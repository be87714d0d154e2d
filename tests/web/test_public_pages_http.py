"""The public pages without a browser (Flask test client, SQLite and PostgreSQL): what they show is the
frozen public record; bad input is a clear 4xx at its field and stores nothing; the QR code's URL lands on
the verification page; the pages are cached, rate limited and need no login."""
from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from api import create_app
from engine.accounts import principal_for_username
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.publicity import changes, sweep
from engine.publicity.models import Complaint, ComplaintAttachment, Publication
from tests.api.test_document_qr import issued_pdf
from tests.support.publicity import COMPANY, PERSON, open_case, schedule

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FIELDS = {"kind": "violation", "agency": "GZ-TH-SJJ", "matter": "440201003001", "subject": "天河路某便利店",
          "content": "该店销售的饮料均未标明价格，结账时随意收费。", "complainant_name": "陈投诉", "complainant_phone": "13912345678"}


@pytest.fixture
def web(core: Core) -> Any:
    settings = replace(core.settings, secret_key="test-secret", public_rate_per_minute=1000)
    return create_app(Core(settings, clock=core.clock, db=core.db)).test_client()


def publish(core: Core, party: dict[str, Any], number: str) -> int:
    case_id = open_case(core, party)
    schedule(core, case_id, {"decision_document_number": number, "decided_at": "2026-03-02T08:00:00+08:00",
                             "penalties": ["fine"], "fine_amount": 3000, "confiscation_value": 0})
    sweep(core)
    with core.unit() as unit:
        return unit.session.scalars(select(Publication.id).where(Publication.case_id == case_id)).one()


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def test_the_search_finds_a_party_by_part_of_its_name_and_links_to_the_frozen_record(web: Any, core: Core) -> None:
    person = publish(core, PERSON, "穗天市监罚〔2026〕21号")
    company = publish(core, COMPANY, "穗天市监罚〔2026〕22号")
    found = web.get("/public/decisions", query_string={"q": "示例便利"})
    assert found.status_code == 200 and found.headers["Cache-Control"] == "public, max-age=60"
    assert f'href="/public/decisions/{company}"' in text(found) and f"/public/decisions/{person}\"" not in text(found)
    page = web.get(f"/public/decisions/{person}")
    body = text(page)
    assert page.status_code == 200 and "王某某" in body and "穗天市监罚〔2026〕21号" in body
    for secret in ("王小明", PERSON["id_number"], PERSON["phone"], PERSON["address"]):
        assert secret not in body
    assert 'class="card result"' not in text(web.get("/public/decisions", query_string={"q": "王小明"}))  # masked text only
    listing = text(web.get("/public/decisions"))
    assert "王某某" in listing and "91350100M000100Y43" in listing
    again = web.get(f"/public/decisions/{person}", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304
    feed = text(web.get("/feeds/decisions.atom"))  # each Atom entry links to its publication page
    assert f'href="http://localhost/public/decisions/{person}"' in feed and 'type="text/html"' in feed


@pytest.mark.parametrize(("params", "field"), [
    ({"page": "0"}, "page"), ({"page": "1001"}, "page"), ({"q": "名" * 101}, "q"), ({"credit_code": "123"}, "credit_code"),
    ({"from": "2026-13-01"}, "from"), ({"from": "2026-03-02", "to": "2026-03-01"}, "from"), ({"from": "1999-01-01"}, "from"),
    ({"region": "GZ/TH"}, "region"),
])
def test_a_bad_search_is_422_at_its_field(web: Any, params: dict[str, str], field: str) -> None:
    response = web.get("/public/decisions", query_string=params)
    assert response.status_code == 422 and response.headers["Cache-Control"] == "no-store"
    assert f'id="{field}-errors"' in text(response)
    assert field == "page" or f'aria-describedby="{field}-errors"' in text(response)


def test_unpublished_and_withdrawn_decisions(web: Any, core: Core, clock: FrozenClock) -> None:
    published = publish(core, PERSON, "穗天市监罚〔2026〕31号")
    scheduled_case = open_case(core, COMPANY)
    schedule(core, scheduled_case, {"decision_document_number": "穗天市监罚〔2026〕32号", "decided_at": "2026-03-02T08:00:00+08:00",
                                    "penalties": ["fine"], "fine_amount": 100, "confiscation_value": 0})
    with core.unit() as unit:
        scheduled = unit.session.scalars(select(Publication.id).where(Publication.case_id == scheduled_case)).one()
    hidden, unknown = web.get(f"/public/decisions/{scheduled}"), web.get("/public/decisions/999999")
    assert hidden.status_code == unknown.status_code == 404 and "此地址没有公开信息" in text(hidden)
    # an unpublished record cannot be told from a missing one (but for the page's own address in the language link)
    assert text(hidden).replace(f"decisions/{scheduled}", "ID") == text(unknown).replace("decisions/999999", "ID")
    assert "穗天市监罚〔2026〕32号" not in text(web.get("/public/decisions"))

    with core.unit() as unit:
        head = principal_for_username(unit, "head1")
        case_id = unit.session.get(Publication, published).case_id
    with core.unit(head) as unit:
        changes.record(unit, case_id, {"kind": "litigation", "result": "revoked", "reason": "法院判决撤销，王小明胜诉"})
    clock.advance(minutes=1)
    sweep(core)
    notice = web.get(f"/public/decisions/{published}")
    body = text(notice)
    assert notice.status_code == 200 and "该行政处罚决定已由人民法院依法撤销" in body and "王某某胜诉" in body
    assert "王小明" not in body and "罚款人民币" not in body  # the notice, not the decision
    assert "穗天市监罚〔2026〕31号" not in text(web.get("/public/decisions"))
    listed = web.get("/api/v1/public/decisions").get_json()["items"]
    assert [i["number"] for i in listed] == ["穗天市监罚〔2026〕32号"]  # published by the same sweep


def test_the_qr_code_url_lands_on_the_verification_page(web: Any, core: Core) -> None:
    doc, _pdf = issued_pdf(core)
    qr_path = f"/api/v1/public/documents/{doc.verification_code}"
    scanned = web.get(qr_path, headers={"Accept": BROWSER_ACCEPT})
    assert scanned.status_code == 303 and scanned.headers["Location"] == f"/public/verify/{doc.verification_code}"
    assert scanned.headers["Vary"] == "Accept"
    assert web.get(qr_path).get_json()["number"] == doc.number  # a program still gets JSON
    page = web.get(scanned.headers["Location"])
    body = text(page)
    assert page.status_code == 200 and doc.number in body and 'id="hash-match">一致' in body
    assert COMPANY["name"] not in body and COMPANY["credit_code"] not in body
    typed = web.get("/public/verify", query_string={"code": doc.verification_code.lower().replace("-", "")})
    assert typed.status_code == 302
    assert doc.number in text(web.get(typed.headers["Location"]))


def test_an_unknown_or_malformed_verification_code(web: Any) -> None:
    unknown = web.get("/public/verify/AAAA-BBBB-CCCC")
    assert unknown.status_code == 404 and "没有已签发的文书使用此核验码" in text(unknown)
    malformed = web.get("/public/verify/ab")
    assert malformed.status_code == 422 and 'id="code-errors"' in text(malformed)


def csrf(web: Any) -> str:
    page = web.get("/public/complaints/new")
    assert page.headers["Cache-Control"] == "no-store"  # it carries the visitor's CSRF token
    return re.search(r'name="csrf_token" value="([^"]+)"', text(page)).group(1)


def post_complaint(web: Any, fields: dict[str, str], files: list[tuple[bytes, str, str]] = (), token: str | None = "fetch") -> Any:
    data: dict[str, Any] = dict(fields)
    if token == "fetch":
        token = csrf(web)
    if token:
        data["csrf_token"] = token
    data["attachments"] = [FileStorage(io.BytesIO(c), n, content_type=k) for c, n, k in files]
    stream, _length, boundary = stream_encode_multipart(data, use_tempfile=False)
    return web.post("/public/complaints", data=stream.read(), content_type=f"multipart/form-data; boundary={boundary}")


def stored(core: Core) -> tuple[int, int]:
    with core.unit() as unit:
        return (unit.session.scalar(select(func.count()).select_from(Complaint)),
                unit.session.scalar(select(func.count()).select_from(ComplaintAttachment)))


def test_a_complaint_with_an_attachment_gets_a_tracking_page(web: Any, core: Core) -> None:
    lodged = post_complaint(web, FIELDS, [(PDF, "价签照片.pdf", "application/pdf")])
    assert lodged.status_code == 303
    status_url = lodged.headers["Location"]
    page = web.get(status_url)
    body = text(page)
    code = re.search(r'id="tracking-code">([A-Z0-9]{16})<', body).group(1)
    assert "广州市天河区市场监督管理局" in body and "已收到" in body
    assert "陈投诉" not in body and "13912345678" not in body and page.headers["Cache-Control"] == "no-store"
    assert stored(core) == (1, 1)
    assert code in text(web.get(f"/public/complaints/{code.lower()}"))
    assert web.get("/public/complaints/NOSUCHCODE000000").status_code == 404


@pytest.mark.parametrize(("fields", "files", "field"), [
    ({**FIELDS, "content": ""}, [], "content"),
    ({**FIELDS, "content": "太短"}, [], "content"),
    (FIELDS, [(b"MZ\x90\x00", "tool.exe", "application/octet-stream")], "attachments"),
    (FIELDS, [(b"GIF89a....", "x.png", "image/png")], "attachments"),
    ({**FIELDS, "agency": "NOPE"}, [], "agency"),
    ({**FIELDS, "kind": "other"}, [], "kind"),
])
def test_a_refused_complaint_is_422_at_its_field_and_stores_nothing(
    web: Any, core: Core, fields: dict[str, str], files: list[tuple[bytes, str, str]], field: str
) -> None:
    response = post_complaint(web, fields, files)
    assert response.status_code == 422
    body = text(response)
    assert f'id="{field}-errors"' in body and "没有保存任何内容" in body
    assert "天河路某便利店" in body  # what was typed is kept
    assert stored(core) == (0, 0)


def test_a_complaint_without_the_csrf_token_is_refused(web: Any, core: Core) -> None:
    assert post_complaint(web, FIELDS, token=None).status_code == 400
    assert stored(core) == (0, 0)


def test_too_many_requests_is_a_429_page_with_retry_after(core: Core, clock: FrozenClock) -> None:
    http = create_app(Core(replace(core.settings, public_rate_per_minute=2), clock=clock, db=core.db)).test_client()
    clock.set(datetime(2026, 3, 2, 9, 0, 45, tzinfo=CHINA_TZ))
    assert [http.get("/public").status_code for _ in range(2)] == [200, 200]
    blocked = http.get("/public/decisions")
    assert blocked.status_code == 429 and blocked.mimetype == "text/html" and blocked.headers["Retry-After"] == "15"
    assert "15" in text(blocked)
    asset = http.get("/static/web/public.css")
    asset.close()
    assert asset.status_code == 200  # assets are not counted


def test_every_public_page_opens_without_login(web: Any) -> None:
    for path in ("/public", "/public/decisions", "/public/verify", "/public/complaints/new", "/public/complaints",
                 "/public/subjects", "/public/officers", "/public/officers?agency=GZ-TH-SJJ", "/public/catalogue",
                 "/public/procedures/general_punishment", "/public/benchmarks", "/public/benchmarks?matter=440201003001",
                 "/public/statistics", "/public/statistics?year=2026", "/public/feeds"):
        response = web.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert web.get("/public/procedures/no_such_process").status_code == 404
    assert web.get("/public/statistics?year=1999").status_code == 422
    assert web.get("/public/benchmarks?matter=12").status_code == 422

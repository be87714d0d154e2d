"""Every issued document carries a QR code on each page: the public verification URL of its code on
the configured public base URL (ZHIFA_PUBLIC_BASE_URL). Read back from the PDF's pixels, and followed
to the public verification answer (SQLite and PostgreSQL)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from api import create_app
from engine.accounts import principal_for_username
from engine.core import Core
from engine.documents import service as documents
from engine.documents.models import DocumentContent
from engine.settings import from_env
from tests.api.test_documents_api import INQUIRY
from tests.support.documents import pdf_qr_codes, pdf_text
from tests.support.publicity import COMPANY, open_case

BASE = "https://zhifa.example.gov.cn/gd"


def issued_pdf(core: Core) -> tuple[Any, bytes]:
    case_id = open_case(core, COMPANY)
    with core.unit() as unit:
        officer = principal_for_username(unit, "officer1")
    with core.unit(officer) as unit:
        doc = documents.issue(unit, case_id, template="inquiry_record", data={**INQUIRY, "qa": INQUIRY["qa"] * 25})
    with core.unit() as unit:
        pdf = unit.session.scalar(select(DocumentContent.pdf).where(DocumentContent.document_id == doc.id))
    return doc, pdf


def test_each_page_carries_the_qr_code_of_the_verification_url(core: Core) -> None:
    core = Core(replace(core.settings, public_base_url=BASE), clock=core.clock, db=core.db)
    doc, pdf = issued_pdf(core)
    url = f"{BASE}/api/v1/public/documents/{doc.verification_code}"
    pages = pdf_qr_codes(pdf)
    assert len(pages) >= 2 and all(codes == [url] for codes in pages)
    assert doc.verification_code in pdf_text(pdf)  # the printed code stays

    answer = create_app(core).test_client().get(urlsplit(url).path.removeprefix("/gd"))
    assert answer.status_code == 200 and answer.get_json()["number"] == doc.number


def test_the_default_base_url_is_the_local_server(core: Core) -> None:
    doc, pdf = issued_pdf(core)
    assert pdf_qr_codes(pdf)[0] == [f"http://127.0.0.1:8000/api/v1/public/documents/{doc.verification_code}"]


def test_a_preview_has_no_qr_code(login: Any, core: Core) -> None:
    case_id = open_case(core, COMPANY)
    officer = login("officer1")
    response = officer.post(f"/api/v1/cases/{case_id}/documents/preview", json={"template": "inquiry_record", "data": INQUIRY})
    assert response.status_code == 200
    assert pdf_qr_codes(response.data) == [[]]  # a preview verifies nothing


@pytest.mark.parametrize("raw", ["zhifa.gd.gov.cn", "ftp://zhifa.gd.gov.cn", "https://zhifa.gd.gov.cn/?x=1", "https:// x"])
def test_a_bad_public_base_url_is_refused_at_start(raw: str) -> None:
    with pytest.raises(ValueError, match="ZHIFA_PUBLIC_BASE_URL"):
        from_env({"ZHIFA_PUBLIC_BASE_URL": raw})


def test_the_public_base_url_is_read_without_its_trailing_slash() -> None:
    assert from_env({"ZHIFA_PUBLIC_BASE_URL": "https://zhifa.gd.gov.cn/"}).public_base_url == "https://zhifa.gd.gov.cn"
    assert from_env({}).public_base_url == "http://127.0.0.1:8000"

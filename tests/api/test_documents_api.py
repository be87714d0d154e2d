"""Documents through the API (SQLite and PostgreSQL): issued from a completed task or from a library
template with the officer's data, numbered per agency, type and year, stored with their SHA-256,
audited, read back as PDF and DOCX text; bad requests are 4xx and change nothing; every read is
scoped by the agency tree.
"""
from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.core import Core
from engine.demo import STEP_DATA
from engine.documents.models import Document, DocumentSequence
from engine.models import AuditEvent
from tests.api.test_general_procedure_api import PARTY, open_case
from tests.support.documents import docx_text, pdf_page_size_mm, pdf_text

INQUIRY = {
    "started_at": "2026-03-04T14:00:00+08:00", "ended_at": "2026-03-04T14:45:00+08:00", "place": "本局询问室",
    "person": {"name": "陈示例", "id_number": "440106198001010011", "relation": "店长", "phone": "13800000000"},
    "recorder": "李华", "qa": [{"q": "店内商品为何没有标价？", "a": "价签更换时遗漏。"}],
}


def filed_case(login: Any) -> tuple[Any, Any, dict[str, Any]]:
    officer, case = open_case(login)
    head = login("head1")
    officer.complete(case["id"], "verify_clue", STEP_DATA["verify_clue"])
    head.complete(case["id"], "approve_filing", STEP_DATA["approve_filing"])
    return officer, head, case


def task_id(client: Any, case_id: int, bpmn_id: str, state: str = "completed") -> str:
    items = client.get(f"/api/v1/tasks?case_id={case_id}&state={state}").get_json()["items"]
    return next(t["id"] for t in items if t["bpmn_id"] == bpmn_id)


def snapshot(core: Core) -> tuple[int, int, int]:
    with core.unit() as unit:
        return (
            unit.session.scalar(select(func.count()).select_from(Document)),
            unit.session.scalar(select(func.coalesce(func.sum(DocumentSequence.last_value), 0))),
            unit.session.scalar(select(func.count()).select_from(AuditEvent)),
        )


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def test_a_task_document_is_issued_numbered_stored_and_audited(login: Any, core: Core) -> None:
    officer, head, case = filed_case(login)
    approve = task_id(officer, case["id"], "approve_filing")
    response = head.post(f"/api/v1/cases/{case['id']}/documents", json={"task_id": approve})
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert response.headers["Location"] == f"/api/v1/documents/{doc['id']}"
    assert doc["number"] == "穗天市监立审〔2026〕1号"
    assert (doc["title"], doc["template"], doc["task_bpmn_id"]) == ("立案审批表", "filing_approval.html.j2", "approve_filing")
    assert len(doc["verification_code"]) == 24 and doc["docx"] is False

    pdf = officer.get(f"/api/v1/documents/{doc['id']}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == doc["sha256"] == pdf.headers["X-Content-SHA256"]
    text = pdf_text(pdf.data)
    for expected in (PARTY["name"], doc["number"], "广州市天河区市场监督管理局", "立案审批表", "同意立案", doc["verification_code"]):
        assert expected in text
    assert pdf_page_size_mm(pdf.data) == (210, 297)  # A4

    assert officer.get(f"/api/v1/documents/{doc['id']}").get_json() == doc
    assert officer.get(f"/api/v1/cases/{case['id']}/documents").get_json()["items"] == [doc]
    audit = officer.get(f"/api/v1/cases/{case['id']}/audit").get_json()["items"]
    issued = [e for e in audit if e["action"] == "document.issued"]
    assert [(e["detail"]["number"], e["detail"]["sha256"]) for e in issued] == [(doc["number"], doc["sha256"])]
    assert problem(officer.get(f"/api/v1/documents/{doc['id']}/docx"), 404)["detail"].endswith("does not offer one)")


def test_numbers_are_per_type_and_gapless_and_later_documents_cite_earlier_ones(login: Any) -> None:
    officer, head, case = filed_case(login)
    cid = case["id"]
    officer.complete(cid, "investigate", STEP_DATA["investigate"])
    login("reviewer1").complete(cid, "case_review", STEP_DATA["case_review"])
    officer.complete(cid, "prior_notice", STEP_DATA["prior_notice"])
    officer.complete(cid, "record_statement", STEP_DATA["record_statement"])
    head.complete(cid, "decide", STEP_DATA["decide"])
    numbers = {}
    for bpmn_id in ("investigate", "prior_notice", "record_statement", "decide"):
        response = officer.post(f"/api/v1/cases/{cid}/documents", json={"task_id": task_id(officer, cid, bpmn_id)})
        assert response.status_code == 201, response.get_json()
        numbers[bpmn_id] = response.get_json()
    assert {k: v["number"] for k, v in numbers.items()} == {
        "investigate": "穗天市监调终〔2026〕1号", "prior_notice": "穗天市监罚告〔2026〕1号",
        "record_statement": "穗天市监陈申〔2026〕1号", "decide": "穗天市监罚〔2026〕1号",
    }
    decision = pdf_text(officer.get(f"/api/v1/documents/{numbers['decide']['id']}/pdf").data)
    for expected in ("行政处罚决定书", "六十日内向广州市天河区人民政府申请行政复议", "六个月内", "十五日内", "2026年3月20日", "罚款人民币2000.00元"):
        assert expected in decision
    statement = officer.get(f"/api/v1/documents/{numbers['record_statement']['id']}/docx")
    assert statement.status_code == 200
    assert hashlib.sha256(statement.data).hexdigest() == numbers["record_statement"]["docx_sha256"]
    assert "当事人称已整改" in docx_text(statement.data) and "穗天市监陈申〔2026〕1号" in docx_text(statement.data)

    officer.complete(cid, "serve_decision", STEP_DATA["serve_decision"])
    receipt = officer.post(f"/api/v1/cases/{cid}/documents", json={"task_id": task_id(officer, cid, "serve_decision")})
    assert "行政处罚决定书（穗天市监罚〔2026〕1号）" in pdf_text(officer.get(f"/api/v1/documents/{receipt.get_json()['id']}/pdf").data)

    _, other = open_case(login)  # a second case of the same agency continues the same sequences
    officer.complete(other["id"], "verify_clue", STEP_DATA["verify_clue"])
    head.complete(other["id"], "approve_filing", {**STEP_DATA["approve_filing"], "filing_decision": "not_file", "not_filing_ground": "first_minor"})
    refused = head.post(f"/api/v1/cases/{other['id']}/documents", json={"task_id": task_id(head, other["id"], "approve_filing")})
    assert refused.status_code == 201
    assert (refused.get_json()["title"], refused.get_json()["number"]) == ("不予立案审批表", "穗天市监不立〔2026〕1号")


def test_a_library_document_from_the_officers_data_with_docx(login: Any) -> None:
    officer, case = open_case(login)
    response = officer.post(f"/api/v1/cases/{case['id']}/documents", json={"template": "inquiry_record", "data": INQUIRY})
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert (doc["number"], doc["task_id"], doc["docx"]) == ("穗天市监询〔2026〕1号", None, True)
    text = docx_text(officer.get(f"/api/v1/documents/{doc['id']}/docx").data)
    for expected in ("询问笔录", PARTY["name"], doc["number"], "价签更换时遗漏", "陈示例"):
        assert expected in text
    assert "价签更换时遗漏" in pdf_text(officer.get(f"/api/v1/documents/{doc['id']}/pdf").data)
    again = officer.post(f"/api/v1/cases/{case['id']}/documents", json={"template": "inquiry_record.html.j2", "data": INQUIRY})
    assert again.get_json()["number"] == "穗天市监询〔2026〕2号"  # several inquiries in one case


def test_preview_renders_without_issuing(login: Any, core: Core) -> None:
    officer, case = open_case(login)
    before = snapshot(core)
    response = officer.post(f"/api/v1/cases/{case['id']}/documents/preview", json={"template": "inquiry_record", "data": INQUIRY})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "预览" in text and PARTY["name"] in text and "〔2026〕" not in text.replace(case["number"], "")
    assert snapshot(core) == before


def test_preview_of_a_tasks_document(login: Any, core: Core) -> None:
    officer, _head, case = filed_case(login)
    before = snapshot(core)
    body = {"task_id": task_id(officer, case["id"], "approve_filing")}
    response = officer.post(f"/api/v1/cases/{case['id']}/documents/preview", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    text = pdf_text(response.data)
    assert "立案审批表" in text and "同意立案" in text and "预览" in text
    assert snapshot(core) == before


def _bad_requests(officer: Any, case: dict[str, Any]) -> list[tuple[dict[str, Any], int, str]]:
    cid = case["id"]
    verify = task_id(officer, cid, "verify_clue")
    approve = task_id(officer, cid, "approve_filing")
    investigate = task_id(officer, cid, "investigate", state="ready")
    return [
        ({"task_id": verify}, 422, "task_id"),  # 核查线索 names no document
        ({"task_id": "no-such-task"}, 422, "task_id"),
        ({"task_id": investigate}, 409, ""),  # not completed yet
        ({"task_id": approve, "template": "punishment_decision"}, 422, "template"),
        ({"task_id": approve, "data": {"x": 1}}, 422, "data"),
        ({"template": "no_such_document"}, 422, "template"),
        ({"template": "../engine/settings"}, 422, "template"),
        ({"template": "punishment_decision", "data": {}}, 422, "template"),  # a task's document, not a free one
        ({"template": "inquiry_record", "data": {**INQUIRY, "qa": None} | {}}, 422, ""),
        ({"template": "inquiry_record", "data": {k: v for k, v in INQUIRY.items() if k != "qa"}}, 422, "qa"),
        ({"template": "inquiry_record", "data": ["not", "an", "object"]}, 422, "data"),
        ({"template": "inquiry_record", "data": {**INQUIRY, "qa": [{"q": "问" * 1000, "a": "答" * 1000}] * 200}}, 422, "data"),
        ({}, 422, "template"),
    ]


def test_bad_requests_are_refused_and_change_nothing(login: Any, core: Core) -> None:
    officer, _head, case = filed_case(login)
    before = snapshot(core)
    for body, status, field in _bad_requests(officer, case):
        for url in (f"/api/v1/cases/{case['id']}/documents", f"/api/v1/cases/{case['id']}/documents/preview"):
            found = problem(officer.post(url, json=body), status)
            if field:
                assert field in [e.get("field") for e in found.get("errors", [])], (body, found)
    assert snapshot(core) == before


def test_a_tasks_document_is_issued_once(login: Any, core: Core) -> None:
    officer, head, case = filed_case(login)
    body = {"task_id": task_id(officer, case["id"], "approve_filing")}
    first = head.post(f"/api/v1/cases/{case['id']}/documents", json=body).get_json()
    before = snapshot(core)
    assert first["number"] in problem(head.post(f"/api/v1/cases/{case['id']}/documents", json=body), 409)["detail"]
    assert snapshot(core) == before


def test_reads_are_scoped_by_the_agency_tree(login: Any) -> None:
    officer, case = open_case(login)
    doc = officer.post(f"/api/v1/cases/{case['id']}/documents", json={"template": "inquiry_record", "data": INQUIRY}).get_json()
    outsider, supervisor = login("officer3"), login("supervisor1")  # 越秀区; 广州市司法局
    for url in (f"/api/v1/cases/{case['id']}/documents", f"/api/v1/documents/{doc['id']}",
                f"/api/v1/documents/{doc['id']}/pdf", f"/api/v1/documents/{doc['id']}/docx"):
        problem(outsider.get(url), 403)
        assert supervisor.get(url).status_code == 200
    problem(outsider.post(f"/api/v1/cases/{case['id']}/documents", json={"template": "inquiry_record", "data": INQUIRY}), 403)
    problem(supervisor.post(f"/api/v1/cases/{case['id']}/documents", json={"template": "inquiry_record", "data": INQUIRY}), 403)
    assert login("reviewer1").post(f"/api/v1/cases/{case['id']}/documents/preview", json={"template": "inquiry_record", "data": INQUIRY}).status_code == 200
    problem(officer.get("/api/v1/documents/999999"), 404)


def library_documents() -> list[str]:
    """Templates no diagram names: issued from a case with the officer's data (询问笔录, 证据清单 …)."""
    from tests.engine.test_procedure_library import TEMPLATES, named_by_diagrams

    return sorted(p.name.removesuffix(".html.j2") for p in TEMPLATES.glob("*.html.j2") if p.name not in named_by_diagrams())


@pytest.mark.parametrize("template", library_documents())
def test_every_library_document_issues_from_its_sample(login: Any, template: str) -> None:
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).parents[2] / "templates" / "samples" / f"{template}.json").read_text(encoding="utf-8"))
    officer, case = open_case(login)
    response = officer.post(f"/api/v1/cases/{case['id']}/documents", json={"template": template, "data": data})
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    text = pdf_text(officer.get(f"/api/v1/documents/{doc['id']}/pdf").data)
    assert PARTY["name"] in text and doc["number"] in text

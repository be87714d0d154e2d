"""Every template in templates/ renders to an A4 PDF from its declared sample context
(templates/samples/<name>.json over templates/samples/_base.json), and the PDF's text holds the party's
name and the document number; DOCX templates read back too. The conventions of docs/documents.md are
checked here, so a new template that does not follow them fails.
"""
from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

import docx
import pytest

from engine.documents import rendering, samples
from engine.documents.docx import to_docx
from tests.support.documents import docx_text, pdf_page_size_mm, pdf_text

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SAMPLES = TEMPLATES / "samples"
NAMES = sorted(p.name for p in TEMPLATES.glob(f"*{rendering.TEMPLATE_SUFFIX}"))
NUMBER = samples.SAMPLE_DOCUMENT["number"]
# The documents officers usually edit: the issue asks for DOCX of these at least.
EDITED = {"inquiry_record", "inspection_record", "hearing_record", "collective_discussion_record"}
# The general procedure's documents (issue 3 §4); other procedures add theirs.
GENERAL = {
    "filing_approval", "not_filing_approval", "inquiry_record", "inspection_record", "evidence_list", "prior_notice",
    "hearing_notice", "hearing_record", "legal_review_opinion", "collective_discussion_record", "punishment_decision",
    "no_punishment_decision", "service_receipt", "rectification_order", "closure_approval",
}


def sample_context(name: str) -> dict[str, Any]:
    return samples.sample_context(TEMPLATES, name)


@cache
def rendered(name: str) -> rendering.Rendered:
    return rendering.render_html(name, (TEMPLATES / name).read_text(encoding="utf-8"), sample_context(name))


def test_the_general_procedures_documents_exist() -> None:
    assert GENERAL <= {rendering.stem(n) for n in NAMES}


def test_every_template_has_a_sample_context() -> None:
    samples = {p.stem for p in SAMPLES.glob("*.json")} - {"_base"}
    assert samples == {rendering.stem(n) for n in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_every_template_renders_to_a_pdf_whose_text_reads_back(name: str) -> None:
    result = rendered(name)
    pdf = rendering.to_pdf(result.html, "验证码 7K2M-QX9D-3HPA-W0ZE-R4TB")
    text = pdf_text(pdf)
    party = sample_context(name)["party"]["name"]
    assert party in text
    assert NUMBER in text
    assert result.title in text
    assert "广州市天河区市场监督管理局" in text
    assert "7K2M-QX9D-3HPA-W0ZE-R4TB" in text  # the verification line in the footer
    assert pdf_page_size_mm(pdf) == (210, 297)


@pytest.mark.parametrize("name", NAMES)
def test_docx_where_the_template_offers_it(name: str) -> None:
    result = rendered(name)
    assert result.docx == (rendering.stem(name) in EDITED or result.docx)
    if rendering.stem(name) in EDITED:
        assert result.docx, f"{name} must offer a DOCX"
    if result.docx:
        content = to_docx(result.html, "验证码 7K2M")
        section = docx.Document(io.BytesIO(content)).sections[0]
        assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
        text = docx_text(content)
        assert sample_context(name)["party"]["name"] in text and NUMBER in text and result.title in text


def test_each_number_word_belongs_to_one_document_type() -> None:
    words: dict[str, set[str]] = {}
    for name in NAMES:
        words.setdefault(rendered(name).number_word, set()).add(rendered(name).doc_type)
    assert {w: t for w, t in words.items() if len(t) > 1} == {}


def test_a_decision_carries_what_apl_article_59_requires() -> None:
    text = pdf_text(rendering.to_pdf(rendered("punishment_decision.html.j2").html))
    for required in (
        "广州市天河区示例便利店有限公司", "广州市天河区示例路1号",  # (1) name and address
        "当事人销售商品未按规定明码标价", "现场检查笔录",  # (2) facts and evidence
        "警告、罚款", "《价格违法行为行政处罚规定》第十三条",  # (3) kind and basis
        "十五日内", "缴纳罚款",  # (4) how and by when
        "六十日内向广州市天河区人民政府申请行政复议", "六个月内依法向有管辖权的人民法院提起行政诉讼",  # (5) remedies
        "2026年3月20日", "（印章）",  # (6) agency, date, seal
    ):
        assert required in text, required


def test_the_prior_notice_states_the_rights_of_apl_articles_44_and_45() -> None:
    hearing = {**sample_context("prior_notice.html.j2"), "hearing_scope": True}
    source = (TEMPLATES / "prior_notice.html.j2").read_text(encoding="utf-8")
    for context, hearing_words in ((sample_context("prior_notice.html.j2"), False), (hearing, True)):
        text = pdf_text(rendering.to_pdf(rendering.render_html("prior_notice.html.j2", source, context).html))
        assert "陈述和申辩" in text and "第四十四条" in text and "五个工作日内" in text
        assert ("要求举行听证" in text) is hearing_words


@pytest.mark.parametrize("decision, title, doc_type, word", [
    ("punish", "行政处罚决定书", "punishment_decision", "罚"),
    ("no_punish", "不予行政处罚决定书", "no_punishment_decision", "不罚"),
    ("transfer", "案件移送函", "transfer_letter", "移"),
])
def test_the_decision_template_numbers_each_outcome_as_its_own_type(decision: str, title: str, doc_type: str, word: str) -> None:
    context = {**sample_context("punishment_decision.html.j2"), "decision": decision, "transfer_target": "广州市公安局天河区分局"}
    result = rendering.render_html("punishment_decision.html.j2", (TEMPLATES / "punishment_decision.html.j2").read_text(encoding="utf-8"), context)
    assert (result.title, result.doc_type, result.number_word) == (title, doc_type, word)

"""The rendering sandbox: templates are text legal staff edit, so they cannot reach Python internals,
mutate the data, load files or URLs, or build unbounded strings; missing data is an error naming the
variable, never a blank in a legal document; form text cannot inject markup.
"""
from __future__ import annotations

import pytest

from engine.documents import rendering
from engine.documents.rendering import DocumentTemplateError
from engine.errors import InvalidInput
from tests.support.documents import pdf_text

HEAD = '<html><head><title>测试文书</title><meta name="zhifa:number-word" content="测"></head><body>'
FOOT = "</body></html>"


def render(body: str, **context: object) -> rendering.Rendered:
    return rendering.render_html("test.html.j2", HEAD + body + FOOT, {"party": {"name": "甲公司"}, **context})


ESCAPES = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ party.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ range.__self__ }}",
    "{{ ''.format.__self__ }}",
    "{{ '{0.__class__}'.format(party) }}",
    "{{ 'x' | attr('__class__') }}",
    "{{ party.update({'name': 'changed'}) }}",
    "{% set x = party.pop('name') %}",
    "{{ 'x' * 100000000 }}",
    "{{ 10 ** 100000 }}",
    "{% for i in range(100000000) %}{% endfor %}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_sandbox_escapes_are_refused(source: str) -> None:
    with pytest.raises(DocumentTemplateError) as caught:
        render(source)
    assert isinstance(caught.value, InvalidInput)  # a 422, never a 500
    assert caught.value.problems[0].file == "test.html.j2"


def test_missing_data_is_an_error_naming_the_variable() -> None:
    with pytest.raises(DocumentTemplateError) as caught:
        render("<p>{{ party.name }}：罚款 {{ fine_amount }} 元</p>")
    assert caught.value.problems[0].field == "fine_amount"
    assert caught.value.problems[0].line == 1
    with pytest.raises(DocumentTemplateError) as caught:
        render("<p>{{ party.address }}</p>")
    assert caught.value.problems[0].field == "address"


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(DocumentTemplateError) as caught:
        render("\n\n{% if %}")
    assert caught.value.problems[0].line == 3


def test_form_text_cannot_inject_markup() -> None:
    result = render("<p>{{ findings }}</p>", findings='<img src="file:///etc/passwd"><script>x()</script>')
    assert "<script>" not in result.html and "&lt;script&gt;" in result.html


def test_a_document_needs_a_title_and_a_number_word() -> None:
    with pytest.raises(DocumentTemplateError, match="title"):
        rendering.render_html("t.html.j2", '<html><head><meta name="zhifa:number-word" content="测"></head></html>', {})
    with pytest.raises(DocumentTemplateError, match="文号代字"):
        rendering.render_html("t.html.j2", "<html><head><title>T</title></head></html>", {})


def test_the_head_declares_type_word_and_docx() -> None:
    source = ('<html><head><title>询问笔录</title><meta name="zhifa:type" content="inquiry">'
              '<meta name="zhifa:number-word" content="询"><meta name="zhifa:docx" content="true"></head></html>')
    result = rendering.render_html("x.html.j2", source, {})
    assert (result.title, result.doc_type, result.number_word, result.docx) == ("询问笔录", "inquiry", "询", True)
    plain = render("")
    assert (plain.doc_type, plain.docx) == ("test", False)


def test_the_pdf_loads_no_local_file_or_url(tmp_path: object) -> None:
    from pathlib import Path

    secret = Path(str(tmp_path)) / "secret.txt"
    secret.write_text("TOPSECRET-CONTENT", encoding="utf-8")
    html = (HEAD + f'<p>甲公司</p><img src="file://{secret}"><link rel="attachment" href="file://{secret}">'
            f'<iframe src="file://{secret}"></iframe><object data="file://{secret}"></object>'
            f'<img src="http://127.0.0.1:9/x.png"><style>@import url("file://{secret}");</style>' + FOOT)
    pdf = rendering.to_pdf(html)
    assert b"TOPSECRET" not in pdf
    assert "TOPSECRET" not in pdf_text(pdf) and "甲公司" in pdf_text(pdf)


def test_filters_for_chinese_dates_and_amounts() -> None:
    result = render("<p>{{ '2026-03-02T09:00:00+08:00' | cn_date }} {{ 2000 | yuan }} {{ 1234567.5 | yuan }}</p>")
    assert "2026年3月2日 2000.00 1234567.50" in result.html
    with pytest.raises(DocumentTemplateError):
        render("<p>{{ 'tomorrow' | cn_date }}</p>")

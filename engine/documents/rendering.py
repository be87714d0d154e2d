"""Rendering: a template (text legal staff edit) and a context (case and form data) to HTML, PDF, DOCX.

Templates are untrusted: they run in Jinja2's immutable sandbox (no dunder attributes, no mutation of
the context, `str.format` checked), with StrictUndefined (a variable the data lacks is an error naming
it, never a blank in a legal document) and HTML autoescaping (form text cannot inject markup). PDFs are
made by WeasyPrint with a URL fetcher that fetches nothing, so a template cannot read local files or
reach the network.

What the engine needs to know about a document it reads from the rendered HTML head, so the template
carries it wherever it goes (deployments store templates with the procedure):
`<title>` is the document title, `<meta name="zhifa:type">` the numbering type (default: the template
name), `<meta name="zhifa:number-word">` the 文号代字 in the number, `<meta name="zhifa:docx"
content="true">` offers an editable DOCX.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from engine.documents import qr
from engine.errors import InvalidInput, Problem

TEMPLATE_SUFFIX = ".html.j2"
MAX_STRING = 200_000  # longest string a template may build by repetition (`"x" * n`)

# A4 with the margins of GB/T 9704 (党政机关公文格式): top 37 mm, bottom 35 mm, left 28 mm, right 26 mm.
BASE_CSS = """
@page { size: A4; margin: 37mm 26mm 35mm 28mm;
  @bottom-center { content: "第 " counter(page) " 页 共 " counter(pages) " 页"; font-size: 9pt; }
  @bottom-right { content: string(verification); font-size: 8pt; }
  @bottom-left { content: element(verification-qr); vertical-align: middle; } }
html { font-family: "Noto Serif CJK SC", "Noto Serif CJK", "Noto Sans CJK SC", serif; font-size: 12pt;
  line-height: 1.6; }
h1 { font-family: "Noto Sans CJK SC", sans-serif; font-size: 18pt; text-align: center; margin: 0 0 4mm; }
h2 { font-size: 12pt; font-weight: bold; margin: 3mm 0 1mm; }
p { margin: 1mm 0; text-align: justify; }
.doc-number { text-align: center; margin-bottom: 5mm; }
table { width: 100%; border-collapse: collapse; margin: 2mm 0; }
th, td { border: 0.5pt solid #000; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
th { width: 28%; font-weight: bold; }
.seal, .date { text-align: right; margin-top: 6mm; }
.signatures { margin-top: 8mm; }
.verification { string-set: verification content(); font-size: 0; height: 0; margin: 0; }
.verification-qr { position: running(verification-qr); margin: 0; line-height: 0; }
.verification-qr svg { width: 20mm; height: 20mm; }
"""


@dataclass(frozen=True)
class Rendered:
    html: str
    title: str
    doc_type: str
    number_word: str
    docx: bool


class DocumentTemplateError(InvalidInput):
    """A template cannot make this document: bad syntax, missing data, or a forbidden construct."""

    title = "Document cannot be rendered"


class _Environment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError("exponent too large")
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, (str, list)) and len(result) > MAX_STRING:
            raise SecurityError("the result of * is too long")
        return result


def _cn_date(value: Any) -> str:
    """"2026-03-20…" → "2026年3月20日" (the date style of Chinese official documents)."""
    text = str(value)
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if not match:
        raise ValueError(f"not a date: {text!r}")
    year, month, day = match.groups()
    return f"{year}年{int(month)}月{int(day)}日"


def _yuan(value: Any) -> str:
    """An amount in yuan with two decimals: 2000 → "2000.00"."""
    return f"{float(value):.2f}"


def _environment() -> _Environment:
    env = _Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)
    env.filters.update(cn_date=_cn_date, yuan=_yuan)
    return env


_ENV = _environment()


def template_name(name: str) -> str:
    """`punishment_decision` or `punishment_decision.html.j2` → the file name."""
    return name if name.endswith(TEMPLATE_SUFFIX) else f"{name}{TEMPLATE_SUFFIX}"


def stem(name: str) -> str:
    return name.removesuffix(TEMPLATE_SUFFIX)


def render_html(name: str, source: str, context: dict[str, Any]) -> Rendered:
    """Render a template; every failure becomes a DocumentTemplateError naming the file (and line)."""
    try:
        template = _ENV.from_string(source)
        html = template.render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise DocumentTemplateError(f"{name}: {exc.message}", [Problem(str(exc.message), file=name, line=exc.lineno)]) from None
    except SecurityError as exc:
        raise DocumentTemplateError(
            f"{name} uses something templates may not use: {exc}", [Problem(f"refused by the sandbox: {exc}", file=name)]
        ) from None
    except jinja2.UndefinedError as exc:
        field = _missing_name(str(exc.message))
        raise DocumentTemplateError(
            f"{name} needs data the case does not have: {exc.message}",
            [Problem(f"missing: {exc.message}", field=field, file=name, line=_template_line(exc))],
        ) from None
    except (TypeError, ValueError, KeyError, IndexError, ArithmeticError, OverflowError) as exc:
        raise DocumentTemplateError(
            f"{name} could not be rendered with this data: {exc}", [Problem(str(exc), file=name, line=_template_line(exc))]
        ) from None
    head = _Head.read(html)
    if not head.title:
        raise DocumentTemplateError(f"{name} has no <title>", [Problem("a document template needs a <title>", file=name)])
    if not head.meta.get("zhifa:number-word"):
        raise DocumentTemplateError(
            f"{name} declares no 文号代字", [Problem('add <meta name="zhifa:number-word" content="…">', file=name)]
        )
    return Rendered(
        html=html, title=head.title, doc_type=head.meta.get("zhifa:type") or stem(name),
        number_word=head.meta["zhifa:number-word"], docx=head.meta.get("zhifa:docx", "").lower() == "true",
    )


def _missing_name(message: str) -> str | None:
    match = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", message)
    return (match.group(1) or match.group(2)) if match else None


def _template_line(exc: BaseException) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class _Head(HTMLParser):
    """The <title> and <meta name content> of a rendered document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title, self.meta, self._in_title = "", {}, False

    @classmethod
    def read(cls, html: str) -> _Head:
        parser = cls()
        parser.feed(html)
        parser.close()
        parser.title = " ".join(parser.title.split())
        return parser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            values = dict(attrs)
            if values.get("name"):
                self.meta[values["name"]] = values.get("content") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _refusing_fetcher() -> Any:
    """A WeasyPrint URL fetcher that fetches nothing (files, http, data: URIs alike)."""
    def refuse(url: str, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"documents may not load external resources ({url[:60]})")

    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # WeasyPrint before 68 takes a plain function
        return refuse

    class Refusing(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            return refuse(url)

    return Refusing()


def to_pdf(html: str, verification_line: str = "", qr_text: str = "") -> bytes:
    """A4 PDF with extractable text (CJK font embedded); nothing outside the HTML is loaded.
    `verification_line` goes into the right of every page footer, the QR code of `qr_text` (the
    verification URL, engine/documents/qr.py) into its left."""
    from weasyprint import CSS, HTML  # heavy import, only where PDFs are made

    if qr_text:
        html = _with_marker(html, f'<div class="verification-qr">{qr.svg(qr_text)}</div>')
    if verification_line:
        html = _with_verification(html, verification_line)
    fetcher = _refusing_fetcher()
    document = HTML(string=html, url_fetcher=fetcher, base_url=None)
    return document.write_pdf(stylesheets=[CSS(string=BASE_CSS, url_fetcher=fetcher)])


def _with_verification(html: str, line: str) -> str:
    """Put the verification line in the page footer (CSS string-set from an invisible element)."""
    return _with_marker(html, f'<p class="verification">{_escape(line)}</p>')


def _with_marker(html: str, marker: str) -> str:
    """`marker` as the first thing in the body (the footer's running elements must come first)."""
    index = html.find("<body")
    if index < 0:
        return marker + html
    close = html.find(">", index)
    return html[: close + 1] + marker + html[close + 1:]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

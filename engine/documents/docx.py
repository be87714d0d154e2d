"""DOCX for the documents officers edit (records of inquiry, inspection, hearing, discussion).

The same rendered HTML as the PDF, walked with the standard library's HTML parser (no entity
expansion, no network) into python-docx: h1 → centred title, h2 → bold heading, p → paragraph
(`doc-number` centred, `seal`/`date` right-aligned), br → line break, table → bordered table.
Page: A4 with the GB/T 9704 margins; 宋体 for text, 黑体 for the title.
"""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import Any

from docx import Document as new_document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

BODY_FONT, TITLE_FONT = "宋体", "黑体"
SKIPPED = {"head", "style", "script", "title"}
BLOCKS = {"h1", "h2", "h3", "p", "div", "li"}


def to_docx(html: str, footer: str = "") -> bytes:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    if footer:
        builder.doc.sections[0].footer.paragraphs[0].text = footer
    out = io.BytesIO()
    builder.doc.save(out)
    return out.getvalue()


def _set_font(run: Any, name: str, size: float | None = None, bold: bool = False) -> None:
    run.font.name = name
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size:
        run.font.size = Pt(size)
    run.bold = bold or None


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.doc = new_document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        self.skip = 0
        self.block: str | None = None
        self.classes: set[str] = set()
        self.paragraph: Any = None
        self.bold = 0
        self.table: Any = None
        self.in_table = 0
        self.row: Any = None
        self.cell: Any = None
        self.cell_bold = False

    # -- tags -----------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skip += 1
        elif self.skip:
            return
        elif tag == "table":
            self.table, self.in_table = None, self.in_table + 1
            self._end_paragraph()
        elif tag == "tr":
            self.row = []
            self._rows().append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = {"text": "", "bold": tag == "th"}
            self.row.append(self.cell)
        elif tag in BLOCKS:
            self._end_paragraph()
            self.block = tag
            self.classes = set((dict(attrs).get("class") or "").split())
        elif tag == "br":
            if self.cell is not None:
                self.cell["text"] += "\n"
            elif self.paragraph is not None:
                self.paragraph.add_run().add_break()
        elif tag in ("b", "strong"):
            self.bold += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skip = max(0, self.skip - 1)
        elif self.skip:
            return
        elif tag == "table":
            self.in_table = max(0, self.in_table - 1)
            self._flush_table()
        elif tag in ("td", "th"):
            self.cell = None
        elif tag == "tr":
            self.row = None
        elif tag in BLOCKS:
            self._end_paragraph()
        elif tag in ("b", "strong"):
            self.bold = max(0, self.bold - 1)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = re.sub(r"\s+", " ", data)
        if self.cell is not None:
            self.cell["text"] += text
            return
        if self.in_table or not text.strip() and self.paragraph is None:
            return  # whitespace between tags
        if self.paragraph is None:
            self.paragraph = self._new_paragraph()
            text = text.lstrip()
        run = self.paragraph.add_run(text)
        title = self.block == "h1"
        bold = title or self.block == "h2" or self.bold > 0
        _set_font(run, TITLE_FONT if title else BODY_FONT, 18 if title else 12, bold=bold)

    # -- helpers --------------------------------------------------------------------------
    def _new_paragraph(self) -> Any:
        paragraph = self.doc.add_paragraph()
        if self.block == "h1" or "doc-number" in self.classes:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif self.classes & {"seal", "date"}:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        return paragraph

    def _end_paragraph(self) -> None:
        self.paragraph, self.block, self.classes = None, None, set()

    def _rows(self) -> list[Any]:
        if self.table is None:
            self.table = []
        return self.table

    def _flush_table(self) -> None:
        rows = [r for r in (self.table or []) if r]
        self.table, self.row, self.cell = None, None, None
        if not rows:
            return
        width = max(len(r) for r in rows)
        table = self.doc.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                target = table.cell(r, c)
                lines = [" ".join(x.split()) for x in cell["text"].strip().split("\n")]
                paragraph = target.paragraphs[0]
                for i, line in enumerate(lines):
                    run = paragraph.add_run(line)
                    _set_font(run, BODY_FONT, 11, bold=cell["bold"])
                    if i < len(lines) - 1:
                        run.add_break()
            if len(row) < width:  # a row with fewer cells: the last one spans the rest
                table.cell(r, len(row) - 1).merge(table.cell(r, width - 1))

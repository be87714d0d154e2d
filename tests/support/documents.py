"""Reading documents back: the text of a PDF (pypdf) and of a DOCX (python-docx), whitespace removed
(PDF text extraction breaks lines where the layout does)."""
from __future__ import annotations

import io
import re

import docx
from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-"), content[:20]
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def pdf_page_size_mm(content: bytes) -> tuple[int, int]:
    box = PdfReader(io.BytesIO(content)).pages[0].mediabox
    return round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)


def docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    parts += [p.text for section in document.sections for p in section.footer.paragraphs]
    return re.sub(r"\s+", "", "".join(parts))

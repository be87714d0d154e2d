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


def pdf_qr_codes(content: bytes) -> list[list[str]]:
    """The QR codes on each page of a PDF, decoded from the page rasterised at 144 dpi (pypdfium2,
    zxing-cpp): what a phone camera would read, not what the HTML said."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(content)
    try:
        pages = []
        for index in range(len(document)):
            image = document[index].render(scale=2).to_pil()
            pages.append([r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode])
        return pages
    finally:
        document.close()

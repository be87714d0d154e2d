"""The QR code printed on every issued document: the public verification URL of its code.

A reader scans it to `GET <public base URL>/api/v1/public/documents/<code>` (docs/publicity.md,
document verification). The code is drawn as inline SVG (segno, pure Python): WeasyPrint renders
inline SVG without fetching anything, so the refusing URL fetcher stays in force.
"""
from __future__ import annotations

from urllib.parse import quote

import segno

VERIFICATION_PATH = "/api/v1/public/documents/"


def verification_url(base_url: str, code: str) -> str:
    """`http://host` + `/api/v1/public/documents/7K2M-…` (a trailing slash on the base is dropped)."""
    return base_url.rstrip("/") + VERIFICATION_PATH + quote(code, safe="-")


def svg(text: str) -> str:
    """The QR code of `text` as an inline `<svg>` element sized by its viewBox (error correction M)."""
    return segno.make(text, error="m", micro=False).svg_inline(scale=1, omitsize=True, svgclass="qr", lineclass=None)

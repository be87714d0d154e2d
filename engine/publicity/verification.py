"""Public verification of an issued document by its verification code (printed on every page).

Shows what the public may know about a document — number, kind, agency, date — and whether the PDF
stored now still has the hash recorded when it was issued; never the party or the content.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.documents import service as documents
from engine.errors import InvalidInput, NotFound, Problem

CODE = re.compile(r"[A-Za-z0-9-]{6,64}")


@dataclass(frozen=True)
class Verification:
    code: str
    number: str
    kind: str
    agency: str
    issued_on: date
    hash_matches: bool


def verify(unit: Unit, code: str) -> Verification:
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise InvalidInput("not a verification code", [Problem("6 to 64 letters, digits or hyphens", field="code")])
    found = documents.verification_facts(unit, code)
    if found is None:
        raise NotFound("no issued document has this verification code")
    view, agency, current_sha256 = found
    return Verification(
        view.verification_code, view.number, view.title, agency, view.issued_at.astimezone(CHINA_TZ).date(),
        current_sha256 == view.sha256,
    )

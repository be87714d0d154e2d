"""Public verification of an issued document by its verification code.

The documents capability (another branch) owns issued documents. This module defines the public
contract and the minimal interface it needs (docs/publicity.md): a lookup registered with
`register_lookup` that returns an `IssuedDocument` for a code, or None. Until one is registered, no
code is known, and every verification answers 404.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from engine.core import Unit
from engine.errors import InvalidInput, NotFound, Problem

CODE = re.compile(r"[A-Za-z0-9-]{6,64}")


@dataclass(frozen=True)
class IssuedDocument:
    """What the documents capability gives for a code: no party, no content."""

    number: str
    kind: str  # e.g. 行政处罚决定书
    agency: str
    issued_on: date
    stored_sha256: str  # the hash recorded when the document was issued
    current_sha256: str  # the hash of the stored PDF now


class DocumentLookup(Protocol):
    def __call__(self, unit: Unit, code: str) -> IssuedDocument | None: ...


_lookups: list[DocumentLookup] = []


def register_lookup(lookup: DocumentLookup) -> Callable[[], None]:
    """Install a lookup; returns a function that removes it again."""
    _lookups.append(lookup)
    return lambda: _lookups.remove(lookup)


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
    found = next((d for d in (lookup(unit, code) for lookup in _lookups) if d is not None), None)
    if found is None:
        raise NotFound("no issued document has this verification code")
    return Verification(code, found.number, found.kind, found.agency, found.issued_on,
                        found.stored_sha256 == found.current_sha256)

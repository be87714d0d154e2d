"""Parties to a case: a natural person (ID card number) or an organisation (unified social credit code)."""
from __future__ import annotations

import re
from typing import Any

from engine.errors import InvalidInput, Problem

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def valid_id_number(value: str) -> bool:
    """GB 11643-1999 citizen identity number: 17 digits and a MOD 11-2 check character."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def valid_credit_code(value: str) -> bool:
    """GB 32100-2015 unified social credit code: 18 characters with a MOD 31 check character."""
    if len(value) != 18 or any(c not in _USCC_ALPHABET for c in value):
        return False
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(value[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31] == value[17]


def normalise_party(party: Any) -> dict[str, Any]:
    """Check a party record and return it cleaned; every problem names its field."""
    if not isinstance(party, dict):
        raise InvalidInput("party must be an object", [Problem("must be an object", field="party")])
    problems: list[Problem] = []
    kind = party.get("type")
    name = party.get("name").strip() if isinstance(party.get("name"), str) else ""
    if kind not in ("person", "organization"):
        problems.append(Problem("must be 'person' or 'organization'", field="party.type"))
    if not name:
        problems.append(Problem("the party's name is required (text)", field="party.name"))
    cleaned = {k: v for k, v in party.items() if isinstance(k, str) and isinstance(v, (str, int, float)) or v is None}
    cleaned["name"] = name
    if kind == "person":
        number = str(party.get("id_number") or "").strip().upper()
        if not valid_id_number(number):
            problems.append(Problem("not a valid 18-character citizen ID number", field="party.id_number"))
        cleaned["id_number"] = number
    elif kind == "organization":
        code = str(party.get("credit_code") or "").strip().upper()
        if not valid_credit_code(code):
            problems.append(Problem("not a valid 18-character unified social credit code", field="party.credit_code"))
        cleaned["credit_code"] = code
    if problems:
        raise InvalidInput("the party is not valid", problems)
    return cleaned

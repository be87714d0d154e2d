"""Personal data protection for published records: a natural person's name becomes 张某某, and ID
numbers, phone numbers and addresses never leave; an organisation appears with its credit code.
"""
from __future__ import annotations

import re
from typing import Any

# Two-character surnames (复姓) kept whole: 欧阳娜娜 -> 欧阳某某.
COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕",
    "令狐", "端木", "独孤", "南宫", "西门", "呼延", "澹台", "公冶", "宗政", "濮阳", "太史", "申屠", "闻人",
)
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


def mask_person_name(name: str) -> str:
    """Surname + 某某; a name with no Chinese surname to keep becomes 某某."""
    name = name.strip()
    surname = next((s for s in COMPOUND_SURNAMES if name.startswith(s) and len(name) > len(s)), None)
    if surname is None:
        surname = name[:1] if name and "\u4e00" <= name[0] <= "\u9fff" else ""
    return f"{surname}某某"


def scrub(text: str) -> str:
    """Remove anything shaped like an ID number or a phone number from text meant for the public."""
    return _PHONE.sub("", _ID_NUMBER.sub("", text))


def public_party(party: dict[str, Any]) -> tuple[str, str, str | None]:
    """(kind, public name, credit code) of a case party; nothing else of the party is kept."""
    if party.get("type") == "person":
        return "person", mask_person_name(str(party.get("name") or "")), None
    code = str(party.get("credit_code") or "").strip().upper() or None
    return "organization", scrub(str(party.get("name") or "")).strip(), code


def public_text(text: str, party: dict[str, Any]) -> str:
    """Free text of an officer made fit for the public: ID and phone numbers removed, and the names of a
    natural person party, its address and an organisation's legal representative masked or removed."""
    out = scrub(text)
    if party.get("type") == "person" and str(party.get("name") or "").strip():
        out = out.replace(str(party["name"]).strip(), mask_person_name(str(party["name"])))
    rep = str(party.get("legal_representative") or "").strip()
    if rep:
        out = out.replace(rep, mask_person_name(rep))
    address = str(party.get("address") or "").strip()
    if address:
        out = out.replace(address, "")
    return out.strip()

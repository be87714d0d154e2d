"""Masking for publication: names become 张某某; ID and phone numbers never survive scrubbing."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.publicity.masking import (
    COMPOUND_SURNAMES,
    mask_person_name,
    public_party,
    scrub,
)

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5).filter(lambda c: c != "某")


@settings(max_examples=200, derandomize=True, database=None)
@given(surname=st.one_of(HAN, st.sampled_from(COMPOUND_SURNAMES)), given_name=st.text(HAN, min_size=1, max_size=3))
def test_a_name_keeps_only_its_surname(surname: str, given_name: str) -> None:
    full = surname + given_name
    masked = mask_person_name(full)
    kept = masked.removesuffix("某某")
    assert masked.endswith("某某") and full.startswith(kept) and 1 <= len(kept) < len(full)  # never the whole name
    if surname in COMPOUND_SURNAMES:
        assert kept == surname


@settings(max_examples=200, derandomize=True, database=None)
@given(before=st.text(HAN, max_size=5), after=st.text(HAN, max_size=5),
       number=st.one_of(st.from_regex(r"[1-9][0-9]{16}[0-9X]", fullmatch=True), st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
                        st.from_regex(r"0[0-9]{2,3}-[0-9]{7,8}", fullmatch=True)))
def test_scrub_removes_id_and_phone_numbers(before: str, after: str, number: str) -> None:
    assert scrub(before + number + after) == before + after


def test_examples() -> None:
    assert mask_person_name("王小明") == "王某某"
    assert mask_person_name("欧阳娜娜") == "欧阳某某"
    assert mask_person_name("John Smith") == "某某"
    person = {"type": "person", "name": "李晓梅", "id_number": "44010619850312004X", "phone": "13700000001"}
    assert public_party(person) == ("person", "李某某", None)
    company = {"type": "organization", "name": "广州示例商行13800138000", "credit_code": "91440106ma59xyw00c"}
    assert public_party(company) == ("organization", "广州示例商行", "91440106MA59XYW00C")
    assert scrub("文号穗天市监罚〔2026〕1号，统一社会信用代码91440106MA59XYW00C") == "文号穗天市监罚〔2026〕1号，统一社会信用代码91440106MA59XYW00C"

"""The message catalogue covers every text of the pages, and compiles."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from api.web.i18n import TRANSLATIONS, compile_catalogues

ROOT = Path(__file__).resolve().parents[2]
METHOD_MAP = [("api/web/**.py", "python"), ("api/web/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def source_messages() -> set[str]:
    found = extract_from_dir(str(ROOT), METHOD_MAP, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def chinese() -> dict[str, str]:
    with (TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


def test_every_page_text_has_a_chinese_translation():  # type: ignore[no-untyped-def]
    messages, zh = source_messages(), chinese()
    assert len(messages) > 100
    missing = sorted(m for m in messages if not zh.get(m))
    assert not missing, f"add to messages.po (see docs/web.md): {missing}"


def test_the_catalogue_has_no_stale_entries():  # type: ignore[no-untyped-def]
    stale = sorted(set(chinese()) - source_messages())
    assert not stale, f"no longer used: {stale}"


def test_placeholders_survive_translation():  # type: ignore[no-untyped-def]
    import re

    for msgid, msgstr in chinese().items():
        assert sorted(re.findall(r"%\(\w+\)[sd]|\{\w+\}", msgid)) == sorted(re.findall(r"%\(\w+\)[sd]|\{\w+\}", msgstr)), msgid


def test_catalogues_compile(tmp_path):  # type: ignore[no-untyped-def]
    import shutil

    shutil.copytree(TRANSLATIONS, tmp_path / "t", ignore=shutil.ignore_patterns("*.mo"))
    written = compile_catalogues(tmp_path / "t")
    assert [p.relative_to(tmp_path) for p in written] == [Path("t/zh/LC_MESSAGES/messages.mo")]
    assert compile_catalogues(tmp_path / "t") == []  # up to date

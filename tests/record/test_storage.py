"""Evidence storage: the content-addressed local folder and the S3 implementation against a real S3-API
server (moto in server mode, started here on 127.0.0.1), and `zhifa evidence verify` finding a changed byte.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from api import create_app
from engine.cli import main
from engine.core import Core
from engine.evidence.service import verify_storage
from engine.evidence.storage import (
    LocalStorage,
    S3Storage,
    hash_stream,
    make_storage,
    storage_for,
)
from tests.api.conftest import Client
from tests.support import evidence_samples as samples

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}


def put_bytes(storage: Any, directory: Path, content: bytes) -> str:
    sha = hashlib.sha256(content).hexdigest()
    source = directory / f"{sha}.src"
    source.write_bytes(content)
    storage.put(source, sha)
    return sha


def test_local_storage_is_content_addressed_and_read_only(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "evidence")
    sha = put_bytes(storage, tmp_path, b"%PDF-1.4 test")
    path = storage.path(sha)
    assert path == tmp_path / "evidence" / sha[:2] / sha[2:4] / sha
    assert storage.exists(sha) and not os.access(path, os.W_OK) or os.geteuid() == 0
    assert oct(path.stat().st_mode & 0o777) == "0o444"
    put_bytes(storage, tmp_path, b"%PDF-1.4 test")  # again: nothing changes
    assert hash_stream(storage.open(sha)) == (sha, 13)
    with pytest.raises(ValueError):
        storage.path("../../etc/passwd")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._server.server_port}"
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = f"zhifa-{os.urandom(4).hex()}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    return bucket


def test_s3_storage_round_trips_a_multipart_sized_file(s3_endpoint: str, s3_env: str, tmp_path: Path) -> None:
    storage = S3Storage(boto3.client("s3", endpoint_url=s3_endpoint), s3_env, "evidence/")
    content = samples.mp4(9 * 1024 * 1024 + 17)  # above boto3's multipart threshold (8 MiB)
    sha = hashlib.sha256(content).hexdigest()
    assert not storage.exists(sha)
    put_bytes(storage, tmp_path, content)
    assert storage.exists(sha)
    assert hash_stream(storage.open(sha)) == (sha, len(content))
    keys = [o["Key"] for o in storage.client.list_objects_v2(Bucket=s3_env)["Contents"]]
    assert keys == [f"evidence/{sha[:2]}/{sha}"]


@pytest.fixture
def s3_core(core: Core, clock: Any, s3_endpoint: str, s3_env: str) -> Core:
    settings = replace(core.settings, evidence_storage="s3", s3_endpoint_url=s3_endpoint, s3_bucket=s3_env)
    return Core(settings, clock=clock, db=core.db)


def open_case(officer: Client) -> int:
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    return officer.post("/api/v1/cases", json={"matter_code": "440201003001", "party": PARTY, "officer_ids": ids}).get_json()["id"]


def test_evidence_through_the_api_lands_in_s3_and_a_changed_object_is_named(s3_core: Core) -> None:
    officer = Client(create_app(s3_core).test_client(), "officer1")
    case_id = open_case(officer)
    photo = samples.png()
    response = officer.post(f"/api/v1/cases/{case_id}/evidence", data=samples.multipart({}, "现场.png", photo),
                            content_type=samples.CONTENT_TYPE)
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    storage = storage_for(s3_core)
    assert isinstance(storage, S3Storage) and storage.exists(item["sha256"]) and storage.exists(item["thumbnail_sha256"])
    assert officer.get(f"/api/v1/evidence/{item['id']}/content").data == photo
    assert verify_storage(s3_core, case_id) == (1, [])
    storage.client.put_object(Bucket=storage.bucket, Key=storage.key(item["sha256"]), Body=photo[:-1] + b"\x00")
    count, problems = verify_storage(s3_core, case_id)
    assert count == 1 and [p.evidence_id for p in problems] == [item["id"]] and "SHA-256" in problems[0].reason


def test_cli_evidence_verify_names_a_changed_byte(core: Core, login: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    officer = login("officer1")
    case_id = open_case(officer)
    item = officer.post(f"/api/v1/cases/{case_id}/evidence", data=samples.multipart({}, "笔录.pdf", samples.PDF),
                        content_type=samples.CONTENT_TYPE).get_json()
    monkeypatch.setenv("ZHIFA_DATABASE_URL", core.db.url)
    monkeypatch.setenv("ZHIFA_DATA_DIR", str(core.settings.data_dir))
    ok = CliRunner().invoke(main, ["evidence", "verify"], catch_exceptions=False)
    assert ok.exit_code == 0 and "ok: 1 evidence" in ok.output, ok.output
    path = make_storage(core.settings).path(item["sha256"])  # type: ignore[attr-defined]
    os.chmod(path, 0o644)
    content = bytearray(path.read_bytes())
    content[20] ^= 0x01
    path.write_bytes(bytes(content))
    bad = CliRunner().invoke(main, ["evidence", "verify", "--case", str(case_id)], catch_exceptions=False)
    assert bad.exit_code == 1 and f"evidence {item['id']} (笔录.pdf" in bad.output
    path.unlink()
    missing = CliRunner().invoke(main, ["evidence", "verify"], catch_exceptions=False)
    assert missing.exit_code == 1 and "cannot be read" in missing.output

"""Every setting is a documented ZHIFA_* environment variable, read here and nowhere else."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    now: str | None = None  # ZHIFA_NOW: freezes the clock (ISO 8601 with offset)
    token_ttl_seconds: int = 8 * 3600
    demo_password: str = "zhifa-demo"
    processes_dir: Path = PROJECT_ROOT / "processes"
    forms_dir: Path = PROJECT_ROOT / "forms"
    templates_dir: Path = PROJECT_ROOT / "templates"
    max_upload_bytes: int = 5 * 1024 * 1024
    timer_sweep_seconds: int = 30
    extra: dict[str, str] = field(default_factory=dict)
    max_evidence_bytes: int = 2 * 1024**3  # ZHIFA_MAX_EVIDENCE_BYTES: one evidence file (default 2 GiB)
    evidence_storage: str = "local"  # ZHIFA_EVIDENCE_STORAGE: local (under ZHIFA_DATA_DIR/evidence) | s3
    s3_endpoint_url: str | None = None  # ZHIFA_S3_ENDPOINT_URL: an S3-compatible server (credentials: AWS_*)
    s3_bucket: str = "zhifa-evidence"  # ZHIFA_S3_BUCKET
    s3_prefix: str = "evidence/"  # ZHIFA_S3_PREFIX

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("ZHIFA_DATA_DIR", "var")).resolve()
    url = env.get("ZHIFA_DATABASE_URL") or f"sqlite:///{data_dir / 'zhifa.db'}"
    return Settings(
        database_url=url,
        data_dir=data_dir,
        now=env.get("ZHIFA_NOW") or None,
        token_ttl_seconds=int(env.get("ZHIFA_TOKEN_TTL_SECONDS", 8 * 3600)),
        demo_password=env.get("ZHIFA_DEMO_PASSWORD", "zhifa-demo"),
        max_upload_bytes=int(env.get("ZHIFA_MAX_BPMN_BYTES", 5 * 1024 * 1024)),
        timer_sweep_seconds=int(env.get("ZHIFA_TIMER_SWEEP_SECONDS", 30)),
        max_evidence_bytes=int(env.get("ZHIFA_MAX_EVIDENCE_BYTES", 2 * 1024**3)),
        evidence_storage=env.get("ZHIFA_EVIDENCE_STORAGE", "local"),
        s3_endpoint_url=env.get("ZHIFA_S3_ENDPOINT_URL") or None,
        s3_bucket=env.get("ZHIFA_S3_BUCKET", "zhifa-evidence"),
        s3_prefix=env.get("ZHIFA_S3_PREFIX", "evidence/"),
    )

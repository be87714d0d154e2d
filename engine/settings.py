"""Every setting is a documented ZHIFA_* environment variable, read here and nowhere else."""
from __future__ import annotations

import os
import re
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
    secret_key: str | None = None  # ZHIFA_SECRET_KEY: signs web session cookies (random per process if unset)
    # The two interpretive choices of time-limits.md section 0 (conventions 1 and 2; section 5.1).
    adjusted_weekend_is_working: bool = True  # ZHIFA_ADJUSTED_WEEKEND_IS_WORKING: a 调休 working weekend day is a 工作日
    weekend_is_rest_for_last_day: bool = True  # ZHIFA_WEEKEND_IS_REST_FOR_LAST_DAY: the last-day rule skips 公休日
    provisional_calendar: bool = True  # ZHIFA_PROVISIONAL_CALENDAR: years without a notice are built from the statute
    calendar_refresh_seconds: int = 60  # ZHIFA_CALENDAR_REFRESH_SECONDS: how often holiday years are re-read
    public_rate_per_minute: int = 120  # ZHIFA_PUBLIC_RATE_PER_MINUTE: per client IP, public API and feeds
    webhook_allow_private: bool = False  # ZHIFA_WEBHOOK_ALLOW_PRIVATE=1: deliver to loopback/private addresses
    max_evidence_bytes: int = 2 * 1024**3  # ZHIFA_MAX_EVIDENCE_BYTES: one evidence file (default 2 GiB)
    evidence_storage: str = "local"  # ZHIFA_EVIDENCE_STORAGE: local (under ZHIFA_DATA_DIR/evidence) | s3
    s3_endpoint_url: str | None = None  # ZHIFA_S3_ENDPOINT_URL: an S3-compatible server (credentials: AWS_*)
    s3_bucket: str = "zhifa-evidence"  # ZHIFA_S3_BUCKET
    s3_prefix: str = "evidence/"  # ZHIFA_S3_PREFIX
    public_base_url: str = "http://127.0.0.1:8000"  # ZHIFA_PUBLIC_BASE_URL: what a document's QR code points to
    public_rate_store: str = "database"  # ZHIFA_PUBLIC_RATE_STORE: database (shared by all processes) | memory (per process)
    # ZHIFA_TIMER_POLL_SECONDS: the timer process sleeps until the next timer falls due, at most this long
    # (0: no such loop; only the sweep every ZHIFA_TIMER_SWEEP_SECONDS)
    timer_poll_seconds: float = 1.0
    web_workers: int = 2  # ZHIFA_WEB_WORKERS: `zhifa serve`'s worker processes (about one per core)
    web_threads: int = 4  # ZHIFA_WEB_THREADS: threads per worker process

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
        secret_key=env.get("ZHIFA_SECRET_KEY") or None,
        adjusted_weekend_is_working=_flag(env, "ZHIFA_ADJUSTED_WEEKEND_IS_WORKING", True),
        weekend_is_rest_for_last_day=_flag(env, "ZHIFA_WEEKEND_IS_REST_FOR_LAST_DAY", True),
        provisional_calendar=_flag(env, "ZHIFA_PROVISIONAL_CALENDAR", True),
        calendar_refresh_seconds=int(env.get("ZHIFA_CALENDAR_REFRESH_SECONDS", 60)),
        public_rate_per_minute=int(env.get("ZHIFA_PUBLIC_RATE_PER_MINUTE", 120)),
        webhook_allow_private=env.get("ZHIFA_WEBHOOK_ALLOW_PRIVATE", "") == "1",
        max_evidence_bytes=int(env.get("ZHIFA_MAX_EVIDENCE_BYTES", 2 * 1024**3)),
        evidence_storage=env.get("ZHIFA_EVIDENCE_STORAGE", "local"),
        s3_endpoint_url=env.get("ZHIFA_S3_ENDPOINT_URL") or None,
        s3_bucket=env.get("ZHIFA_S3_BUCKET", "zhifa-evidence"),
        s3_prefix=env.get("ZHIFA_S3_PREFIX", "evidence/"),
        public_base_url=_base_url(env.get("ZHIFA_PUBLIC_BASE_URL") or "http://127.0.0.1:8000"),
        public_rate_store=_choice(env, "ZHIFA_PUBLIC_RATE_STORE", ("database", "memory")),
        timer_poll_seconds=float(env.get("ZHIFA_TIMER_POLL_SECONDS", 1.0)),
        web_workers=_positive(env, "ZHIFA_WEB_WORKERS", 2),
        web_threads=_positive(env, "ZHIFA_WEB_THREADS", 4),
    )


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name} must be true or false, not {raw!r}")


def _base_url(raw: str) -> str:
    """ZHIFA_PUBLIC_BASE_URL: an absolute http(s) URL without query or fragment (printed in QR codes)."""
    value = raw.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        raise ValueError(f"ZHIFA_PUBLIC_BASE_URL must be an http(s) URL such as https://zhifa.gd.gov.cn, not {raw!r}")
    return value


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first is the default when unset)."""
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {env.get(name)!r}")
    return value


def _positive(env: dict[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)

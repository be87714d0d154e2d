"""The public rate limit is shared through the database: two app instances (two processes' worth of
state) on one database count against one limit (SQLite and PostgreSQL); `memory` keeps the old
per-process counting; the sweep forgets finished windows."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import func, select

from api import create_app
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.publicity import ratelimit, sweep
from engine.publicity.models import PublicRateWindow
from engine.settings import from_env


def app(core: Core, clock: FrozenClock, per_minute: int, store: str = "database"):  # type: ignore[no-untyped-def]
    settings = replace(core.settings, public_rate_per_minute=per_minute, public_rate_store=store)
    return create_app(Core(settings, clock=clock, db=core.db)).test_client()


def test_two_app_instances_on_one_database_hit_one_limit(core: Core, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 3, 2, 9, 0, 20, tzinfo=CHINA_TZ))
    first, second = app(core, clock, 4), app(core, clock, 4)
    answers = [client.get("/api/v1/public/subjects").status_code for client in (first, second, first, second)]
    assert answers == [200, 200, 200, 200]
    blocked = second.get("/feeds/decisions.atom")
    assert blocked.status_code == 429 and blocked.mimetype == "application/problem+json"
    assert blocked.headers["Retry-After"] == "40" and blocked.headers["Cache-Control"] == "no-store"
    assert "at most 4 requests a minute" in blocked.get_json()["detail"]
    assert first.get("/public/decisions").status_code == 429  # the pages count too
    assert first.get("/api/v1/public/subjects", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    clock.set(datetime(2026, 3, 2, 9, 1, 0, tzinfo=CHINA_TZ))  # the next window
    assert second.get("/api/v1/public/subjects").status_code == 200
    with core.unit() as unit:  # the client's finished window was deleted when its new one began
        windows = unit.session.execute(select(PublicRateWindow.client_key, PublicRateWindow.hits)
                                       .order_by(PublicRateWindow.client_key)).all()
    assert windows == [("10.0.0.9", 1), ("127.0.0.1", 1)]


def test_the_memory_store_counts_per_process(core: Core, clock: FrozenClock) -> None:
    first, second = app(core, clock, 2, "memory"), app(core, clock, 2, "memory")
    assert [first.get("/api/v1/public/subjects").status_code for _ in range(3)] == [200, 200, 429]
    assert second.get("/api/v1/public/subjects").status_code == 200
    with core.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(PublicRateWindow)) == 0


def test_the_sweep_forgets_finished_windows(core: Core, clock: FrozenClock) -> None:
    now = clock.now()
    for n in range(3):
        ratelimit.count(core.db, f"10.0.0.{n}", now, 60)
    assert ratelimit.count(core.db, "10.0.0.0", now, 60) == 2
    clock.advance(seconds=61)
    ratelimit.count(core.db, "10.0.0.7", clock.now(), 60)
    sweep(core)
    with core.unit() as unit:
        assert list(unit.session.scalars(select(PublicRateWindow.client_key))) == ["10.0.0.7"]


def test_the_store_setting_is_checked() -> None:
    assert from_env({}).public_rate_store == "database"
    assert from_env({"ZHIFA_PUBLIC_RATE_STORE": "Memory"}).public_rate_store == "memory"
    with pytest.raises(ValueError, match="ZHIFA_PUBLIC_RATE_STORE"):
        from_env({"ZHIFA_PUBLIC_RATE_STORE": "redis"})

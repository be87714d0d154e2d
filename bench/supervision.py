"""Supervision benchmark: the overdue query and the overview at provincial scale.

    python -m bench.supervision --start-postgres --cases 1000000 --json
    python -m bench.supervision --database-url URL --cases N [--runs 200]

Generates the database first (`zhifa bench generate`: engine.supervision.generator; skipped when it
already holds N generated cases), then times, each in its own unit of work as the API runs it, `--runs`
times after a warm-up: the first page (50) of overdue timers with its total for a provincial, a city and a
county supervisor, the same for one county's enforcement bureau, and the agency overview at province and
city level. Not a test: it prints p50/p95/max in milliseconds; docs/performance.md records them.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine.accounts import principal_for_username
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.db import Database, upgrade
from engine.models import Agency, Case
from engine.settings import from_env
from engine.supervision import monitoring
from engine.supervision.generator import generate
from engine.timers import list_timers

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=CHINA_TZ)


def _core(url: str) -> Core:
    scratch = Path(tempfile.mkdtemp())
    settings = replace(from_env({}), database_url=url, data_dir=scratch)
    return Core(settings, clock=FrozenClock(NOW), db=Database(url, pool_size=2))


def _timed(core: Core, username: str, call: Callable[[Any], Any], runs: int) -> dict[str, float]:
    with core.unit() as unit:
        actor = principal_for_username(unit, username)
    for _ in range(5):
        with core.unit(actor) as unit:
            call(unit)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        with core.unit(actor) as unit:
            call(unit)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(0.95 * (runs - 1))], 2),
            "max_ms": round(samples[-1], 2)}


def run(url: str, cases: int, runs: int) -> dict[str, Any]:
    upgrade(url)
    core = _core(url)
    with core.unit() as unit:
        have = unit.session.scalar(select(func.count()).select_from(Case).where(Case.summary == "生成案件")) or 0
    started = time.perf_counter()
    if have < cases:
        generate(core, cases - have)
    generated_s = round(time.perf_counter() - started, 1)
    with core.unit() as unit:
        county_bureau = unit.session.scalar(select(Agency.id).where(Agency.code == "GEN-C01-X01-SJJ"))
        overdue = unit.session.scalar(select(func.count()).select_from(Case).where(Case.status == "open")) or 0

    def overdue_page(unit: Any, agency_id: int | None = None) -> Any:
        return list_timers(unit, status="overdue", agency_id=agency_id, per_page=50)

    result: dict[str, Any] = {"cases": max(have, cases), "open_cases": overdue, "generate_s": generated_s, "runs": runs}
    result["overdue_province"] = _timed(core, "gen-sup-province", overdue_page, runs)
    result["overdue_city"] = _timed(core, "gen-sup-GEN-C01-SFJ", overdue_page, runs)
    result["overdue_county"] = _timed(core, "gen-sup-GEN-C01-X01-SFJ", overdue_page, runs)
    result["overdue_county_bureau"] = _timed(core, "gen-sup-GEN-C01-X01-SFJ", lambda u: overdue_page(u, county_bureau), runs)
    result["overview_province"] = _timed(core, "gen-sup-province", lambda u: monitoring.overview(u), max(runs // 10, 5))
    result["overview_city"] = _timed(core, "gen-sup-GEN-C01-SFJ", lambda u: monitoring.overview(u), runs)
    result["database"] = core.db.engine.dialect.name
    core.db.dispose()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--database-url", help="a scratch database (migrated, then generated into)")
    target.add_argument("--start-postgres", action="store_true", help="start a throw-away PostgreSQL server for the run")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.start_postgres:
        from tests.support.postgres import start_postgres

        with start_postgres(dbname="zhifa_bench_supervision", durable=True) as server:
            result = run(server.url, args.cases, args.runs)
    else:
        result = run(args.database_url, args.cases, args.runs)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Timer lateness benchmark: N deadline timers falling due within one minute, fired by real timer processes.

    python -m bench.timers --start-postgres --timers 10000 --processes 2 --json
    python -m bench.timers --database-url URL [--timers N] [--processes P] [--spread 60]

Real time here (a benchmark, not a test). It seeds N cases of a one-step procedure
(bench/timer_processes/bench_timer.bpmn: a deadline an hour after the case opens), each opened by the
engine with its clock set so that the deadlines fall due evenly over `--spread` seconds, starting a few
seconds after seeding ends (the lead is measured: a first batch times the seeding). Then it starts P
`zhifa timers run` processes against the database, waits until every timer has fired, stops them, and
reports from `timer_firings`: count, lateness p50/p95/p99/max (fired minus due, nearest rank), firings per
process, and whether any timer fired twice (also checked against the `timer.fired` audit events).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine import cases, definitions
from engine.accounts import principal_for_username
from engine.clock import FrozenClock
from engine.core import Core
from engine.db import Database, upgrade
from engine.models import Agency, AgencyMatter, AuditEvent, Case, Matter, TimerRow, User
from engine.seed import seed_demo
from engine.settings import from_env
from engine.supervision.models import TimerFiring

HERE = Path(__file__).resolve().parent
MATTER = "BENCH-TIMER"
ARMED = timedelta(hours=1)  # the procedure's deadline: PT3600S after the case opens
PARTY = {"type": "organization", "name": "广州市基准贸易有限公司", "credit_code": "91350100M000100Y43"}
LEAD_SECONDS = 10.0  # after seeding, before the first timer falls due: the timer processes start meanwhile


def _core(url: str, clock: Any = None) -> Core:
    scratch = Path(tempfile.mkdtemp())
    settings = replace(from_env({}), database_url=url, data_dir=scratch, processes_dir=scratch)
    return Core(settings, clock=clock or FrozenClock(datetime.now(UTC)), db=Database(url, pool_size=2))


def prepare(url: str) -> None:
    upgrade(url)
    core = _core(url)
    seed_demo(core, "bench-password")
    with core.unit() as unit:
        if unit.session.get(Matter, MATTER) is None:
            files = {p.name: p.read_bytes() for p in (HERE / "timer_processes").iterdir()}
            definitions.deploy_files(unit, files)
            unit.session.add(Matter(code=MATTER, name="基准测试期限事项", category="punishment", legal_basis="-",
                                    penalty_basis=None, process_id="bench_timer", domain="bench"))
            unit.session.flush()
            agency_id = unit.session.scalar(select(Agency.id).where(Agency.code == "GZ-TH-SJJ"))
            unit.session.add(AgencyMatter(agency_id=agency_id, matter_code=MATTER))
    core.db.dispose()


def _seed(url: str, dues: list[float], out: Any) -> None:
    """Open one case per due instant (epoch seconds), the engine's clock ten minutes before it."""
    clock = FrozenClock(datetime.now(UTC))
    core = _core(url, clock)
    with core.unit() as unit:
        actor = principal_for_username(unit, "officer1")
        ids = list(unit.session.scalars(select(User.id).where(User.username.in_(["officer1", "officer2"]))))
    made = []
    for due in dues:
        clock.set(datetime.fromtimestamp(due, UTC) - ARMED)
        with core.unit(actor) as unit:
            made.append(cases.open_case(unit, MATTER, PARTY, ids, "期限基准").id)
    core.db.dispose()
    out.put(made)


def seed(url: str, dues: list[float], workers: int) -> list[int]:
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_seed, args=(url, dues[w::workers], out)) for w in range(workers)]
    for p in procs:
        p.start()
    made = [case_id for _ in procs for case_id in out.get(timeout=3600)]
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a seeding process failed with exit code {p.exitcode}")
    return made


def _nearest_rank(sorted_values: list[int], q: float) -> int:
    return sorted_values[max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 1)) - 1))]


def run(url: str, timers: int, processes: int, spread: float, seeders: int) -> dict[str, Any]:
    prepare(url)
    # Time a first batch to know how long the seeding takes; its cases' timers fall due in a day (never here).
    began = time.time()
    probe = min(200, timers)
    seed(url, [began + 86400] * probe, seeders)
    rate = probe / (time.time() - began)
    first = time.time() + timers / rate * 1.5 + LEAD_SECONDS  # a loaded machine seeds unevenly
    dues = [first + spread * i / timers for i in range(timers)]
    seeding_began = time.time()
    case_ids = seed(url, dues, seeders)
    seeded_at = time.time()
    env = {**os.environ, "ZHIFA_DATABASE_URL": url, "ZHIFA_DATA_DIR": tempfile.mkdtemp(), "PYTHONUNBUFFERED": "1"}
    env.pop("ZHIFA_NOW", None)
    zhifa = str(Path(sys.executable).with_name("zhifa"))
    logs = [tempfile.TemporaryFile() for _ in range(processes)]  # noqa: SIM115 - read after the processes end
    procs = [subprocess.Popen([zhifa, "timers", "run"], env=env, stdout=log, stderr=subprocess.STDOUT) for log in logs]
    core = _core(url)
    low, high = min(case_ids), max(case_ids)
    in_run = (TimerFiring.case_id >= low) & (TimerFiring.case_id <= high)
    deadline = dues[-1] + 600
    fired = 0
    try:
        while time.time() < deadline:
            with core.unit() as unit:
                fired = unit.session.scalar(select(func.count()).select_from(TimerFiring).where(in_run)) or 0
            if fired >= timers or any(p.poll() is not None for p in procs):
                break
            time.sleep(0.5)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
    with core.unit() as unit:
        s = unit.session
        lateness = sorted(s.scalars(select(TimerFiring.lateness_ms).where(in_run)))
        distinct = s.scalar(select(func.count(func.distinct(TimerFiring.timer_id))).where(in_run))
        per_worker = dict(s.execute(select(TimerFiring.worker, func.count()).where(in_run).group_by(TimerFiring.worker)).all())
        audited = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "timer.fired", AuditEvent.case_id >= low, AuditEvent.case_id <= high))
        still_waiting = s.scalar(select(func.count()).select_from(TimerRow).where(
            TimerRow.case_id >= low, TimerRow.case_id <= high, TimerRow.status == "waiting"))
        opened = s.scalar(select(func.count()).select_from(Case).where(Case.id >= low, Case.id <= high))
    per_process: dict[str, int] = {}
    for worker, n in per_worker.items():
        pid = worker.split(":")[1] if worker and ":" in worker else str(worker)
        per_process[pid] = per_process.get(pid, 0) + n
    core.db.dispose()
    for p, log in zip(procs, logs, strict=True):
        if p.returncode not in (0, 1, -signal.SIGINT, 130):  # click exits 1 on Ctrl-C ("Aborted!")
            log.seek(0)
            sys.stderr.write(log.read().decode("utf-8", "replace")[-4000:])
        log.close()
    return {
        "timers": timers, "cases": opened, "processes": processes, "spread_s": spread,
        "seeding_s": round(seeded_at - seeding_began, 1), "first_due_after_seeding_s": round(first - seeded_at, 1),
        "fired": len(lateness), "still_waiting": still_waiting,
        "fired_twice": len(lateness) - distinct, "audit_timer_fired": audited,
        "lateness_ms": {
            "p50": _nearest_rank(lateness, 0.50), "p95": _nearest_rank(lateness, 0.95),
            "p99": _nearest_rank(lateness, 0.99), "max": lateness[-1], "min": lateness[0],
        } if lateness else None,
        "firings_per_process": sorted(per_process.values(), reverse=True),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--database-url", help="a scratch database (migrated, then seeded)")
    target.add_argument("--start-postgres", action="store_true", help="start a throw-away PostgreSQL server for the run")
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2, help="timer processes (zhifa timers run)")
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which the timers fall due")
    parser.add_argument("--seeders", type=int, default=2, help="processes opening the cases")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.start_postgres:
        from tests.support.postgres import start_postgres

        with start_postgres(dbname="zhifa_bench_timers", durable=True) as server:
            result = run(server.url, args.timers, args.processes, args.spread, args.seeders)
    else:
        result = run(args.database_url, args.timers, args.processes, args.spread, args.seeders)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

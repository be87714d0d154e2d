"""Engine benchmark: case starts/s, task completions/s with 1 and 8 workers, completion #100 vs #5.

    python -m bench.engine --database-url URL --json

Runs the real service functions (one unit of work each: lock, load, complete, save projections,
audit) against a fresh schema in the given database, with a 150-step loop procedure
(bench/processes/bench_chain.bpmn, one user task with a statutory-style deadline each round).
Not a test: it prints numbers; docs/performance.md records them.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from engine import cases, definitions, tasks
from engine.accounts import principal_for_username
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.db import Database, upgrade
from engine.models import Agency, AgencyMatter, Matter, TaskRow, User
from engine.seed import seed_demo
from engine.settings import from_env

HERE = Path(__file__).resolve().parent
ONE_WORKER_ROUNDS = 20  # 20 cases x 20 rounds
EIGHT_WORKER_ROUNDS = 20  # 80 cases x 20 rounds
PARTY = {"type": "organization", "name": "广州市基准贸易有限公司", "credit_code": "91350100M000100Y43"}


def _core(url: str) -> Core:
    scratch = Path(tempfile.mkdtemp())
    settings = replace(from_env({}), database_url=url, data_dir=scratch, processes_dir=scratch)
    return Core(settings, clock=FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=CHINA_TZ)), db=Database(url, pool_size=2))


def prepare(url: str) -> Core:
    upgrade(url)
    core = _core(url)
    seed_demo(core, "bench-password")
    with core.unit() as unit:
        if unit.session.get(Matter, "BENCH-001") is None:
            files = {p.name: p.read_bytes() for p in (HERE / "processes").iterdir()}
            definitions.deploy_files(unit, files)
            unit.session.add(Matter(code="BENCH-001", name="基准测试事项", category="punishment", legal_basis="-",
                                    penalty_basis=None, process_id="bench_chain", domain="bench"))
            unit.session.flush()
            agency_id = unit.session.scalar(select(Agency.id).where(Agency.code == "GZ-TH-SJJ"))
            unit.session.add(AgencyMatter(agency_id=agency_id, matter_code="BENCH-001"))
    return core


def _officers(core: Core) -> tuple[Any, list[int]]:
    with core.unit() as unit:
        actor = principal_for_username(unit, "officer1")
        ids = list(unit.session.scalars(select(User.id).where(User.username.in_(["officer1", "officer2"]))))
    return actor, ids


def open_cases(core: Core, n: int) -> tuple[list[int], float]:
    actor, ids = _officers(core)
    made = []
    began = time.perf_counter()
    for _ in range(n):
        with core.unit(actor) as unit:
            made.append(cases.open_case(unit, "BENCH-001", PARTY, ids, "基准").id)
    return made, time.perf_counter() - began


def _start_worker(url: str, n: int, ready: Any, go: Any, out: Any) -> None:
    core = _core(url)
    open_cases(core, 1)  # warm: deployed spec loaded, connections open
    ready.wait()
    go.wait()
    made, _ = open_cases(core, n)
    out.put(made)


def parallel_starts(url: str, n: int, workers: int) -> tuple[list[int], float]:
    """Cases opened per second by `workers` processes at once (as a server's workers do)."""
    results, elapsed = _in_processes(workers, lambda w, *sync: (_start_worker, (url, n // workers, *sync)))
    made = [case_id for batch in results for case_id in batch]
    return made, len(made) / elapsed


def _in_processes(workers: int, job: Any) -> tuple[list[Any], float]:
    """Run `job(w, ready, go, out)` -> (target, args) in worker processes released together.

    Returns what each worker put on `out` and the seconds from release until the last result."""
    ctx = multiprocessing.get_context("fork")
    ready, go, out = ctx.Barrier(workers + 1), ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=t, args=a) for t, a in (job(w, ready, go, out) for w in range(workers))]
    for p in procs:
        p.start()
    ready.wait()
    began = time.perf_counter()
    go.wait()
    results = [out.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a benchmark worker failed with exit code {p.exitcode}")
    return results, elapsed


def ready_task(core: Core, case_id: int) -> str:
    with core.unit() as unit:
        return unit.session.scalar(select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.state == "ready"))


def complete(core: Core, actor: Any, task_id: str, i: int) -> str:
    """Complete one task; returns the case's next ready task (what the API response shows a client)."""
    with core.unit(actor) as unit:
        done = tasks.complete(unit, task_id, {"note": f"第{i}步", "amount": i})
    return done.ready_task_ids[0]


def _worker(url: str, case_ids: list[int], per_case: int, ready: Any, go: Any, out: Any) -> None:
    core = _core(url)
    actor, _ = _officers(core)
    next_task = {case_id: ready_task(core, case_id) for case_id in case_ids}
    # Warm up as a running server is: its first completion loads the procedure's specs and forms into the
    # process and prepares the statements on its connection, and PostgreSQL's new backend fills its caches.
    # Those one-off costs are not the throughput of a server that is up; they are left out of the timing.
    for case_id in case_ids[:1]:
        next_task[case_id] = complete(core, actor, next_task[case_id], 0)
    ready.wait()
    go.wait()
    cpu = time.process_time()
    for i in range(per_case):
        for case_id in case_ids:
            next_task[case_id] = complete(core, actor, next_task[case_id], i)
    out.put((len(case_ids) * per_case, time.process_time() - cpu))


def completions(url: str, case_ids: list[int], per_case: int, workers: int, server_cpu: Any = None) -> dict[str, float]:
    """Completions per second with `workers` processes (as a server runs several), each on its own cases,
    and the CPU milliseconds each completion cost in the workers and (when known) in PostgreSQL."""
    db_before = server_cpu() if server_cpu else None
    results, elapsed = _in_processes(
        workers, lambda w, *sync: (_worker, (url, case_ids[w::workers], per_case, *sync))
    )
    done = sum(n for n, _ in results)
    out = {"per_s": done / elapsed, "app_cpu_ms": 1000 * sum(c for _, c in results) / done}
    if server_cpu:
        time.sleep(0.5)  # let the postmaster reap the workers' backends (their CPU then counts as its children's)
        out["db_cpu_ms"] = 1000 * (server_cpu() - db_before) / done
    return out


def growth(core: Core) -> float:
    actor, _ = _officers(core)
    (case_id,), _ = open_cases(core, 1)
    task_id = ready_task(core, case_id)
    costs = []
    for i in range(1, 106):
        began = time.perf_counter()
        task_id = complete(core, actor, task_id, i)
        costs.append(time.perf_counter() - began)
    early = statistics.median(costs[2:9])  # completions #3..#9, around #5
    late = statistics.median(costs[96:103])  # completions #97..#103, around #100
    return late / early


def postgres_cpu(data_dir: Path) -> Any:
    """Seconds of CPU used so far by a local PostgreSQL server: the postmaster, its live children, and the
    children it has reaped (a backend's CPU moves to the postmaster's cutime/cstime when it exits)."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])

    def fields(pid: int | str) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    def read() -> float:
        own = fields(postmaster)
        total = sum(int(v) for v in own[11:15])  # utime stime cutime cstime
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                f = fields(pid)
            except OSError:
                continue
            if int(f[1]) == postmaster:
                total += int(f[11]) + int(f[12])
        return total / tick

    return read


def run(url: str, server_cpu: Any = None) -> dict[str, Any]:
    core = prepare(url)
    _warm(core, url)
    started, elapsed = open_cases(core, 200)
    sequential = len(started) / elapsed
    core.db.dispose()  # workers are forked: no shared connections
    more, parallel = parallel_starts(url, 400, workers=8)
    started += more
    result: dict[str, Any] = {  # 8 workers opening cases of one agency wait for its gapless number in turn
        "case_starts_per_s": round(sequential, 1),
        "case_starts_per_s_by_workers": {"1": round(sequential, 1), "8": round(parallel, 1)},
    }
    # Phases of a few seconds (400 and 1,600 completions): a server's throughput is its steady state. A
    # phase of one second (the 400 completions of 8 workers before 2026-12-02) weighed each worker's one-off
    # costs (its new backend's first statements and caches, the tail when workers finish apart) 5-10 % in.
    one = completions(url, started[:20], per_case=ONE_WORKER_ROUNDS, workers=1)
    eight = completions(url, started[40:120], per_case=EIGHT_WORKER_ROUNDS, workers=8, server_cpu=server_cpu)
    result["completions_per_s"] = {"1": round(one["per_s"], 1), "8": round(eight["per_s"], 1)}
    result["cpu_ms_per_completion_8"] = {k: round(v, 2) for k, v in eight.items() if k.endswith("cpu_ms")}
    result["completion_100_over_5"] = round(growth(core), 2)
    result["database"] = core.db.engine.dialect.name
    if core.db.engine.dialect.name == "postgresql":
        with core.db.engine.connect() as conn:
            result["server"] = conn.execute(text("show server_version")).scalar()
    return result


def _warm(core: Core, url: str) -> None:
    started, _ = open_cases(core, 3)
    core.db.dispose()
    completions(url, started, per_case=2, workers=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--database-url", help="a scratch database (its schema is migrated)")
    target.add_argument("--start-postgres", action="store_true", help="start a throw-away PostgreSQL server for the run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.start_postgres:
        from tests.support.postgres import start_postgres

        with start_postgres(dbname="zhifa_bench", durable=True) as server:
            result = run(server.url, postgres_cpu(server.data_dir))
    else:
        result = run(args.database_url)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

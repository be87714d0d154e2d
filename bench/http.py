"""HTTP benchmark: task completions per second through `zhifa serve` (gunicorn workers) with N clients.

    python -m bench.http --start-postgres --json
    python -m bench.http --database-url URL [--clients 8] [--workers 2] [--threads 4] [--rounds 10]

What an officer's browser or a client system does, end to end: each client process logs in
(`POST /api/v1/auth/token`), and completes the ready task of its cases one after another
(`POST /api/v1/tasks/{id}/complete`, whose answer is the updated case with its tasks and timers; the next
ready task is read from it), over a keep-alive connection. The procedure is bench/processes/bench_chain.bpmn
(as `bench.engine`). The server is a real `zhifa serve` subprocess; the clients run on the same machine and
share its cores. Reported: completions/s, latency p50/p95/max, and the CPU milliseconds per completion of the
server's processes and (with --start-postgres) of PostgreSQL.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import engine as engine_bench

FROZEN = "2026-03-02T09:00:00+08:00"  # bench.engine's clock: the cases' deadlines are days away


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _process_cpu(root: int) -> float:
    """CPU seconds of a process and its live children (the server's master, workers, timer process)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(pid) == root or int(fields[1]) == root:
            total += int(fields[11]) + int(fields[12])
    return total / tick


class Client:
    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.token = ""

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload)


def _client(port: int, case_ids: list[int], rounds: int, password: str, ready: Any, go: Any, out: Any) -> None:
    client = Client(port)
    client.token = client.call("POST", "/api/v1/auth/token", {"username": "officer1", "password": password})["access_token"]
    next_task = {}
    for case_id in case_ids:
        items = client.call("GET", f"/api/v1/tasks?case_id={case_id}&state=ready")["items"]
        next_task[case_id] = items[0]["id"]
    ready.wait()
    go.wait()
    latencies = []
    for i in range(rounds):
        for case_id in case_ids:
            began = time.perf_counter()
            case = client.call("POST", f"/api/v1/tasks/{next_task[case_id]}/complete", {"data": {"note": f"第{i}步", "amount": i}})
            latencies.append(time.perf_counter() - began)
            next_task[case_id] = next(t["id"] for t in case["tasks"] if t["state"] == "ready")
    out.put(latencies)


def run(url: str, clients: int, workers: int, threads: int, rounds: int, cases_per_client: int, db_cpu: Any = None) -> dict[str, Any]:
    core = engine_bench.prepare(url)
    case_ids, _ = engine_bench.open_cases(core, clients * cases_per_client)
    core.db.dispose()
    password = "bench-password"  # engine_bench.prepare seeds the demo accounts with it
    port = _free_port()
    env = {**os.environ, "ZHIFA_DATABASE_URL": url, "ZHIFA_DATA_DIR": tempfile.mkdtemp(), "ZHIFA_NOW": FROZEN,
           "PYTHONUNBUFFERED": "1"}
    zhifa = str(Path(sys.executable).with_name("zhifa"))
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read if the server fails
    server = subprocess.Popen([zhifa, "serve", "--port", str(port), "--workers", str(workers), "--threads", str(threads)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_up(port, server, log)
        ctx = multiprocessing.get_context("fork")
        ready, go, out = ctx.Barrier(clients + 1), ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_client, args=(port, case_ids[c::clients], rounds, password, ready, go, out))
                 for c in range(clients)]
        for p in procs:
            p.start()
        ready.wait(timeout=300)
        server_before, db_before = _process_cpu(server.pid), db_cpu() if db_cpu else None
        began = time.perf_counter()
        go.set()
        latencies = [x for _ in procs for x in out.get(timeout=1800)]
        elapsed = time.perf_counter() - began
        server_used = _process_cpu(server.pid) - server_before
        db_used = db_cpu() - db_before if db_cpu else None
        for p in procs:
            p.join()
            if p.exitcode != 0:
                raise RuntimeError(f"a client failed with exit code {p.exitcode}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=90)
        except subprocess.TimeoutExpired:
            server.kill()
    latencies.sort()
    done = len(latencies)
    result = {
        "clients": clients, "workers": workers, "threads": threads, "completions": done,
        "completions_per_s": round(done / elapsed, 1),
        "latency_ms": {"p50": round(1000 * latencies[done // 2], 1), "p95": round(1000 * latencies[int(done * 0.95)], 1),
                       "max": round(1000 * latencies[-1], 1)},
        "server_cpu_ms_per_completion": round(1000 * server_used / done, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if db_used is not None:
        result["db_cpu_ms_per_completion"] = round(1000 * db_used / done, 2)
    return result


def _wait_up(port: int, server: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            Client(port).call("GET", "/api/v1/health")
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError("zhifa serve did not start:\n" + log.read().decode("utf-8", "replace")[-4000:]) from None
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--database-url", help="a scratch database (migrated, then seeded)")
    target.add_argument("--start-postgres", action="store_true", help="start a throw-away PostgreSQL server for the run")
    parser.add_argument("--clients", type=int, default=8, help="client processes, each with its own cases")
    parser.add_argument("--workers", type=int, default=2, help="zhifa serve --workers")
    parser.add_argument("--threads", type=int, default=4, help="zhifa serve --threads")
    parser.add_argument("--rounds", type=int, default=10, help="completions per case")
    parser.add_argument("--cases-per-client", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    options = (args.clients, args.workers, args.threads, args.rounds, args.cases_per_client)
    if args.start_postgres:
        from tests.support.postgres import start_postgres

        with start_postgres(dbname="zhifa_bench_http", durable=True) as server:
            result = run(server.url, *options, db_cpu=engine_bench.postgres_cpu(Path(server.data_dir)))
    else:
        result = run(args.database_url, *options)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

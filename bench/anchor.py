"""The naive anchor of ../shared/docs/PERFORMANCE-ANCHORS.md, rebuilt to calibrate the machine.

This machine's speed moves by up to 2x within an hour (the same code, nothing else running), so an absolute
figure says as much about the hour as about the code. PERFORMANCE-ANCHORS.md gives two designs measured on "a
2-core machine like ours" from which the issue's targets were set: PostgreSQL's own `pgbench -N` (1,303 / 4,070
tps with 1 / 8 clients) and bare SpiffWorkflow 3.2 with the whole serialized workflow in one jsonb row (250 / 440
completions/s, 474 / 785 starts/s, completion #30 = 1.6x completion #5). Run here, next to `bench.engine`, they
tell how fast the machine is at that moment compared with the machine the targets were set on.

The anchor is reproduced as described, nothing added: a 30-user-task chain with one exclusive gateway, each
completion submitting a small data dict; the workflow serialized whole (spec included) with SpiffWorkflow's
`serialize_json` into one jsonb row; per step `SELECT ... FOR UPDATE`, restore, run the task and the engine
steps, serialize, `UPDATE`, commit; psycopg2, no HTTP, authorisation, projections or audit. It imports
SpiffWorkflow directly (it is the baseline, not the product; the product goes through `engine/spiff/`).

    python -m bench.anchor --start-postgres --json      # the anchor's figures, plus pgbench -N 1 / 8 clients
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import subprocess
import sys
import time
from typing import Any

import psycopg2
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

TASKS = 30
GATEWAY_AFTER = 15
ROUNDS = 20  # completions per workflow in the timed phases


def chain_bpmn(tasks: int = TASKS, gateway_after: int = GATEWAY_AFTER) -> str:
    """A chain of `tasks` user tasks; after task `gateway_after` an exclusive gateway goes on when
    `amount >= 0` (always, with the data the benchmark submits) and otherwise to the end."""
    nodes = ['<startEvent id="start"/>']
    flows = []
    previous = "start"
    for i in range(1, tasks + 1):
        nodes.append(f'<userTask id="t{i}" name="Task {i}"/>')
        flows.append((previous, f"t{i}", None))
        previous = f"t{i}"
        if i == gateway_after:
            nodes.append('<exclusiveGateway id="gw" default="f_default"/>')
            flows.append((previous, "gw", None))
            previous = "gw"
    nodes.append('<endEvent id="end"/>')
    flows.append((previous, "end", None))
    xml_flows = []
    for n, (source, target, _) in enumerate(flows):
        if source == "gw":
            xml_flows.append(
                f'<sequenceFlow id="f{n}" sourceRef="gw" targetRef="{target}">'
                '<conditionExpression xsi:type="tFormalExpression">amount &gt;= 0</conditionExpression></sequenceFlow>'
            )
        else:
            xml_flows.append(f'<sequenceFlow id="f{n}" sourceRef="{source}" targetRef="{target}"/>')
    xml_flows.append('<sequenceFlow id="f_default" sourceRef="gw" targetRef="end"/>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="bench">'
        f'<process id="chain" isExecutable="true">{"".join(nodes)}{"".join(xml_flows)}</process></definitions>'
    )


def _spec() -> Any:
    parser = BpmnParser()
    parser.add_bpmn_str(chain_bpmn().encode("utf-8"), "anchor_chain.bpmn")
    return parser.get_spec("chain")


SERIALIZER = BpmnWorkflowSerializer()


def _connect(dsn: str) -> Any:
    return psycopg2.connect(dsn)


def setup(dsn: str) -> None:
    with _connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS anchor_workflows")
        cur.execute("CREATE TABLE anchor_workflows (id serial PRIMARY KEY, state jsonb NOT NULL)")


def start(conn: Any, spec: Any) -> int:
    workflow = BpmnWorkflow(spec)
    workflow.do_engine_steps()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO anchor_workflows (state) VALUES (%s) RETURNING id", (SERIALIZER.serialize_json(workflow),))
        workflow_id = cur.fetchone()[0]
    conn.commit()
    return workflow_id


def complete(conn: Any, workflow_id: int, i: int) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT state::text FROM anchor_workflows WHERE id = %s FOR UPDATE", (workflow_id,))
        workflow = SERIALIZER.deserialize_json(cur.fetchone()[0])
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        if task is None:
            raise RuntimeError(f"workflow {workflow_id} has no ready task (step {i})")
        task.data.update({"note": f"step {i}", "amount": i})
        task.run()
        workflow.do_engine_steps()
        cur.execute("UPDATE anchor_workflows SET state = %s WHERE id = %s", (SERIALIZER.serialize_json(workflow), workflow_id))
    conn.commit()


def _starts(dsn: str, n: int) -> tuple[list[int], float]:
    spec = _spec()
    conn = _connect(dsn)
    began = time.perf_counter()
    ids = [start(conn, spec) for _ in range(n)]
    elapsed = time.perf_counter() - began
    conn.close()
    return ids, elapsed


def _start_worker(dsn: str, n: int, ready: Any, go: Any, out: Any) -> None:
    spec = _spec()
    conn = _connect(dsn)
    start(conn, spec)  # warm
    ready.wait()
    go.wait()
    out.put([start(conn, spec) for _ in range(n)])


def _complete_worker(dsn: str, ids: list[int], per_case: int, ready: Any, go: Any, out: Any) -> None:
    conn = _connect(dsn)
    ready.wait()
    go.wait()
    for i in range(per_case):
        for workflow_id in ids:
            complete(conn, workflow_id, i)
    out.put(len(ids) * per_case)


def _in_processes(workers: int, target: Any, args_of: Any) -> tuple[list[Any], float]:
    ctx = multiprocessing.get_context("fork")
    ready, go, out = ctx.Barrier(workers + 1), ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args_of(w), ready, go, out)) for w in range(workers)]
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
            raise RuntimeError(f"an anchor worker failed with exit code {p.exitcode}")
    return results, elapsed


def growth(dsn: str) -> float:
    """Wall time of completion #30 over #5 in one workflow (median of 5 workflows)."""
    spec = _spec()
    conn = _connect(dsn)
    ratios = []
    for _ in range(5):
        workflow_id = start(conn, spec)
        times = []
        for i in range(1, TASKS + 1):
            began = time.perf_counter()
            complete(conn, workflow_id, i)
            times.append(time.perf_counter() - began)
        ratios.append(times[29] / times[4])
    conn.close()
    return sorted(ratios)[2]


def run(dsn: str) -> dict[str, Any]:
    setup(dsn)
    _starts(dsn, 5)  # warm
    ids, elapsed = _starts(dsn, 200)
    sequential = len(ids) / elapsed
    made, parallel_elapsed = _in_processes(8, _start_worker, lambda w: (dsn, 50))
    ids += [i for batch in made for i in batch]
    # The same phases as bench.engine's (20 workflows x 20 steps, 80 x 20 with 8 clients; 30 steps each)
    _, one = _in_processes(1, _complete_worker, lambda w: (dsn, ids[:20], ROUNDS))
    cases = ids[40:120]
    _, eight = _in_processes(8, _complete_worker, lambda w: (dsn, cases[w::8], ROUNDS))
    return {
        "case_starts_per_s": {"1": round(sequential, 1), "8": round(400 / parallel_elapsed, 1)},
        "completions_per_s": {"1": round(20 * ROUNDS / one, 1), "8": round(80 * ROUNDS / eight, 1)},
        "completion_30_over_5": round(growth(dsn), 2),
        "state_bytes": _state_bytes(dsn),
    }


def _state_bytes(dsn: str) -> int:
    with _connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT avg(length(state::text))::int FROM anchor_workflows")
        return cur.fetchone()[0]


def pgbench(server: Any) -> dict[str, float]:
    """`pgbench -N` (simple-update) for 10 s with 1 and 8 clients, as the anchors' table has it."""
    name = "pgbench"
    server.create_database(name)
    base = [str(server.bindir / "pgbench"), "-h", server.host, "-p", str(server.port), "-U", server.user]
    prefix = getattr(server, "_prefix", [])
    subprocess.run([*prefix, *base, "-i", "-q", name], check=True, capture_output=True)
    out = {}
    for clients in (1, 8):
        done = subprocess.run(
            [*prefix, *base, "-N", "-T", "10", "-c", str(clients), "-j", str(min(clients, 2)), name],
            check=True, capture_output=True, text=True,
        )
        tps = re.search(r"tps = ([0-9.]+)", done.stdout)
        out[str(clients)] = round(float(tps.group(1)), 1) if tps else float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--dsn", help="libpq connection string of a scratch database")
    target.add_argument("--start-postgres", action="store_true", help="start a throw-away PostgreSQL server for the run")
    parser.add_argument("--no-pgbench", action="store_true", help="skip pgbench -N")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.start_postgres:
        from tests.support.postgres import start_postgres

        with start_postgres(dbname="zhifa_anchor", durable=True) as server:
            result = run(server.dsn())
            if not args.no_pgbench:
                result["pgbench_tps"] = pgbench(server)
    else:
        result = run(args.dsn)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

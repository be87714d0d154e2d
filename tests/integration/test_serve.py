"""`zhifa serve` as a deployment runs it: gunicorn's worker processes and a timer process beside them.

A real server process against a seeded SQLite file: the API answers, a web session made by one worker is
good in the others (they share the session secret), the timer process fires what fell due while nothing
ran, and SIGTERM stops the master, its workers and the timer process.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models import TimerRow
from engine.supervision.models import TimerFiring
from tests.conftest import PASSWORD
from tests.integration.test_cli import (  # noqa: F401
    Zhifa,
    copy_database,
    migrated_template,
    seeded_template,
)

ZHIFA = str(Path(sys.executable).with_name("zhifa"))
LATER = "2026-06-01T09:00:00+08:00"  # every demo limit opened in March has run out by then


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    """Live child processes of `pid`, from /proc (no procps needed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


class Served:
    def __init__(self, process: subprocess.Popen[bytes], base: str, db: Zhifa, log: Path):
        self.process, self.base, self.db, self.log = process, base, db, log

    def get(self, opener: urllib.request.OpenerDirector, path: str) -> tuple[int, str, str]:
        with opener.open(self.base + path, timeout=30) as response:
            return response.status, response.geturl(), response.read().decode()


@pytest.fixture
def served(tmp_path: Path, seeded_template: Path) -> Iterator[Served]:  # noqa: F811
    copy_database(seeded_template, tmp_path / "zhifa.db")
    db = Zhifa(tmp_path / "zhifa.db", now=LATER)
    port = _free_port()
    env = {
        **os.environ, "ZHIFA_DATABASE_URL": db.url, "ZHIFA_DATA_DIR": str(tmp_path), "ZHIFA_NOW": LATER,
        "ZHIFA_DEMO_PASSWORD": PASSWORD, "PYTHONUNBUFFERED": "1",
    }
    env.pop("ZHIFA_SECRET_KEY", None)  # each worker would make its own: the server must share one
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([ZHIFA, "serve", "--port", str(port), "--workers", "3", "--threads", "2"],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/api/v1/health", timeout=5) as response:
                    assert response.status == 200
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"zhifa serve did not come up:\n{log.read_text()}") from None
                time.sleep(0.2)
        yield Served(process, base, db, log)
    finally:
        left = _children(process.pid)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        for pid in left:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_the_api_answers_from_worker_processes(served: Served) -> None:
    assert len(_children(served.process.pid)) == 4, served.log.read_text()  # three workers, the timer process
    request = urllib.request.Request(served.base + "/api/v1/auth/token", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"username": "officer1", "password": PASSWORD}).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        token = json.load(response)["access_token"]
    for _ in range(6):  # a token is good in every worker (it is in the database)
        me = urllib.request.Request(served.base + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(me, timeout=30) as response:
            assert json.load(response)["username"] == "officer1"


def test_a_web_session_is_good_in_every_worker(served: Served) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    _, _, page = served.get(opener, "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page[:500]
    form = urllib.parse.urlencode({"username": "officer1", "password": PASSWORD, "csrf_token": token.group(1)}).encode()
    with opener.open(served.base + "/login", data=form, timeout=30) as response:
        assert response.status == 200 and "/login" not in response.geturl(), response.geturl()
    # Each request goes to whichever worker accepts it first: with a secret per worker, about two in three
    # of these would land on a worker that cannot read the session and be sent back to the login page.
    for _ in range(15):
        status, url, body = served.get(opener, "/inbox")
        assert status == 200 and "/login" not in url, url
        assert 'name="password"' not in body


def test_the_timer_process_fires_what_fell_due_while_nothing_ran(served: Served) -> None:
    from datetime import datetime

    now = datetime.fromisoformat(LATER)
    due = select(func.count()).select_from(TimerRow).where(TimerRow.status == "waiting", TimerRow.due_at <= now)
    deadline = time.monotonic() + 60
    while served.db.query(due)[0][0] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert served.db.query(due)[0][0] == 0, served.log.read_text()
    assert served.db.query(select(func.count()).select_from(TimerFiring))[0][0] > 0


def test_sigterm_stops_the_master_its_workers_and_the_timer_process(served: Served) -> None:
    children = _children(served.process.pid)
    assert len(children) == 4
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=90) == 0, served.log.read_text()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in children), served.log.read_text()
    assert "timer process started" in served.log.read_text()

"""Serving: the WSGI app in gunicorn's worker processes, the timer loop that fires each timer when it falls due, and the APScheduler
jobs (the periodic sweep: timers as a safety net, publicity, the overdue counts)."""
from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import threading

from apscheduler.schedulers.blocking import BlockingScheduler
from gunicorn.app.base import BaseApplication

from engine.core import Core
from engine.publicity import sweep as publicity_sweep
from engine.supervision import overdue
from engine.timers import catch_up, fire_on_time

log = logging.getLogger("zhifa.server")
RECOUNT_SECONDS = 3600  # the overdue counts are rebuilt from the timers hourly (a safety net: triggers keep them)


def _sweep(core: Core) -> None:
    try:
        advanced = catch_up(core)
        if advanced:
            log.info("timer sweep advanced %d case(s)", advanced)
    except Exception:  # the scheduler must survive a failed sweep; the next one retries
        log.exception("timer sweep failed")
    try:
        published, delivered = publicity_sweep(core)
        if published or delivered:
            log.info("publicity sweep: %d publication(s) changed, %d webhook(s) delivered", published, delivered)
    except Exception:  # as above: the next sweep retries
        log.exception("publicity sweep failed")
    try:
        overdue.compact(core)
    except Exception:  # as above
        log.exception("overdue counts could not be compacted")


def _recount(core: Core) -> None:
    try:
        overdue.recount(core)
    except Exception:  # e.g. a serialization failure against a concurrent compaction: the next hour retries
        log.exception("overdue counts could not be recounted")


def _add_job(scheduler, core: Core) -> None:  # type: ignore[no-untyped-def]
    scheduler.add_job(
        _sweep, "interval", seconds=core.settings.timer_sweep_seconds, args=[core], id="timers",
        max_instances=1, coalesce=True, replace_existing=True,
    )
    scheduler.add_job(
        _recount, "interval", seconds=RECOUNT_SECONDS, args=[core], id="overdue-recount",
        max_instances=1, coalesce=True, replace_existing=True,
    )


def start_timers(core: Core, scheduler) -> None:  # type: ignore[no-untyped-def]
    """Fire what fell due while nothing ran (catch-up at start-up), then sweep every interval."""
    _sweep(core)
    _add_job(scheduler, core)


class TimerLoop:
    """`engine.timers.fire_on_time` in a thread: each timer fires when it falls due, not at the next sweep."""

    def __init__(self, core: Core):
        self.core = core
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="zhifa-timers", daemon=True)

    def _run(self) -> None:
        fire_on_time(self.core, poll_seconds=self.core.settings.timer_poll_seconds, wait=self.stopping.wait)

    def start(self) -> TimerLoop:
        if self.core.settings.timer_poll_seconds > 0:
            self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=60)


def run(core: Core, host: str, port: int, *, workers: int | None = None, threads: int | None = None) -> None:
    """Serve the app with gunicorn: `workers` processes (ZHIFA_WEB_WORKERS) of `threads` threads each
    (ZHIFA_WEB_THREADS), and one timer process beside them (`zhifa timers run`: the timer loop and the
    periodic sweeps), started and stopped by gunicorn's master.

    Python threads share one core, so a server uses processes to use the machine's cores. Each worker
    builds its own Core after the fork (no database connection crosses a fork); they share the secret that
    signs the web sessions (ZHIFA_SECRET_KEY, generated here for the run when unset), so a session made by
    one worker is good in the others."""
    settings = core.settings
    if not settings.secret_key:
        os.environ["ZHIFA_SECRET_KEY"] = secrets.token_hex(32)
    core.db.dispose()  # nothing pooled is inherited by the children
    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers or settings.web_workers,
        "threads": threads or settings.web_threads,
        "worker_class": "gthread",
        "timeout": 120,  # a worker silent this long is restarted (requests on threads do not block it)
        "graceful_timeout": 30,
        "accesslog": None,
        "errorlog": "-",
        "proc_name": "zhifa",
        "when_ready": _start_timer_process,
        "on_exit": _stop_timer_process,
    }).run()


TIMER_PROCESS = [sys.executable, "-m", "engine.cli", "timers", "run"]


def _start_timer_process(server) -> None:  # type: ignore[no-untyped-def]
    """gunicorn's master, once it listens: the timer process, with the master's environment."""
    server.zhifa_timers = subprocess.Popen(TIMER_PROCESS)
    server.log.info("timer process started (pid: %s)", server.zhifa_timers.pid)


def _stop_timer_process(server) -> None:  # type: ignore[no-untyped-def]
    """gunicorn's master, on its way out: stop the timer process; it finishes the case it is firing."""
    process = getattr(server, "zhifa_timers", None)
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn run from `zhifa serve`, configured here rather than by a config file."""

    def __init__(self, options: dict[str, object]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        """In each worker, after the fork: its own Core (engine, pool, caches) and app."""
        from api import create_app
        from engine.settings import from_env

        return create_app(Core(from_env()))


def run_scheduler_forever(core: Core) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    start_timers(core, scheduler)
    loop = TimerLoop(core).start()
    try:
        scheduler.start()  # until interrupted (Ctrl-C, SIGTERM through the CLI)
    finally:
        loop.stop()

"""Serving: the WSGI app, the timer loop that fires each timer when it falls due, and the APScheduler
jobs (the periodic sweep: timers as a safety net, publicity, the overdue counts)."""
from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

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


def run(core: Core, host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from api import create_app

    scheduler = BackgroundScheduler(timezone="UTC")
    start_timers(core, scheduler)
    scheduler.start()
    loop = TimerLoop(core).start()
    try:
        run_simple(host, port, create_app(core), threaded=True, use_reloader=False)
    finally:
        loop.stop()
        scheduler.shutdown(wait=False)


def run_scheduler_forever(core: Core) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    start_timers(core, scheduler)
    loop = TimerLoop(core).start()
    try:
        scheduler.start()  # until interrupted (Ctrl-C, SIGTERM through the CLI)
    finally:
        loop.stop()

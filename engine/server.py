"""Serving: the WSGI app plus the APScheduler job that sweeps due timers."""
from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine.core import Core
from engine.publicity import sweep as publicity_sweep
from engine.timers import catch_up

log = logging.getLogger("zhifa.server")


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


def _add_job(scheduler, core: Core) -> None:  # type: ignore[no-untyped-def]
    scheduler.add_job(
        _sweep, "interval", seconds=core.settings.timer_sweep_seconds, args=[core], id="timers",
        max_instances=1, coalesce=True, replace_existing=True,
    )


def start_timers(core: Core, scheduler) -> None:  # type: ignore[no-untyped-def]
    """Fire what fell due while nothing ran (catch-up at start-up), then sweep every interval."""
    _sweep(core)
    _add_job(scheduler, core)


def run(core: Core, host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from api import create_app

    scheduler = BackgroundScheduler(timezone="UTC")
    start_timers(core, scheduler)
    scheduler.start()
    try:
        run_simple(host, port, create_app(core), threaded=True, use_reloader=False)
    finally:
        scheduler.shutdown(wait=False)


def run_scheduler_forever(core: Core) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    start_timers(core, scheduler)
    scheduler.start()

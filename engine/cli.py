"""The `zhifa` command. Every command uses ZHIFA_DATABASE_URL when set, the embedded SQLite file otherwise."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from engine import settings as settings_module
from engine.errors import ZhifaError

DEMO_ACCOUNTS = "officer1 officer2 officer3 reviewer1 head1 supervisor1 designer1 admin"


def _core():  # type: ignore[no-untyped-def]
    from engine.core import Core

    return Core(settings_module.from_env())


def _fail(exc: ZhifaError) -> None:
    click.echo(f"error: {exc.detail}", err=True)
    for problem in exc.problems:
        where = ":".join(str(x) for x in (problem.file, problem.line) if x is not None)
        element = f" [{problem.element_id}]" if problem.element_id else ""
        field = f" ({problem.field})" if problem.field else ""
        click.echo(f"  {where}{element}{field} {problem.message}".rstrip(), err=True)
    sys.exit(1)


@click.group()
def main() -> None:
    """Zhifa: administrative law enforcement cases on BPMN."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("spiff", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema with Alembic."""
    from engine.db import upgrade

    url = settings_module.from_env().database_url
    upgrade(url)
    click.echo("database is at the newest schema")


@main.command("seed-demo")
def seed_demo() -> None:
    """Create the demo agencies, accounts, catalogue, procedures and cases (once)."""
    from engine.demo import seed_everything

    core = _core()
    try:
        created = seed_everything(core)
    except ZhifaError as exc:
        _fail(exc)
    click.echo("demo data created" if created else "demo data already present")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the API and run the timer sweep periodically."""
    from engine.server import run

    run(_core(), host, port)


@main.command()
@click.option("--port", default=8000, show_default=True, type=int)
def demo(port: int) -> None:
    """Set up the embedded database under ZHIFA_DATA_DIR, seed the demo once, and serve it."""
    from engine.db import upgrade
    from engine.demo import seed_everything
    from engine.server import run

    settings = settings_module.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    core = _core()
    try:
        seed_everything(core)
    except ZhifaError as exc:
        _fail(exc)
    click.echo(f"Zhifa demo: http://127.0.0.1:{port}/api/v1/  (Swagger UI at /api/v1/docs)")
    click.echo(f"accounts: {DEMO_ACCOUNTS}; password: {settings.demo_password}")
    run(core, "127.0.0.1", port)


@main.group()
def timers() -> None:
    """Statutory timers."""


@timers.command("run")
@click.option("--once", is_flag=True, help="Fire everything due as of the clock and exit.")
def timers_run(once: bool) -> None:
    """Fire due timers (once, or every ZHIFA_TIMER_SWEEP_SECONDS)."""
    from engine.server import run_scheduler_forever
    from engine.timers import catch_up

    core = _core()
    if once:
        advanced = catch_up(core)
        click.echo(f"fired timers in {advanced} case(s)")
        return
    run_scheduler_forever(core)


@main.group()
def calendar() -> None:
    """The legal calendar."""


@calendar.command("due")
@click.argument("start")
@click.argument("amount", type=int)
@click.option("--working", "unit", flag_value="working_days", help="working days (工作日)")
@click.option("--calendar", "unit", flag_value="calendar_days", help="calendar days (日), last-day rule applied")
@click.option("--months", "unit", flag_value="months", help="months (月), corresponding day")
@click.option("--hours", "unit", flag_value="hours", help="hours (小时)")
def calendar_due(start: str, amount: int, unit: str | None) -> None:
    """Print the due date of a period of AMOUNT units starting on START (YYYY-MM-DD)."""
    from engine.calendar import load_default_calendar

    if unit is None:
        raise click.UsageError("say --working, --calendar, --months or --hours")
    try:
        due = load_default_calendar().due(start, amount, unit)
    except ZhifaError as exc:
        _fail(exc)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    text = due.at.isoformat() if unit == "hours" else due.date.isoformat()
    click.echo(f"{text} (provisional)" if due.provisional else text)


@main.group()
def process() -> None:
    """Procedure definitions (BPMN)."""


def _read(files: tuple[str, ...]) -> dict[str, bytes]:
    return {Path(f).name: Path(f).read_bytes() for f in files}


@process.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def process_validate(files: tuple[str, ...]) -> None:
    """Validate BPMN/DMN files (and the forms and templates they name) without storing anything."""
    from engine.definitions import prepare

    try:
        result = prepare(settings_module.from_env(), _read(files))
    except ZhifaError as exc:
        _fail(exc)
    click.echo(f"ok: {result.process_id} ({'executable' if result.executable else 'not executable'})")


@process.command("deploy")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def process_deploy(files: tuple[str, ...]) -> None:
    """Deploy BPMN/DMN files as a new version."""
    from engine import definitions

    core = _core()
    try:
        with core.unit() as unit:
            view = definitions.deploy_files(unit, _read(files))
    except ZhifaError as exc:
        _fail(exc)
    click.echo(f"deployed {view.process_id} version {view.version} (definition {view.id})")


@main.group()
def bench() -> None:
    """Benchmark data."""


@bench.command("generate")
@click.option("--cases", "count", required=True, type=click.IntRange(1, 10_000_000), help="how many cases to write")
@click.option("--seed", default=2026, show_default=True, type=int, help="random seed (the same seed, the same data)")
def bench_generate(count: int, seed: int) -> None:
    """Fill the database with a provincial agency tree (21 cities, 120 counties, 1,600 townships) and COUNT
    cases as projections, for the supervision benchmarks (python -m bench.supervision)."""
    from engine.db import upgrade
    from engine.supervision.generator import generate

    settings = settings_module.from_env()
    upgrade(settings.database_url)
    made = generate(_core(), count, seed=seed, password=settings.demo_password)
    click.echo(f"{made.cases} cases, {made.timers} timers over {made.agencies} enforcement agencies ({made.officers} officers)")


if __name__ == "__main__":  # pragma: no cover
    main()

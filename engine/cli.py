"""The `zhifa` command. Every command uses ZHIFA_DATABASE_URL when set, the embedded SQLite file otherwise."""
from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

import click

from engine import settings as settings_module
from engine.errors import ZhifaError

DEMO_ACCOUNTS = "officer1 officer2 officer3 officer4 reviewer1 head1 supervisor1 designer1 admin"


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
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default ZHIFA_WEB_WORKERS, 2).")
@click.option("--threads", type=click.IntRange(min=1), help="Threads per worker (default ZHIFA_WEB_THREADS, 4).")
def serve(host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Serve the API and pages (gunicorn worker processes) and fire timers in a timer process."""
    from engine.server import run

    run(_core(), host, port, workers=workers, threads=threads)


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
    click.echo(f"web pages: http://127.0.0.1:{port}/  (log in with an account above)")
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
    signal.signal(signal.SIGTERM, _interrupt)  # stopped by a service manager: as Ctrl-C, cleanly
    try:
        run_scheduler_forever(core)  # the timer loop is asked to stop and given a minute (TimerLoop.stop)
    except KeyboardInterrupt:
        click.echo("timer process stopped", err=True)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


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
    if unit is None:
        raise click.UsageError("say --working, --calendar, --months or --hours")
    try:
        due = _calendar().due(start, amount, unit)
    except ZhifaError as exc:
        _fail(exc)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    text = due.at.isoformat() if unit == "hours" else due.date.isoformat()
    click.echo(f"{text} (provisional)" if due.provisional else text)


def _calendar():  # type: ignore[no-untyped-def]
    """The configured calendar with the holiday years stored in the database (packaged data if none)."""
    from sqlalchemy.exc import SQLAlchemyError

    from engine import calendar_admin

    core = _core()
    try:
        with core.db.transaction() as session:
            entries = calendar_admin.stored_entries(session)
    except SQLAlchemyError:
        click.echo("warning: no database to read imported holiday years from; packaged data only", err=True)
        entries = []
    return calendar_admin.build_calendar(core.settings, entries)


@calendar.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", help="the State Council notice (title, number or address) if the file has no papers")
def calendar_import(file: str, source: str | None) -> None:
    """Add or replace one holiday year from a holiday-cn JSON file; open timers it affects are moved,
    limits that already ran out on the provisional count are recounted and reported."""
    import json

    from engine import calendar_admin

    try:
        entry = json.loads(Path(file).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        click.echo(f"error: {file} is not JSON: {exc}", err=True)
        sys.exit(1)
    core = _core()
    try:
        with core.unit() as unit:
            result = calendar_admin.import_year(unit, entry, source=source)
    except ZhifaError as exc:
        _fail(exc)
    click.echo(f"imported {result.year.year} ({result.year.source}); replaced the {result.replaced} year; "
               f"moved {len(result.rescheduled)} open timer(s)")
    for moved in result.rescheduled:
        before = moved.due_before.date().isoformat() if moved.due_before else "-"
        after = moved.due_after.date().isoformat() if moved.due_after else "-"
        click.echo(f"  {moved.case_number} {moved.bpmn_id}: {before} -> {after}")
    click.echo(f"recounted {len(result.recounted)} time limit(s) that had run out on the provisional calendar")
    for limit in result.recounted:
        closed = ", case closed" if limit.case_closed else ""
        click.echo(f"  {limit.case_number} {limit.bpmn_id}: ran out {limit.fired_due.date().isoformat()}, "
                   f"officially {limit.official_due.date().isoformat()} (fired {limit.fired.replace('_', ' ')}{closed})")


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
def document() -> None:
    """Document templates (templates/)."""


@document.command("render")
@click.argument("name")
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False), help="context JSON (default: templates/samples/NAME.json)")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="PDF to write (default: NAME.pdf)")
@click.option("--docx", "with_docx", is_flag=True, help="also write NAME.docx when the template offers one")
def document_render(name: str, data_file: str | None, out: str | None, with_docx: bool) -> None:
    """Render templates/NAME.html.j2 with its sample context (over samples/_base.json) to a PDF."""
    import json

    from engine.documents import qr, rendering
    from engine.documents.docx import to_docx
    from engine.documents.samples import sample_context

    templates = settings_module.from_env().templates_dir
    filename = rendering.template_name(name)
    try:
        if not (templates / filename).is_file():
            raise ZhifaError(f"there is no template {filename} in {templates}")
        data = json.loads(Path(data_file).read_text(encoding="utf-8")) if data_file else None
        context = sample_context(templates, filename, data)
        result = rendering.render_html(filename, (templates / filename).read_text(encoding="utf-8"), context)
    except ZhifaError as exc:
        _fail(exc)
    target = Path(out or f"{rendering.stem(filename)}.pdf")
    code = context["document"]["verification_code"]
    url = qr.verification_url(settings_module.from_env().public_base_url, code)
    target.write_bytes(rendering.to_pdf(result.html, "验证码 " + code, url))
    click.echo(f"{target}: {result.title} (type {result.doc_type}, 文号代字 {result.number_word})")
    if with_docx and result.docx:
        docx_target = target.with_suffix(".docx")
        docx_target.write_bytes(to_docx(result.html))
        click.echo(f"{docx_target}: DOCX")


@main.group()
def publicity() -> None:
    """Publication of decisions and webhook deliveries."""


@publicity.command("sweep")
def publicity_sweep() -> None:
    """Publish what is due, end expired publications, deliver due webhooks (once; `serve` runs it periodically)."""
    from engine.publicity import sweep

    changed, delivered = sweep(_core())
    click.echo(f"{changed} publication(s) changed, {delivered} webhook(s) delivered")


@main.group()
def audit() -> None:
    """The hash-chained audit trail (全过程记录)."""


@audit.command("verify")
@click.option("--case", "case_id", type=int, help="Only this case's chain (its id).")
def audit_verify(case_id: int | None) -> None:
    """Recompute the chains; exit 1 naming the first broken event of each broken chain."""
    from engine import audit as audit_module

    with _core().unit() as unit:
        result = audit_module.verify(unit, case_id)
    for broken in result.broken:
        click.echo(f"BROKEN {broken}", err=True)
    if not result.ok:
        sys.exit(1)
    click.echo(f"ok: {result.events} event(s) in {result.chains} chain(s)")


@audit.command("heads")
@click.option("--date", "day", help="YYYY-MM-DD (China time); default yesterday, the last complete day.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the JSON here instead of stdout.")
def audit_heads(day: str | None, output: str | None) -> None:
    """Export each chain's head hash as of the end of a day, with one root hash, to publish or anchor."""
    import json
    from datetime import date, timedelta

    from engine import audit as audit_module
    from engine.clock import CHINA_TZ

    core = _core()
    try:
        wanted = date.fromisoformat(day) if day else core.now().astimezone(CHINA_TZ).date() - timedelta(days=1)
    except ValueError as exc:
        raise click.BadParameter("YYYY-MM-DD", param_hint="--date") from exc
    with core.unit() as unit:
        heads = audit_module.export_daily_heads(unit, wanted)
    text = json.dumps(heads, ensure_ascii=False, indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        click.echo(f"{heads['date']} root {heads['root']} -> {output}")
    else:
        click.echo(text)


@main.group()
def evidence() -> None:
    """Evidence files in storage."""


@evidence.command("verify")
@click.option("--case", "case_id", type=int, help="Only this case's evidence (its id).")
def evidence_verify(case_id: int | None) -> None:
    """Re-hash every stored evidence file; exit 1 naming each one whose bytes changed or are missing."""
    from engine.evidence.service import verify_storage

    count, problems = verify_storage(_core(), case_id)
    for problem in problems:
        click.echo(f"MISMATCH {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"ok: {count} evidence file(s) match their SHA-256")


@main.group()
def efile() -> None:
    """The electronic case file (电子卷宗)."""


@efile.command("export")
@click.argument("case_id", type=int)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The ZIP to write.")
def efile_export(case_id: int, output: str) -> None:
    """Write a case's file (manifest, documents, evidence, audit chain, index.html) as a ZIP."""
    import shutil

    from engine import efile as efile_module

    core = _core()
    target = Path(output)
    try:
        with core.unit() as unit:
            exported = efile_module.export(unit, case_id, target.resolve().parent)
    except ZhifaError as exc:
        _fail(exc)
    shutil.move(exported.path, target)
    click.echo(f"{exported.case_number}: {target} ({exported.size} bytes, SHA-256 {exported.sha256})")


@efile.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--recorded", is_flag=True, help="Also require the whole file's SHA-256 to be one this system recorded "
              "(an export or the archive): catches a change to any byte, ZIP headers included.")
def efile_verify(file: str, recorded: bool) -> None:
    """Check every hash in an exported file and its audit chain; exit 1 naming what does not match."""
    from engine.efile import file_sha256, verify_zip
    from engine.efile import recorded as recorded_as

    problems = verify_zip(Path(file))
    if recorded:
        sha = file_sha256(Path(file))
        with _core().unit() as unit:
            where = recorded_as(unit, sha)
        if where is None:
            problems.append(f"{Path(file).name}: SHA-256 {sha} is not a file this system exported or archived")
        else:
            click.echo(f"recorded: {where}")
    for problem in problems:
        click.echo(f"MISMATCH {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"ok: {file} matches its manifest and its audit chain")


@evidence.command("expire-uploads")
@click.option("--older-than-hours", default=72, show_default=True, type=int)
def evidence_expire_uploads(older_than_hours: int) -> None:
    """Give up resumable uploads started longer ago than this and not finished; remove their bytes."""
    from engine.evidence.service import expire_uploads

    click.echo(f"expired {expire_uploads(_core(), older_than_hours)} upload(s)")


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

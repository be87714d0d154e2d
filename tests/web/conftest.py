"""Browser tier: a real server (werkzeug, in a thread, on 127.0.0.1) over the test database with the
frozen clock, driven by Playwright through Debian's Chromium (never a downloaded browser).

Every page a test opens fails the test on a console error or an uncaught exception; on failure a
screenshot is kept in tests/web/screenshots/ (gitignored).
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from werkzeug.serving import make_server

from api import create_app
from api.web.i18n import compile_catalogues
from engine.clock import FrozenClock
from engine.core import Core
from engine.db import Database
from engine.models import DefinitionFile, ProcessDefinition
from engine.settings import from_env
from tests.conftest import PASSWORD, START, empty_case_tables

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PHONE = {"width": 390, "height": 844}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    compile_catalogues()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


class Server:
    def __init__(self, core: Core):
        self.core = core
        self.clock: FrozenClock = core.clock  # type: ignore[assignment]
        self.httpd = make_server("127.0.0.1", 0, create_app(core), threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="web-test-server", daemon=True)

    def start(self) -> Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server(postgres_db: Database, tmp_path: Path) -> Iterator[Server]:
    settings = replace(from_env({}), database_url=postgres_db.url, data_dir=tmp_path, secret_key="web-test-secret",
                       token_ttl_seconds=400 * 86400)  # sessions outlive the clock moves; expiry has its own test
    with postgres_db.transaction() as session:
        seeded = session.scalar(select(func.max(ProcessDefinition.id)))
    running = Server(Core(settings, clock=FrozenClock(START), db=postgres_db)).start()
    yield running
    running.stop()
    with postgres_db.transaction() as session:
        empty_case_tables(session)
        # Versions deployed from the modeler go too: other tests expect the seeded procedures.
        session.execute(delete(DefinitionFile).where(DefinitionFile.definition_id > seeded))
        session.execute(delete(ProcessDefinition).where(ProcessDefinition.id > seeded))


class Pages:
    """Opens browser pages that record console errors; `check()` fails on any."""

    def __init__(self, browser: Any, server: Server):
        self.browser, self.server = browser, server
        self.pages: list[Any] = []
        self.errors: list[str] = []
        self.contexts: list[Any] = []

    def new(self, viewport: dict[str, int] | None = None) -> Any:
        context = self.browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, base_url=self.server.url)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text} ({page.url})"))
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc} ({page.url})"))
        self.pages.append(page)
        return page

    def login(self, username: str, viewport: dict[str, int] | None = None) -> Any:
        page = self.new(viewport)
        page.goto("/login")
        page.get_by_label(re.compile("用户名|Username")).fill(username)
        page.get_by_label(re.compile("密码|Password")).fill(PASSWORD)
        page.get_by_role("button", name=re.compile("登录|Log in")).click()
        page.wait_for_load_state()
        assert "/login" not in page.url, f"login of {username} failed"
        return page


@pytest.fixture
def pages(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Pages]:
    opened = Pages(browser, server)
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        for n, page in enumerate(opened.pages):
            if not page.is_closed():
                page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-{n}.png"), full_page=True)
    for context in opened.contexts:
        context.close()
    assert not opened.errors, "errors in the browser console:\n" + "\n".join(opened.errors)


def open_case(server: Server, steps: list[str] | None = None, summary: str = "投诉：商品未明码标价") -> tuple[int, str]:
    """A case of officer1's agency (officer1 and officer2 assigned), taken through `steps` by the demo users."""
    from engine.models import Case

    case_id = open_case_in(server.core, steps, summary)
    with server.core.unit() as unit:
        return case_id, unit.session.get(Case, case_id).number


def open_case_in(core: Core, steps: list[str] | None = None, summary: str = "投诉：商品未明码标价") -> int:
    from engine.demo import open_demo_case, run_steps

    party = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
    case_id = open_demo_case(core, "440201003001", party, summary)
    run_steps(core, case_id, steps or [])
    return case_id


def diagram_ready(page: Any) -> None:
    page.wait_for_selector("#diagram[data-ready=true], #modeler[data-ready=true]")


def raise_alert(server: Server, case_id: int, message: str = "执法人员不足两名") -> int:
    """An open compliance alert on the case, as the rules would raise it (for the supervisors' pages)."""
    from engine.models import Case
    from engine.supervision.models import ComplianceAlert

    with server.core.unit() as unit:
        case = unit.session.get(Case, case_id)
        row = ComplianceAlert(
            rule="uncertified_officers", case_id=case.id, agency_id=case.agency_id, officer_id=None, subject=f"test:{message}",
            severity="high", basis="行政处罚法第四十二条", message=message, detected_at=server.clock.now(), status="open",
            detail={},
        )
        unit.session.add(row)
        unit.session.flush()
        return row.id


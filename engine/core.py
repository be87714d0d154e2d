"""The application core: settings, database, clock, calendar and workflow runtime, built once.

`Core.unit(actor)` opens one unit of work (one transaction) for one action of one user; service
functions in the feature modules take that unit and never commit themselves.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import calendar as legal_calendar
from engine.clock import CHINA_TZ, Clock, FrozenClock, parse_instant
from engine.db import Database
from engine.settings import Settings
from engine.spiff import Runtime
from engine.writes import Writes, writes_of

log = logging.getLogger("zhifa")


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user with an agency (and its path in the agency tree) and roles."""

    user_id: int
    username: str
    name: str
    agency_id: int
    agency_path: str
    roles: frozenset[str]
    scope_path: str = ""  # the subtree a supervisor or admin oversees (a judicial bureau: its government's)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def oversees(self, agency_path: str) -> bool:
        """Own agency always; the agencies of their subtree for supervisors and admins."""
        if agency_path == self.agency_path:
            return True
        return self.has_role("supervisor", "admin") and agency_path.startswith(self.scope_path or self.agency_path)


SYSTEM = Principal(0, "system", "系统", 0, "/", frozenset({"system", "admin"}), "/")


class Core:
    def __init__(self, settings: Settings, *, clock: Clock | None = None, db: Database | None = None):
        self.settings = settings
        self.clock = clock or clock_from_settings(settings)
        self.db = db or Database(settings.database_url)
        self.calendar = calendar_from_settings(settings)
        self._calendar_read_at: float | None = None  # time.monotonic() of the last read of stored years
        self.runtime = Runtime(self.clock, self.script_functions())
        self._definitions: dict[int, Any] = {}

    def script_functions(self) -> dict[str, Callable[..., Any]]:
        """What BPMN scripts and timer expressions may call (names checked at deployment)."""
        # Looked up on each call: an imported holiday year replaces `self.calendar`.
        return {
            "deadline": lambda start, amount, unit: self.calendar.deadline(start, amount, unit),
            "due_date": lambda start, amount, unit: self.calendar.due(start, amount, unit).date.isoformat(),
            "now": self.now_iso,
            "late_fee": legal_calendar.late_fee,
        }

    def now(self) -> datetime:
        return self.clock.now()

    def now_iso(self) -> str:
        return self.clock.now().astimezone(CHINA_TZ).isoformat(timespec="seconds")

    def cached_definition(self, definition_id: int, load: Callable[[], Any]) -> Any:
        """A deployed version's specs and forms, loaded once and kept (versions never change)."""
        found = self._definitions.get(definition_id)
        if found is None:
            found = self._definitions[definition_id] = load()
        return found

    @contextmanager
    def unit(self, actor: Principal = SYSTEM) -> Iterator[Unit]:
        self.refresh_calendar()
        with self.db.transaction() as session:
            unit = Unit(self, session, actor)
            yield unit  # what the unit queued goes out before the commit (engine/writes.py)
        if "calendar" in unit.held:  # committed: holiday years changed in this unit
            self.calendar = unit.held["calendar"]
            self._calendar_read_at = time.monotonic()

    def refresh_calendar(self, *, force: bool = False) -> None:
        """Re-read the holiday years stored in the database (another process may have imported one)."""
        ttl = self.settings.calendar_refresh_seconds
        if not force and self._calendar_read_at is not None and time.monotonic() - self._calendar_read_at < ttl:
            return
        from engine import calendar_admin

        try:
            with self.db.transaction() as session:
                self.calendar = calendar_admin.build_calendar(self.settings, calendar_admin.stored_entries(session))
        except Exception:  # keep the calendar we have; the next unit tries again
            log.exception("holiday years could not be read from the database")
            return
        self._calendar_read_at = time.monotonic()


@dataclass
class Unit:
    core: Core
    session: Session
    actor: Principal
    held: dict[Any, Any] = field(default_factory=dict)  # rows this unit keeps a strong reference to

    def execute(self, statement: Any, params: Any = None) -> Any:
        """Run a Core statement on the unit's connection, without the ORM's per-statement machinery
        (hot paths); queued writes go first, so it sees them."""
        self.writes.flush()
        return self.session.connection().execute(statement, params)

    def first(self, query: Any, params: dict[str, Any]) -> Any:
        """The first row of a fixed query (`prepared.Query`) on the unit's connection, or None; queued
        writes go first. On PostgreSQL it runs prepared, on the DBAPI cursor (`prepared.run_raw`)."""
        self.writes.flush()
        return query.first(self.session.connection(), params)

    @property
    def writes(self) -> Writes:
        """Statements queued to go to the database together (see engine/writes.py)."""
        return writes_of(self.session)

    @property
    def now(self) -> datetime:
        return self.core.clock.now()

    @property
    def calendar(self) -> legal_calendar.LegalCalendar:
        """The legal calendar this unit counts with (holiday years it imported included)."""
        return self.held.get("calendar") or self.core.calendar


def calendar_from_settings(settings: Settings) -> legal_calendar.LegalCalendar:
    """The packaged holiday data with the configured interpretive choices (time-limits.md section 0)."""
    return legal_calendar.LegalCalendar(
        [legal_calendar.load_default_calendar().year_entry(y) for y in legal_calendar.load_default_calendar().data_years],
        adjusted_weekend_is_working=settings.adjusted_weekend_is_working,
        weekend_is_rest_for_last_day=settings.weekend_is_rest_for_last_day,
        allow_provisional=settings.provisional_calendar,
        version=legal_calendar.load_default_calendar().version,
    )


def clock_from_settings(settings: Settings) -> Clock:
    if settings.now:
        at = parse_instant(settings.now)
        log.warning("ZHIFA_NOW is set: the clock is frozen at %s (demo/test mode)", at.isoformat())
        return FrozenClock(at)
    return Clock()

"""The injectable clock.

Everything in Zhifa that asks "what time is it" asks a `Clock`. `ZHIFA_NOW` (ISO 8601 with an
offset) freezes it for demos and tests; tests pass a `FrozenClock` they can move.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class Clock:
    """The real clock, always timezone-aware UTC."""

    frozen = False

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that stands still until moved (demos with ZHIFA_NOW, every test)."""

    frozen = True

    def __init__(self, at: datetime):
        self._at = require_aware(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = require_aware(at)

    def advance(self, **delta: float) -> datetime:
        self._at = self._at + timedelta(**delta)
        return self._at


def require_aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"datetime {at.isoformat()} has no UTC offset")
    return at


def parse_instant(text: str) -> datetime:
    """Parse ISO 8601 with an offset; a naive value is refused rather than guessed."""
    return require_aware(datetime.fromisoformat(text))

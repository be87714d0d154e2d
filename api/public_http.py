"""HTTP concerns of the public surface (/api/v1/public/..., /feeds/..., the public pages /public/...): no
login, a per-client rate limit, and caching (ETag, Cache-Control) of what every visitor may see alike.

The rate limit counts fixed one-minute windows on the injected clock, per client address. By default the
counters live in the database (`engine/publicity/ratelimit.py`), so every server process on it counts
together; `ZHIFA_PUBLIC_RATE_STORE=memory` keeps them per process (no write per request).
"""
from __future__ import annotations

import threading
from datetime import datetime
from typing import Protocol

from flask import Flask, Response, render_template, request, session

from engine.clock import Clock
from engine.core import Core
from engine.publicity import ratelimit

API_PREFIXES = ("/api/v1/public/", "/feeds/")
PAGE_PREFIX = "/public"  # the public pages: /public and /public/...
PUBLIC_PREFIXES = (*API_PREFIXES, PAGE_PREFIX + "/")
# Not shared through caches: a complaint's status, and the complaint form (it carries the visitor's CSRF token).
PRIVATE_PREFIXES = ("/api/v1/public/complaints", "/public/complaints")
MAX_AGE_SECONDS = 60
WINDOW_SECONDS = 60


class Limiter(Protocol):
    per_minute: int

    def hit(self, client: str) -> int | None:
        """Count a request; None if allowed, else the seconds until the client may try again."""


class RateLimiter:
    """In-process fixed one-minute windows per client address, counted on the injected clock; thread-safe."""

    def __init__(self, clock: Clock, per_minute: int):
        self.clock = clock
        self.per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, client: str) -> int | None:
        now = self.clock.now()
        window = int(now.timestamp()) // WINDOW_SECONDS
        with self._lock:
            if len(self._windows) > 50_000:  # forget finished windows
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
            start, count = self._windows.get(client, (window, 0))
            count = count + 1 if start == window else 1
            self._windows[client] = (window, count)
        if count > self.per_minute:
            return _seconds_to_next_window(now, window)
        return None


class SharedRateLimiter:
    """The same fixed windows, counted in the database: one limit for all processes on it."""

    def __init__(self, core: Core, per_minute: int):
        self.core = core
        self.per_minute = per_minute

    def hit(self, client: str) -> int | None:
        now = self.core.clock.now()
        if ratelimit.count(self.core.db, client, now, WINDOW_SECONDS) > self.per_minute:
            return _seconds_to_next_window(now, int(now.timestamp()) // WINDOW_SECONDS)
        return None


def limiter_for(core: Core) -> Limiter:
    """The limiter the settings choose (ZHIFA_PUBLIC_RATE_STORE, ZHIFA_PUBLIC_RATE_PER_MINUTE)."""
    per_minute = core.settings.public_rate_per_minute
    if core.settings.public_rate_store == "memory":
        return RateLimiter(core.clock, per_minute)
    return SharedRateLimiter(core, per_minute)


def _seconds_to_next_window(now: datetime, window: int) -> int:
    return max(1, (window + 1) * WINDOW_SECONDS - int(now.timestamp()))


def _is_public(path: str) -> bool:
    return path == PAGE_PREFIX or path.startswith(PUBLIC_PREFIXES)


def install(app: Flask, limiter: Limiter) -> None:
    @app.before_request
    def _limit():  # type: ignore[no-untyped-def]
        if not _is_public(request.path):
            return None
        retry = limiter.hit(request.remote_addr or "unknown")
        if retry is None:
            return None
        detail = f"at most {limiter.per_minute} requests a minute from one address; try again in {retry} s"
        if request.path.startswith(API_PREFIXES):
            body = {"type": "about:blank", "title": "Too many requests", "status": 429, "detail": detail}
            response = app.json.response(body)
            response.mimetype = "application/problem+json"
        else:  # a public page: the same refusal as a page
            response = Response(render_template("public/too_many.html", retry=retry, per_minute=limiter.per_minute),
                                mimetype="text/html")
        response.status_code = 429
        response.headers["Retry-After"] = str(retry)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def _cache(response: Response) -> Response:
        if not _is_public(request.path):
            return response
        if (request.method != "GET" or response.status_code != 200 or request.path.startswith(PRIVATE_PREFIXES)
                or session.modified):  # a page that set something in the visitor's session is theirs alone
            response.headers["Cache-Control"] = "no-store"
            return response
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
        response.add_etag()
        return response.make_conditional(request)

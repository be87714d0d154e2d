"""HTTP concerns of the public surface (/api/v1/public/..., /feeds/...): no login, a small per-IP rate
limit, and caching (ETag, Cache-Control) of what every visitor may see alike.
"""
from __future__ import annotations

import threading
from datetime import datetime

from flask import Flask, Response, request

from engine.clock import Clock

PUBLIC_PREFIXES = ("/api/v1/public/", "/feeds/")
PRIVATE_PREFIXES = ("/api/v1/public/complaints",)  # a complaint's status is not shared through caches
MAX_AGE_SECONDS = 60
WINDOW_SECONDS = 60


class RateLimiter:
    """Fixed one-minute windows per client address, counted on the injected clock; thread-safe."""

    def __init__(self, clock: Clock, per_minute: int):
        self.clock = clock
        self.per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, client: str) -> int | None:
        """Count a request; None if allowed, else the seconds until the client may try again."""
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


def _seconds_to_next_window(now: datetime, window: int) -> int:
    return max(1, (window + 1) * WINDOW_SECONDS - int(now.timestamp()))


def install(app: Flask, limiter: RateLimiter) -> None:
    @app.before_request
    def _limit():  # type: ignore[no-untyped-def]
        if not request.path.startswith(PUBLIC_PREFIXES):
            return None
        retry = limiter.hit(request.remote_addr or "unknown")
        if retry is None:
            return None
        body = {"type": "about:blank", "title": "Too many requests", "status": 429,
                "detail": f"at most {limiter.per_minute} requests a minute from one address; try again in {retry} s"}
        response = app.json.response(body)
        response.status_code = 429
        response.mimetype = "application/problem+json"
        response.headers["Retry-After"] = str(retry)
        return response

    @app.after_request
    def _cache(response: Response) -> Response:
        if not request.path.startswith(PUBLIC_PREFIXES):
            return response
        if request.method != "GET" or response.status_code != 200 or request.path.startswith(PRIVATE_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
            return response
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
        response.add_etag()
        return response.make_conditional(request)

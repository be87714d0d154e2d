"""Per-request helpers: the core, the authenticated unit of work, the JSON body, rendering."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from flask import current_app, request

from engine.accounts import principal_for_token
from engine.core import Core, Unit
from engine.errors import InvalidInput, Problem, Unauthenticated


def core() -> Core:
    return current_app.extensions["zhifa"]


@contextmanager
def unit(*, authenticated: bool = True) -> Iterator[Unit]:
    """One transaction for the whole request; the bearer token is checked inside it."""
    with core().unit() as u:
        if authenticated:
            u.actor = principal_for_token(u, _bearer())
        yield u


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <token> (POST /api/v1/auth/token)")
    return token.strip()


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object", [Problem("must be a JSON object", field="body")])
    return data


def int_arg(name: str, default: int | None = None, *, minimum: int = 1, maximum: int = 10_000) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer", [Problem("must be an integer", field=name)]) from None
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{name} out of range", [Problem(f"between {minimum} and {maximum}", field=name)])
    return value


def render(obj: Any) -> Any:
    """Dataclasses, datetimes and dates to JSON-able values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: render(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: render(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [render(v) for v in obj]
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    return obj


def page(items: list[Any], total: int, page_no: int, per_page: int) -> dict[str, Any]:
    return {"items": render(items), "total": total, "page": page_no, "per_page": per_page}

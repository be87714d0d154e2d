"""Every error is application/problem+json (RFC 9457) naming what was wrong and where."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response
from flask_restx import Api
from werkzeug.exceptions import HTTPException

from engine.errors import (
    CalendarUnavailable,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
    Unauthenticated,
    UnsupportedType,
    WorkflowError,
    ZhifaError,
)

log = logging.getLogger("zhifa.api")
PROBLEM = "application/problem+json"

STATUS = [
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (CalendarUnavailable, 422),
    (WorkflowError, 422),
    (TooLarge, 413),
    (UnsupportedType, 415),
]


def status_of(exc: ZhifaError) -> int:
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)


def body(status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        out["errors"] = errors
    return out


def install(app: Flask, api: Api) -> None:
    @api.errorhandler(ZhifaError)
    def _domain(exc: ZhifaError):  # type: ignore[no-untyped-def]
        status = status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        return body(status, exc.title, exc.detail, [p.as_dict() for p in exc.problems]), status, headers

    @api.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = exc.code or 500
        return body(code, exc.name, exc.description or exc.name), code

    @api.errorhandler
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unexpected error")
        return body(500, "Internal error", "an unexpected error occurred; nothing was saved"), 500

    @app.errorhandler(HTTPException)
    def _app_http(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = exc.code or 500
        return app.json.response(body(code, exc.name, exc.description or exc.name)), code

    @app.after_request
    def _problem_type(response: Response) -> Response:
        if response.status_code >= 400 and response.mimetype == "application/json":
            response.mimetype = PROBLEM
        return response

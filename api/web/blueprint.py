"""The blueprint of the web pages, its error pages and security headers."""
from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    ZhifaError,
)

from .refusals import explain

log = logging.getLogger("zhifa.web")
web = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/static/web")

# Pages load scripts and styles only from this server; bpmn-js and htmx set inline styles.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'")


@web.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@web.errorhandler(Unauthenticated)
def _unauthenticated(exc: Unauthenticated):  # type: ignore[no-untyped-def]
    session.clear()
    flash(_("Your session has ended. Please log in again."), "warning")
    return redirect(url_for("web.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))


def _error_page(status: int, title: str, detail: str):  # type: ignore[no-untyped-def]
    return render_template("error.html", status=status, title=title, detail=detail), status


@web.errorhandler(CSRFError)
def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
    return _error_page(400, _("The form has expired"), _("Reload the page and submit it again."))


@web.errorhandler(ZhifaError)
def _domain(exc: ZhifaError):  # type: ignore[no-untyped-def]
    detail = explain(exc.detail)
    if isinstance(exc, Forbidden):
        return _error_page(403, _("Not allowed"), detail)
    if isinstance(exc, NotFound):
        return _error_page(404, _("Not found"), detail)
    if isinstance(exc, Conflict):
        return _error_page(409, _("Cannot be done now"), detail)
    if isinstance(exc, InvalidInput):
        return _error_page(422, _("Invalid input"), detail)
    return _error_page(400, _("Error"), detail)


@web.errorhandler(HTTPException)
def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
    return _error_page(exc.code or 500, exc.name, exc.description or exc.name)


@web.errorhandler(Exception)
def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
    log.exception("unexpected error in a page")
    return _error_page(500, _("Internal error"), _("An unexpected error occurred; nothing was saved."))

"""The web pages: server-rendered Jinja2 over the same engine services as the REST API.

`install(app)` adds the blueprint at `/`, the message catalogues (Chinese by default), CSRF protection
on every form (the bearer-token API is exempt: it reads no cookies), signed session cookies that
expire with the login's access token, and the front-end libraries from node_modules (npm ci).
"""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Flask, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from .blueprint import web
from .i18n import DEFAULT_LANGUAGE, LANGUAGES, TRANSLATIONS

csrf = CSRFProtect()


log = logging.getLogger("zhifa.web")


def install(app: Flask) -> None:
    from . import filters, vendor, views  # noqa: F401  (registers the routes)

    settings = app.extensions["zhifa"].settings
    ttl = settings.token_ttl_seconds
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=ttl),
        WTF_CSRF_TIME_LIMIT=ttl,
        BABEL_DEFAULT_LOCALE=DEFAULT_LANGUAGE,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
    )
    _compiled_catalogues()
    Babel(app, locale_selector=_locale)
    csrf.init_app(app)
    csrf.exempt(app.blueprints["api"])  # bearer tokens, no cookies: nothing to forge
    filters.install(app)
    app.register_blueprint(web)


def _compiled_catalogues() -> None:
    """The .mo files are built from the committed .po files (make web); build them here when they are
    missing or stale, so that `zhifa serve` from any checkout speaks Chinese, not the English message ids."""
    from .i18n import compile_catalogues

    try:
        compile_catalogues()
    except OSError as exc:  # a read-only installation: the pages fall back to the English message ids
        log.warning("message catalogues could not be compiled: %s", exc)


def _locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return DEFAULT_LANGUAGE

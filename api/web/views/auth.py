"""Login, logout, the language switch and the start page of each role."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine import accounts
from engine.errors import Unauthenticated

from ...context import core
from ..blueprint import web
from ..i18n import LANGUAGES
from ..websession import TOKEN_KEY, login_required, web_unit


def _safe_next(target: str | None) -> str | None:
    """Only paths on this site (no scheme, no host, no //) are followed after login."""
    if not target:
        return None
    parts = urlparse(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@web.get("/login")
def login():  # type: ignore[no-untyped-def]
    return render_template("login.html", next=_safe_next(request.args.get("next")), error=None)


@web.post("/login")
def login_post():  # type: ignore[no-untyped-def]
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    target = _safe_next(request.form.get("next"))
    try:
        issued = accounts.log_in(core(), username, password, via="web")
    except Unauthenticated:
        return render_template("login.html", next=target, error=_("Wrong username or password."), username=username)
    lang = session.get("lang")
    session.clear()  # a fresh session on login (no fixation)
    session.permanent = True
    session[TOKEN_KEY] = issued.access_token
    if lang:
        session["lang"] = lang
    return redirect(target or url_for("web.home"))


@web.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    token = session.get(TOKEN_KEY)
    if token:
        with core().unit() as u:
            accounts.revoke_token(u, token)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("web.login"))


@web.get("/lang/<code>")
def language(code: str):  # type: ignore[no-untyped-def]
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")) or url_for("web.home"))


@web.get("/")
@login_required
def home():  # type: ignore[no-untyped-def]
    with web_unit() as u:
        actor = u.actor
    if actor.has_role("officer", "legal_reviewer", "agency_head"):
        return redirect(url_for("web.inbox"))
    if actor.has_role("supervisor"):
        return redirect(url_for("web.supervision"))
    if actor.has_role("process_designer"):
        return redirect(url_for("web.procedures"))
    return redirect(url_for("web.case_list"))

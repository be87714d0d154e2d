"""Web sessions: the login issues an ordinary access token (engine.accounts) and keeps it in the
signed session cookie; each page opens one unit of work as the token's principal. The token's expiry
(ZHIFA_TOKEN_TTL_SECONDS, against Zhifa's clock) ends the session; logout revokes the token.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from flask import g, redirect, request, session, url_for

from engine.accounts import principal_for_token
from engine.core import Unit
from engine.errors import Unauthenticated

from ..context import core

TOKEN_KEY = "token"


@contextmanager
def web_unit() -> Iterator[Unit]:
    """One transaction for the page, as the logged-in user."""
    token = session.get(TOKEN_KEY)
    if not token:
        raise Unauthenticated("log in first")
    with core().unit() as u:
        u.actor = g.actor = principal_for_token(u, token)
        yield u


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not session.get(TOKEN_KEY):
            return redirect(url_for("web.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
        return view(*args, **kwargs)

    return wrapper

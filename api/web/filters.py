"""Template helpers: times in China time, the time left to a deadline with its mark, status labels."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Flask, g, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from markupsafe import Markup

from engine.clock import CHINA_TZ

from ..context import core, render
from .i18n import LANGUAGES

SOON_SECONDS = 3 * 86400  # a deadline closer than this is marked yellow

LABELS = {
    "open": lazy_gettext("open"), "closed": lazy_gettext("closed"), "ready": lazy_gettext("to do"),
    "completed": lazy_gettext("done"), "cancelled": lazy_gettext("cancelled"), "pending": lazy_gettext("pending"),
    "overdue": lazy_gettext("overdue"), "fired": lazy_gettext("expired"), "met": lazy_gettext("met in time"),
    "breached": lazy_gettext("met late"), "officer": lazy_gettext("officer"),
    "legal_reviewer": lazy_gettext("legal reviewer"), "agency_head": lazy_gettext("agency head"),
    "supervisor": lazy_gettext("supervisor"), "process_designer": lazy_gettext("process designer"),
    "admin": lazy_gettext("administrator"), "person": lazy_gettext("natural person"),
    "organization": lazy_gettext("organisation"), "working_days": lazy_gettext("working days"),
    "days": lazy_gettext("days"), "months": lazy_gettext("months"), "hours": lazy_gettext("hours"),
    "acknowledged": lazy_gettext("acknowledged"), "dismissed": lazy_gettext("dismissed"),
    "escalated": lazy_gettext("escalated"), "high": lazy_gettext("high"), "medium": lazy_gettext("medium"),
    "low": lazy_gettext("low"),
}


def local(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(CHINA_TZ)
    return value.strftime(fmt)


def time_left(due: datetime | None) -> dict[str, str]:
    """{'text': '2 days 3 h left' | 'overdue by …', 'mark': 'red' | 'yellow' | 'green' | ''}."""
    if due is None:
        return {"text": _("no statutory deadline"), "mark": ""}
    seconds = int((due - core().now()).total_seconds())
    span = _span(abs(seconds))
    if seconds < 0:
        return {"text": _("overdue by %(span)s", span=span), "mark": "red"}
    return {"text": _("%(span)s left", span=span), "mark": "yellow" if seconds < SOON_SECONDS else "green"}


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours = rest // 3600
    if days:
        return _("%(days)d d %(hours)d h", days=days, hours=hours)
    return _("%(hours)d h %(minutes)d min", hours=hours, minutes=(rest % 3600) // 60)


def label(value: Any) -> str:
    return str(LABELS.get(value, value if value is not None else ""))


def as_json(value: Any) -> Markup:
    """JSON for a <script type="application/json"> island (</script> cannot end it early)."""
    text = json.dumps(render(value), ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def install(app: Flask) -> None:
    app.add_template_filter(local)
    app.add_template_filter(label)
    app.add_template_filter(as_json, "json_island")
    app.add_template_global(time_left)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"actor": g.get("actor"), "lang": session.get("lang") or LANGUAGES[0], "languages": LANGUAGES}

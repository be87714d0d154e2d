"""The holiday years (engine/calendar_admin.py): which years the calendar counts with, and the administrator's
import of a year's State Council notice, with what it did: the waiting timers it moved, and apart from them
the limits that had already run out on the provisional count (recounted and reported, engine/fired_limits.py)."""
from __future__ import annotations

import json
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from engine import calendar_admin
from engine.errors import InvalidInput

from ..blueprint import web
from ..refusals import explain
from ..websession import login_required, web_unit


@web.get("/calendar")
@login_required
def calendar_years():  # type: ignore[no-untyped-def]
    with web_unit() as u:
        return _page(u)


@web.post("/calendar")
@login_required
def calendar_import():  # type: ignore[no-untyped-def]
    upload = request.files.get("entry")
    source = (request.form.get("source") or "").strip() or None
    try:
        entry = json.loads(upload.read().decode("utf-8")) if upload and upload.filename else None
    except (ValueError, UnicodeDecodeError):
        entry, errors = None, [_("The file is not a holiday year in JSON.")]
    else:
        errors = [] if entry is not None else [_("Choose the file of the holiday year (JSON).")]
    result = None
    if not errors:
        try:
            with web_unit() as u:
                result = calendar_admin.import_year(u, entry, source=source)
        except InvalidInput as exc:
            errors = [f"{p.field}: {explain(p.message, p.field)}" if p.field else explain(p.message)
                      for p in exc.problems] or [explain(exc.detail)]
    with web_unit() as u:
        return _page(u, result=result, errors=errors, source=source)


def _page(u: Any, **shown: Any):  # type: ignore[no-untyped-def]
    return render_template("calendar/years.html", years=calendar_admin.list_years(u),
                           may_import=u.actor.has_role("admin"), **{"result": None, "errors": [], "source": None, **shown})

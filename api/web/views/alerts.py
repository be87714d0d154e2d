"""The supervisor's alert inbox: compliance alerts of the agencies in their subtree
(engine/supervision/alerts.py), acknowledged, dismissed with a reason, or escalated to the level above."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import Conflict, InvalidInput
from engine.supervision import alerts as service
from engine.supervision.alerts import ALERT_STATUSES

from ..blueprint import web
from ..refusals import explain
from ..websession import login_required, web_unit

ACTIONS = ("acknowledge", "dismiss", "escalate")


@web.get("/supervision/alerts")
@login_required
def alert_inbox():  # type: ignore[no-untyped-def]
    with web_unit() as u:
        return _inbox(u, {})


def _inbox(u: Any, errors: dict[int, str], reasons: dict[int, str] | None = None):  # type: ignore[no-untyped-def]
    status = request.values.get("status") if request.values.get("status") in ALERT_STATUSES else "open"
    items, total = service.list_alerts(u, status=status, per_page=200)
    return render_template("supervision/alerts.html", alerts=items, total=total, status=status, statuses=ALERT_STATUSES,
                           errors=errors, reasons=reasons or {}, may_handle=u.actor.has_role("supervisor", "admin"),
                           may_open_matter=u.actor.has_role("supervisor"))


@web.post("/supervision/alerts/<int:alert_id>")
@login_required
def alert_handle(alert_id: int):  # type: ignore[no-untyped-def]
    action = request.form.get("action", "")
    reason = request.form.get("reason", "")
    try:
        with web_unit() as u:
            handled = service.handle_alert(u, alert_id, action if action in ACTIONS else "", reason if action == "dismiss" else None)
    except InvalidInput as exc:  # a dismissal without a reason: shown at the reason field
        with web_unit() as u:
            return _inbox(u, {alert_id: _("Say why the alert is dismissed.") if action == "dismiss" else explain(exc.detail)}, {alert_id: reason})
    except Conflict as exc:
        flash(explain(exc.detail), "error")
        return redirect(url_for("web.alert_inbox", status=request.form.get("status") or None))
    done = {"acknowledge": _("Alert %(id)s acknowledged (case %(number)s)."),
            "dismiss": _("Alert %(id)s dismissed (case %(number)s)."),
            "escalate": _("Alert %(id)s escalated to the level above (case %(number)s).")}[action]
    flash(done % {"id": handled.id, "number": handled.case_number}, "success")
    return redirect(url_for("web.alert_inbox", status=request.form.get("status") or None))

"""Supervisors: overdue and due-soon statutory deadlines by agency, drilled down the agency tree."""
from __future__ import annotations

from flask import render_template, request

from engine import overview

from ..blueprint import web
from ..websession import login_required, web_unit


@web.get("/supervision")
@login_required
def supervision():  # type: ignore[no-untyped-def]
    agency_id = request.args.get("agency_id", type=int)
    with web_unit() as u:
        board = overview.deadline_board(u, agency_id)
        timers = overview.agency_timers(u, board.agency.id)
        context = {"board": board, "timers": timers}
        if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "board":
            return render_template("supervision/_board.html", **context)
        return render_template("supervision/index.html", **context)

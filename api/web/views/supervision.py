"""Supervisors: overdue and due-soon statutory deadlines by agency, drilled down the agency tree."""
from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _

from engine import definitions, overview
from engine.errors import NotFound

from ..blueprint import web
from ..websession import login_required, web_unit


@web.get("/supervision")
@login_required
def supervision():  # type: ignore[no-untyped-def]
    agency_id = request.args.get("agency_id", type=int)
    with web_unit() as u:
        board = overview.deadline_board(u, agency_id)
        timers = overview.agency_timers(u, board.agency.id)
        context = {"board": board, "timers": timers, "figures": overview.indicators(u, board.agency.id)}
        if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "board":
            return render_template("supervision/_board.html", **context)
        return render_template("supervision/index.html", **context)


@web.get("/supervision/durations")
@login_required
def durations():  # type: ignore[no-untyped-def]
    """A heatmap of the average time each step of a procedure takes, drawn on its diagram."""
    with web_unit() as u:
        library = definitions.list_definitions(u)
        process_ids = sorted({d.process_id for d in library})
        default = "general_punishment" if "general_punishment" in process_ids else (process_ids or [None])[0]
        process_id = request.args.get("process_id") or default  # the procedure most cases follow, unless asked
        if process_id not in process_ids:
            raise NotFound(f"procedure {process_id} is not deployed")
        latest = max((d for d in library if d.process_id == process_id), key=lambda d: d.version)
        steps = overview.step_durations(u, process_id)
        longest = max((s.average_seconds for s in steps), default=0.0)
        heat = [{"bpmn_id": s.bpmn_id, "label": _duration(s.average_seconds), "count": s.count,
                 "level": _level(s.average_seconds, longest)} for s in steps]
        return render_template(
            "supervision/durations.html", steps=steps, heat=heat, process_id=process_id, process_ids=process_ids,
            latest=latest, xml_url=url_for("web.definition_xml", definition_id=latest.id), duration=_duration,
        )


def _level(seconds: float, longest: float) -> int:
    """0 (quick) … 4 (the slowest step)."""
    return 0 if longest <= 0 else min(4, int(4 * seconds / longest + 0.5))


def _duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    return _("%(days)d d %(hours)d h", days=days, hours=rest // 3600) if days else _(
        "%(hours)d h %(minutes)d min", hours=rest // 3600, minutes=(rest % 3600) // 60)

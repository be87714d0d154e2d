"""The legal calendar: holiday years (read by everyone, imported by administrators) and due dates."""
from __future__ import annotations

from flask import request
from flask_restx import Namespace, Resource

from engine import calendar_admin
from engine.errors import InvalidInput, Problem

from ..context import int_arg, json_body, render, unit

ns = Namespace("calendar", path="/calendar", description="法定期间 · the legal calendar and holiday years")


@ns.route("/years")
class Years(Resource):
    def get(self):  # type: ignore[no-untyped-def]
        """节假日年度 · the holiday years the calendar counts with (provisional where no notice is out)"""
        with unit() as u:
            return {"items": render(calendar_admin.list_years(u))}


@ns.route("/years/<int:year>")
class Year(Resource):
    @ns.response(200, "stored; the open timers it moved (rescheduled) and the limits that had already run out on the provisional count (recounted) are listed")
    @ns.response(403, "administrators only")
    @ns.response(422, "malformed year data: errors name the entry")
    def put(self, year: int):  # type: ignore[no-untyped-def]
        """导入或替换年度节假日 · add or replace a year (holiday-cn JSON; `source` names the notice)"""
        body = json_body()
        source = body.pop("source", None)
        with unit() as u:
            result = calendar_admin.import_year(u, body, year=year, source=source)
        return render(result)


@ns.route("/due")
class Due(Resource):
    @ns.param("start", "YYYY-MM-DD (or an ISO instant with offset; required for hours)")
    @ns.param("amount", "the number of units")
    @ns.param("unit", "working_days | calendar_days | months | years | hours")
    def get(self):  # type: ignore[no-untyped-def]
        """期限计算 · when a period ends (flagged provisional where it runs through an unpublished year)"""
        start, unit_name = request.args.get("start"), request.args.get("unit")
        amount = int_arg("amount", minimum=0, maximum=100_000)
        missing = [Problem("required", field=f) for f, v in (("start", start), ("amount", amount), ("unit", unit_name)) if v is None]
        if missing:
            raise InvalidInput("start, amount and unit are required", missing)
        with unit() as u:
            try:
                due = u.calendar.due(start, amount, unit_name)
            except (TypeError, ValueError) as exc:
                field = "unit" if "unit" in str(exc) else "start"
                raise InvalidInput(str(exc), [Problem(str(exc), field=field)]) from None
        return {"date": due.date.isoformat(), "at": due.at.isoformat(), "provisional": due.provisional}

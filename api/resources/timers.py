"""Statutory timers for supervision."""
from __future__ import annotations

from flask import request
from flask_restx import Namespace, Resource

from engine import timers
from engine.clock import parse_instant
from engine.errors import InvalidInput, Problem

from ..context import int_arg, page, unit

ns = Namespace("timers", path="/timers", description="法定期限 · statutory time limits")


@ns.route("")
class Timers(Resource):
    @ns.param("status", "pending | overdue | fired | met | breached | suspended")
    @ns.param("as_of", "ISO 8601 instant with offset (default: now)")
    @ns.param("agency_id", "")
    @ns.param("case_id", "")
    def get(self):  # type: ignore[no-untyped-def]
        """期限监控 · timers in my scope"""
        as_of = None
        if request.args.get("as_of"):
            try:
                as_of = parse_instant(request.args["as_of"])
            except ValueError:
                raise InvalidInput("as_of must be ISO 8601 with an offset", [Problem("e.g. 2026-03-02T09:00:00+08:00", field="as_of")]) from None
        page_no, per_page = int_arg("page", 1), int_arg("per_page", 50, maximum=500)
        with unit() as u:
            items, total = timers.list_timers(
                u, status=request.args.get("status") or None, as_of=as_of, agency_id=int_arg("agency_id"),
                case_id=int_arg("case_id"), page=page_no, per_page=per_page,
            )
        return page(items, total, page_no, per_page)

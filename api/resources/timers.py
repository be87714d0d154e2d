"""Statutory timers for supervision."""
from __future__ import annotations

from flask import request
from flask_restx import Namespace, Resource

from engine import timers
from engine.supervision import monitoring

from ..context import int_arg, page, unit

ns = Namespace("timers", path="/timers", description="法定期限 · statutory time limits")


@ns.route("")
class Timers(Resource):
    @ns.param("status", "pending | overdue | fired | met | breached | suspended")
    @ns.param("as_of", "YYYY-MM-DD (start of that day, China time) or ISO 8601 instant with offset (default: now)")
    @ns.param("agency_id", "an agency in your scope: its whole subtree")
    @ns.param("case_id", "")
    @ns.param("level", "province | city | county | township (the case agency's level)")
    @ns.param("matter_code", "")
    @ns.param("officer_id", "an officer assigned to the case")
    @ns.param("due_within", "waiting timers due within N working days (the legal calendar)")
    @ns.param("colour", "green | yellow (due within the kind's warning period) | red (overdue)")
    def get(self):  # type: ignore[no-untyped-def]
        """期限监控 · timers in my scope"""
        as_of = monitoring.as_of_instant(request.args.get("as_of"))
        due_within = monitoring.working_days_arg(request.args.get("due_within"), "due_within")
        page_no, per_page = int_arg("page", 1), int_arg("per_page", 50, maximum=500)
        with unit() as u:
            items, total = timers.list_timers(
                u, status=request.args.get("status") or None, as_of=as_of, agency_id=int_arg("agency_id"),
                case_id=int_arg("case_id"), page=page_no, per_page=per_page, level=request.args.get("level") or None,
                matter_code=request.args.get("matter_code") or None, officer_id=int_arg("officer_id"),
                due_within=due_within, colour=request.args.get("colour") or None,
            )
        return page(items, total, page_no, per_page)

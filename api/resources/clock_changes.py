"""Changing a case's time limits: suspension, resumption, excluded periods, extensions."""
from __future__ import annotations

from flask_restx import Namespace, Resource, fields

from engine import clock_changes

from ..context import json_body, render, unit

ns = Namespace("clock", path="/cases/<int:case_id>/clock-changes",
               description="期限变更 · suspension, excluded periods and extensions of a case's time limits")

change = ns.model("ClockChange", {
    "timer": fields.String(description="the timer's BPMN id, e.g. timer_p5_handling (default: the only one that may change)"),
    "kind": fields.String(required=True, enum=["extend", "exclude", "suspend", "resume"]),
    "reason": fields.String(required=True),
    "amount": fields.Integer(description="extend: units of the limit (P2 working days, P5 days)"),
    "collective_discussion": fields.Boolean(description="extend beyond what the head may approve (P5)"),
    "ground": fields.String(description="exclude: testing | inspection | quarantine | appraisal | identification | hearing | public_notice | refund"),
    "from": fields.String(description="exclude: first day (YYYY-MM-DD)"),
    "to": fields.String(description="exclude: last day (YYYY-MM-DD), not after today"),
    "on": fields.String(description="suspend / resume: the day (default today)"),
})


@ns.route("")
class ClockChanges(Resource):
    @ns.expect(change)
    @ns.response(201, "sent to the agency head for approval")
    @ns.response(409, "another change awaits approval, or the case is closed")
    @ns.response(422, "not allowed by law (e.g. an extension beyond the limit): errors name the field")
    def post(self, case_id: int):  # type: ignore[no-untyped-def]
        """申请期限变更 · ask the agency head to change a time limit of the case"""
        body = json_body()
        with unit() as u:
            result = clock_changes.request_change(u, case_id, body)
        return render(result), 201

"""The supervision procedure: supervision matters (监督事项); their tasks go through the task API."""
from __future__ import annotations

from flask import request
from flask_restx import Namespace, Resource, fields

from engine.supervision import matters

from ..context import int_arg, json_body, page, render, unit

ns = Namespace("supervision-matters", path="/supervision/matters", description="执法监督事项 · the supervision procedure")
matter_in = ns.model("SupervisionMatterIn", {
    "agency_id": fields.Integer(required=True, description="the supervised enforcement agency (in your subtree)"),
    "source": fields.String(required=True, enum=list(matters.SOURCES)),
    "alert_id": fields.Integer(description="with source alert"),
    "complaint_id": fields.Integer(description="with source complaint (a conduct complaint your bureau handles)"),
    "case_id": fields.Integer(description="the enforcement case the matter is about (optional)"),
    "summary": fields.String(required=True),
    "supervisor_ids": fields.List(fields.Integer, description="supervisors of your bureau assigned (default: you)"),
})


@ns.route("")
class Matters(Resource):
    @ns.param("status", "notice | rectification | review | closed | escalated")
    def get(self):  # type: ignore[no-untyped-def]
        """监督事项 · matters of the bureaus in your subtree (an agency head: those about their agency)"""
        page_no, per_page = int_arg("page", 1), int_arg("per_page", 50, maximum=500)
        with unit() as u:
            items, total = matters.list_matters(u, status=request.args.get("status") or None, page=page_no, per_page=per_page)
        return page(items, total, page_no, per_page)

    @ns.expect(matter_in)
    def post(self):  # type: ignore[no-untyped-def]
        """立监督事项 · open a matter from an alert, a conduct complaint or on your initiative (supervisors)"""
        body = json_body()
        with unit() as u:
            return render(matters.open_matter(u, body)), 201


@ns.route("/<int:matter_id>")
class Matter(Resource):
    def get(self, matter_id: int):  # type: ignore[no-untyped-def]
        """监督事项 · status, the supervised agency, tasks, rectification deadline, documents"""
        with unit() as u:
            return render(matters.get_matter(u, matter_id))

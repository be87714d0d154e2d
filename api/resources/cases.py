"""Cases."""
from __future__ import annotations

from flask import request
from flask_restx import Namespace, Resource, fields

from engine import cases

from ..context import int_arg, json_body, page, render, unit

ns = Namespace("cases", path="/cases", description="案件 · cases")

party = ns.model("Party", {
    "type": fields.String(required=True, enum=["person", "organization"]),
    "name": fields.String(required=True),
    "id_number": fields.String(description="公民身份号码 (person)"),
    "credit_code": fields.String(description="统一社会信用代码 (organization)"),
    "address": fields.String, "phone": fields.String, "legal_representative": fields.String,
})
new_case = ns.model("NewCase", {
    "matter_code": fields.String(required=True),
    "party": fields.Nested(party, required=True),
    "officer_ids": fields.List(fields.Integer, required=True, min_items=2),
    "summary": fields.String,
    "clue_received_at": fields.String(description="线索发现/收到时间 (ISO 8601 with offset); starts the filing clock; default now"),
})


@ns.route("")
class Cases(Resource):
    @ns.expect(new_case)
    @ns.response(201, "case opened")
    @ns.response(422, "invalid matter, party or officers")
    @ns.response(403, "the agency is not competent for the matter")
    def post(self):  # type: ignore[no-untyped-def]
        """立案登记 · open a case"""
        body = json_body()
        with unit() as u:
            opened = cases.open_case(
                u, body.get("matter_code"), body.get("party"), body.get("officer_ids"), body.get("summary", ""),
                clue_received_at=body.get("clue_received_at"),
            )
            view = cases.get_case(u, opened.id)
        return render(view), 201

    @ns.param("status", "open | closed")
    @ns.param("agency_id", "an agency in your scope")
    @ns.param("matter_code", "")
    @ns.param("q", "case number or summary contains")
    @ns.param("page", "1-based")
    @ns.param("per_page", "max 200")
    def get(self):  # type: ignore[no-untyped-def]
        """案件列表 · cases in my scope"""
        page_no, per_page = int_arg("page", 1), int_arg("per_page", 20, maximum=200)
        with unit() as u:
            items, total = cases.list_cases(
                u, status=request.args.get("status") or None, agency_id=int_arg("agency_id"),
                matter_code=request.args.get("matter_code") or None, q=request.args.get("q") or None,
                page=page_no, per_page=per_page,
            )
        return page(items, total, page_no, per_page)


@ns.route("/<int:case_id>")
class CaseResource(Resource):
    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """案件详情 · a case with its tasks and timers"""
        with unit() as u:
            return render(cases.get_case(u, case_id))


@ns.route("/<int:case_id>/audit")
class CaseAudit(Resource):
    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """全过程记录 · the case's audit trail (hash-chained)"""
        from engine import audit

        with unit() as u:
            cases.visible_case(u, case_id)
            return {"items": render(audit.case_events(u, case_id))}

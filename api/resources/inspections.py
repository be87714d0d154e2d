"""Administrative inspection: the directory of subjects and the 双随机 draws (reproducible, audited)."""
from __future__ import annotations

from flask import request
from flask_restx import Namespace, Resource, fields

from engine import inspection

from ..context import json_body, render, unit

ns = Namespace("inspections", path="/inspections", description="行政检查 · inspection directory and random draws")
subject = ns.model("InspectionSubjectIn", {
    "party": fields.Raw(required=True, description="as for a case: type, name, credit_code or id_number"),
    "category": fields.String(required=True, description="检查对象类别, e.g. 食品经营者"),
})
draw_in = ns.model("InspectionDrawIn", {
    "plan_name": fields.String(required=True), "matter_code": fields.String(required=True),
    "count": fields.Integer(required=True), "category": fields.String(), "seed": fields.String(description="hex; generated when absent"),
})


@ns.route("/subjects")
class Subjects(Resource):
    @ns.param("category", "")
    def get(self):  # type: ignore[no-untyped-def]
        """检查对象名录 · my agency's directory"""
        with unit() as u:
            items = inspection.list_subjects(u, category=request.args.get("category") or None)
        return {"items": render(items), "total": len(items)}

    @ns.expect(subject)
    def post(self):  # type: ignore[no-untyped-def]
        """加入名录 · add a subject (agency head)"""
        body = json_body()
        with unit() as u:
            created = inspection.add_subject(u, body.get("party"), body.get("category"))
        return render(created), 201


@ns.route("/draws")
class Draws(Resource):
    @ns.expect(draw_in)
    def post(self):  # type: ignore[no-untyped-def]
        """双随机抽取 · draw subjects and inspectors; opens one inspection case per subject"""
        body = json_body()
        with unit() as u:
            made = inspection.draw(u, body.get("plan_name"), body.get("matter_code"), body.get("count"),
                                   category=body.get("category") or None, seed=body.get("seed"))
        return render(made), 201


@ns.route("/draws/<int:draw_id>")
class Draw(Resource):
    def get(self, draw_id: int):  # type: ignore[no-untyped-def]
        """抽取记录 · a draw, drawn again from its seed (`reproduced`)"""
        with unit() as u:
            found = inspection.get_draw(u, draw_id)
        return render(found)


referral_in = ns.model("InspectionReferralIn", {"matter_code": fields.String(required=True, description="the punishment matter")})


@ns.route("/cases/<int:case_id>/referral")
class Referral(Resource):
    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """移交立案 · the punishment case an inspection was referred to (from either case)"""
        with unit() as u:
            found = inspection.get_referral(u, case_id)
        return render(found)

    @ns.expect(referral_in)
    def post(self, case_id: int):  # type: ignore[no-untyped-def]
        """移交立案查处 · open a punishment case that keeps the inspection's record as evidence"""
        body = json_body()
        with unit() as u:
            made = inspection.refer_to_punishment(u, case_id, body.get("matter_code"))
        return render(made), 201

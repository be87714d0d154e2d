"""Discretion benchmarks (裁量基准, APL Art. 34: published): tier and fine band, and the deviations."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import request
from flask_restx import Namespace, Resource, fields

from engine import discretion

from ..context import int_arg, json_body, page, render, unit

ns = Namespace("discretion", path="/discretion", description="裁量基准 · discretion benchmarks and deviations")
assessment = ns.model("DiscretionQuery", {
    "matter_code": fields.String(required=True, description="执法事项编码"),
    "facts": fields.Raw(description="裁量情节 (see FACTS_SCHEMA in engine/discretion.py)"),
    "tier": fields.String(description="no_punishment | mitigated | lighter | general | heavier"),
})


def _plain(value: Any) -> Any:
    """Amounts as decimal strings (exact, as the benchmark computes them)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _assessment(found: discretion.Assessment) -> dict[str, Any]:
    return _plain(render(found))


@ns.route("/benchmarks")
class Benchmarks(Resource):
    def get(self):  # type: ignore[no-untyped-def]
        """裁量基准（公开） · the benchmark tables, rule by rule"""
        with unit() as u:
            items = discretion.published(u)
        return {"items": items, "total": len(items)}


@ns.route("/assess")
class Assess(Resource):
    @ns.expect(assessment)
    def post(self):  # type: ignore[no-untyped-def]
        """裁量阶次与罚款幅度 · the tier and fine band for a matter and its facts"""
        body = json_body()
        with unit() as u:
            found = discretion.assess_matter(u, body.get("matter_code"), body.get("facts"), body.get("tier"))
        return _assessment(found)


@ns.route("/tasks/<string:task_id>")
class TaskBand(Resource):
    @ns.param("tier", "override the tier recorded in the case")
    def get(self, task_id: str):  # type: ignore[no-untyped-def]
        """决定环节的裁量幅度 · the band the decision form shows"""
        with unit() as u:
            found = discretion.assess_task(u, task_id, tier=request.args.get("tier") or None)
        return _assessment(found)


@ns.route("/deviations")
class Deviations(Resource):
    @ns.param("agency_id", "")
    def get(self):  # type: ignore[no-untyped-def]
        """偏离裁量基准的决定 · fines outside the benchmark band, with reasons (in my scope)"""
        page_no, per_page = int_arg("page", 1), int_arg("per_page", 50, maximum=500)
        with unit() as u:
            items, total = discretion.list_deviations(u, agency_id=int_arg("agency_id"), page=page_no, per_page=per_page)
        return page(items, total, page_no, per_page)

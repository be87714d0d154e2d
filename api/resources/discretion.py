"""Discretion benchmarks (裁量基准, APL Art. 34: published): tier and fine band, and the deviations."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import request
from flask_restx import Namespace, Resource, fields

from engine import discretion, discretion_store
from engine.errors import InvalidInput, Problem

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


table_body = ns.model("DiscretionTableVersion", {
    "xml": fields.String(required=True, description="the whole DMN file, as the dmn-js editor saves it"),
})


@ns.route("/tables")
class Tables(Resource):
    def get(self):  # type: ignore[no-untyped-def]
        """裁量基准表 · the two DMN tables and the version of each in force"""
        with unit() as u:
            items = discretion_store.list_tables(u)
        return {"items": render(items), "total": len(items)}


@ns.route("/tables/<string:table>")
class Table(Resource):
    @ns.param("version", "a stored version (0: the shipped file); default the newest")
    def get(self, table: str):  # type: ignore[no-untyped-def]
        """一张裁量基准表 · a table's DMN XML and its version history"""
        version = int_arg("version", minimum=0)
        with unit() as u:
            shown, content = discretion_store.content_of(u, table, version)
            versions = discretion_store.history(u, table)
        return {**render(shown), "xml": content.decode("utf-8"), "versions": render(versions)}

    @ns.expect(table_body)
    def post(self, table: str):  # type: ignore[no-untyped-def]
        """保存新版本 · check an edited table as the engine loads it and store it as the next version (designers)"""
        xml = json_body().get("xml")
        if not isinstance(xml, str):
            raise InvalidInput("xml must be the DMN file as a string", [Problem("a string", field="xml")])
        with unit() as u:
            saved = discretion_store.save(u, table, xml.encode("utf-8"))
        return render(saved), 201 if saved.created else 200

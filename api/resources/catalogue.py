"""The enforcement catalogue."""
from __future__ import annotations

from flask import request
from flask_restx import Namespace, Resource

from engine import catalogue

from ..context import render, unit

ns = Namespace("matters", path="/matters", description="执法事项目录 · enforcement catalogue")


@ns.route("")
class Matters(Resource):
    @ns.param("all", "true: the whole catalogue, not only my agency's competence")
    def get(self):  # type: ignore[no-untyped-def]
        """执法事项 · matters my agency is competent for"""
        with unit() as u:
            everything = request.args.get("all") == "true"
            return {"items": render(catalogue.list_matters(u, competent_only=not everything))}

"""Chain of custody of seized and preserved items (查封扣押、先行登记保存)."""
from __future__ import annotations

from flask_restx import Namespace, Resource, fields

from engine import custody

from ..context import json_body, render, unit

ns = Namespace("custody", path="/", description="涉案物品保管链 · chain of custody of seized items")

step = ns.model("CustodyStep", {
    "action": fields.String(enum=list(custody.MIDDLE + custody.FINAL), description="not for the first step"),
    "at": fields.String(required=True, description="when it happened (ISO 8601 with offset)"),
    "place": fields.String(required=True),
    "handled_by": fields.Integer(description="the officer; default: you"),
    "note": fields.String,
    "evidence_ids": fields.List(fields.Integer, description="evidence of this case attached to the step"),
})
item = ns.inherit("CustodyItem", step, {
    "measure": fields.String(required=True, enum=list(custody.MEASURES)),
    "name": fields.String(required=True), "description": fields.String, "quantity": fields.String,
})


@ns.route("/cases/<int:case_id>/custody")
class CaseCustody(Resource):
    @ns.expect(item)
    @ns.response(201, "the item, taken into custody")
    def post(self, case_id: int):  # type: ignore[no-untyped-def]
        """登记查封扣押/先行登记保存物品 · register an item taken into custody"""
        body = json_body()
        with unit() as u:
            return render(custody.take(u, case_id, body)), 201

    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """涉案物品 · the case's items with their chain of custody"""
        with unit() as u:
            return {"items": render(custody.list_items(u, case_id))}


@ns.route("/custody/<int:item_id>/steps")
class CustodySteps(Resource):
    @ns.expect(step)
    @ns.response(201, "the item with the new step")
    @ns.response(409, "the item was returned, confiscated or destroyed; nothing follows")
    def post(self, item_id: int):  # type: ignore[no-untyped-def]
        """保管环节 · stored, moved, appraised, returned, confiscated or destroyed"""
        body = json_body()
        with unit() as u:
            return render(custody.add_step(u, item_id, body)), 201

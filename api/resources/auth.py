"""Login, the current user, and the officers of the user's agency."""
from __future__ import annotations

from flask_restx import Namespace, Resource, fields

from engine import accounts
from engine.errors import InvalidInput, Problem

from ..context import core, json_body, render, unit

ns = Namespace("auth", path="/", description="登录与账户 · login and accounts")

credentials = ns.model("Credentials", {"username": fields.String(required=True), "password": fields.String(required=True)})
token = ns.model("Token", {"access_token": fields.String, "token_type": fields.String, "expires_in": fields.Integer})


@ns.route("/health")
class Health(Resource):
    @ns.doc(security=None)
    def get(self):  # type: ignore[no-untyped-def]
        """服务状态 · liveness"""
        return {"status": "ok"}


@ns.route("/auth/token")
class AccessToken(Resource):
    @ns.doc(security=None)
    @ns.expect(credentials)
    @ns.response(200, "token issued", token)
    @ns.response(401, "wrong username or password")
    def post(self):  # type: ignore[no-untyped-def]
        """登录获取令牌 · log in for a bearer token"""
        body = json_body()
        username, password = body.get("username"), body.get("password")
        problems = [Problem("required", field=f) for f, v in (("username", username), ("password", password)) if not isinstance(v, str) or not v]
        if problems:
            raise InvalidInput("username and password are required", problems)
        issued = accounts.log_in(core(), username, password, via="api")
        return {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in}


@ns.route("/me")
class Me(Resource):
    def get(self):  # type: ignore[no-untyped-def]
        """当前用户 · the logged-in user"""
        with unit() as u:
            a = u.actor
            return {"id": a.user_id, "username": a.username, "name": a.name, "agency_id": a.agency_id, "roles": sorted(a.roles)}


@ns.route("/officers")
class Officers(Resource):
    def get(self):  # type: ignore[no-untyped-def]
        """本机关持证执法人员 · certified officers of my agency"""
        with unit() as u:
            return {"items": render(accounts.certified_officers(u, u.actor.agency_id))}

"""The REST API: a thin shell over `engine/`. Resources parse the request, call one engine
function inside one unit of work, and render the result; errors become application/problem+json.
"""
from __future__ import annotations

from flask import Blueprint, Flask
from flask_restx import Api

from engine.core import Core


def create_app(core: Core | None = None) -> Flask:
    from engine.settings import from_env

    from . import feeds, problems, public_http
    from .resources import (
        auth,
        cases,
        catalogue,
        custody,
        discretion,
        efile,
        evidence,
        inspections,
        processes,
        public,
        publicity,
        supervision,
        tasks,
        timers,
    )
    from .resources import calendar as calendar_resource
    from .resources import clock_changes as clock_changes_resource

    core = core or Core(from_env())
    app = Flask(__name__)
    app.config.update(ERROR_INCLUDE_MESSAGE=False, RESTX_JSON={"ensure_ascii": False}, RESTX_ERROR_404_HELP=False, RESTX_MASK_SWAGGER=False, JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=64 * 1024 * 1024)
    app.json.ensure_ascii = False
    app.extensions["zhifa"] = core
    blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
    api = Api(
        blueprint, version="1", title="Zhifa 执法 API", doc="/docs",
        description="行政执法办案与监督 · administrative law enforcement cases, tasks, statutory timers",
        authorizations={"bearer": {"type": "apiKey", "in": "header", "name": "Authorization"}}, security="bearer",
    )
    problems.install(app, api)
    for module in (auth, catalogue, cases, tasks, timers, processes, discretion, inspections, evidence, efile, custody, supervision):
        api.add_namespace(module.ns)
    api.add_namespace(calendar_resource.ns)
    api.add_namespace(clock_changes_resource.ns)
    from .resources import documents

    api.add_namespace(documents.ns)
    for module in (public, publicity):
        api.add_namespace(module.ns)
    api.add_namespace(efile.audit_ns)
    from .resources import supervision_matters

    api.add_namespace(supervision_matters.ns)
    app.register_blueprint(blueprint)
    app.register_blueprint(feeds.bp)
    public_http.install(app, public_http.limiter_for(core))
    from . import web

    web.install(app)
    return app

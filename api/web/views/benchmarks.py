"""Legal staff: the discretion tables (裁量基准) in the dmn-js editor; a save is checked by the engine
(engine/discretion_store.py) and stored as a new version that the decision check uses from then on."""
from __future__ import annotations

from flask import Response, jsonify, render_template, request, url_for

from engine import discretion_store
from engine.accounts import require_role
from engine.errors import DeploymentInvalid, InvalidInput, Problem

from ..blueprint import web
from ..websession import login_required, web_unit


@web.get("/procedures/discretion")
@login_required
def benchmark_tables():  # type: ignore[no-untyped-def]
    with web_unit() as u:
        require_role(u.actor, *discretion_store.EDITORS)
        return render_template("procedures/benchmarks.html", tables=discretion_store.list_tables(u))


@web.get("/procedures/discretion/<table>")
@login_required
def benchmark_edit(table: str):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        require_role(u.actor, *discretion_store.EDITORS)
        shown, _ = discretion_store.content_of(u, table)
        return render_template(
            "procedures/benchmark_edit.html", table=shown, history=discretion_store.history(u, table),
            xml_url=url_for("web.benchmark_xml", table=table), save_url=url_for("web.benchmark_save", table=table),
        )


@web.get("/procedures/discretion/<table>/xml")
@login_required
def benchmark_xml(table: str):  # type: ignore[no-untyped-def]
    version = request.args.get("version", type=int)
    with web_unit() as u:
        require_role(u.actor, *discretion_store.EDITORS)
        _, content = discretion_store.content_of(u, table, version)
    return Response(content, mimetype="application/xml")


@web.post("/procedures/discretion/<table>")
@login_required
def benchmark_save(table: str):  # type: ignore[no-untyped-def]
    """The editor posts the whole DMN file; refusals answer 200 with `saved: false` and the located
    problems (a 4xx response is an error in the browser console)."""
    xml = (request.get_json(silent=True) or {}).get("xml")
    try:
        if not isinstance(xml, str):
            raise InvalidInput("no decision table", [Problem("the DMN XML is missing", field="xml")])
        with web_unit() as u:
            saved = discretion_store.save(u, table, xml.encode("utf-8"))
    except (DeploymentInvalid, InvalidInput) as exc:
        return jsonify(saved=False, detail=exc.detail, errors=[p.as_dict() for p in exc.problems])
    return jsonify(saved=True, created=saved.created, version=saved.version, sha256=saved.sha256), 201 if saved.created else 200

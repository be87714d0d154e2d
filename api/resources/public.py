"""The public API (no login): published decisions, enforcement subjects, the officer roster, the
catalogue, statistics, complaints and document verification. Rate limited and cached by
api/public_http.py; every answer comes from engine/publicity.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, redirect, request
from flask_restx import Namespace, Resource

from engine.errors import InvalidInput, Problem
from engine.publicity import benchmarks, complaints, public, verification

from ..context import render, unit

ns = Namespace("public", path="/public", description="政务公开 · public enforcement information (no login)")
SEARCH_PARAMS = ("q", "credit_code", "region", "matter", "from", "to", "page", "per_page")


@ns.route("/decisions")
class Decisions(Resource):
    @ns.doc(security=[], params={
        "q": "当事人名称、文号、事项等（中文部分匹配）", "credit_code": "统一社会信用代码", "region": "地区代码，如 GZ-TH",
        "matter": "执法事项编码", "from": "决定日期起 YYYY-MM-DD", "to": "决定日期止 YYYY-MM-DD", "page": "1-1000",
        "per_page": "1-100",
    })
    def get(self):  # type: ignore[no-untyped-def]
        """已公示的行政处罚决定 · published decisions"""
        query = public.decision_query({k: request.args.get(k) for k in SEARCH_PARAMS})
        with unit(authenticated=False) as u:
            items, total = public.search_decisions(u, query)
        return {"items": items, "total": total, "page": query.page, "per_page": query.per_page}


@ns.route("/subjects")
class Subjects(Resource):
    @ns.doc(security=[])
    def get(self):  # type: ignore[no-untyped-def]
        """执法主体及其职责权限 · enforcement subjects and their powers"""
        with unit(authenticated=False) as u:
            return {"items": public.subjects(u)}


@ns.route("/officers")
class Officers(Resource):
    @ns.doc(security=[], params={"agency": "执法主体代码"})
    def get(self):  # type: ignore[no-untyped-def]
        """执法人员名册 · the roster of certified officers (name, certificate, agency, scope)"""
        with unit(authenticated=False) as u:
            return {"items": public.roster(u, request.args.get("agency") or None)}


@ns.route("/catalogue")
class Catalogue(Resource):
    @ns.doc(security=[])
    def get(self):  # type: ignore[no-untyped-def]
        """执法事项目录、法律依据与办理时限 · the catalogue with legal basis and time limits"""
        with unit(authenticated=False) as u:
            return {"items": public.catalogue(u)}


@ns.route("/procedures/<string:process_id>")
class Procedure(Resource):
    @ns.doc(security=[])
    def get(self, process_id: str):  # type: ignore[no-untyped-def]
        """执法流程图（BPMN，只读）· the procedure diagram"""
        with unit(authenticated=False) as u:
            xml = public.procedure_diagram(u, process_id)
        return Response(xml, mimetype="application/xml")


@ns.route("/statistics")
class Statistics(Resource):
    @ns.doc(security=[], params={"year": "年度，默认今年"})
    def get(self):  # type: ignore[no-untyped-def]
        """年度执法统计 · annual statistics per agency"""
        with unit(authenticated=False) as u:
            return {"items": public.statistics(u, request.args.get("year"))}


@ns.route("/complaints")
class Complaints(Resource):
    @ns.doc(security=[])
    def post(self):  # type: ignore[no-untyped-def]
        """投诉举报 · lodge a complaint (multipart/form-data with `attachments`, or JSON) → tracking code"""
        fields, uploads = _complaint_input()
        with unit(authenticated=False) as u:
            lodged = complaints.lodge(u, fields, uploads)
        return render(lodged), 201


@ns.route("/complaints/<string:tracking_code>")
class ComplaintStatus(Resource):
    @ns.doc(security=[])
    def get(self, tracking_code: str):  # type: ignore[no-untyped-def]
        """投诉举报办理状态 · status by tracking code (without the complainant's identity)"""
        with unit(authenticated=False) as u:
            return render(complaints.public_status(u, tracking_code))


@ns.route("/benchmarks")
class Benchmarks(Resource):
    @ns.doc(security=[], params={"matter": "执法事项编码（12位）；不填则为全部事项"})
    def get(self):  # type: ignore[no-untyped-def]
        """行政处罚裁量基准（行政处罚法第三十四条） · the discretion benchmarks: tiers and fine bands per matter"""
        matter = request.args.get("matter")
        with unit(authenticated=False) as u:
            return benchmarks.published_benchmarks(u, None if matter is None else matter.strip())


@ns.route("/documents/<string:code>")
class DocumentVerification(Resource):
    @ns.doc(security=[])
    def get(self, code: str):  # type: ignore[no-untyped-def]
        """文书核验 · verify an issued document by its verification code (the URL in its QR code: a browser
        asking for HTML is sent to the verification page /public/verify/<code>)"""
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
            response = redirect(f"/public/verify/{quote(code, safe='-')}", code=303)
            response.headers["Vary"] = "Accept"
            return response
        with unit(authenticated=False) as u:
            answer = render(verification.verify(u, code))
        return answer, 200, {"Vary": "Accept"}


def _complaint_input() -> tuple[dict[str, object], list[complaints.Upload]]:
    if request.mimetype == "multipart/form-data":
        fields: dict[str, object] = {k: request.form.get(k) for k in request.form}
        uploads = []
        for f in request.files.getlist("attachments"):
            try:
                uploads.append(complaints.Upload(f.filename or "", f.mimetype or "", f.read(complaints.MAX_FILE_BYTES + 1)))
            finally:
                f.close()  # large uploads are spooled to a temporary file: close it at once
        return fields, uploads
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("send the complaint as multipart/form-data or a JSON object",
                           [Problem("multipart/form-data or a JSON object", field="body")])
    return data, []

"""Documents (执法文书): issue from a case, list, read metadata, download the PDF or DOCX, preview."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response
from flask_restx import Namespace, Resource, fields

from engine.documents import service

from ..context import json_body, render, unit

ns = Namespace("documents", path="/", description="执法文书 · legal documents")

request_model = ns.model("DocumentRequest", {
    "task_id": fields.String(description="a completed task of the case whose BPMN names a document template"),
    "template": fields.String(description="a library template for a case document no task names, e.g. inquiry_record"),
    "data": fields.Raw(description="with template only: the document's own content (see docs/documents.md)"),
})

PDF, DOCX = "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _request(body: dict) -> dict:
    return {"task_id": body.get("task_id"), "template": body.get("template"), "data": body.get("data")}


def _file(content: bytes, mimetype: str, filename: str, sha256: str | None = None) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    if sha256:
        response.headers["ETag"] = f'"{sha256}"'
        response.headers["X-Content-SHA256"] = sha256
    return response


@ns.route("/cases/<int:case_id>/documents")
class CaseDocuments(Resource):
    @ns.expect(request_model)
    @ns.response(201, "issued: numbered, stored with its SHA-256, audited")
    @ns.response(409, "the task is not completed, or its document was issued already")
    @ns.response(422, "the task has no document, the template is unknown, or the data do not fit it")
    def post(self, case_id: int):  # type: ignore[no-untyped-def]
        """制发文书 · issue a document of the case"""
        body = json_body()
        with unit() as u:
            issued = service.issue(u, case_id, **_request(body))
        return render(issued), 201, {"Location": f"/api/v1/documents/{issued.id}"}

    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """案件文书 · the documents issued in a case"""
        with unit() as u:
            return {"items": render(service.list_documents(u, case_id))}


@ns.route("/cases/<int:case_id>/documents/preview")
class Preview(Resource):
    @ns.expect(request_model)
    @ns.produces([PDF])
    def post(self, case_id: int):  # type: ignore[no-untyped-def]
        """文书预览 · render the PDF without issuing (no number, nothing stored)"""
        body = json_body()
        with unit() as u:
            content = service.preview(u, case_id, **_request(body))
        return _file(content, PDF, "preview.pdf")


@ns.route("/documents/<int:document_id>")
class DocumentResource(Resource):
    def get(self, document_id: int):  # type: ignore[no-untyped-def]
        """文书信息 · a document's metadata"""
        with unit() as u:
            return render(service.get_document(u, document_id))


@ns.route("/documents/<int:document_id>/pdf")
class DocumentPdf(Resource):
    @ns.produces([PDF])
    def get(self, document_id: int):  # type: ignore[no-untyped-def]
        """文书 PDF · the issued PDF, byte for byte"""
        with unit() as u:
            view, content = service.pdf_of(u, document_id)
        return _file(content, PDF, f"{view.title}{view.number}.pdf", view.sha256)


@ns.route("/documents/<int:document_id>/docx")
class DocumentDocx(Resource):
    @ns.produces([DOCX])
    def get(self, document_id: int):  # type: ignore[no-untyped-def]
        """文书 DOCX · the editable copy (records officers edit)"""
        with unit() as u:
            view, content = service.docx_of(u, document_id)
        return _file(content, DOCX, f"{view.title}{view.number}.docx", view.docx_sha256)

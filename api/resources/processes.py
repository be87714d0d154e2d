"""Procedure definitions: list, deploy (multipart), read the BPMN."""
from __future__ import annotations

from flask import Response, request
from flask_restx import Namespace, Resource

from engine import definitions
from engine.errors import InvalidInput, Problem

from ..context import render, unit

ns = Namespace("processes", path="/processes", description="程序定义 · procedure definitions (BPMN)")


@ns.route("")
class Processes(Resource):
    def get(self):  # type: ignore[no-untyped-def]
        """已部署的程序 · deployed procedures"""
        with unit() as u:
            return {"items": render(definitions.list_definitions(u))}

    @ns.response(201, "deployed as a new version")
    @ns.response(200, "the same files were deployed before: that version")
    @ns.response(422, "invalid: errors name file, line and BPMN element")
    def post(self):  # type: ignore[no-untyped-def]
        """部署程序 · deploy BPMN/DMN (+ forms, templates): multipart parts named `files`"""
        uploads = request.files.getlist("files")
        if not uploads:
            raise InvalidInput("no files uploaded", [Problem("send one or more multipart parts named files", field="files")])
        files = {}
        try:
            for storage in uploads:
                name = (storage.filename or "").rsplit("/", 1)[-1]
                if not name:
                    raise InvalidInput("a file part has no filename", [Problem("filename required", field="files")])
                files[name] = storage.read()
        finally:
            for storage in uploads:
                storage.close()
        with unit() as u:
            view = definitions.deploy(u, files)
        return {"id": view.id, "process_id": view.process_id, "version": view.version, **render(view)}, 201 if view.created else 200


@ns.route("/<int:definition_id>")
class ProcessResource(Resource):
    def get(self, definition_id: int):  # type: ignore[no-untyped-def]
        """程序定义 · one definition"""
        with unit() as u:
            return render(definitions.get_view(u, definition_id))


@ns.route("/<int:definition_id>/xml")
class ProcessXml(Resource):
    @ns.produces(["application/xml"])
    def get(self, definition_id: int):  # type: ignore[no-untyped-def]
        """BPMN 文件 · the BPMN XML"""
        with unit() as u:
            _, content = definitions.main_xml(u, definition_id)
        return Response(content, mimetype="application/xml")

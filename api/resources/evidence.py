"""Evidence: multipart upload streamed to storage, resumable chunked upload, list, metadata, content."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, request
from flask_restx import Namespace, Resource
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Field,
    File,
    MultipartDecoder,
    NeedData,
)

from engine.errors import InvalidInput, Problem
from engine.evidence import service
from engine.evidence.spool import Received, Spool
from engine.evidence.storage import CHUNK, chunks

from ..context import core, json_body, render, unit

ns = Namespace("evidence", path="/", description="证据 · evidence (streamed, hashed, immutable)")

FORM_BYTES = 256 * 1024  # all metadata fields of one multipart request together


@ns.route("/cases/<int:case_id>/evidence")
class CaseEvidence(Resource):
    @ns.response(201, "stored: id, sha256, content_type, size and the metadata")
    @ns.response(404, "no such case, or one you may not see")
    @ns.response(409, "the case is archived")
    @ns.response(413, "larger than ZHIFA_MAX_EVIDENCE_BYTES; nothing stored")
    @ns.response(415, "a type not accepted as evidence (named); nothing stored")
    def post(self, case_id: int):  # type: ignore[no-untyped-def]
        """上传证据 · add evidence: multipart, a part named `file` plus metadata fields (title, description,
        captured_at, device_id, latitude, longitude, officer_id, task_id, corrects_id)"""
        with unit() as u:  # refuse before receiving gigabytes
            service.check_may_add(u, case_id)
        received, fields = receive_multipart()
        try:
            with unit() as u:
                view = service.add(u, case_id, received, fields)
        finally:
            received.path.unlink(missing_ok=True)
        return render(view), 201, {"Location": f"/api/v1/evidence/{view.id}"}

    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """案件证据 · the case's evidence"""
        with unit() as u:
            return {"items": render(service.list_for_case(u, case_id))}


@ns.route("/evidence/<int:evidence_id>")
class EvidenceItem(Resource):
    def get(self, evidence_id: int):  # type: ignore[no-untyped-def]
        """证据 · one item's metadata"""
        with unit() as u:
            return render(service.get(u, evidence_id))


@ns.route("/evidence/<int:evidence_id>/content")
class EvidenceContent(Resource):
    @ns.produces(["application/octet-stream"])
    def get(self, evidence_id: int):  # type: ignore[no-untyped-def]
        """证据文件 · the bytes as received (streamed)"""
        return _download(evidence_id, thumbnail=False)


@ns.route("/evidence/<int:evidence_id>/thumbnail")
class EvidenceThumbnail(Resource):
    @ns.produces(["image/jpeg"])
    def get(self, evidence_id: int):  # type: ignore[no-untyped-def]
        """缩略图 · a small JPEG of an image"""
        return _download(evidence_id, thumbnail=True)


@ns.route("/cases/<int:case_id>/uploads")
class Uploads(Resource):
    @ns.response(201, "created: PATCH the bytes to Location")
    def post(self, case_id: int):  # type: ignore[no-untyped-def]
        """断点续传：创建 · start a resumable upload: {"length", "filename", "metadata": {...}}"""
        body = json_body()
        meta = body.get("metadata") or {}
        if not isinstance(meta, dict):
            raise InvalidInput("metadata must be an object", [Problem("an object", field="metadata")])
        with unit() as u:
            view = service.create_upload(u, case_id, body.get("length"), meta, body.get("filename"))
        location = f"/api/v1/uploads/{view.id}"
        return render(view), 201, {"Location": location, "Upload-Offset": "0", "Upload-Length": str(view.length)}


@ns.route("/uploads/<string:upload_id>")
class Upload(Resource):
    def head(self, upload_id: str):  # type: ignore[no-untyped-def]
        """断点续传：进度 · the offset to resume from (Upload-Offset)"""
        with unit() as u:
            view = service.upload_of(u, upload_id)
        return Response(status=200, headers=_offsets(view.offset, view.length))

    def get(self, upload_id: str):  # type: ignore[no-untyped-def]
        """断点续传：状态 · the upload as JSON"""
        with unit() as u:
            view = service.upload_of(u, upload_id)
        return render(view), 200, _offsets(view.offset, view.length)

    @ns.response(204, "appended; Upload-Offset is the new offset")
    @ns.response(409, "Upload-Offset is not where the upload stands")
    def patch(self, upload_id: str):  # type: ignore[no-untyped-def]
        """断点续传：发送 · append bytes at Upload-Offset (body: application/offset+octet-stream)"""
        with unit() as u:
            view = service.upload_of(u, upload_id)
        request.max_content_length = view.length
        offset = service.receive_chunk(core(), view, request.headers.get("Upload-Offset"), request.stream)
        return Response(status=204, headers=_offsets(offset, view.length))


@ns.route("/uploads/<string:upload_id>/finish")
class FinishUpload(Resource):
    @ns.response(201, "the evidence item")
    @ns.response(409, "bytes are missing")
    @ns.response(415, "a type not accepted as evidence; the upload is discarded")
    def post(self, upload_id: str):  # type: ignore[no-untyped-def]
        """断点续传：完成 · turn the complete upload into evidence"""
        with unit() as u:
            view = service.finish_upload(u, upload_id)
        service.discard_part(core(), upload_id)
        return render(view), 201, {"Location": f"/api/v1/evidence/{view.id}"}


def _offsets(offset: int, length: int) -> dict[str, str]:
    return {"Upload-Offset": str(offset), "Upload-Length": str(length), "Cache-Control": "no-store"}


def _download(evidence_id: int, *, thumbnail: bool) -> Response:
    with unit() as u:
        view = service.get(u, evidence_id)
    stream = service.open_content(core(), view, thumbnail=thumbnail)
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=0"}
    if thumbnail:
        return Response(chunks(stream), mimetype="image/jpeg", headers=headers, direct_passthrough=True)
    headers.update({
        "Content-Length": str(view.size), "ETag": f'"{view.sha256}"',
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(view.filename)}",
    })
    return Response(chunks(stream), mimetype=view.content_type, headers=headers, direct_passthrough=True)


def receive_multipart() -> tuple[Received, dict[str, Any]]:
    """Stream a multipart body: the part named `file` into a spool (hashed, typed, size-limited), the
    other parts as metadata fields. Never more than one chunk of the file in memory."""
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    if mimetype != "multipart/form-data" or not options.get("boundary"):
        raise InvalidInput("send multipart/form-data with a part named file", [Problem("multipart/form-data", field="file")])
    limit = core().settings.max_evidence_bytes
    request.max_content_length = limit + FORM_BYTES  # a larger declared Content-Length is refused unread (413)
    stream = request.stream
    decoder = MultipartDecoder(options["boundary"].encode("latin-1"))  # field sizes are limited below
    fields: dict[str, Any] = {}
    spool: Spool | None = None
    part: tuple[str, str, bytearray] | None = None
    form_size = 0
    finished = False
    try:
        while not finished:
            block = stream.read(CHUNK)
            decoder.receive_data(block or None)
            event = decoder.next_event()
            while not isinstance(event, NeedData):
                if isinstance(event, File):
                    if event.name != "file" or spool is not None:
                        raise InvalidInput("one file, in a part named file", [Problem("unexpected file part", field=event.name)])
                    spool = Spool(service.spool_dir(core()), limit, event.filename)
                    part = ("file", event.name, bytearray())
                elif isinstance(event, Field):
                    part = ("field", event.name, bytearray())
                elif isinstance(event, Data) and part is not None:
                    if part[0] == "file":
                        spool.write(event.data)  # type: ignore[union-attr]
                    else:
                        form_size += len(event.data)
                        if form_size > FORM_BYTES:
                            raise InvalidInput("the metadata fields are too long", [Problem("too long", field=part[1])])
                        part[2].extend(event.data)
                        if not event.more_data:
                            fields[part[1]] = part[2].decode("utf-8", errors="replace")
                elif isinstance(event, Epilogue):
                    finished = True
                    break
                event = decoder.next_event()
            if len(decoder.buffer) > FORM_BYTES + CHUNK:  # no boundary found: do not collect the body in memory
                raise InvalidInput("the multipart body has no part boundary where one is due", [Problem("malformed", field="file")])
            if not block and not finished:
                raise InvalidInput("the multipart body ended early", [Problem("incomplete body", field="file")])
        if spool is None:
            raise InvalidInput("no file uploaded", [Problem("send the file in a part named file", field="file")])
        return spool.finish(), fields
    except ValueError as exc:
        if spool is not None:
            spool.discard()
        raise InvalidInput("the multipart body cannot be read", [Problem(str(exc), field="file")]) from None
    except BaseException:
        if spool is not None:
            spool.discard()
        raise

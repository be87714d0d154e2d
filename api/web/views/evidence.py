"""Evidence on the case page: the gallery (thumbnails of images), and capture from a phone's camera or
microphone sent through the resumable upload of engine/evidence (create -> chunks -> finish) by
static/upload.js, which resumes from the server's offset after a dropped chunk.

The upload routes answer JSON to the script; they use the page's session and its CSRF token (header
X-CSRFToken), never the REST API's bearer token, which a page does not hold.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from flask import Response, jsonify, render_template, request

from engine.errors import InvalidInput, Problem, ZhifaError
from engine.evidence import service
from engine.evidence.service import ADDING_ROLES
from engine.evidence.storage import chunks

from ...context import core
from ...problems import status_of
from .. import extensions
from ..blueprint import web
from ..refusals import explain
from ..websession import login_required, web_unit


def _section_data(u: Any, case: Any) -> dict[str, Any]:
    may_add = u.actor.has_role(*ADDING_ROLES) and u.actor.agency_id == case.agency["id"] and case.status != "archived"
    return {"evidence": service.list_for_case(u, case.id), "may_add_evidence": may_add,
            "now_ms": int(u.now.timestamp() * 1000)}


extensions.case_sections.append(extensions.CaseSection("evidence", "evidence/_case_section.html", lambda u, case: True, _section_data))


@web.get("/cases/<int:case_id>/evidence")
@login_required
def evidence_gallery(case_id: int):  # type: ignore[no-untyped-def]
    """The gallery alone (the upload script shows the new item with it)."""
    with web_unit() as u:
        return render_template("evidence/_gallery.html", evidence=service.list_for_case(u, case_id))


def _stream(evidence_id: int, *, thumbnail: bool) -> Response:
    with web_unit() as u:
        view = service.get(u, evidence_id)
    stream = service.open_content(core(), view, thumbnail=thumbnail)
    headers = {"Cache-Control": "private, max-age=0"}
    if thumbnail:
        return Response(chunks(stream), mimetype="image/jpeg", headers=headers, direct_passthrough=True)
    headers.update({"Content-Length": str(view.size), "ETag": f'"{view.sha256}"',
                    "Content-Disposition": f"attachment; filename*=UTF-8''{quote(view.filename)}"})
    return Response(chunks(stream), mimetype=view.content_type, headers=headers, direct_passthrough=True)


@web.get("/evidence/<int:evidence_id>/thumbnail")
@login_required
def evidence_thumbnail(evidence_id: int):  # type: ignore[no-untyped-def]
    return _stream(evidence_id, thumbnail=True)


@web.get("/evidence/<int:evidence_id>/content")
@login_required
def evidence_content(evidence_id: int):  # type: ignore[no-untyped-def]
    return _stream(evidence_id, thumbnail=False)


# -- the resumable upload, for static/upload.js ------------------------------------------------------------
def _json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refusals as JSON {title, detail, problems} with their status, for the script to show."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ZhifaError as exc:
            problems = [{"field": p.field, "message": explain(p.message, p.field)}
                        for p in getattr(exc, "problems", None) or []]
            return jsonify({"detail": explain(exc.detail), "problems": problems}), status_of(exc)

    return wrapper


def _offsets(offset: int, length: int) -> dict[str, str]:
    return {"Upload-Offset": str(offset), "Upload-Length": str(length), "Cache-Control": "no-store"}


@web.post("/cases/<int:case_id>/uploads")
@login_required
@_json_errors
def upload_create(case_id: int):  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object", [Problem("a JSON object", field="body")])
    meta = body.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InvalidInput("metadata must be an object", [Problem("an object", field="metadata")])
    with web_unit() as u:
        view = service.create_upload(u, case_id, body.get("length"), meta, body.get("filename"))
    return jsonify({"id": view.id, "offset": view.offset, "length": view.length}), 201, _offsets(0, view.length)


@web.get("/uploads/<string:upload_id>")
@login_required
@_json_errors
def upload_status(upload_id: str):  # type: ignore[no-untyped-def]
    """Where the upload stands: the offset to resume from after a dropped connection."""
    with web_unit() as u:
        view = service.upload_of(u, upload_id)
    return jsonify({"id": view.id, "offset": view.offset, "length": view.length, "status": view.status}), 200, _offsets(view.offset, view.length)


@web.patch("/uploads/<string:upload_id>")
@login_required
@_json_errors
def upload_chunk(upload_id: str):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        view = service.upload_of(u, upload_id)
    request.max_content_length = view.length
    offset = service.receive_chunk(core(), view, request.headers.get("Upload-Offset"), request.stream)
    return Response(status=204, headers=_offsets(offset, view.length))


@web.post("/uploads/<string:upload_id>/finish")
@login_required
@_json_errors
def upload_finish(upload_id: str):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        view = service.finish_upload(u, upload_id)
    service.discard_part(core(), upload_id)
    return jsonify({"id": view.id, "sha256": view.sha256, "title": view.title, "content_type": view.content_type,
                    "size": view.size}), 201

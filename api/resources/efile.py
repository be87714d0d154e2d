"""The electronic case file (电子卷宗), archiving (归档) and the case's timeline."""
from __future__ import annotations

from flask import Response
from flask_restx import Namespace, Resource

from engine import audit, cases, efile
from engine.evidence.storage import chunks

from ..context import core, render, unit

ns = Namespace("efile", path="/cases", description="电子卷宗与归档 · electronic case file, archive, timeline")


@ns.route("/<int:case_id>/efile")
class Efile(Resource):
    @ns.produces(["application/zip"])
    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """电子卷宗 · the case file as a ZIP (manifest.json, documents, evidence, index.html)"""
        with unit() as u:
            exported = efile.export(u, case_id, core().settings.data_dir / "spool")
        stream = open(exported.path, "rb")  # noqa: SIM115 (closed by chunks() when the response ends)
        exported.path.unlink()  # the open handle keeps the bytes until the response is sent
        headers = {
            "Content-Length": str(exported.size), "ETag": f'"{exported.sha256}"',
            "Content-Disposition": f"attachment; filename=efile-{case_id}.zip", "Cache-Control": "no-store",
        }
        return Response(chunks(stream), mimetype="application/zip", headers=headers, direct_passthrough=True)


@ns.route("/<int:case_id>/archive")
class Archive(Resource):
    @ns.response(201, "archived: the file's SHA-256; the case is frozen")
    @ns.response(409, "the case is not closed, or archived already")
    def post(self, case_id: int):  # type: ignore[no-untyped-def]
        """归档 · archive a closed case"""
        with unit() as u:
            view = efile.archive(u, case_id, core().settings.data_dir / "spool")
        return render(view), 201

    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """归档信息 · the archive record"""
        with unit() as u:
            return render(efile.get_archive(u, case_id))


@ns.route("/<int:case_id>/archive/content")
class ArchiveContent(Resource):
    @ns.produces(["application/zip"])
    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """归档卷宗 · the case file as archived"""
        with unit() as u:
            view = efile.get_archive(u, case_id)
        headers = {"Content-Length": str(view.size), "ETag": f'"{view.sha256}"',
                   "Content-Disposition": f"attachment; filename=archive-{case_id}.zip"}
        return Response(chunks(efile.open_archive(core(), view)), mimetype="application/zip", headers=headers,
                        direct_passthrough=True)


@ns.route("/<int:case_id>/timeline")
class Timeline(Resource):
    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """时间线 · every event of the case in order: who, and which step of the procedure"""
        with unit() as u:
            case = cases.visible_case(u, case_id)
            return {"case_id": case.id, "number": case.number, "items": render(audit.timeline(u, case))}


audit_ns = Namespace("audit", path="/audit", description="全过程记录 · the audit trail's published heads")


@audit_ns.route("/heads")
class DailyHeads(Resource):
    @audit_ns.param("date", "YYYY-MM-DD (China time); default yesterday")
    @audit_ns.response(403, "supervisors and admins only")
    def get(self):  # type: ignore[no-untyped-def]
        """每日链头 · each chain's head at the end of a day and one root hash, to publish or anchor"""
        from datetime import date, timedelta

        from flask import request

        from engine.clock import CHINA_TZ
        from engine.errors import InvalidInput, Problem

        raw = request.args.get("date")
        try:
            day = date.fromisoformat(raw) if raw else core().now().astimezone(CHINA_TZ).date() - timedelta(days=1)
        except ValueError:
            raise InvalidInput("date must be YYYY-MM-DD", [Problem("YYYY-MM-DD", field="date")]) from None
        with unit() as u:
            return audit.export_daily_heads(u, day)

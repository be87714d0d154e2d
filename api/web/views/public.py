"""The public pages (政务公开, no login): what can be consulted, the search of published decisions and
each publication's frozen record, document verification (the QR code's URL lands here), complaints and
their tracking page, enforcement subjects and the officer roster, the catalogue with legal basis, time
limits and the read-only diagram, the discretion benchmarks, annual statistics, the Atom feeds.

Every view opens one unit of work without a user and calls the same engine services as the public API
(engine/publicity); rate limit and caching are those of the public API (api/public_http.py). Refusals are
shown at their fields with the status of the API (422), and nothing is stored for a refused complaint.
"""
from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext

from engine.errors import InvalidInput, NotFound
from engine.publicity import benchmarks, complaints, public, verification

from ...context import core
from ..blueprint import web

SEARCH_FIELDS = ("q", "credit_code", "region", "matter", "from", "to", "page")
LABELS = {
    "violation": lazy_gettext("report of a violation"), "conduct": lazy_gettext("complaint about enforcement"),
    "received": lazy_gettext("received"), "case_opened": lazy_gettext("case opened"),
    "not_filed": lazy_gettext("no case opened"), "closed": lazy_gettext("concluded"),
}
COMPLAINT_FIELDS = ("kind", "agency", "matter", "subject", "content", "complainant_name", "complainant_phone",
                    "complainant_email")


def _errors(exc: InvalidInput) -> dict[str, list[str]]:
    """The problems of a refusal by field (a file's problem names the file)."""
    found: dict[str, list[str]] = {}
    for p in exc.problems:
        text = f"{p.file}: {p.message}" if p.file else p.message
        found.setdefault(p.field or "form", []).append(text)
    return found


@web.get("/public")
def public_home():  # type: ignore[no-untyped-def]
    return render_template("public/home.html")


@web.get("/public/decisions")
def public_decisions():  # type: ignore[no-untyped-def]
    args = {k: (request.args.get(k) or "").strip() or None for k in SEARCH_FIELDS}
    with core().unit() as u:
        catalogue = public.catalogue(u)
        try:
            query = public.decision_query({**args, "per_page": "20"})
        except InvalidInput as exc:
            return render_template("public/decisions.html", args=args, errors=_errors(exc), rows=[], total=0,
                                   query=None, catalogue=catalogue), 422
        rows, total = public.search_publications(u, query)
        items = [(r.id, public.public_item(r)) for r in rows]
    pages = max(1, -(-total // query.per_page))
    return render_template("public/decisions.html", args=args, errors={}, rows=items, total=total, query=query,
                           pages=pages, catalogue=catalogue, searched=any(args[k] for k in SEARCH_FIELDS[:-1]))


@web.get("/public/decisions/<int:publication_id>")
def public_decision(publication_id: int):  # type: ignore[no-untyped-def]
    try:
        with core().unit() as u:
            found = public.decision_page(u, publication_id)
    except NotFound:  # unpublished, ended and unknown alike
        return render_template("public/not_found.html"), 404
    return render_template("public/decision.html", **found)


@web.get("/public/verify")
def public_verify_form():  # type: ignore[no-untyped-def]
    code = (request.args.get("code") or "").strip()
    if code:
        return redirect(url_for("web.public_verify", code=code))
    return render_template("public/verify.html", code="", result=None, error=None)


@web.get("/public/verify/<code>")
def public_verify(code: str):  # type: ignore[no-untyped-def]
    """The page the QR code of a document leads to (its URL /api/v1/public/documents/<code> sends a browser here)."""
    try:
        with core().unit() as u:
            result = verification.verify(u, code)
    except InvalidInput:
        return render_template("public/verify.html", code=code, result=None, error="malformed"), 422
    except NotFound:
        return render_template("public/verify.html", code=code, result=None, error="unknown"), 404
    return render_template("public/verify.html", code=code, result=result, error=None)


def _complaint_choices() -> dict[str, Any]:
    with core().unit() as u:
        return {"subjects": public.subjects(u), "kinds": complaints.KINDS, "max_files": complaints.MAX_FILES,
                "max_mb": complaints.MAX_FILE_BYTES // (1024 * 1024)}


@web.get("/public/complaints/new")
def public_complaint_form():  # type: ignore[no-untyped-def]
    return render_template("public/complaint_form.html", form={"kind": "violation"}, errors={}, **_complaint_choices())


@web.post("/public/complaints")
def public_complaint_post():  # type: ignore[no-untyped-def]
    form = {k: request.form.get(k, "") for k in COMPLAINT_FIELDS}
    uploads = []
    for f in request.files.getlist("attachments"):
        if not f.filename and not f.mimetype.startswith(("image/", "application/pdf")):
            f.close()
            continue  # the browser's empty file field
        try:
            uploads.append(complaints.Upload(f.filename or "", f.mimetype or "", f.read(complaints.MAX_FILE_BYTES + 1)))
        finally:
            f.close()
    try:
        with core().unit() as u:
            lodged = complaints.lodge(u, {**form, "matter": form["matter"] or None}, uploads)
    except InvalidInput as exc:
        return render_template("public/complaint_form.html", form=form, errors=_errors(exc), **_complaint_choices()), 422
    return redirect(url_for("web.public_complaint_status", tracking_code=lodged.tracking_code, new=1), code=303)


@web.get("/public/complaints")
def public_complaint_lookup():  # type: ignore[no-untyped-def]
    code = (request.args.get("code") or "").strip()
    if code:
        return redirect(url_for("web.public_complaint_status", tracking_code=code))
    return render_template("public/complaint_status.html", status=None, code="", new=False, labels=LABELS)


@web.get("/public/complaints/<tracking_code>")
def public_complaint_status(tracking_code: str):  # type: ignore[no-untyped-def]
    try:
        with core().unit() as u:
            status = complaints.public_status(u, tracking_code)
    except NotFound:
        return render_template("public/complaint_status.html", status=None, code=tracking_code, new=False,
                               unknown=True, labels=LABELS), 404
    return render_template("public/complaint_status.html", status=status, code=status.tracking_code,
                           new=request.args.get("new") == "1", labels=LABELS)


@web.get("/public/subjects")
def public_subjects():  # type: ignore[no-untyped-def]
    with core().unit() as u:
        return render_template("public/subjects.html", subjects=public.subjects(u))


@web.get("/public/officers")
def public_officers():  # type: ignore[no-untyped-def]
    agency = (request.args.get("agency") or "").strip() or None
    with core().unit() as u:
        return render_template("public/officers.html", officers=public.roster(u, agency), subjects=public.subjects(u),
                               agency=agency)


@web.get("/public/catalogue")
def public_catalogue():  # type: ignore[no-untyped-def]
    with core().unit() as u:
        return render_template("public/catalogue.html", matters=public.catalogue(u))


@web.get("/public/procedures/<process_id>")
def public_procedure(process_id: str):  # type: ignore[no-untyped-def]
    try:
        with core().unit() as u:
            public.procedure_diagram(u, process_id)  # 404 unless deployed
    except NotFound:
        return render_template("public/not_found.html"), 404
    with core().unit() as u:
        limits = public.procedure_time_limits(u, process_id)
        matters = [m for m in public.catalogue(u) if m["procedure"] == process_id]
    return render_template("public/procedure.html", process_id=process_id, limits=limits, matters=matters,
                           xml_url=f"/api/v1/public/procedures/{process_id}")


@web.get("/public/benchmarks")
def public_benchmarks():  # type: ignore[no-untyped-def]
    matter = (request.args.get("matter") or "").strip() or None
    with core().unit() as u:
        try:
            found = benchmarks.published_benchmarks(u, matter)
        except InvalidInput as exc:
            return render_template("public/benchmarks.html", found=None, matter=matter, errors=_errors(exc)), 422
    return render_template("public/benchmarks.html", found=found, matter=matter, errors={})


@web.get("/public/statistics")
def public_statistics():  # type: ignore[no-untyped-def]
    year = (request.args.get("year") or "").strip() or None
    with core().unit() as u:
        this_year = u.now.year
        try:
            items = public.statistics(u, year)
        except InvalidInput as exc:
            return render_template("public/statistics.html", items=[], year=year, errors=_errors(exc),
                                   years=range(this_year, this_year - 6, -1)), 422
    return render_template("public/statistics.html", items=items, year=int(year) if year else this_year, errors={},
                           years=range(this_year, this_year - 6, -1))


@web.get("/public/feeds")
def public_feeds():  # type: ignore[no-untyped-def]
    with core().unit() as u:
        return render_template("public/feeds.html", subjects=public.subjects(u), matters=public.catalogue(u))

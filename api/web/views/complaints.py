"""Complaints and reports (投诉举报) in the browser, for the agency that handles them: the inbox (violation
complaints are clues with the P2 verification deadline; conduct complaints reach the supervision body) and a
complaint's page with its attachments and the actions the engine allows: 「立案」 (a case whose filing clock
starts at the receipt), 「不予立案/办结」 with the reply the complainant reads, and 「立案监督」 (a supervision
matter from a conduct complaint). Everything goes through engine/publicity/complaints.py and
engine/supervision/matters.py; their refusals are shown at their fields, nothing changed."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from engine import accounts, catalogue
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.publicity import complaints
from engine.supervision import matters

from ..blueprint import web
from ..forms import errors_by_field
from ..refusals import explain
from ..websession import login_required, web_unit
from .officer import PARTY_FIELDS, case_field

PER_PAGE = 20
STATUSES = ("received", "case_opened", "not_filed", "closed")
NAMES = {  # the complaint's own words, kept apart from the shared labels
    "received": lazy_gettext("to verify"), "case_opened": lazy_gettext("case opened"),
    "not_filed": lazy_gettext("not filed"), "closed": lazy_gettext("concluded"),
    "violation": lazy_gettext("illegal conduct"), "conduct": lazy_gettext("enforcement conduct"),
}
FIELDS = {  # the fields each form shows errors at; any other refusal is shown at the top of the form
    "case": {"matter_code", "officer_ids", "summary", *(f"party.{k}" for k in PARTY_FIELDS)},
    "close": {"outcome", "reply"}, "matter": {"summary"},
}


@web.get("/complaints")
@login_required
def complaint_inbox():  # type: ignore[no-untyped-def]
    status = request.args.get("status") if request.args.get("status") in STATUSES else ""
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    with web_unit() as u:
        items, total = complaints.inbox(u, status=status or None, page=page_no, per_page=PER_PAGE)
        return render_template("complaints/list.html", complaints=items, total=total, status=status, statuses=STATUSES,
                               page=page_no, pages=max(1, -(-total // PER_PAGE)), names=NAMES)


@web.get("/complaints/<int:complaint_id>")
@login_required
def complaint_page(complaint_id: int):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        return _page(u, complaint_id, "", {}, {})


@web.get("/complaints/<int:complaint_id>/attachments/<int:attachment_id>")
@login_required
def complaint_attachment(complaint_id: int, attachment_id: int):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        found = complaints.attachment(u, complaint_id, attachment_id)
    response = Response(found.content, mimetype=found.media_type)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(found.filename)}"
    return response


@web.post("/complaints/<int:complaint_id>/case")
@login_required
def complaint_case(complaint_id: int):  # type: ignore[no-untyped-def]
    """「立案」: a case from a violation complaint; the engine starts its filing clock at the receipt."""
    form = request.form
    party = {k: form.get(f"party.{k}", "").strip() for k in PARTY_FIELDS if form.get(f"party.{k}", "").strip()}
    officer_ids = [int(v) for v in form.getlist("officer_ids") if v.isdigit()]
    values = {"matter_code": form.get("matter_code", "").strip(), "party": party, "officer_ids": officer_ids,
              "summary": form.get("summary", "")}
    try:
        with web_unit() as u:
            opened = complaints.open_case(u, complaint_id, party, officer_ids, values["summary"].strip() or None,
                                          values["matter_code"] or None)
    except (InvalidInput, Conflict) as exc:
        with web_unit() as u:
            return _page(u, complaint_id, "case", values, errors_by_field(exc, case_field))
    except Forbidden as exc:  # e.g. a matter the agency is not competent for; not one who opens cases: the refusal page
        with web_unit() as u:
            if not u.actor.has_role("officer", "agency_head"):
                raise
            return _page(u, complaint_id, "case", values, {"matter_code": [explain(exc.detail)]})
    flash(_("Case %(number)s opened.", number=opened.number), "success")
    return redirect(url_for("web.case_page", case_id=opened.id))


@web.post("/complaints/<int:complaint_id>/close")
@login_required
def complaint_close(complaint_id: int):  # type: ignore[no-untyped-def]
    """「不予立案/办结」: the outcome with the reply shown on the public status page."""
    values = {"outcome": request.form.get("outcome", ""), "reply": request.form.get("reply", "")}
    try:
        with web_unit() as u:
            done = complaints.close(u, complaint_id, values["outcome"], values["reply"])
    except (InvalidInput, Conflict) as exc:
        with web_unit() as u:
            return _page(u, complaint_id, "close", values, errors_by_field(exc))
    flash(_("Complaint %(code)s: %(outcome)s.", code=done.tracking_code, outcome=NAMES[done.status]), "success")
    return redirect(url_for("web.complaint_page", complaint_id=complaint_id))


@web.post("/complaints/<int:complaint_id>/matter")
@login_required
def complaint_matter(complaint_id: int):  # type: ignore[no-untyped-def]
    """「立案监督」: a supervision matter from a conduct complaint, against the agency it is about."""
    values = {"summary": request.form.get("summary", "")}
    try:
        with web_unit() as u:
            seen = complaints.get(u, complaint_id)
            opened = matters.open_matter(u, {"source": "complaint", "complaint_id": complaint_id,
                                             "agency_id": seen.about_agency_id, "summary": values["summary"]})
    except (InvalidInput, Conflict) as exc:
        with web_unit() as u:
            return _page(u, complaint_id, "matter", values, errors_by_field(exc))
    flash(_("Supervision matter %(number)s opened.", number=opened.number), "success")
    return redirect(url_for("web.matter_page", matter_id=opened.id))


def _page(u: Any, complaint_id: int, active: str, values: dict[str, Any], errors: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    item = complaints.get(u, complaint_id)
    may_case = item.kind == "violation" and item.status == "received" and u.actor.has_role("officer", "agency_head")
    may_matter = item.kind == "conduct" and item.status == "received" and u.actor.has_role("supervisor")
    forms = {"case": may_case, "close": item.status not in complaints.CLOSING, "matter": may_matter}
    shown: dict[str, list[str]] = {}  # a form no longer offered (handled meanwhile): its refusal at the top
    for field, messages in errors.items():
        shown.setdefault(field if forms.get(active) and field in FIELDS.get(active, ()) else "", []).extend(messages)
    case_values = values if active == "case" else {
        "matter_code": item.matter_code or "", "party": {"type": "organization"}, "officer_ids": [u.actor.user_id],
        "summary": f"投诉举报：{item.subject}"}
    return render_template(
        "complaints/page.html", complaint=item, names=NAMES, active=active, errors=shown,
        may_case=may_case, may_close=forms["close"], may_matter=may_matter, forms=forms,
        case_values=case_values, close_values=values if active == "close" else {"outcome": "", "reply": ""},
        matter_values=values if active == "matter" else {"summary": f"投诉举报：{item.subject}"},
        outcomes=complaints.CLOSING,
        matters=catalogue.list_matters(u) if may_case else [],
        officers=accounts.certified_officers(u, u.actor.agency_id) if may_case else [],
    )

"""Supervision matters (监督事项, docs/supervision.md §6) in the browser: the supervisor's list with the form
that opens a matter on their own initiative, 「立案监督」 on an alert, and a matter's page (facts, rectification
deadline, documents, tasks, timeline). Everything goes through engine/supervision/matters.py; its tasks are
ordinary tasks done on the generic task page (/tasks/<id>). Refusals are shown at the engine's fields."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from engine import audit, cases, definitions, overview, tasks
from engine.documents import service as documents
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.supervision import matters

from ..blueprint import web
from ..forms import errors_by_field
from ..refusals import explain
from ..websession import login_required, web_unit

PER_PAGE = 20
NAMES = {  # the matter's own words (statuses, sources), kept apart from the shared labels
    "notice": lazy_gettext("notice to issue"), "rectification": lazy_gettext("rectifying"),
    "review": lazy_gettext("rectification to review"), "closed": lazy_gettext("matter closed"),
    "escalated": lazy_gettext("escalated to the government above"), "alert": lazy_gettext("compliance alert"),
    "complaint": lazy_gettext("conduct complaint"), "initiative": lazy_gettext("own initiative"),
    "waiting": lazy_gettext("running"), "overdue": lazy_gettext("overdue"), "met": lazy_gettext("met in time"),
    "breached": lazy_gettext("met late"),
}
DEADLINE_MARKS = {"overdue": "red", "breached": "red", "met": "green"}  # waiting: by the time left


# -- the list and opening on initiative ---------------------------------------------------------------
@web.get("/supervision/matters")
@login_required
def matter_list():  # type: ignore[no-untyped-def]
    with web_unit() as u:
        return _list_page(u, {"agency_id": "", "case": "", "summary": "", "supervisor_ids": [str(u.actor.user_id)]}, {})


def _list_page(u: Any, values: dict[str, Any], errors: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    status = request.args.get("status") if request.args.get("status") in matters.STATUSES else ""
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    items, total = matters.list_matters(u, status=status or None, page=page_no, per_page=PER_PAGE)
    may_open = u.actor.has_role("supervisor")
    return render_template(
        "supervision/matters.html", matters=items, total=total, status=status, statuses=matters.STATUSES, page=page_no,
        pages=max(1, -(-total // PER_PAGE)), names=NAMES, deadline_mark=deadline_mark, may_open=may_open,
        agencies=matters.supervisable_agencies(u) if may_open else [], values=values, errors=errors,
        supervisors=matters.assignable_supervisors(u) if may_open else [],
    )


@web.post("/supervision/matters")
@login_required
def matter_open():  # type: ignore[no-untyped-def]
    """A matter on the supervisor's own initiative: the supervised agency, optionally a case, the reason, the
    supervisors assigned (a form without the list: the opener alone, as the engine's default)."""
    form = request.form
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in ("agency_id", "case", "summary")}
    values["supervisor_ids"] = form.getlist("supervisor_ids")
    try:
        with web_unit() as u:
            body = {"source": "initiative", "agency_id": _integer(values["agency_id"]), "summary": form.get("summary", "")}
            if values["case"]:
                body["case_id"] = _case_id(u, values["case"])
            if "supervisor_ids.present" in form:  # the engine refuses an empty list and anyone it would not assign
                body["supervisor_ids"] = [_integer(v.strip()) for v in values["supervisor_ids"]]
            opened = matters.open_matter(u, body)
    except InvalidInput as exc:
        with web_unit() as u:
            return _list_page(u, values, errors_by_field(exc))
    except Forbidden as exc:
        with web_unit() as u:
            if not u.actor.has_role("supervisor"):
                raise  # not one who opens matters: the refusal page
            return _list_page(u, values, {"agency_id": [explain(exc.detail)]})
    flash(_("Supervision matter %(number)s opened.", number=opened.number), "success")
    return redirect(url_for("web.matter_page", matter_id=opened.id))


def _integer(raw: str) -> Any:
    """A whole number, or the text as typed (the engine names the field); empty: None."""
    return int(raw) if raw.isdigit() else (raw or None)


def _case_id(u: Any, typed: str) -> Any:
    """A case id, or the id of the case of the scope with exactly this number; else the text as typed,
    which the engine refuses at case_id."""
    if typed.isdigit():
        return int(typed)
    found, _total = cases.list_cases(u, q=typed, per_page=5)
    return next((c["id"] for c in found if c["number"] == typed), typed)


def deadline_mark(deadline: dict[str, Any] | None, left: dict[str, str]) -> str:
    """The colour of a rectification deadline: by its status, a running one by the time left."""
    if deadline is None:
        return ""
    return DEADLINE_MARKS.get(deadline["status"], left["mark"])


# -- from an alert ------------------------------------------------------------------------------------
@web.post("/supervision/alerts/<int:alert_id>/matter")
@login_required
def matter_from_alert(alert_id: int):  # type: ignore[no-untyped-def]
    """「立案监督」: a matter about the alert's agency and case, its message as what the matter is about."""
    body = {"source": "alert", "alert_id": alert_id, "agency_id": _integer(request.form.get("agency_id", "").strip()),
            "summary": request.form.get("summary", "")}
    try:
        with web_unit() as u:
            opened = matters.open_matter(u, body)
    except (InvalidInput, Conflict) as exc:  # a second matter from the same alert, a dismissed alert …
        messages = [explain(p.message, p.field) for p in exc.problems] or [explain(exc.detail)]
        flash(_("No supervision matter opened from alert %(id)s: %(reason)s", id=alert_id, reason=" ".join(messages)), "error")
        return redirect(url_for("web.alert_inbox", status=request.form.get("status") or None))
    flash(_("Supervision matter %(number)s opened.", number=opened.number), "success")
    return redirect(url_for("web.matter_page", matter_id=opened.id))


# -- a matter's page ----------------------------------------------------------------------------------
@web.get("/supervision/matters/<int:matter_id>")
@login_required
def matter_page(matter_id: int):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        matter = matters.get_matter(u, matter_id)
        case = cases.get_case(u, matter.case_id)
        mine, _total = tasks.list_tasks(u, case_id=case.id, state="ready", mine=True)
        events = audit.case_events(u, case.id)
        names = overview.user_names(u, {e["actor_id"] for e in events if e["actor_id"]})
        return render_template(
            "supervision/matter.html", matter=matter, case=case, may_do={t.id for t in mine}, events=events,
            people=names, names=NAMES, deadline_mark=deadline_mark, issuable=_issuable(u, matter, case.definition_id),
        )


def _issuable(u: Any, matter: matters.MatterView, definition_id: int) -> list[dict[str, Any]]:
    """Completed tasks whose document (the 监督通知书) is not issued yet, when the user may issue it."""
    try:
        documents.check_may_issue(u, matter.case_id)
    except Forbidden:
        return []
    meta = definitions.deployed(u, definition_id).tasks_meta
    issued = {d["task_id"] for d in matter.documents if d["task_id"]}
    return [t for t in matter.tasks if t["state"] == "completed" and meta.get(t["bpmn_id"], {}).get("template") and t["id"] not in issued]

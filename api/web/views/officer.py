"""Officer pages: the task inbox, cases (list, search, open, the case page) and task forms.

A form the server refused is shown again with 200 and the errors beside the fields (a 4xx page is
an error in the browser console, and the page itself is fine).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import accounts, audit, cases, catalogue, discretion, overview, tasks
from engine.clock import CHINA_TZ
from engine.errors import Forbidden, InvalidInput, Problem
from engine.supervision import matters

from .. import extensions
from ..blueprint import web
from ..filters import local
from ..forms import attach_errors, data_from, errors_by_field, fields_of
from ..refusals import explain
from ..websession import login_required, web_unit

PER_PAGE = 20


@web.get("/inbox")
@login_required
def inbox():  # type: ignore[no-untyped-def]
    """The tasks I may do now, the nearest statutory deadline first."""
    with web_unit() as u:
        items, total = tasks.list_tasks(u, state="ready", mine=True, per_page=200)
        nearest = overview.nearest_deadlines(u, {t.case_id for t in items})
        rows = [_inbox_row(t, nearest.get(t.case_id)) for t in items]
        rows.sort(key=lambda r: (r["due_at"] is None, r["due_at"] or _LATEST, r["task"].created_at))
        return render_template("inbox.html", rows=rows, total=total)


_LATEST = datetime.max.replace(tzinfo=UTC)


def _inbox_row(task: Any, case_limit: Any) -> dict[str, Any]:
    """A task's own limit, or else the running limit of its case (e.g. the filing period)."""
    if task.due_at is not None:
        return {"task": task, "due_at": task.due_at, "limit": None}
    if case_limit is not None:
        return {"task": task, "due_at": case_limit.due_at, "limit": case_limit}
    return {"task": task, "due_at": None, "limit": None}


@web.get("/cases")
@login_required
def case_list():  # type: ignore[no-untyped-def]
    q = (request.args.get("q") or "").strip() or None
    status = request.args.get("status") if request.args.get("status") in ("open", "closed") else None
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    with web_unit() as u:
        items, total = cases.list_cases(u, q=q, status=status, page=page_no, per_page=PER_PAGE)
        context = {"cases": items, "total": total, "q": q or "", "status": status or "", "page": page_no,
                   "pages": max(1, -(-total // PER_PAGE))}
        if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "case-results":
            return render_template("cases/_results.html", **context)
        return render_template("cases/list.html", **context)


# -- opening a case ---------------------------------------------------------------------------------
PARTY_FIELDS = ("type", "name", "id_number", "credit_code", "address", "phone", "legal_representative")
CASE_FIELDS = {"", "matter_code", "officer_ids", "summary", "clue_received_at", *(f"party.{k}" for k in PARTY_FIELDS)}


@web.get("/cases/new")
@login_required
def case_new():  # type: ignore[no-untyped-def]
    with web_unit() as u:
        return _case_form(u, {"party": {"type": "organization"}, "officer_ids": [u.actor.user_id]}, {})


@web.post("/cases/new")
@login_required
def case_new_post():  # type: ignore[no-untyped-def]
    form = request.form
    party = {k: form.get(f"party.{k}", "").strip() for k in PARTY_FIELDS if form.get(f"party.{k}", "").strip()}
    officer_ids = [int(v) for v in form.getlist("officer_ids") if v.isdigit()]
    clue = _clue_instant(form.get("clue_received_at", "").strip())
    values = {"matter_code": form.get("matter_code", ""), "party": party, "officer_ids": officer_ids,
              "summary": form.get("summary", ""), "clue_received_at": form.get("clue_received_at", "")}
    try:
        with web_unit() as u:
            opened = cases.open_case(u, values["matter_code"], party, officer_ids, values["summary"], clue_received_at=clue)
    except InvalidInput as exc:  # a procedure not deployed or not executable: the matter chosen has it
        with web_unit() as u:
            return _case_form(u, values, errors_by_field(exc, case_field))
    except Forbidden as exc:  # a matter the agency is not competent for; not one who opens cases: the refusal page
        with web_unit() as u:
            if not u.actor.has_role("officer", "agency_head"):
                raise
            return _case_form(u, values, {"matter_code": [explain(exc.detail)]})
    flash(_("Case %(number)s opened.", number=opened.number), "success")
    return redirect(url_for("web.case_page", case_id=opened.id))


def case_field(field: str) -> str:
    """Where the form shows a refusal: its field; the matter's procedure at the matter; else at the top."""
    return "matter_code" if field == "process_id" else field if field in CASE_FIELDS else ""


def _clue_instant(raw: str) -> str | None:
    if not raw:
        return None
    return raw + ":00+08:00" if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", raw) else raw


def _case_form(u: Any, values: dict[str, Any], errors: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return render_template(
        "cases/new.html", values=values, errors=errors,
        matters=catalogue.list_matters(u), officers=accounts.certified_officers(u, u.actor.agency_id),
        now=u.now.astimezone(CHINA_TZ).strftime("%Y-%m-%dT%H:%M"),
    )


# -- the case page ----------------------------------------------------------------------------------
@web.get("/cases/<int:case_id>")
@login_required
def case_page(case_id: int):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        matter_id = matters.matter_of_case(u, case_id)
        if matter_id is not None:  # the workflow of a supervision matter: the matter's page shows it
            return redirect(url_for("web.matter_page", matter_id=matter_id))
        case = cases.get_case(u, case_id)
        events = audit.case_events(u, case_id)
        names = overview.user_names(u, {e["actor_id"] for e in events if e["actor_id"]})
        diagram = {
            "xml_url": url_for("web.definition_xml", definition_id=case.definition_id),
            "completed": sorted({t.bpmn_id for t in case.tasks if t.state == "completed"}),
            "current": sorted({t.bpmn_id for t in case.tasks if t.state == "ready"}),
            "timers": [
                {"bpmn_id": t.bpmn_id, "status": t.status, "due_local": local(t.due_at), "legal_basis": t.legal_basis,
                 "name": t.name, "provisional": t.provisional}
                for t in case.timers if t.status in ("pending", "overdue")
            ],
        }
        sections = [s for s in extensions.case_sections if s.visible(u, case)]
        section_data = {k: v for s in sections if s.data for k, v in s.data(u, case).items()}
        return render_template(
            "cases/page.html", case=case, events=events, names=names, diagram=diagram, sections=sections, **section_data,
            ready=[t for t in case.tasks if t.state == "ready"],
            case_limit=next((t for t in case.timers if t.status in ("pending", "overdue") and t.due_at), None),
        )


# -- task forms -------------------------------------------------------------------------------------
@web.get("/tasks/<task_id>")
@login_required
def task_page(task_id: str):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        return _task_form(u, task_id, {}, [])


@web.post("/tasks/<task_id>")
@login_required
def task_post(task_id: str):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        detail = tasks.get_task(u, task_id)
        schema = detail.form["schema"]
    data = data_from(schema, request.form)
    try:
        with web_unit() as u:
            done = tasks.complete(u, task_id, data)
    except InvalidInput as exc:  # the form's schema, and the rules beyond it (discretion band, limits)
        with web_unit() as u:
            return _task_form(u, task_id, data, exc.problems or [Problem(exc.detail)])
    flash(_("%(task)s: done.", task=detail.summary.name), "success")
    return redirect(url_for("web.case_page", case_id=done.case_id))


def _task_form(u: Any, task_id: str, values: dict[str, Any], problems: list[Problem]):  # type: ignore[no-untyped-def]
    detail = tasks.get_task(u, task_id)
    case = cases.get_case(u, detail.summary.case_id)
    fields = fields_of(detail.form["schema"], detail.form["ui_schema"], values)
    loose = attach_errors(fields, [Problem(explain(p.message, p.field), field=p.field) for p in problems])
    band = discretion.decision_band(u, task_id, _tier(values.get("discretion_tier"))) if detail.summary.state == "ready" else None
    return render_template(
        "tasks/form.html", task=detail.summary, form=detail.form, fields=fields, loose=loose, case=case,
        invalid=bool(problems), band=band, tier_names=discretion.TIERS,
        limit=None if detail.summary.due_at else next((t for t in case.timers if t.status in ("pending", "overdue") and t.due_at), None),
    )


def _tier(value: Any) -> str | None:
    return value if isinstance(value, str) and value in discretion.TIERS else None


@web.get("/tasks/<task_id>/band")
@login_required
def task_band(task_id: str):  # type: ignore[no-untyped-def]
    """The benchmark band for the tier chosen on the decision form (htmx swaps it in)."""
    with web_unit() as u:
        band = discretion.decision_band(u, task_id, _tier(request.args.get("discretion_tier")))
        return render_template("tasks/_band.html", band=band, task_id=task_id, tier_names=discretion.TIERS)

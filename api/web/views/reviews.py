"""Post-case review (案卷评查) pages: supervisors draw a sample of closed cases per agency (period, per
agency, optional seed; the seed is shown and can be reused), assign reviewers, read the per-agency results;
the assigned reviewer scores a case against the checklist; legal staff and supervisors edit the checklist.
All through engine/supervision/review.py; refusals are shown at their fields (the page again, status 200)."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine import overview
from engine.errors import Conflict, Forbidden, InvalidInput, Problem
from engine.supervision import indicators, review

from ..blueprint import web
from ..forms import errors_by_field
from ..refusals import explain
from ..websession import login_required, web_unit

BLANK_ITEMS = 3  # empty rows offered below the checklist's items


def _integer(raw: str | None) -> Any:
    """A whole number, or the text as typed (the engine names the field)."""
    raw = (raw or "").strip()
    if raw == "":
        return None
    return int(raw) if raw.isdigit() else raw


# -- samples ------------------------------------------------------------------------------------------
@web.get("/supervision/reviews")
@login_required
def reviews():  # type: ignore[no-untyped-def]
    with web_unit() as u:
        values = {"from": request.args.get("from", ""), "to": request.args.get("to", ""),
                  "per_agency": request.args.get("per_agency", "3"), "seed": request.args.get("seed", ""),
                  "agency_id": request.args.get("agency_id", "")}
        return _reviews_page(u, values, {})


def _reviews_page(u: Any, values: dict[str, Any], errors: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    may_draw = u.actor.has_role("supervisor", "admin")
    return render_template(
        "supervision/reviews.html", values=values, errors=errors, may_draw=may_draw,
        samples=review.list_samples(u) if may_draw or u.actor.has_role("agency_head") else [],
        agencies=review.sample_agencies(u) if may_draw else [], mine=review.my_review_cases(u),
        may_edit_checklist=u.actor.has_role(*review.EDITORS),
    )


@web.post("/supervision/reviews")
@login_required
def reviews_draw():  # type: ignore[no-untyped-def]
    form = request.form
    values = {k: form.get(k, "").strip() for k in ("from", "to", "per_agency", "seed", "agency_id")}
    try:
        start, end = indicators.period_arg(values["from"], values["to"])
        with web_unit() as u:
            drawn = review.draw(u, agency_id=_integer(values["agency_id"]), start=start, end=end,
                                per_agency=_integer(values["per_agency"]), seed=_integer(values["seed"]))
    except InvalidInput as exc:
        with web_unit() as u:
            return _reviews_page(u, values, errors_by_field(exc))
    except Forbidden:
        with web_unit() as u:
            if not u.actor.has_role("supervisor", "admin"):
                raise  # not one who draws: the refusal page
            return _reviews_page(u, values, {"agency_id": [_("This agency is outside your scope.")]})
    flash(_("%(count)d cases drawn with seed %(seed)d.", count=len(drawn.cases), seed=drawn.seed), "success")
    return redirect(url_for("web.review_sample", sample_id=drawn.id))


@web.get("/supervision/reviews/<int:sample_id>")
@login_required
def review_sample(sample_id: int):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        return _sample_page(u, sample_id, {})


def _sample_page(u: Any, sample_id: int, errors: dict[int, list[str]]):  # type: ignore[no-untyped-def]
    sample = review.sample_view(u, sample_id)
    may_assign = u.actor.has_role("supervisor", "admin")
    people = review.reviewer_candidates(u) if may_assign else []
    names = overview.user_names(u, {c.reviewer_id for c in sample.cases if c.reviewer_id})
    return render_template("supervision/review_sample.html", sample=sample, errors=errors, may_assign=may_assign,
                           people=people, names=names)


@web.post("/supervision/reviews/<int:sample_id>/cases/<int:case_id>/assign")
@login_required
def review_assign(sample_id: int, case_id: int):  # type: ignore[no-untyped-def]
    try:
        with web_unit() as u:
            review.assign(u, sample_id, case_id, _integer(request.form.get("reviewer_id")))
    except InvalidInput as exc:
        with web_unit() as u:
            return _sample_page(u, sample_id, {case_id: [explain(p.message, p.field) for p in exc.problems or [Problem(exc.detail)]]})
    except Conflict as exc:
        flash(explain(exc.detail), "error")
        return redirect(url_for("web.review_sample", sample_id=sample_id))
    flash(_("Reviewer assigned."), "success")
    return redirect(url_for("web.review_sample", sample_id=sample_id, _anchor=f"case-{case_id}"))


# -- scoring ------------------------------------------------------------------------------------------
@web.get("/supervision/reviews/<int:sample_id>/cases/<int:case_id>")
@login_required
def review_case(sample_id: int, case_id: int):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        found = review.case_to_score(u, sample_id, case_id)
        values = {"scores": {k: str(v) for k, v in (found.case.scores or {}).items()}, "findings": found.case.findings or ""}
        return render_template("supervision/review_score.html", found=found, values=values, errors={})


@web.post("/supervision/reviews/<int:sample_id>/cases/<int:case_id>")
@login_required
def review_score(sample_id: int, case_id: int):  # type: ignore[no-untyped-def]
    with web_unit() as u:
        items = review.case_to_score(u, sample_id, case_id).checklist.items
    raw = {i["code"]: request.form.get(f"scores.{i['code']}", "").strip() for i in items}
    findings = request.form.get("findings", "")
    try:
        with web_unit() as u:
            scored = review.score(u, sample_id, case_id, {k: _integer(v) for k, v in raw.items()}, findings)
    except InvalidInput as exc:
        with web_unit() as u:
            found = review.case_to_score(u, sample_id, case_id)
            return render_template("supervision/review_score.html", found=found, values={"scores": raw, "findings": findings},
                                   errors=errors_by_field(exc))
    flash(_("Case %(number)s scored: %(total)d points.", number=scored.case_number, total=scored.total), "success")
    return redirect(url_for("web.reviews"))


# -- the checklist ------------------------------------------------------------------------------------
@web.get("/supervision/review-checklist")
@login_required
def review_checklist():  # type: ignore[no-untyped-def]
    with web_unit() as u:
        current = review.current_checklist(u)
        items = [{k: str(v) for k, v in i.items()} for i in current.items]
        return _checklist_page(current, current.name, items, {})


def _checklist_page(current: Any, name: str, items: list[dict[str, str]], errors: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    rows = items + [{"code": "", "text": "", "max_score": ""}] * BLANK_ITEMS
    return render_template("supervision/review_checklist.html", current=current, name=name, rows=rows, errors=errors)


def _posted_items(form: MultiDict) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The rows as typed (for the page) and as sent to the engine (empty rows left out)."""
    typed, sent = [], []
    indices = sorted({int(k.split(".")[1]) for k in form if k.startswith("items.") and k.split(".")[1].isdigit()})
    for i in indices:
        row = {f: form.get(f"items.{i}.{f}", "").strip() for f in ("code", "text", "max_score")}
        if any(row.values()):
            typed.append(row)
            sent.append({"code": row["code"], "text": row["text"], "max_score": _integer(row["max_score"])})
    return typed, sent


@web.post("/supervision/review-checklist")
@login_required
def review_checklist_save():  # type: ignore[no-untyped-def]
    typed, sent = _posted_items(request.form)
    name = request.form.get("name", "").strip()
    try:
        with web_unit() as u:
            saved = review.replace_checklist(u, name, sent)
    except InvalidInput as exc:
        with web_unit() as u:
            return _checklist_page(review.current_checklist(u), name, typed, errors_by_field(exc))
    flash(_("Checklist saved as version %(id)d; new samples use it.", id=saved.id), "success")
    return redirect(url_for("web.review_checklist"))

"""Supervision: monitoring aggregates, timer incidents and lateness, compliance alerts, indicators."""
from __future__ import annotations

from flask import request
from flask_restx import Namespace, Resource

from engine.supervision import incidents, monitoring

from ..context import int_arg, json_body, page, render, unit

ns = Namespace("supervision", path="/supervision", description="执法监督 · supervision")


def _as_of():  # type: ignore[no-untyped-def]
    return monitoring.as_of_instant(request.args.get("as_of"))


def _due_within():  # type: ignore[no-untyped-def]
    return monitoring.working_days_arg(request.args.get("due_within"), "due_within")


@ns.route("/overview")
class Overview(Resource):
    @ns.param("agency_id", "an agency in your scope (default: your scope's root); drill down by passing a child's id")
    @ns.param("as_of", "YYYY-MM-DD or ISO 8601 with offset (default: now)")
    @ns.param("due_within", "also count waiting timers due within N working days")
    @ns.param("matter_code", "")
    def get(self):  # type: ignore[no-untyped-def]
        """监督总览 · open cases, pending / yellow / red timers of an agency subtree and of each child agency"""
        as_of, due_within = _as_of(), _due_within()
        with unit() as u:
            return render(monitoring.overview(
                u, agency_id=int_arg("agency_id"), as_of=as_of, due_within=due_within,
                matter_code=request.args.get("matter_code") or None,
            ))


@ns.route("/officers")
class Officers(Resource):
    @ns.param("agency_id", "an agency in your scope (its subtree)")
    @ns.param("as_of", "")
    @ns.param("due_within", "")
    def get(self):  # type: ignore[no-untyped-def]
        """执法人员统计 · the same counts per assigned officer, most overdue first"""
        as_of, due_within = _as_of(), _due_within()
        page_no, per_page = int_arg("page", 1), int_arg("per_page", 50, maximum=500)
        with unit() as u:
            items, total = monitoring.per_officer(
                u, agency_id=int_arg("agency_id"), as_of=as_of, due_within=due_within, page=page_no, per_page=per_page,
            )
        return page(items, total, page_no, per_page)


@ns.route("/stages")
class Stages(Resource):
    @ns.param("agency_id", "")
    @ns.param("as_of", "")
    def get(self):  # type: ignore[no-untyped-def]
        """环节分布 · user tasks open as of a date, per procedure step"""
        as_of = _as_of()
        with unit() as u:
            return {"items": render(monitoring.pending_by_stage(u, agency_id=int_arg("agency_id"), as_of=as_of))}


@ns.route("/incidents")
class Incidents(Resource):
    @ns.param("status", "retrying | incident | resolved (default: not resolved)")
    def get(self):  # type: ignore[no-untyped-def]
        """定时器故障 · cases whose due timers could not fire (supervisors, admins)"""
        with unit() as u:
            return {"items": render(incidents.list_incidents(u, status=request.args.get("status") or None))}


@ns.route("/timers/lateness")
class Lateness(Resource):
    @ns.param("since", "fired at or after (date or instant)")
    @ns.param("until", "fired before (date or instant)")
    def get(self):  # type: ignore[no-untyped-def]
        """定时器延迟 · lateness (fired - due) of fired timers: count, mean, p50, p95, p99, max in ms"""
        since = monitoring.as_of_instant(request.args.get("since"), field="since")
        until = monitoring.as_of_instant(request.args.get("until"), field="until")
        with unit() as u:
            return incidents.lateness_report(u, since, until)


@ns.route("/rules")
class Rules(Resource):
    def get(self):  # type: ignore[no-untyped-def]
        """合规规则 · the compliance rules with their citations"""
        from engine.supervision.compliance import RULES

        return {"items": [{"id": r.id, "title": r.title, "severity": r.severity, "basis": r.basis} for r in RULES]}


@ns.route("/alerts")
class Alerts(Resource):
    @ns.param("status", "open | acknowledged | dismissed | escalated")
    @ns.param("rule", "a rule id (GET /supervision/rules)")
    @ns.param("agency_id", "an agency in your scope: its subtree")
    @ns.param("case_id", "")
    def get(self):  # type: ignore[no-untyped-def]
        """合规预警 · alerts of the agencies you supervise"""
        from engine.supervision import alerts

        page_no, per_page = int_arg("page", 1), int_arg("per_page", 50, maximum=500)
        with unit() as u:
            items, total = alerts.list_alerts(
                u, status=request.args.get("status") or None, rule=request.args.get("rule") or None,
                agency_id=int_arg("agency_id"), case_id=int_arg("case_id"), page=page_no, per_page=per_page,
            )
        return page(items, total, page_no, per_page)


@ns.route("/alerts/<int:alert_id>/<string:action>")
class AlertAction(Resource):
    @ns.doc(params={"action": "acknowledge | dismiss (body: reason, required) | escalate (body: reason, optional)"})
    def post(self, alert_id: int, action: str):  # type: ignore[no-untyped-def]
        """处理预警 · acknowledge, dismiss with a reason, or escalate an alert"""
        from engine.supervision import alerts

        body = request.get_json(silent=True)
        reason = body.get("reason") if isinstance(body, dict) else None
        with unit() as u:
            return render(alerts.handle_alert(u, alert_id, action, reason))


@ns.route("/compliance/evaluate")
class Evaluate(Resource):
    @ns.param("agency_id", "an agency in your scope (default: your whole scope)")
    def post(self):  # type: ignore[no-untyped-def]
        """合规检查 · run the rules now over the existing cases (e.g. after the catalogue changed)"""
        from engine.supervision import compliance

        with unit() as u:
            return {"new_alerts": compliance.evaluate_scope(u, int_arg("agency_id"))}


def _indicators():  # type: ignore[no-untyped-def]
    from engine.supervision import indicators

    start, end = indicators.period_arg(request.args.get("from"), request.args.get("to"))
    with unit() as u:
        return indicators, indicators.indicators(u, start, end, agency_id=int_arg("agency_id"))


def _evaluation():  # type: ignore[no-untyped-def]
    from engine.supervision import evaluation, indicators

    start, end = indicators.period_arg(request.args.get("from"), request.args.get("to"))
    with unit() as u:
        found = indicators.indicators(u, start, end, agency_id=int_arg("agency_id"))
        return found, evaluation.evaluate(u, start, end, found=found)


@ns.route("/indicators")
class IndicatorsResource(Resource):
    @ns.param("from", "first day of the period, YYYY-MM-DD (required)")
    @ns.param("to", "last day of the period, YYYY-MM-DD (required)")
    @ns.param("agency_id", "an agency in your scope (default: your scope's root); rows per child agency")
    def get(self):  # type: ignore[no-untyped-def]
        """执法监督指标 · indicators per period: counts and rates for an agency subtree and each child"""
        return render(_indicators()[1])


@ns.route("/evaluation")
class EvaluationResource(Resource):
    @ns.param("from", "first day of the period, YYYY-MM-DD (required)")
    @ns.param("to", "last day of the period, YYYY-MM-DD (required)")
    @ns.param("agency_id", "an agency in your scope (default: your scope's root); its children are ranked")
    def get(self):  # type: ignore[no-untyped-def]
        """综合评价 · weighted scores of the child agencies and of the officers, ranked (weights: data)"""
        return render(_evaluation()[1])


@ns.route("/indicators.xlsx")
class IndicatorsXlsx(Resource):
    @ns.param("from", "")
    @ns.param("to", "")
    @ns.param("agency_id", "")
    @ns.produces(["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"])
    def get(self):  # type: ignore[no-untyped-def]
        """指标导出 · the same numbers as an Excel workbook"""
        from flask import Response

        from engine.supervision import indicators

        found, scored = _evaluation()
        return Response(
            indicators.to_xlsx(found, scored), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f"attachment; filename=indicators-{found.period['from']}-{found.period['to']}.xlsx"},
        )


@ns.route("/review-checklist")
class ReviewChecklistResource(Resource):
    def get(self):  # type: ignore[no-untyped-def]
        """评查标准 · the current post-case review checklist"""
        from engine.supervision import review

        with unit() as u:
            return render(review.current_checklist(u))

    def put(self):  # type: ignore[no-untyped-def]
        """修改评查标准 · a new version of the checklist (legal staff, supervisors): {name, items: [{code, text, max_score}]}"""
        from engine.supervision import review

        body = json_body()
        with unit() as u:
            return render(review.replace_checklist(u, body.get("name"), body.get("items")))


@ns.route("/reviews")
class Reviews(Resource):
    def post(self):  # type: ignore[no-untyped-def]
        """案卷评查抽样 · draw closed cases per agency: {from, to, per_agency, agency_id?, seed?}"""
        from engine.supervision import indicators, review

        body = json_body()
        start, end = indicators.period_arg(body.get("from"), body.get("to"))
        with unit() as u:
            return render(review.draw(u, agency_id=body.get("agency_id"), start=start, end=end, per_agency=body.get("per_agency"),
                                      seed=body.get("seed"))), 201


@ns.route("/reviews/<int:sample_id>")
class ReviewSampleResource(Resource):
    def get(self, sample_id: int):  # type: ignore[no-untyped-def]
        """评查结果 · the sample, its cases' scores and findings, aggregated per agency"""
        from engine.supervision import review

        with unit() as u:
            return render(review.sample_view(u, sample_id))


@ns.route("/reviews/<int:sample_id>/cases/<int:case_id>/assign")
class ReviewAssign(Resource):
    def post(self, sample_id: int, case_id: int):  # type: ignore[no-untyped-def]
        """分配评查人 · {reviewer_id}"""
        from engine.supervision import review

        body = json_body()
        with unit() as u:
            return render(review.assign(u, sample_id, case_id, body.get("reviewer_id")))


@ns.route("/reviews/<int:sample_id>/cases/<int:case_id>/score")
class ReviewScore(Resource):
    def post(self, sample_id: int, case_id: int):  # type: ignore[no-untyped-def]
        """评分 · the assigned reviewer: {scores: {item code: score}, findings}"""
        from engine.supervision import review

        body = json_body()
        with unit() as u:
            return render(review.score(u, sample_id, case_id, body.get("scores"), body.get("findings")))

"""The officers' side of publicity: publications and their withdrawal, the complaints inbox, webhooks."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, request
from flask_restx import Namespace, Resource

from engine.publicity import changes, complaints, publications, webhooks

from ..context import int_arg, json_body, page, render, unit

ns = Namespace("publicity", path="/", description="公示、投诉举报办理与订阅 · publications, complaints inbox, webhooks")


@ns.route("/publications")
class Publications(Resource):
    @ns.param("status", "scheduled | published | not_published | withdrawn | cancelled | expired | overdue")
    @ns.param("case_id", "only this case")
    def get(self):  # type: ignore[no-untyped-def]
        """行政处罚决定公示记录 · publications of my agency (supervisors: the agencies they oversee)"""
        page_no, per_page = int_arg("page", 1, maximum=1000), int_arg("per_page", 50, maximum=200)
        with unit() as u:
            items, total = publications.list_publications(
                u, status=request.args.get("status") or None, case_id=int_arg("case_id", None, maximum=2**31),
                page=page_no, per_page=per_page,
            )
            return page(items, total, page_no, per_page)


@ns.route("/publications/<int:publication_id>/withdraw")
class Withdraw(Resource):
    def post(self, publication_id: int):  # type: ignore[no-untyped-def]
        """撤回公示（决定变更、撤销、确认违法或无效，3个工作日内）· withdraw with a reason"""
        body = json_body()
        with unit() as u:
            return render(publications.withdraw(u, publication_id, body.get("reason"), body.get("changed_at")))


@ns.route("/cases/<int:case_id>/decision-changes")
class DecisionChanges(Resource):
    def get(self, case_id: int):  # type: ignore[no-untyped-def]
        """决定的变更、撤销记录 · the recorded changes of the case's decision"""
        with unit() as u:
            return {"items": render(changes.list_changes(u, case_id))}

    def post(self, case_id: int):  # type: ignore[no-untyped-def]
        """决定被变更、撤销、确认违法或无效（自行纠正、复议、诉讼）→ 3个工作日内撤回公示 · record a change; the
        publicity sweep withdraws the case's publications with the reason (D7)"""
        body = json_body()
        with unit() as u:
            return render(changes.record(u, case_id, body)), 201


@ns.route("/complaints")
class Inbox(Resource):
    @ns.param("status", "received | case_opened | not_filed | closed")
    def get(self):  # type: ignore[no-untyped-def]
        """投诉举报（案源）· complaints my agency handles, with the complainant"""
        page_no, per_page = int_arg("page", 1, maximum=1000), int_arg("per_page", 50, maximum=200)
        with unit() as u:
            items, total = complaints.inbox(u, status=request.args.get("status") or None, page=page_no, per_page=per_page)
            return page(items, total, page_no, per_page)


@ns.route("/complaints/<int:complaint_id>")
class ComplaintDetail(Resource):
    def get(self, complaint_id: int):  # type: ignore[no-untyped-def]
        """一件投诉举报 · one complaint"""
        with unit() as u:
            return render(complaints.get(u, complaint_id))


@ns.route("/complaints/<int:complaint_id>/attachments/<int:attachment_id>")
class ComplaintAttachment(Resource):
    def get(self, complaint_id: int, attachment_id: int):  # type: ignore[no-untyped-def]
        """投诉举报附件 · an attachment, for the complaint's handlers"""
        with unit() as u:
            found = complaints.attachment(u, complaint_id, attachment_id)
        response = Response(found.content, mimetype=found.media_type)
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(found.filename)}"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response


@ns.route("/complaints/<int:complaint_id>/case")
class ComplaintCase(Resource):
    def post(self, complaint_id: int):  # type: ignore[no-untyped-def]
        """据投诉举报登记案件（立案期限自收到之日起算）· open a case from a violation complaint"""
        body = json_body()
        with unit() as u:
            opened = complaints.open_case(u, complaint_id, body.get("party"), body.get("officer_ids"),
                                          body.get("summary"), body.get("matter_code"))
            return render(opened), 201


@ns.route("/complaints/<int:complaint_id>/close")
class ComplaintClose(Resource):
    def post(self, complaint_id: int):  # type: ignore[no-untyped-def]
        """办结或不予立案，并答复 · record the outcome and the public reply"""
        body = json_body()
        with unit() as u:
            return render(complaints.close(u, complaint_id, body.get("outcome"), body.get("reply")))


@ns.route("/webhooks")
class Webhooks(Resource):
    def post(self):  # type: ignore[no-untyped-def]
        """登记企业订阅（webhook）· register an enterprise webhook; the secret is shown once"""
        body = json_body()
        with unit() as u:
            created = webhooks.subscribe(u, body.get("name"), body.get("url"), credit_code=body.get("credit_code"),
                                         region=body.get("region"), matter_code=body.get("matter_code"))
            return render(created), 201


@ns.route("/webhooks/<int:subscription_id>/deliveries")
class Deliveries(Resource):
    def get(self, subscription_id: int):  # type: ignore[no-untyped-def]
        """推送记录 · the delivery log of a subscription"""
        with unit() as u:
            return {"items": render(webhooks.list_deliveries(u, subscription_id))}

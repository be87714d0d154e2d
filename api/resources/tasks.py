"""Tasks."""
from __future__ import annotations

from flask import request
from flask_restx import Namespace, Resource, fields

from engine import cases, tasks

from ..context import int_arg, json_body, page, render, unit

ns = Namespace("tasks", path="/tasks", description="办案任务 · workflow tasks")
completion = ns.model("Completion", {"data": fields.Raw(required=True, description="form data matching the task's JSON Schema")})


def _task(summary):  # type: ignore[no-untyped-def]
    return render(summary)


@ns.route("")
class Tasks(Resource):
    @ns.param("case_id", "")
    @ns.param("state", "ready | completed | cancelled")
    @ns.param("mine", "true: only tasks I may do now")
    def get(self):  # type: ignore[no-untyped-def]
        """任务列表 · tasks in my scope"""
        page_no, per_page = int_arg("page", 1), int_arg("per_page", 50, maximum=200)
        with unit() as u:
            items, total = tasks.list_tasks(
                u, case_id=int_arg("case_id"), state=request.args.get("state") or None,
                mine=request.args.get("mine") == "true", page=page_no, per_page=per_page,
            )
        return page(items, total, page_no, per_page)


@ns.route("/<string:task_id>")
class TaskResource(Resource):
    def get(self, task_id: str):  # type: ignore[no-untyped-def]
        """任务及其表单 · a task with its form"""
        with unit() as u:
            detail = tasks.get_task(u, task_id)
        out = render(detail.summary)
        out.update(form=detail.form, document_template=detail.document_template, data=render(detail.data))
        return out


@ns.route("/<string:task_id>/claim")
class Claim(Resource):
    def post(self, task_id: str):  # type: ignore[no-untyped-def]
        """认领任务 · claim a task"""
        with unit() as u:
            return render(tasks.claim(u, task_id))


@ns.route("/<string:task_id>/complete")
class Complete(Resource):
    @ns.expect(completion)
    @ns.response(200, "completed; the updated case")
    @ns.response(409, "the task is not ready or was completed meanwhile")
    @ns.response(422, "the data does not match the form")
    @ns.response(403, "you may not do this task")
    def post(self, task_id: str):  # type: ignore[no-untyped-def]
        """办理任务 · complete a task"""
        body = json_body()
        with unit() as u:
            done = tasks.complete(u, task_id, body.get("data"))
            return render(cases.get_case(u, done.case_id))

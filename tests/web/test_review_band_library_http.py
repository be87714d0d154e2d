"""The case review, decision band, library document and evidence capture routes without a browser (Flask
test client, SQLite and PostgreSQL): CSRF on every form, who may do what, bad input shown at its field and
changing nothing."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.accounts import principal_for_username
from engine.core import Core
from engine.demo import LANE_USERS, TO_DECISION
from engine.documents.models import Document
from engine.models import Agency, TaskRow
from engine.supervision import review
from engine.supervision.models import ReviewChecklist, ReviewSample
from tests.api.test_supervision_indicators_api import Builder, at
from tests.web.conftest import open_case_in
from tests.web.test_upload_http import _client, _token
from tests.web.test_web_http import csrf, login


@pytest.fixture
def web(core: Core) -> Any:
    return _client(core)


def closed(core: Core) -> None:
    with core.unit() as unit:
        b = Builder(unit)
        for i, day in enumerate(["02-05", "02-10"]):
            case = b.case("GZ-TH-SJJ", "01-10", f"TH-{i}")
            case.status, case.closed_at = "closed", at(day)


def count(core: Core, model: Any) -> int:
    with core.unit() as unit:
        return unit.session.scalar(select(func.count()).select_from(model))


def draw(core: Core) -> tuple[int, int]:
    closed(core)
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "supervisor1")
        found = review.draw(unit, agency_id=None, start=date(2026, 2, 1), end=date(2026, 2, 28), per_agency=1, seed=1)
        return found.id, found.cases[0].case_id


def test_review_forms_need_the_csrf_token(web, core):  # type: ignore[no-untyped-def]
    sample, case_id = draw(core)
    login(web, "supervisor1")
    for path in ("/supervision/reviews", f"/supervision/reviews/{sample}/cases/{case_id}/assign",
                 f"/supervision/reviews/{sample}/cases/{case_id}", "/supervision/review-checklist"):
        assert web.post(path, data={}).status_code == 400, path
    assert count(core, ReviewSample) == 1


def test_bad_draws_are_shown_at_their_fields(web, core):  # type: ignore[no-untyped-def]
    closed(core)
    login(web, "supervisor1")
    token = csrf(web, "/supervision/reviews")
    cases = [({"from": "2026-02-30", "to": "2026-02-28", "per_agency": "1"}, "r-from", "请输入日期。"),
             ({"from": "2026-01-01", "to": "2026-01-31", "per_agency": "1"}, "r-from", "该期间内这些机关没有结案的案件。"),
             ({"from": "2026-02-01", "to": "2026-02-28", "per_agency": "x"}, "r-per_agency", "请输入 1 至 1000 的整数。"),
             ({"from": "2026-02-01", "to": "2026-02-28", "per_agency": "1", "seed": "-4"}, "r-seed", "请输入 0 至 2147483647 的整数。")]
    for body, field, message in cases:
        page = web.post("/supervision/reviews", data={**body, "csrf_token": token})
        assert page.status_code == 200, body
        errors = re.search(rf'id="{field}-errors">(.*?)</ul>', page.get_data(as_text=True), re.DOTALL)
        assert errors and message in errors.group(1), (body, page.get_data(as_text=True)[:300])
    with core.unit() as unit:  # the provincial department of justice: above the city supervisor's scope
        outside = unit.session.scalar(select(Agency.id).where(Agency.code == "GD-SFT"))
    page = web.post("/supervision/reviews", data={"from": "2026-02-01", "to": "2026-02-28", "per_agency": "1",
                                                  "agency_id": str(outside), "csrf_token": token})
    assert page.status_code == 200 and "该机关不在您的监督范围内。" in page.get_data(as_text=True)
    assert count(core, ReviewSample) == 0


def test_who_may_draw_assign_score_and_edit(web, core):  # type: ignore[no-untyped-def]
    sample, case_id = draw(core)
    login(web, "officer1")
    page = web.get("/supervision/reviews")
    assert page.status_code == 200 and "抽取案卷" not in page.get_data(as_text=True)  # no draw form for officers
    token = csrf(web, "/supervision/reviews")
    refused = web.post("/supervision/reviews", data={"from": "2026-02-01", "to": "2026-02-28", "per_agency": "1", "csrf_token": token})
    assert refused.status_code == 403
    assert web.get(f"/supervision/reviews/{sample}").status_code == 403  # a sample of the city
    assert web.get(f"/supervision/reviews/{sample}/cases/{case_id}").status_code == 403
    assert web.post("/supervision/review-checklist", data={"name": "x", "items.0.code": "a", "items.0.text": "t",
                                                          "items.0.max_score": "5", "csrf_token": token}).status_code == 403
    assert count(core, ReviewChecklist) == 1 and count(core, ReviewSample) == 1

    supervisor = _client(core)
    login(supervisor, "supervisor1")
    token = csrf(supervisor, f"/supervision/reviews/{sample}")
    page = supervisor.post(f"/supervision/reviews/{sample}/cases/{case_id}/assign", data={"reviewer_id": "999999", "csrf_token": token})
    assert page.status_code == 200 and "请选择法制审核人员或者监督人员。" in page.get_data(as_text=True)
    reviewer_id = re.search(r'<option value="(\d+)" >王法审', page.get_data(as_text=True)).group(1)
    assert supervisor.post(f"/supervision/reviews/{sample}/cases/{case_id}/assign",
                           data={"reviewer_id": reviewer_id, "csrf_token": token}).status_code == 302
    # The supervisor is not the assigned reviewer: the page shows the scores read-only, a POST is refused.
    page = supervisor.get(f"/supervision/reviews/{sample}/cases/{case_id}")
    assert page.status_code == 200 and "只有被分配的评查人可以为本案卷评分。" in page.get_data(as_text=True)
    assert supervisor.post(f"/supervision/reviews/{sample}/cases/{case_id}", data={"csrf_token": token}).status_code == 403

    reviewer = _client(core)
    login(reviewer, "reviewer1")
    form = reviewer.get(f"/supervision/reviews/{sample}/cases/{case_id}").get_data(as_text=True)
    names = re.findall(r'name="(scores\.[a-z_0-9]+)" min="0" max="(\d+)"', form)
    assert names
    token = csrf(reviewer, f"/supervision/reviews/{sample}/cases/{case_id}")
    bad = {name: "abc" for name, _ in names}
    page = reviewer.post(f"/supervision/reviews/{sample}/cases/{case_id}", data={**bad, "csrf_token": token})
    assert page.status_code == 200 and page.get_data(as_text=True).count('aria-invalid="true"') == len(names)
    good = {name: top for name, top in names}
    assert reviewer.post(f"/supervision/reviews/{sample}/cases/{case_id}", data={**good, "findings": "无", "csrf_token": token}).status_code == 302
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "supervisor1")
        scored = review.sample_view(unit, sample)
    assert scored.cases[0].total == sum(int(t) for _, t in names) and scored.by_agency[0].with_findings == 1


def test_bad_checklists_are_shown_at_their_fields(web, core):  # type: ignore[no-untyped-def]
    login(web, "reviewer1")
    token = csrf(web, "/supervision/review-checklist")
    before = count(core, ReviewChecklist)  # the default, stored when first read
    page = web.post("/supervision/review-checklist", data={
        "name": "评查标准", "items.0.code": "a", "items.0.text": "", "items.0.max_score": "5",
        "items.1.code": "a", "items.1.text": "重复", "items.1.max_score": "0", "csrf_token": token})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for field in ("c-0-text", "c-1-code", "c-1-max_score"):
        assert f'id="{field}-errors"' in text, field
    page = web.post("/supervision/review-checklist", data={"name": " ", "items.0.code": "a", "items.0.text": "t",
                                                          "items.0.max_score": "5", "csrf_token": token})
    assert 'id="c-name-errors"' in page.get_data(as_text=True)
    assert count(core, ReviewChecklist) == before == 1


def test_library_documents_need_an_issuer_and_good_data(web, core):  # type: ignore[no-untyped-def]
    case_id = open_case_in(core, ["verify_clue"])
    login(web, "officer1")
    assert web.get(f"/cases/{case_id}/documents/library/inquiry_record").status_code == 200
    assert web.get(f"/cases/{case_id}/documents/library/punishment_decision").status_code == 404  # a task's document
    assert web.get(f"/cases/{case_id}/documents/library/nothing").status_code == 404
    url = f"/cases/{case_id}/documents/library/inquiry_record"
    assert web.post(url, data={"place": "x"}).status_code == 400  # no CSRF token
    token = _token(web, case_id)
    page = web.post(url, data={"place": "本局", "started_at": "not a time", "csrf_token": token})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="f-started_at-errors"' in text and 'id="f-person-errors"' in text
    assert web.post(f"{url}/preview", data={"csrf_token": token}).status_code == 200  # the form again, with errors
    assert count(core, Document) == 0
    outsider = _client(core)
    login(outsider, "officer3")
    assert outsider.get(url).status_code == 403
    assert outsider.post(url, data={"csrf_token": csrf(outsider, "/inbox")}).status_code == 403
    assert count(core, Document) == 0


def test_the_band_route_and_a_decision_refused_at_its_fields(web, core):  # type: ignore[no-untyped-def]
    case_id = open_case_in(core, TO_DECISION[:-1])
    with core.unit() as unit:
        row = unit.session.scalar(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == "decide"))
        task_id, who = row.id, LANE_USERS[row.lane]
    login(web, who)
    band = web.get(f"/tasks/{task_id}/band?discretion_tier=heavier").get_data(as_text=True)
    assert 'data-low="3500.00"' in band and 'data-high="5000.00"' in band
    assert 'data-low="1500.00"' in web.get(f"/tasks/{task_id}/band?discretion_tier=nonsense").get_data(as_text=True)
    token = csrf(web, f"/tasks/{task_id}")
    page = web.post(f"/tasks/{task_id}", data={
        "decision": "punish", "decision_document_number": "穗天市监罚〔2026〕9号", "decided_at": "2026-03-02T09:00",
        "decision_reasons": "违法事实清楚。", "penalties.present": "1", "penalties": "fine", "fine_amount": "100",
        "confiscation_value": "0", "csrf_token": token})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="f-fine_amount-errors"' in text and 'id="f-deviation_reason-errors"' in text
    with core.unit() as unit:
        assert unit.session.get(TaskRow, task_id).state == "ready"
    outsider = _client(core)
    login(outsider, "officer3")
    assert outsider.get(f"/tasks/{task_id}/band").status_code == 403

"""What the officer and supervisor pages need from the engine (SQLite and PostgreSQL): the samples, the
reviewers one may assign and the cases a reviewer scores (engine/supervision/review.py); the bands of a
decision step (engine/discretion.py); library documents' forms and their data checked against them
(engine/documents/library.py)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from engine import discretion
from engine.accounts import principal_for_username
from engine.core import Core
from engine.demo import TO_DECISION, open_demo_case, run_steps
from engine.documents import library, service
from engine.errors import Forbidden, FormDataInvalid
from engine.models import TaskRow
from engine.supervision import review
from tests.api.test_supervision_indicators_api import Builder, at

INQUIRY = {
    "started_at": "2026-03-02T08:00:00+08:00", "ended_at": "2026-03-02T08:40:00+08:00", "place": "本局询问室",
    "person": {"name": "陈示例", "id_number": "440106198001010011", "relation": "店长", "phone": "13800000000"},
    "recorder": "李华", "qa": [{"q": "店内商品为何没有标价？", "a": "价签更换时遗漏。"}],
}
PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}


def run(core: Core, username: str, fn: Any) -> Any:
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, username)
        return fn(unit)


@pytest.fixture
def sample(core: Core) -> int:
    with core.unit() as unit:
        b = Builder(unit)
        for agency, days in (("GZ-TH-SJJ", ["02-05", "02-10"]), ("GZ-YX-SJJ", ["02-12"])):
            for i, day in enumerate(days):
                case = b.case(agency, "01-10", f"{agency}-{i}")
                case.status, case.closed_at = "closed", at(day)
    return run(core, "supervisor1", lambda u: review.draw(u, agency_id=None, start=date(2026, 2, 1), end=date(2026, 2, 28),
                                                          per_agency=5, seed=3).id)


def test_samples_reviewers_and_my_cases(core: Core, sample: int) -> None:
    listed = run(core, "supervisor1", review.list_samples)
    assert [(s.id, s.seed, s.cases, s.reviewed) for s in listed] == [(sample, 3, 3, 0)]
    assert run(core, "officer1", review.list_samples) == []  # a sample of the city is not the district's
    people = run(core, "supervisor1", review.reviewer_candidates)
    assert {p.name for p in people} == {"王法审", "赵监督"}  # legal reviewers and supervisors of the scope
    agencies = run(core, "supervisor1", review.sample_agencies)
    assert agencies[0]["depth"] < agencies[-1]["depth"] and len(agencies) >= 3
    reviewer = next(p.id for p in people if p.name == "王法审")
    case_id = run(core, "supervisor1", lambda u: review.sample_view(u, sample).cases[0].case_id)
    run(core, "supervisor1", lambda u: review.assign(u, sample, case_id, reviewer))
    mine = run(core, "reviewer1", review.my_review_cases)
    assert [(s, c.case_id, c.total) for s, c in mine] == [(sample, case_id, None)]
    found = run(core, "reviewer1", lambda u: review.case_to_score(u, sample, case_id))
    assert found.may_score and found.checklist.items
    watcher = run(core, "supervisor1", lambda u: review.case_to_score(u, sample, case_id))
    assert not watcher.may_score  # sees the sample, is not the assigned reviewer
    with pytest.raises(Forbidden):
        run(core, "officer3", lambda u: review.case_to_score(u, sample, case_id))


def test_decision_band_of_the_decide_step_only(core: Core) -> None:
    case_id = open_demo_case(core, "440201003001", PARTY, "投诉：商品未明码标价")
    run_steps(core, case_id, TO_DECISION[:-1])
    with core.unit() as unit:
        decide = unit.session.scalar(select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == "decide"))
        done = unit.session.scalar(select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == "investigate"))
    found = run(core, "head1", lambda u: discretion.decision_band(u, decide))
    assert found.assessment.tier == "general" and found.assessment.band.describe() == "1500.00–3500.00元"
    assert {t: (b.low, b.high) for t, b in found.bands.items()} == {
        "lighter": (Decimal("0.00"), Decimal("1500.00")), "general": (Decimal("1500.00"), Decimal("3500.00")),
        "heavier": (Decimal("3500.00"), Decimal("5000.00"))}
    heavier = run(core, "head1", lambda u: discretion.decision_band(u, decide, "heavier"))
    assert heavier.assessment.band.low == Decimal("3500.00")
    assert run(core, "head1", lambda u: discretion.decision_band(u, done)) is None  # not a decision step (and done)
    with pytest.raises(Forbidden):
        run(core, "officer3", lambda u: discretion.decision_band(u, decide))


def test_tier_bands_without_a_benchmark_or_base_amount(core: Core) -> None:
    assert discretion.tier_bands(core.settings.processes_dir, "440201010001", None) == {}


def test_library_forms_and_their_data(core: Core) -> None:
    case_id = open_demo_case(core, "440201003001", PARTY, "投诉：商品未明码标价")
    forms = run(core, "officer1", lambda u: library.library_forms(u, case_id))
    names = [f.template for f in forms]
    assert {"inquiry_record", "inspection_record", "rectification_order"} <= set(names)
    assert next(f for f in forms if f.template == "inquiry_record").title == "询问笔录"
    with pytest.raises(FormDataInvalid) as refused:
        run(core, "officer1", lambda u: service.issue(u, case_id, template="inquiry_record",
                                                      data={**INQUIRY, "person": {"name": "陈示例"}, "qa": [{"q": "问"}]}))
    assert {p.field for p in refused.value.problems} == {"person.id_number", "person.relation", "person.phone", "qa.0.a"}
    with pytest.raises(FormDataInvalid) as refused:
        run(core, "officer1", lambda u: service.issue(u, case_id, template="rectification_order",
                                                      data={"findings": "未标价", "violated_provision": "价格法第十三条", "rectification_items": "标价"}))
    assert [p.field for p in refused.value.problems] == ["rectify_by"]  # a deadline unless corrected at once
    issued = run(core, "officer1", lambda u: service.issue(u, case_id, template="inquiry_record", data=INQUIRY))
    assert issued.title == "询问笔录" and "询〔2026〕" in issued.number
    with pytest.raises(Forbidden):
        run(core, "officer3", lambda u: service.check_may_issue(u, case_id))

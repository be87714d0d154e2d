"""The composite evaluation against a hand computation on the indicators' March fixture, with officers
assigned: c1 → officer1; c2, c3 → officer2; y1 → officer3; officer4 has no case.

Weights (engine/data/evaluation.json): investigation 20 (0→1), decisions per officer 10 (0→5 per 30
days), overdue 25 (0.5→0), deviation 15 (0.5→0), legal review 10 (0→1), hearing 0, correction 20
(0.2→0). The period has 31 days, so 1.5 decisions per officer is 1.5 × 30/31 = 1.451613 per 30 days.

天河区 (GZ-TH): 20×0.6667 + 10×1.451613/5 + 25×0 + 15×(0.3333−0.5)/(0−0.5) + 10×0.3333 + 20×0
      = 13.334 + 2.903226 + 0 + 5.001 + 3.333 + 0 = 24.571226 → 24.57 (需改进), rank 2
越秀区 (GZ-YX): 20×0.5 + 10×(0.5×30/31)/5 + 25 + 15 + 0 + 20 = 70.967742 → 70.97 (合格), rank 1
广州市司法局: every rate null (no case, no certified officer) → no score, no rank
officer1 (c1): 20 + 10×0.193548 + 25 + 0 (deviation 1.0) + 10 + 20 = 76.935484 → 76.94 (良好), rank 1 in 天河
officer2 (c2, c3): 10 + 1.935484 + 0 (overdue 1.0) + 15 + 0 + 0 (correction 1.0) = 26.935484 → 26.94, rank 2
officer3 (y1): 20 + 1.935484 + 25 + 15 + 0 + 20 = 81.935484 → 81.94 (良好), rank 1 in 越秀
officer4: only decisions per officer has a rate (0/1): 10 of 100 weight < 50% → no score
"""
from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.core import Core
from engine.models import Case, CaseOfficer, User
from engine.supervision import evaluation
from tests.api.test_supervision_indicators_api import march  # noqa: F401  (the fixture)

URL = "/api/v1/supervision/evaluation?from=2026-03-01&to=2026-03-31"


@pytest.fixture
def assigned(core: Core, march: None) -> None:  # noqa: F811
    with core.unit() as unit:
        s = unit.session
        users = dict(s.execute(select(User.username, User.id)).all())
        cases = dict(s.execute(select(Case.number, Case.id)).all())
        for number, officer in (("c1", "officer1"), ("c2", "officer2"), ("c3", "officer2"), ("y1", "officer3")):
            s.add(CaseOfficer(case_id=cases[number], user_id=users[officer]))


def test_scores_grades_and_ranks_match_the_hand_computation(assigned: None, login: Any) -> None:
    response = login("supervisor1").get(URL)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    agencies = {a["subject"]["code"]: a for a in body["agencies"]}
    assert (agencies["GZ-YX"]["score"], agencies["GZ-YX"]["grade"], agencies["GZ-YX"]["rank"]) == (70.97, "合格", 1)
    assert (agencies["GZ-TH"]["score"], agencies["GZ-TH"]["grade"], agencies["GZ-TH"]["rank"]) == (24.57, "需改进", 2)
    assert agencies["GZ-TH"]["ranked_among"] == 2
    tianhe = agencies["GZ-TH"]["parts"]
    assert tianhe["decisions_per_officer"] == {"rate": 1.5, "value": 1.4516, "normalised": 0.2903, "weight": 10, "points": 2.9032}
    assert tianhe["overdue_rate"]["normalised"] == 0.0 and tianhe["deviation_rate"]["points"] == 5.001
    assert tianhe["hearing_rate"] == {"rate": 0.3333, "value": 0.3333, "normalised": 0.3333, "weight": 0, "points": 0.0}
    bureau = agencies["GZ-SFJ"]
    assert (bureau["score"], bureau["grade"], bureau["rank"]) == (None, None, None)
    assert set(bureau["missing"]) == set(evaluation.rules()["indicators"])
    assert [a["subject"]["code"] for a in body["agencies"]] == ["GZ-YX", "GZ-TH", "GZ-SFJ"]  # ranked, unscored last

    officers = {o["subject"]["username"]: o for o in body["officers"]}
    assert (officers["officer1"]["score"], officers["officer1"]["grade"], officers["officer1"]["rank"]) == (76.94, "良好", 1)
    assert (officers["officer2"]["score"], officers["officer2"]["rank"]) == (26.94, 2)
    assert (officers["officer3"]["score"], officers["officer3"]["rank"], officers["officer3"]["ranked_among"]) == (81.94, 1, 1)
    assert officers["officer2"]["counts"]["overdue"] == 2 and officers["officer2"]["counts"]["corrections"] == 1
    assert (officers["officer4"]["score"], officers["officer4"]["rank"]) == (None, None)
    assert officers["officer4"]["parts"]["decisions_per_officer"]["rate"] == 0.0
    assert "supervisor1" not in officers  # only officers are evaluated as officers


def test_ties_share_a_rank_and_the_next_rank_is_skipped() -> None:
    subject = {"agency_id": 1}
    scores = [evaluation.Score({**subject, "n": n}, {}, {}, v, None, None, 0, []) for n, v in
              (("a", 80.0), ("b", 90.0), ("c", 80.0), ("d", 70.0), ("e", None))]
    ranked = evaluation._ranked(scores, lambda s: s.subject["agency_id"])
    assert [(s.subject["n"], s.rank) for s in ranked] == [("b", 1), ("a", 2), ("c", 2), ("d", 4), ("e", None)]


def test_the_xlsx_export_carries_the_evaluation_sheet(assigned: None, login: Any) -> None:
    client = login("supervisor1")
    body = client.get(URL).get_json()
    response = client.get("/api/v1/supervision/indicators.xlsx?from=2026-03-01&to=2026-03-31")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["执法监督指标", "综合评价"]
    rows = list(book["综合评价"].iter_rows(values_only=True))
    assert rows[1][:7] == ("类别", "名称", "所属机关", "得分", "等级", "排名", "参评数")
    by_name = {r[1]: r for r in rows[2:]}
    for item in [*body["agencies"], *body["officers"]]:
        row = by_name[item["subject"]["name"]]
        assert row[3:7] == (item["score"], item["grade"], item["rank"], item["ranked_among"])
        assert list(row[7:14]) == [item["parts"][n]["points"] for n in evaluation.rules()["indicators"]]


def test_a_changed_weight_changes_the_score(core: Core, assigned: None) -> None:
    data = copy.deepcopy(evaluation.rules())
    data["indicators"]["hearing_rate"]["weight"] = 100  # hearings now weigh as much as everything else together
    with core.unit(_supervisor(core)) as unit:
        found = evaluation.evaluate(unit, *_march(), data=data)
    officer1 = next(o for o in found.officers if o.subject["username"] == "officer1")
    assert officer1.score == round(100 * (76.935484 + 100) / 200, 2)


def _march() -> tuple[Any, Any]:
    from datetime import date

    return date(2026, 3, 1), date(2026, 3, 31)


def _supervisor(core: Core) -> Any:
    from engine.accounts import principal_for_username

    with core.unit() as unit:
        return principal_for_username(unit, "supervisor1")


@pytest.mark.parametrize("change, message", [
    (lambda d: d["indicators"].update(speed={"weight": 1}), "indicators.speed: unknown indicator"),
    (lambda d: d["indicators"]["overdue_rate"].update(weight=-1), "indicators.overdue_rate.weight"),
    (lambda d: d["indicators"]["overdue_rate"].update(full_at=0.6), "full_at must be below zero_at"),
    (lambda d: d["indicators"]["overdue_rate"].update(direction="up"), "direction must be higher|lower"),
    (lambda d: d["indicators"]["decisions_per_officer"].update(per_days=0), "per_days must be a positive integer"),
    (lambda d: d["indicators"]["hearing_rate"].update(basis=""), "basis must say why"),
    (lambda d: d.update(min_weight_share=2), "min_weight_share"),
    (lambda d: d.update(grades=[{"grade": "优秀"}]), "grades"),
])
def test_a_wrong_data_file_is_refused_naming_the_key(change: Any, message: str) -> None:
    data = copy.deepcopy(evaluation.rules())
    change(data)
    with pytest.raises(ValueError, match=message):
        evaluation.validate(data)


def test_officers_may_not_see_the_evaluation_and_bad_input_is_422(assigned: None, login: Any) -> None:
    assert login("officer1").get(URL).status_code == 403
    head = login("head1").get(URL)
    assert head.status_code == 200 and {o["subject"]["username"] for o in head.get_json()["officers"]} == {"officer1", "officer2"}
    response = login("supervisor1").get("/api/v1/supervision/evaluation?from=2026-03-01")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "to"

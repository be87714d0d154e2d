"""The discretion benchmarks published without login (APL Art. 34), per catalogue matter: its tiers
with their legal basis and the fine band of each, read from the same DMN tables the decision step
enforces (SQLite and PostgreSQL). Rate limited and cacheable like the rest of the public surface."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from api import create_app
from engine import discretion
from engine.core import Core
from engine.models import Matter
from engine.supervision.kinds import SUPERVISION_MATTER


def benchmarks(http: Any, **params: str) -> dict[str, Any]:
    response = http.get("/api/v1/public/benchmarks", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


def tiers(row: dict[str, Any]) -> dict[str, tuple[str, str, bool]]:
    return {t["tier"]: (t["from"], t["to"], t["to_exclusive"]) for t in row["tiers"]}


def test_every_catalogue_matter_is_listed_with_its_benchmark_or_none(http: Any, core: Core) -> None:
    answer = benchmarks(http)
    with core.unit() as unit:
        # the internal matter of supervision matters (a row once a test opened one) is no catalogue matter
        codes = list(unit.session.scalars(select(Matter.code).where(Matter.code != SUPERVISION_MATTER).order_by(Matter.code)))
    assert [m["matter_code"] for m in answer["items"]] == codes and answer["total"] == len(codes)
    by_code = {m["matter_code"]: m for m in answer["items"]}
    for code in ("440201010001", "440201003901"):  # no benchmark row (docs/discretion.md)
        assert by_code[code]["has_benchmark"] is False and by_code[code]["benchmarks"] == []
        assert "依照法律、法规、规章的规定裁量" in by_code[code]["note"]
    rows = discretion.tables(core.settings.processes_dir).fine.describe()["rules"]
    with_rows = {r["when"][0].strip('"') for r in rows}  # the matter_code column of fine_benchmark.dmn
    assert {c for c, m in by_code.items() if m["has_benchmark"]} == with_rows and len(with_rows) == 11
    assert sum(len(m["benchmarks"]) for m in answer["items"]) == len(rows) == 14
    assert [r["tier"] for r in answer["tier_rules"]] == [
        "no_punishment", "no_punishment", "no_punishment", "general", "mitigated", "lighter", "heavier", "general"]


def test_a_matter_shows_its_tiers_bands_and_legal_basis(http: Any) -> None:
    [price] = benchmarks(http, matter="440201003001")["items"]
    assert price["legal_basis"].startswith("《中华人民共和国价格法》")
    [row] = price["benchmarks"]
    assert row["penalty_basis"] and row["fine_kind"] == "amount" and row["unit"] == "元"
    assert (row["statutory_min"], row["statutory_max"]) == ("0.00", "5000.00")
    assert tiers(row) == {  # time-limits.md §4.3 example D: 30/40/30 of a max-only range
        "no_punishment": ("0.00", "0.00", False), "mitigated": ("0.00", "0.00", False),
        "lighter": ("0.00", "1500.00", False), "general": ("1500.00", "3500.00", False),
        "heavier": ("3500.00", "5000.00", False),
    }
    basis = {t["tier"]: t["basis"] for t in row["tiers"]}
    assert basis["no_punishment"] == "行政处罚法第三十三条第二款；行政处罚法第三十三条第一款；行政处罚法第三十三条第一款；免处罚清单"
    assert basis["lighter"] == "行政处罚法第三十条、第三十二条" and basis["general"] == "裁量基准"


def test_rows_that_depend_on_the_base_amount_or_seriousness_say_when_they_apply(http: Any) -> None:
    [food] = benchmarks(http, matter="440201001001")["items"]
    below, above = food["benchmarks"]
    assert below["applies_when"] == ["货值金额或者违法经营额（元） < 10000"]
    assert tiers(below)["mitigated"] == ("0.00", "50000.00", True)  # below the statutory minimum
    assert above["fine_kind"] == "multiple" and above["unit"].startswith("倍")
    assert tiers(above)["general"] == ("13.00", "17.00", False)
    [ads] = benchmarks(http, matter="440201006001")["items"]
    assert [r["applies_when"] for r in ads["benchmarks"]] == [["情节严重：是"], []]


def test_the_published_band_is_the_band_the_decision_step_enforces(http: Any, core: Core) -> None:
    for matter in benchmarks(http)["items"]:
        for row in matter["benchmarks"]:
            if row["fine_kind"] != "amount" or row["applies_when"]:
                continue
            for tier in discretion.TIERS:
                found = discretion.assess(core.settings.processes_dir, matter["matter_code"], None, tier)
                assert (str(found.band_low), str(found.band_high), found.band_high_exclusive) == tiers(row)[tier]
                assert found.penalty_basis == row["penalty_basis"]


def test_no_login_cacheable(http: Any) -> None:
    first = http.get("/api/v1/public/benchmarks")
    assert first.headers["Cache-Control"] == "public, max-age=60" and first.headers["ETag"]
    again = http.get("/api/v1/public/benchmarks", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_rate_limited_like_the_other_public_endpoints(core: Core) -> None:
    http = create_app(Core(replace(core.settings, public_rate_per_minute=2), clock=core.clock, db=core.db)).test_client()
    assert [http.get("/api/v1/public/benchmarks").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize(("matter", "status"), [("44020100300", 422), ("abc", 422), ("", 422), ("999999999999", 404)])
def test_a_bad_or_unknown_matter_is_a_problem(http: Any, matter: str, status: int) -> None:
    response = http.get("/api/v1/public/benchmarks", query_string={"matter": matter})
    assert response.status_code == status and response.mimetype == "application/problem+json"
    if status == 422:
        assert response.get_json()["errors"][0]["field"] == "matter"


def test_amounts_are_exact_decimals(http: Any) -> None:
    for matter in benchmarks(http)["items"]:
        for row in matter["benchmarks"]:
            assert all(Decimal(t["from"]) <= Decimal(t["to"]) for t in row["tiers"])

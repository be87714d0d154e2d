"""裁量基准 (processes/discretion/*.dmn): every rule of both tables, the bands of every tier, the split
as a per-benchmark parameter. Expected bands are those time-limits.md §4.3 computes by hand
(examples B, C, D), not values read back from the tables."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from engine import discretion
from engine.errors import DeploymentInvalid, InvalidInput
from engine.seed import load_catalogue
from engine.spiff.dmn import load_decision
from tests.engine.conftest import FORMS, PROCESSES

D = Decimal
NOTHING = {"no_fault": False, "fault_excluded_by_law": False, "minor": False, "corrected_timely": False, "harm": "general",
           "first_offence": False, "exemption_listed": False, "mitigating": [], "mitigation_listed": False, "aggravating": []}


def tier_table():
    return discretion.tables(PROCESSES).tier


def fine_table():
    return discretion.tables(PROCESSES).fine


@pytest.mark.parametrize(("facts", "rule", "tier", "mandatory", "review"), [
    ({"no_fault": True}, 1, "no_punishment", True, False),
    ({"minor": True, "corrected_timely": True, "harm": "none"}, 2, "no_punishment", True, False),
    ({"first_offence": True, "harm": "minor", "corrected_timely": True, "exemption_listed": True}, 3, "no_punishment", False, False),
    ({"mitigating": ["confessed"], "aggravating": ["repeat"]}, 4, "general", False, True),
    ({"mitigating": ["coerced"], "mitigation_listed": True}, 5, "mitigated", True, False),
    ({"mitigating": ["eliminated_harm"]}, 6, "lighter", True, False),
    ({"aggravating": ["emergency"]}, 7, "heavier", False, False),
    ({}, 8, "general", False, False),
    # Near misses fall through to the next rule that matches.
    ({"no_fault": True, "fault_excluded_by_law": True}, 8, "general", False, False),
    ({"minor": True, "corrected_timely": True, "harm": "minor"}, 8, "general", False, False),
    ({"first_offence": True, "harm": "minor", "corrected_timely": True}, 8, "general", False, False),
    ({"no_fault": True, "aggravating": ["repeat"]}, 1, "no_punishment", True, False),
])
def test_every_rule_of_the_tier_table(facts, rule, tier, mandatory, review) -> None:
    out = tier_table().evaluate({**NOTHING, **facts})
    assert out["matched_rules"][0] == rule
    assert (out["tier"], out["mandatory"], out["manual_review"]) == (tier, mandatory, review)
    assert out["tier_name"] == discretion.TIERS[tier]
    assert out["basis"]


def test_the_tier_table_is_first_match_and_complete() -> None:
    table = tier_table()
    assert table.hit_policy == "UNIQUE" and table.rule_count == 8
    assert fine_table().hit_policy == "UNIQUE" and fine_table().rule_count == 14


@pytest.mark.parametrize(("matter", "base", "serious", "rule", "low", "high", "kind"), [
    ("440201001001", 9999, False, 1, 50000, 100000, "amount"),
    ("440201001001", 10000, False, 2, 10, 20, "multiple"),
    ("440201001002", 0, False, 3, 5000, 50000, "amount"),
    ("440201002001", 0, False, 4, 200000, 1000000, "amount"),
    ("440201003001", 0, False, 5, 0, 5000, "amount"),
    ("440201004001", 0, False, 6, 0, 10000, "amount"),
    ("440201005001", 0, False, 7, 1, 3, "multiple"),
    ("440201005002", 0, False, 8, 0.5, 3, "multiple"),
    ("440201006001", 0, True, 9, 1000000, 2000000, "amount"),
    ("440201006001", 0, False, 10, 200000, 1000000, "amount"),
    ("440201007001", 50000, False, 11, 0, 5, "multiple"),
    ("440201007001", 49999, False, 12, 0, 250000, "amount"),
    ("440201008001", 0, False, 13, 30000, 300000, "amount"),
    ("440201009001", 0, False, 14, 0, 10000, "amount"),
])
def test_every_rule_of_the_fine_benchmark(matter, base, serious, rule, low, high, kind) -> None:
    out = fine_table().evaluate({"matter_code": matter, "base_amount": base, "serious": serious})
    assert out["matched_rules"] == [rule]
    assert (D(str(out["fine_min"])), D(str(out["fine_max"])), out["fine_kind"]) == (D(str(low)), D(str(high)), kind)
    assert out["penalty_basis"]
    assert (out["lighter_from"], out["lighter_to"], out["general_from"], out["general_to"]) == (0, 0.3, 0.3, 0.7)


def test_every_catalogue_fine_has_a_benchmark_or_is_known_not_to() -> None:
    # simplified price tags (APL Art. 51 caps it); 计量法实施细则: no amount; evidence preservation: no fine
    without = {"440201003901", "440201010001", "440209001001"}
    for matter in [m for m in load_catalogue() if m["category"] == "punishment"]:
        out = fine_table().evaluate({"matter_code": matter["code"], "base_amount": 100000, "serious": False})
        assert bool(out["matched_rules"]) is (matter["code"] not in without), matter["code"]


@pytest.mark.parametrize(("matter", "tier", "low", "high", "exclusive"), [
    # Example B: 5,000-50,000, 30/40/30.
    ("440201001002", "lighter", "5000.00", "18500.00", False),
    ("440201001002", "general", "18500.00", "36500.00", False),
    ("440201001002", "heavier", "36500.00", "50000.00", False),
    ("440201001002", "mitigated", "0.00", "5000.00", True),
    ("440201001002", "no_punishment", "0.00", "0.00", False),
    # Example C: 200,000-1,000,000.
    ("440201002001", "lighter", "200000.00", "440000.00", False),
    ("440201002001", "general", "440000.00", "760000.00", False),
    ("440201002001", "heavier", "760000.00", "1000000.00", False),
    # Example D: a maximum only, minimum 0.
    ("440201003001", "lighter", "0.00", "1500.00", False),
    ("440201003001", "general", "1500.00", "3500.00", False),
    ("440201003001", "heavier", "3500.00", "5000.00", False),
    ("440201003001", "mitigated", "0.00", "0.00", False),
])
def test_bands_of_every_tier(matter, tier, low, high, exclusive) -> None:
    found = discretion.assess(PROCESSES, matter, None, tier)
    assert (str(found.band_low), str(found.band_high), found.band_high_exclusive) == (low, high, exclusive)
    assert found.tier == tier and found.tier_rule is None and found.has_benchmark


def test_a_multiple_is_applied_to_the_base_amount() -> None:
    found = discretion.assess(PROCESSES, "440201001001", {"base_amount": 20000, "mitigating": ["confessed"]})
    assert (found.tier, found.tier_rule, found.benchmark_rule) == ("lighter", 6, 2)
    assert (found.statutory_min, found.statutory_max) == (D("200000.00"), D("400000.00"))  # 10x-20x of 20,000
    assert (found.band_low, found.band_high) == (D("200000.00"), D("260000.00"))
    unknown = discretion.assess(PROCESSES, "440201005001", {"harm": "minor"})  # 货值 not given: no band, nothing enforced
    assert unknown.has_benchmark and unknown.band is None and "base_amount" in unknown.note


def test_the_split_is_a_parameter_of_each_benchmark(tmp_path: Path) -> None:
    """A benchmark with a 40-60 % 一般 band and 从轻 up to 20 % (a max-only rule used elsewhere, §4.1)."""
    folder = tmp_path / "discretion"
    folder.mkdir()
    (folder / "disposition_tier.dmn").write_bytes((PROCESSES / "discretion" / "disposition_tier.dmn").read_bytes())
    text = (PROCESSES / "discretion" / "fine_benchmark.dmn").read_text(encoding="utf-8")
    rule = text.index('id="fine_benchmark_rule_5"')
    head, tail = text[:rule], text[rule:]
    for out, value in (("out_4", "0.2"), ("out_5", "0.4"), ("out_6", "0.6"), ("out_7", "0.6")):
        marker = f'id="fine_benchmark_rule_5_{out}"><text>'
        start = tail.index(marker) + len(marker)
        tail = tail[:start] + value + tail[tail.index("<", start):]
    (folder / "fine_benchmark.dmn").write_text(head + tail, encoding="utf-8")
    discretion._tables.cache_clear()
    general = discretion.assess(tmp_path, "440201003001", None, "general")
    lighter = discretion.assess(tmp_path, "440201003001", None, "lighter")
    assert (general.band_low, general.band_high) == (D("2000.00"), D("3000.00"))
    assert (lighter.band_low, lighter.band_high) == (D("0.00"), D("1000.00"))
    assert discretion.assess(PROCESSES, "440201003001", None, "general").band_low == D("1500.00")


def test_facts_decide_the_tier_and_a_chosen_tier_only_where_the_law_leaves_it_open() -> None:
    listed = discretion.assess(PROCESSES, "440201004001", {"first_offence": True, "harm": "minor", "corrected_timely": True})
    assert (listed.tier, listed.tier_rule, listed.band_high) == ("no_punishment", 3, D("0.00"))  # 免处罚清单 (example A)
    unlisted = discretion.assess(PROCESSES, "440201003001", {"first_offence": True, "harm": "minor", "corrected_timely": True})
    assert unlisted.tier == "general" and unlisted.tier_rule == 8
    both = {"mitigating": ["confessed"], "aggravating": ["repeat"]}
    assert discretion.assess(PROCESSES, "440201003001", both, "heavier").tier == "heavier"  # 综合裁量: the head decides
    assert discretion.assess(PROCESSES, "440201003001", {"mitigating": ["confessed"]}, "heavier").tier == "lighter"
    none = discretion.assess(PROCESSES, "440201010001", None, "general")
    assert not none.has_benchmark and none.band is None


def test_bad_facts_and_tiers_are_named() -> None:
    with pytest.raises(InvalidInput) as err:
        discretion.assess(PROCESSES, "440201003001", {"harm": "huge", "colour": "red"})
    assert {p.field for p in err.value.problems} == {"facts", "facts.harm"}
    with pytest.raises(InvalidInput) as err:
        discretion.assess(PROCESSES, "440201003001", None, "lenient")
    assert err.value.problems[0].field == "tier"


def test_decision_forms_carry_the_same_facts_schema() -> None:
    schema = json.loads((FORMS / "decide.schema.json").read_text(encoding="utf-8"))
    assert schema["properties"]["discretion_facts"] == discretion.FACTS_SCHEMA
    assert {"discretion_tier", "deviation_reason"} <= set(schema["properties"])


def test_a_decision_table_is_checked_like_a_deployment() -> None:
    text = (PROCESSES / "discretion" / "disposition_tier.dmn").read_text(encoding="utf-8")
    with pytest.raises(DeploymentInvalid) as err:
        load_decision("bad.dmn", text.replace('hitPolicy="UNIQUE"', 'hitPolicy="PRIORITY"').encode())
    assert err.value.problems[0].element_id == "disposition_tier_table"
    with pytest.raises(DeploymentInvalid) as err:
        load_decision("bad.dmn", text.replace("<text>len(mitigating)</text>", "<text>().__class__</text>").encode())
    assert err.value.problems[0].file == "bad.dmn"

"""An edited discretion table is the one the decision step enforces (SQLite and PostgreSQL): after a designer
saves a narrower 一般 band, the decision form's band is the new one and a fine inside the old band but outside
the new one needs a written reason."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.clock import FrozenClock
from engine.demo import STEP_DATA
from tests.api.test_discretion_api import case_at_decision

FINE = (Path(__file__).resolve().parents[2] / "processes" / "discretion" / "fine_benchmark.dmn").read_text(encoding="utf-8")
# 不按规定明码标价 (rule 5, 0-5,000 yuan): 一般 30-70 % of the range → 40-60 %.
NARROWER = FINE.replace('<outputEntry id="fine_benchmark_rule_5_out_5"><text>0.3</text>',
                        '<outputEntry id="fine_benchmark_rule_5_out_5"><text>0.4</text>').replace(
                        '<outputEntry id="fine_benchmark_rule_5_out_6"><text>0.7</text>',
                        '<outputEntry id="fine_benchmark_rule_5_out_6"><text>0.6</text>')


def test_the_decision_step_enforces_the_newest_table(login: Any, clock: FrozenClock) -> None:
    head, case_id = case_at_decision(login, clock)
    task = head.ready(case_id, "decide")
    assert head.get(f"/api/v1/discretion/tasks/{task['id']}").get_json()["band_low"] == "1500.00"
    saved = login("designer1").post("/api/v1/discretion/tables/fine_benchmark", json={"xml": NARROWER})
    assert saved.status_code == 201, saved.get_json()
    band = head.get(f"/api/v1/discretion/tasks/{task['id']}").get_json()
    assert (band["band_low"], band["band_high"]) == ("2000.00", "3000.00")
    public = head.get("/api/v1/public/benchmarks?matter=440201003001").get_json()
    general = next(t for t in public["items"][0]["benchmarks"][0]["tiers"] if t["tier"] == "general")
    assert (general["from"], general["to"]) == ("2000.00", "3000.00")  # published = enforced
    refused = head.complete(case_id, "decide", {**STEP_DATA["decide"], "fine_amount": 1800}, status=422)
    assert [e["field"] for e in refused["errors"]] == ["fine_amount", "deviation_reason"]
    assert "2000.00–3000.00元" in refused["errors"][0]["message"]
    case = head.complete(case_id, "decide", {**STEP_DATA["decide"], "fine_amount": 2000})  # as notified
    assert [t["bpmn_id"] for t in case["tasks"] if t["state"] == "ready"] == ["serve_decision"]

"""The published discretion benchmarks (裁量基准, APL Art. 34: 裁量基准应当向社会公布), per catalogue matter.

Read from the DMN tables the decision step enforces (`engine/discretion.py`, processes/discretion/), so
what the public reads is what the officers are held to: for each matter its fine benchmark rows (the
statutory range, the penalty basis, when the row applies) and, for each of the five tiers, its legal
basis and its band, computed by the same function the decision check uses. A matter without a row has
no benchmark: it is decided under the rules.
"""
from __future__ import annotations

import ast
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from engine import discretion
from engine.core import Unit
from engine.errors import InvalidInput, NotFound, Problem
from engine.models import Matter
from engine.supervision.kinds import SUPERVISION_CATEGORY

MATTER_CODE = re.compile(r"\d{12}")
NO_BENCHMARK = "本事项未制定罚款裁量基准，依照法律、法规、规章的规定裁量（粤市监规字〔2025〕2号第四条）"
UNITS = {"amount": "元", "multiple": "倍（货值金额或者违法经营额）"}


def published_benchmarks(unit: Unit, matter: str | None = None) -> dict[str, Any]:
    """`{"tier_rules": [...], "items": [one per catalogue matter], "total"}`; `matter` narrows to one."""
    if matter is not None and not MATTER_CODE.fullmatch(matter):
        raise InvalidInput("matter must be a 12-digit matter code", [Problem("12 digits, e.g. 440201003001", field="matter")])
    query = select(Matter).where(Matter.category != SUPERVISION_CATEGORY).order_by(Matter.code)
    if matter is not None:
        query = query.where(Matter.code == matter)
    matters = list(unit.session.scalars(query))
    if matter is not None and not matters:
        raise NotFound(f"no matter {matter} in the catalogue")
    t = discretion.current_tables(unit)
    tier_rules = [_tier_rule(r) for r in t.tier.describe()["rules"]]
    bases = _tier_bases(tier_rules)
    fine = t.fine.describe()
    rows = [_fine_rule(fine, r, bases) for r in fine["rules"]]
    items = []
    for m in matters:
        mine = [row for code, row in rows if code == m.code]
        items.append({
            "matter_code": m.code, "matter_name": m.name, "legal_basis": m.legal_basis, "penalty_basis": m.penalty_basis,
            "has_benchmark": bool(mine), "benchmarks": mine, "note": None if mine else NO_BENCHMARK,
        })
    return {"tier_rules": tier_rules, "items": items, "total": len(items)}


def _literal(text: str) -> Any:
    return ast.literal_eval(text)  # the tables' output entries are literals (checked at load by dmn.py)


def _tier_rule(rule: dict[str, Any]) -> dict[str, Any]:
    tier, name, basis, mandatory, review = (_literal(x) for x in rule["then"])
    return {"number": rule["number"], "description": rule["description"], "tier": tier, "tier_name": name,
            "basis": basis, "mandatory": mandatory, "manual_review": review}


def _tier_bases(rules: list[dict[str, Any]]) -> dict[str, str]:
    """Each tier's legal bases, in rule order (综合裁量 is a way to choose a tier, not a tier's basis)."""
    found: dict[str, list[str]] = {t: [] for t in discretion.TIERS}
    for r in rules:
        if not r["manual_review"] and r["basis"] not in found[r["tier"]]:
            found[r["tier"]].append(r["basis"])
    return {t: "；".join(b) for t, b in found.items()}


def _fine_rule(table: dict[str, Any], rule: dict[str, Any], bases: dict[str, str]) -> tuple[str, dict[str, Any]]:
    inputs = table["inputs"]
    when = dict(zip((i["expression"] for i in inputs), rule["when"], strict=True))
    labels = {i["expression"]: i["label"] for i in inputs}
    out = dict(zip((o["name"] for o in table["outputs"]), (_literal(x) for x in rule["then"]), strict=True))
    conditions = [f"{labels[k]} {v.replace('?', '').strip()}" if v.startswith("?") else f"{labels[k]}：{'是' if v == 'True' else v}"
                  for k, v in when.items() if k != "matter_code" and v != "-"]
    low, high = _decimal(out["fine_min"]), _decimal(out["fine_max"])
    tiers = []
    for tier, name in discretion.TIERS.items():
        band = discretion.tier_band(tier, low, high, out)
        tiers.append({"tier": tier, "name": name, "basis": bases[tier], "from": str(band.low), "to": str(band.high),
                      "to_exclusive": band.high_exclusive})
    return _literal(when["matter_code"]), {
        "rule": rule["number"], "description": rule["description"], "applies_when": conditions,
        "penalty_basis": out["penalty_basis"], "fine_kind": out["fine_kind"], "unit": UNITS[out["fine_kind"]],
        "statutory_min": str(low), "statutory_max": str(high), "exemption_listed": out["exemption_listed"],
        "mitigation_listed": out["mitigation_listed"], "note": out["note"] or None, "tiers": tiers,
    }



def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))

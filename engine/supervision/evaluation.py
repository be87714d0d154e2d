"""Composite evaluation (综合评价) of agencies and officers per period: a weighted score from the
indicators (engine/supervision/indicators.py), with the weights, directions and thresholds as data
(engine/data/evaluation.json, each with its basis; guiding opinions §III(5), (7)).

Each indicator's rate is put on a 0-1 scale linearly between `zero_at` (0) and `full_at` (1), clamped;
`per_days` first scales a volume to that many days of the period. The score is `scale` times the
weighted mean over the indicators that have a rate: a rate that is null (no denominator) is left out
and named in `missing`, and when the indicators left carry less than `min_weight_share` of the weight
there is no score (null, not ranked). Agencies are ranked among the children of the evaluated agency
(their common parent), officers within their agency: 1, 2, 2, 4 for ties, best first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import select

from engine.accounts import require_role
from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.models import Agency, User
from engine.supervision import indicators as ind

DIRECTIONS = ("higher", "lower")
SUBJECTS = ("agency", "officer")


@dataclass(frozen=True)
class Part:
    rate: float | None  # as the indicators report it
    value: float | None  # the rate scaled by per_days, when the indicator has one
    normalised: float | None  # 0..1
    weight: float
    points: float | None  # weight x normalised


@dataclass(frozen=True)
class Score:
    subject: dict[str, Any]
    counts: dict[str, int]
    parts: dict[str, Part]
    score: float | None
    grade: str | None
    rank: int | None
    ranked_among: int
    missing: list[str]


@dataclass(frozen=True)
class Evaluation:
    period: dict[str, str]
    agency: dict[str, Any]
    rules: dict[str, Any]
    agencies: list[Score]  # the children of `agency`, ranked among themselves
    officers: list[Score]  # officers of the subtree, ranked within their agency


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    data = json.loads(resources.files("engine").joinpath("data/evaluation.json").read_text(encoding="utf-8"))
    validate(data)
    return data


def validate(data: dict[str, Any]) -> None:
    """A wrong data file is named at the key that is wrong (ValueError), never scored silently."""
    items = data.get("indicators")
    if not isinstance(items, dict) or not items:
        raise ValueError("evaluation data: 'indicators' must be a non-empty object")
    for name, item in items.items():
        where = f"evaluation data: indicators.{name}"
        if name not in ind.RATES:
            raise ValueError(f"{where}: unknown indicator (one of {', '.join(ind.RATES)})")
        weight, full, zero = item.get("weight"), item.get("full_at"), item.get("zero_at")
        if not _number(weight) or weight < 0:
            raise ValueError(f"{where}.weight must be a number >= 0")
        if item.get("direction") not in DIRECTIONS or not _number(full) or not _number(zero) or full == zero:
            raise ValueError(f"{where}: direction must be higher|lower and full_at, zero_at two different numbers")
        if (full > zero) != (item["direction"] == "higher"):
            raise ValueError(f"{where}: full_at must be {'above' if item['direction'] == 'higher' else 'below'} zero_at")
        if "per_days" in item and (type(item["per_days"]) is not int or item["per_days"] <= 0):
            raise ValueError(f"{where}.per_days must be a positive integer")
        if not set(item.get("applies_to", [])) <= set(SUBJECTS) or not item.get("basis"):
            raise ValueError(f"{where}: applies_to must list agency/officer and basis must say why")
    if sum(i["weight"] for i in items.values()) <= 0:
        raise ValueError("evaluation data: the weights add up to 0")
    share = data.get("min_weight_share")
    if not _number(share) or not 0 <= share <= 1 or not _number(data.get("scale")) or data["scale"] <= 0:
        raise ValueError("evaluation data: min_weight_share must be within 0..1 and scale a positive number")
    grades = data.get("grades")
    if not isinstance(grades, list) or not grades or not all(_number(g.get("min")) and g.get("grade") for g in grades):
        raise ValueError("evaluation data: grades must be a list of {min, grade}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def evaluate(
    unit: Unit, start: date, end: date, *, agency_id: int | None = None, found: ind.Indicators | None = None,
    data: dict[str, Any] | None = None,
) -> Evaluation:
    require_role(unit.actor, "supervisor", "admin", "agency_head")  # officers' scores are for their superiors
    data = data or rules()
    found = found or ind.indicators(unit, start, end, agency_id=agency_id)
    days = (end - start).days + 1
    agencies = _ranked([score(r.agency, r.counts, r.rates, days, data, "agency") for r in found.children], lambda s: 0)
    officers = _ranked(_officer_scores(unit, found, start, end, days, data), lambda s: s.subject["agency_id"])
    return Evaluation(found.period, found.agency, data, agencies, officers)


def score(
    subject: dict[str, Any], counts: dict[str, int], rates: dict[str, float | None], days: int, data: dict[str, Any], kind: str,
) -> Score:
    parts, missing, weights, points = {}, [], 0.0, 0.0
    items = {n: i for n, i in data["indicators"].items() if kind in i.get("applies_to", SUBJECTS)}
    total_weight = sum(i["weight"] for i in items.values())
    for name, item in items.items():
        rate = rates.get(name)
        if rate is None:
            parts[name] = Part(None, None, None, item["weight"], None)
            missing.append(name)
            continue
        value = rate * item["per_days"] / days if "per_days" in item else rate
        normalised = min(1.0, max(0.0, (value - item["zero_at"]) / (item["full_at"] - item["zero_at"])))
        parts[name] = Part(rate, round(value, 4), round(normalised, 4), item["weight"], round(item["weight"] * normalised, 4))
        weights += item["weight"]
        points += item["weight"] * normalised
    enough = total_weight > 0 and weights > 0 and weights / total_weight >= data["min_weight_share"]
    value = round(data["scale"] * points / weights, 2) if enough else None
    return Score(subject, counts, parts, value, _grade(value, data), None, 0, missing)


def _grade(value: float | None, data: dict[str, Any]) -> str | None:
    if value is None:
        return None
    for band in sorted(data["grades"], key=lambda g: -g["min"]):
        if value >= band["min"]:
            return str(band["grade"])
    return None


def _ranked(scores: list[Score], group: Any) -> list[Score]:
    """Competition ranking (1, 2, 2, 4) within each group, best first; no score, no rank (listed last)."""
    by_group: dict[Any, list[Score]] = {}
    for s in scores:
        by_group.setdefault(group(s), []).append(s)
    out = []
    for members in by_group.values():
        scored = sorted((s for s in members if s.score is not None), key=lambda s: -s.score)
        for s in scored:
            rank = 1 + sum(1 for other in scored if other.score > s.score)
            out.append(_with_rank(s, rank, len(scored)))
        out += [_with_rank(s, None, len(scored)) for s in members if s.score is None]
    return out


def _with_rank(s: Score, rank: int | None, among: int) -> Score:
    return Score(s.subject, s.counts, s.parts, s.score, s.grade, rank, among, s.missing)


def _officer_scores(unit: Unit, found: ind.Indicators, start: date, end: date, days: int, data: dict[str, Any]) -> list[Score]:
    """Officers of the subtree: the indicators over the cases they are assigned to."""
    path = unit.session.scalar(select(Agency.path).where(Agency.id == found.agency["id"]))
    since = datetime.combine(start, time(0), CHINA_TZ)
    until = datetime.combine(end + timedelta(days=1), time(0), CHINA_TZ)
    per_officer: dict[int, dict[str, int]] = {}
    for name, rows in ind._raw(unit, path, since, until, end, by_officer=True).items():
        for user_id, count in rows:
            per_officer.setdefault(user_id, dict.fromkeys(ind.COUNTS, 0))[name] += count or 0
    users = unit.session.execute(
        select(User.id, User.username, User.name, User.roles, Agency.id, Agency.name)
        .join(Agency, Agency.id == User.agency_id)
        .where(Agency.path.startswith(path), User.active.is_(True)).order_by(Agency.code, User.username)
    ).all()
    out = []
    for user_id, username, name, roles, agency_id, agency_name in users:
        if "officer" not in (roles or []):
            continue
        counts = per_officer.get(user_id, dict.fromkeys(ind.COUNTS, 0))
        row = ind._row({}, counts)
        subject = {"id": user_id, "username": username, "name": name, "agency_id": agency_id, "agency_name": agency_name}
        out.append(score(subject, counts, row.rates, days, data, "officer"))
    return out


def write_sheet(book: Any, found: Evaluation) -> None:
    """The evaluation as a sheet of an openpyxl workbook (the indicators export adds it)."""
    sheet = book.create_sheet("综合评价")
    names = list(found.rules["indicators"])
    sheet.append(["期间", f"{found.period['from']} 至 {found.period['to']}", "机关", found.agency["name"]])
    sheet.append(["类别", "名称", "所属机关", "得分", "等级", "排名", "参评数", *(f"{ind.LABELS[n]}得分" for n in names), "无数据指标"])
    for kind, scores in (("机关", found.agencies), ("执法人员", found.officers)):
        for s in scores:
            owner = s.subject.get("agency_name", found.agency["name"])
            sheet.append([
                kind, s.subject["name"], owner, s.score, s.grade, s.rank, s.ranked_among,
                *(s.parts[n].points if n in s.parts else None for n in names), "、".join(ind.LABELS[n] for n in s.missing),
            ])

"""Discretion benchmarks (裁量基准): the tier and the fine band of a matter, from the DMN tables in
`processes/discretion/` (time-limits.md §4), and the check at the decision step.

- `disposition_tier.dmn` (first match): the facts → 不予处罚 | 减轻 | 从轻 | 一般 | 从重, its basis, whether
  the tier is mandatory, and whether mitigating and aggravating grounds together call for 综合裁量.
- `fine_benchmark.dmn` (first match): the matter (and the base amount, 情节严重) → the statutory range and
  the benchmark's split of it into bands (fractions of the range: a parameter of each row).

The decision step: a user task `decide` of `general_punishment`, or any user task with the property
`discretion_benchmark` = `true`. When it imposes a fine outside the band of the tier, the form must
give `deviation_reason`; the deviation is then recorded (`DiscretionDeviation`) and audited. Without a
benchmark row for the matter nothing is enforced (decide under the rules, 粤市监规字〔2025〕2号 Art. 4).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from engine import audit
from engine.cases import check_visible, scope_filter
from engine.catalogue import competent_matter
from engine.core import Unit
from engine.discretion_models import DiscretionDeviation
from engine.errors import InvalidInput, NotFound, Problem
from engine.models import Agency, Case, TaskRow
from engine.spiff.dmn import DecisionTable, load_decision
from engine.supervision import matter_access

TIERS = {"no_punishment": "不予处罚", "mitigated": "减轻", "lighter": "从轻", "general": "一般", "heavier": "从重"}
DECISION_TASKS = {("general_punishment", "decide")}  # the general procedure's diagram is not ours to edit
CENT = Decimal("0.01")

MITIGATING = {
    "minor_14_to_18": "已满十四周岁不满十八周岁（行政处罚法第三十条）",
    "limited_capacity": "尚未完全丧失辨认或者控制能力的精神病人、智力残疾人（行政处罚法第三十一条）",
    "eliminated_harm": "主动消除或者减轻违法行为危害后果（行政处罚法第三十二条第一项）",
    "coerced": "受他人胁迫或者诱骗实施违法行为（第三十二条第二项）",
    "confessed": "主动供述行政机关尚未掌握的违法行为（第三十二条第三项）",
    "meritorious": "配合行政机关查处违法行为有立功表现（第三十二条第四项）",
    "other_legal": "法律、法规、规章规定的其他从轻、减轻情形（第三十二条第五项）",
}
AGGRAVATING = {
    "repeat": "多次违法或者受处罚后再犯",
    "emergency": "突发事件期间违反应对措施（行政处罚法第四十九条）",
    "serious_harm": "危害后果严重",
    "refused_correction": "拒不改正",
    "obstruction": "阻碍、抗拒执法或者隐匿、销毁证据",
    "other": "裁量基准规定的其他从重情形",
}

FACTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "裁量情节",
    "properties": {
        "no_fault": {"type": "boolean", "title": "当事人有证据足以证明没有主观过错"},
        "fault_excluded_by_law": {"type": "boolean", "title": "法律、行政法规规定无过错仍应处罚"},
        "minor": {"type": "boolean", "title": "违法行为轻微"},
        "corrected_timely": {"type": "boolean", "title": "及时改正"},
        "harm": {"type": "string", "title": "危害后果", "oneOf": [
            {"const": "none", "title": "没有造成危害后果"}, {"const": "minor", "title": "轻微"},
            {"const": "general", "title": "一般"}, {"const": "serious", "title": "严重"}]},
        "first_offence": {"type": "boolean", "title": "初次违法"},
        "mitigating": {"type": "array", "title": "从轻、减轻情节", "uniqueItems": True,
                       "items": {"type": "string", "oneOf": [{"const": k, "title": v} for k, v in MITIGATING.items()]}},
        "aggravating": {"type": "array", "title": "从重情节", "uniqueItems": True,
                        "items": {"type": "string", "oneOf": [{"const": k, "title": v} for k, v in AGGRAVATING.items()]}},
        "base_amount": {"type": "number", "minimum": 0, "title": "货值金额或者违法经营额（元）"},
        "serious": {"type": "boolean", "title": "情节严重"},
    },
    "additionalProperties": False,
}
_FACTS = Draft202012Validator(FACTS_SCHEMA)
_DEFAULT_FACTS = {"no_fault": False, "fault_excluded_by_law": False, "minor": False, "corrected_timely": False,
                  "harm": "general", "first_offence": False, "mitigating": [], "aggravating": [], "base_amount": 0,
                  "serious": False}


@dataclass(frozen=True)
class Band:
    low: Decimal
    high: Decimal
    high_exclusive: bool  # 减轻: below the statutory minimum

    def contains(self, amount: Decimal) -> bool:
        return self.low <= amount and (amount < self.high if self.high_exclusive else amount <= self.high)

    def describe(self) -> str:
        return f"{self.low}–{self.high}元" + ("（不含上限）" if self.high_exclusive else "")


@dataclass(frozen=True)
class Assessment:
    matter_code: str
    tier: str
    tier_name: str
    tier_basis: str
    mandatory: bool
    manual_review: bool
    tier_rule: int | None  # rule number in disposition_tier.dmn (None when the tier was chosen, not derived)
    has_benchmark: bool
    penalty_basis: str | None
    fine_kind: str | None
    statutory_min: Decimal | None  # yuan (a multiple's range times the base amount)
    statutory_max: Decimal | None
    band_low: Decimal | None
    band_high: Decimal | None
    band_high_exclusive: bool
    benchmark_rule: int | None
    note: str | None

    @property
    def band(self) -> Band | None:
        if self.band_low is None or self.band_high is None:
            return None
        return Band(self.band_low, self.band_high, self.band_high_exclusive)


@dataclass(frozen=True)
class Tables:
    tier: DecisionTable
    fine: DecisionTable


@lru_cache(maxsize=8)
def _tables(directory: str) -> Tables:
    folder = Path(directory)
    return Tables(
        load_decision("disposition_tier.dmn", (folder / "disposition_tier.dmn").read_bytes()),
        load_decision("fine_benchmark.dmn", (folder / "fine_benchmark.dmn").read_bytes()),
    )


def tables(processes_dir: Path) -> Tables:
    """The tables as shipped in `processes/discretion/` (what `current_tables` uses until one is edited)."""
    return _tables(str(Path(processes_dir) / "discretion"))


def current_tables(unit: Unit) -> Tables:
    """The newest version of each table: an edited one (engine/discretion_store.py), else the shipped file."""
    from engine import discretion_store

    return Tables(discretion_store.current(unit, "disposition_tier"), discretion_store.current(unit, "fine_benchmark"))


def clean_facts(facts: Any, field: str = "facts") -> dict[str, Any]:
    if facts is None:
        facts = {}
    if not isinstance(facts, dict):
        raise InvalidInput(f"{field} must be an object", [Problem("must be an object", field=field)])
    problems = [
        Problem(e.message, field=".".join([field, *map(str, e.absolute_path)]))
        for e in sorted(_FACTS.iter_errors(facts), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems:
        raise InvalidInput("the discretion facts are not valid", problems)
    return {**_DEFAULT_FACTS, **facts}


def assess(processes_dir: Path, matter_code: str, facts: dict[str, Any] | None, tier: str | None = None,
           *, using: Tables | None = None) -> Assessment:
    """The tier (from the facts, or `tier` when no facts are given or 综合裁量 is called for) and its band,
    from `using` (the tables in force, `current_tables`), else the shipped files."""
    if tier is not None and tier not in TIERS:
        raise InvalidInput(f"unknown tier {tier!r}", [Problem(f"one of {', '.join(TIERS)}", field="tier")])
    t = using or tables(processes_dir)
    given = clean_facts(facts)
    fine = t.fine.evaluate({"matter_code": matter_code, "base_amount": given["base_amount"], "serious": given["serious"]})
    listed = {"exemption_listed": bool(fine.get("exemption_listed")), "mitigation_listed": bool(fine.get("mitigation_listed"))}
    if facts:
        derived = t.tier.evaluate({**given, **listed})
        chosen = tier if (derived["manual_review"] and tier) else derived["tier"]
        tier_info = (chosen, derived["basis"], bool(derived["mandatory"]), bool(derived["manual_review"]), derived["matched_rules"][0])
    else:
        tier_info = (tier or "general", "负责人确定的裁量阶次", False, False, None)
    chosen, basis, mandatory, review, rule = tier_info
    if not fine["matched_rules"]:
        return Assessment(matter_code, chosen, TIERS[chosen], basis, mandatory, review, rule, False, None, None,
                          None, None, None, None, False, None, None)
    low0, high0, base = _dec(fine["fine_min"]), _dec(fine["fine_max"]), _dec(given["base_amount"])
    if fine["fine_kind"] == "multiple":
        if base <= 0:  # a multiple of an amount not given yet: no band to show or enforce
            return Assessment(
                matter_code, chosen, TIERS[chosen], basis, mandatory, review, rule, True, fine["penalty_basis"], "multiple",
                None, None, None, None, False, fine["matched_rules"][0],
                "罚款为货值金额或者违法经营额的倍数：填写 base_amount 后显示幅度",
            )
        low0, high0 = low0 * base, high0 * base
    band = _band(chosen, low0, high0, fine)
    return Assessment(
        matter_code, chosen, TIERS[chosen], basis, mandatory, review, rule, True, fine["penalty_basis"],
        fine["fine_kind"], _money(low0), _money(high0), band.low, band.high, band.high_exclusive,
        fine["matched_rules"][0], fine.get("note") or None,
    )


def tier_band(tier: str, low: Decimal, high: Decimal, row: dict[str, Any]) -> Band:
    """The band of `tier` within the statutory range [low, high] by a fine_benchmark row's split
    (yuan, or multiples of the base amount for a `multiple` row): what `assess` enforces."""
    return _band(tier, low, high, row)


def _band(tier: str, low0: Decimal, high0: Decimal, row: dict[str, Any]) -> Band:
    span = high0 - low0
    if tier == "no_punishment":
        return Band(Decimal("0.00"), Decimal("0.00"), False)
    if tier == "mitigated":
        return Band(Decimal("0.00"), _money(low0), low0 > 0)  # below the minimum; max-only: no fine
    start, end = _dec(row[f"{tier}_from"]), _dec(row[f"{tier}_to"])
    return Band(_money(low0 + start * span), _money(low0 + end * span), False)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# -- the decision step ---------------------------------------------------------------------------
def applies(process_id: str, bpmn_id: str, properties: dict[str, str]) -> bool:
    return (process_id, bpmn_id) in DECISION_TASKS or properties.get("discretion_benchmark") == "true"


def check_decision(
    unit: Unit, case: Case, process_id: str, task_id: str, bpmn_id: str, properties: dict[str, str],
    data: dict[str, Any], form: dict[str, Any],
) -> Assessment | None:
    """Refuse a fine outside the band without a written reason; record one with a reason."""
    if not applies(process_id, bpmn_id, properties):
        return None
    if form.get("decision", "punish") != "punish" or "fine" not in (form.get("penalties") or []):
        return None
    facts = form.get("discretion_facts", data.get("discretion_facts"))
    tier = form.get("discretion_tier") or data.get("discretion_tier")
    found = assess(unit.core.settings.processes_dir, case.matter_code, facts, tier, using=current_tables(unit))
    band = found.band
    amount = _money(_dec(form.get("fine_amount", 0)))
    if band is None or band.contains(amount):
        return found
    reason = str(form.get("deviation_reason") or "").strip()
    if not reason:
        raise InvalidInput(
            f"the fine is outside the benchmark band of the tier {found.tier_name}: give deviation_reason",
            [Problem(f"罚款{amount}元不在“{found.tier_name}”阶次的裁量幅度{band.describe()}内（{found.penalty_basis}；"
                     "裁量基准），偏离基准须书面说明理由", field="fine_amount", element_id=bpmn_id),
             Problem("偏离裁量基准的理由为必填项 (required when the fine is outside the band)", field="deviation_reason")])
    row = DiscretionDeviation(
        case_id=case.id, agency_id=case.agency_id, matter_code=case.matter_code, task_id=task_id, bpmn_id=bpmn_id,
        tier=found.tier, band_low=str(band.low), band_high=str(band.high), fine_amount=str(amount),
        direction="below" if amount < band.low else "above", reason=reason, recorded_by=unit.actor.user_id,
        recorded_at=unit.now,
    )
    unit.session.add(row)
    audit.record(unit, "discretion.deviation", {
        "task_id": task_id, "tier": found.tier, "band": [str(band.low), str(band.high)], "fine_amount": str(amount),
        "reason": reason,
    }, case=case)
    return found


# -- reading -------------------------------------------------------------------------------------
def published(unit: Unit) -> list[dict[str, Any]]:
    """Both benchmark tables, rule by rule (APL Art. 34: the benchmarks are published)."""
    t = current_tables(unit)
    return [t.tier.describe(), t.fine.describe()]


def assess_matter(unit: Unit, matter_code: str, facts: Any, tier: str | None = None) -> Assessment:
    """What the published benchmark says for a matter and facts (any signed-in user)."""
    competent_matter(unit, None, matter_code)
    return assess(unit.core.settings.processes_dir, matter_code, clean_facts(facts), tier, using=current_tables(unit))


def assess_task(unit: Unit, task_id: str, facts: Any = None, tier: str | None = None) -> Assessment:
    """The band to show on a decision task's form: the facts and tier given, else those in the case data."""
    from engine import instances

    row = unit.session.get(TaskRow, task_id)
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    check_visible(unit, row.agency_id)
    case = unit.session.get(Case, row.case_id)
    data: dict[str, Any] = {}
    if row.state == "ready":
        instance = instances.load(unit, case)
        data = next((t.data for t in instance.ready_tasks() if t.id == row.id), {})
    use_facts = facts if facts is not None else data.get("discretion_facts")
    return assess(unit.core.settings.processes_dir, case.matter_code, clean_facts(use_facts) if use_facts else None,
                  tier or data.get("discretion_tier"), using=current_tables(unit))


@dataclass(frozen=True)
class DeviationView:
    id: int
    case_id: int
    case_number: str
    agency_id: int
    agency_name: str
    matter_code: str
    bpmn_id: str
    tier: str
    tier_name: str
    band_low: str
    band_high: str
    fine_amount: str
    direction: str
    reason: str
    recorded_by: int
    recorded_at: Any


def list_deviations(unit: Unit, *, agency_id: int | None = None, page: int = 1, per_page: int = 50) -> tuple[list[DeviationView], int]:
    query = (
        select(DiscretionDeviation, Case.number, Agency.name)
        .join(Case, Case.id == DiscretionDeviation.case_id)
        .join(Agency, Agency.id == DiscretionDeviation.agency_id)
        .where(*scope_filter(unit))
    )
    if agency_id:
        query = query.where(DiscretionDeviation.agency_id == agency_id)
    total = unit.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = unit.session.execute(
        query.order_by(DiscretionDeviation.recorded_at.desc(), DiscretionDeviation.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return [
        DeviationView(d.id, d.case_id, number, d.agency_id, agency, d.matter_code, d.bpmn_id, d.tier, TIERS[d.tier],
                      d.band_low, d.band_high, d.fine_amount, d.direction, d.reason, d.recorded_by, d.recorded_at)
        for d, number, agency in rows
    ], total


# -- the decision form ---------------------------------------------------------------------------
BAND_TIERS = ("lighter", "general", "heavier")  # the bands of the statutory range a benchmark row splits


@dataclass(frozen=True)
class DecisionBand:
    """What a decision form shows: the assessment (tier, basis, the band enforced) and the 从轻/一般/从重
    bands of the statutory range in yuan (empty without a benchmark row or before a multiple's base amount)."""
    assessment: Assessment
    bands: dict[str, Band]


def tier_bands(processes_dir: Path, matter_code: str, facts: dict[str, Any] | None) -> dict[str, Band]:
    """The 从轻, 一般 and 从重 bands of a matter in yuan, by its benchmark row's split."""
    given = clean_facts(facts)
    fine = tables(processes_dir).fine.evaluate(
        {"matter_code": matter_code, "base_amount": given["base_amount"], "serious": given["serious"]})
    if not fine["matched_rules"]:
        return {}
    low, high, base = _dec(fine["fine_min"]), _dec(fine["fine_max"]), _dec(given["base_amount"])
    if fine["fine_kind"] == "multiple":
        if base <= 0:
            return {}
        low, high = low * base, high * base
    return {tier: _band(tier, low, high, fine) for tier in BAND_TIERS}


def decision_band(unit: Unit, task_id: str, tier: str | None = None) -> DecisionBand | None:
    """The band a ready decision step's form shows (None for any other task): the facts and tier in
    the case data (the investigation's), or `tier` when the form's choice is asked for."""
    from engine import instances

    row = unit.session.get(TaskRow, task_id)
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    if not matter_access.may_see_task(unit, row):  # as tasks.get_task: the supervised agency's head reads its task
        check_visible(unit, row.agency_id)
    if row.state != "ready":
        return None
    case = unit.session.get(Case, row.case_id)
    instance = instances.load(unit, case)
    view = next((t for t in instance.ready_tasks() if t.id == row.id), None)
    if view is None or not applies(instance.definition.process_id, row.bpmn_id, view.properties):
        return None
    facts = view.data.get("discretion_facts") or None
    found = assess(unit.core.settings.processes_dir, case.matter_code, facts, tier or view.data.get("discretion_tier"))
    return DecisionBand(found, tier_bands(unit.core.settings.processes_dir, case.matter_code, facts))

"""行政检查 (processes/administrative_inspection.bpmn) and the 双随机 draw function: every path, the
20-working-day publication limit (D6), and a draw that is a pure, reproducible function of its seed.

Due date by hand (time-limits.md §0, §2): inspected Monday 2026-03-02 → 20 working days: Monday
2026-03-30 (no holiday in March 2026)."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.clock import CHINA_TZ
from engine.inspection import pick
from engine.spiff import Definition
from tests.engine.conftest import PROCESSES, Case, library_definition

PROCESS_FILE = PROCESSES / "administrative_inspection.bpmn"
ORGANIZATION = {"type": "organization", "name": "广州某某餐饮有限公司", "credit_code": "91440101MA59XXXX1X"}


@pytest.fixture(scope="module")
def inspection_definition() -> Definition:
    return library_definition(PROCESS_FILE)


@pytest.fixture
def make(runtime, inspection_definition, clock, roundtrip) -> Callable[[], Case]:
    def start() -> Case:
        case = Case(runtime, inspection_definition, clock, roundtrip)
        return case.start({
            "case_id": 7, "case_number": "穗天市监检〔2026〕7号", "agency_name": "广州市天河区市场监督管理局",
            "clue_received_at": "2026-03-02T09:00:00+08:00", "opened_at": "2026-03-02T09:00:00+08:00",
            "party": ORGANIZATION, "matter": {"code": "440203001001", "name": "对食品经营者的监督检查", "legal_basis": "略",
                                              "category": "inspection"},
            "officer_ids": [1, 2],
        })
    return start


def plan(kind: str = "random") -> dict:
    form = {"inspection_kind": kind, "inspection_basis": "2026年食品经营者双随机抽查计划", "inspection_items": "进货查验记录、许可证公示",
            "planned_at": "2026-03-02T09:00:00+08:00"}
    if kind == "random":
        form["draw_reference"] = "抽取编号 1"
    if kind == "complaint":
        form["complaint_reference"] = "12315-2026-0001"
    return form


def record(violation: bool, **extra) -> dict:
    form = {"record_number": "穗天市监检记〔2026〕7号", "inspected_at": "2026-03-02T10:00:00+08:00", "place": "天河区某路1号",
            "officers_present": ["张明（44010600101）", "李华（44010600102）"], "enforcement_ids_shown": True, "party_present": True,
            "findings": "检查了进货查验记录。", "violation_found": violation, "party_signed": True}
    if violation:
        form["suspected_violation"] = "未建立进货查验记录制度"
    form.update(extra)
    return form


PUBLISH = {"published_at": "2026-03-10T10:00:00+08:00", "channel": "necips", "result_summary": "未发现问题。"}


def due_day(timer) -> str:
    local = timer.due_at.astimezone(CHINA_TZ)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    return local.date().isoformat()


@pytest.mark.parametrize("kind", ["routine", "special", "complaint", "random"])
def test_compliant_inspection_is_published(make, kind) -> None:
    case = make()
    case.complete("prepare_inspection", plan(kind))
    case.at("2026-03-02T11:00")
    case.complete("conduct_inspection", record(False))
    doc = case.documents["conduct_inspection"]
    assert "检查记录表" in doc and "未发现违法行为" in doc and "广州某某餐饮有限公司" in doc
    assert due_day(case.timer("timer_d6_publication")) == "2026-03-30"
    case.at("2026-03-10T10:00")
    case.complete("publish_result", PUBLISH)
    assert case.completed and case.data["outcome"] == "compliant"
    assert case.timer("timer_d6_publication").status == "met"


@pytest.mark.parametrize(("follow_up", "title"), [
    ("order_correction", "责令改正通知书"), ("order_and_file", "责令改正通知书"), ("file_case", "处理意见"), ("transfer", "处理意见"),
])
def test_violation_found_is_followed_up(make, follow_up, title) -> None:
    case = make()
    case.complete("prepare_inspection", plan())
    case.at("2026-03-02T11:00")
    case.complete("conduct_inspection", record(True, party_present=False, witness_name="物业王某", party_signed=False,
                                               refusal_note="当事人不在场"))
    case.at("2026-03-31T09:00")
    assert case.fire() == ["timer_d6_publication"]  # published late: recorded
    case.complete("publish_result", {**PUBLISH, "published_at": "2026-03-31T09:00:00+08:00", "result_summary": "发现问题，已责令改正。"})
    assert case.ready() == ["decide_follow_up"]
    case.complete("decide_follow_up", follow_up_form(follow_up))
    assert title in case.documents["decide_follow_up"]
    assert case.completed and case.data["outcome"] == "violation_found"
    assert case.timer("timer_d6_publication").status == "breached"


def follow_up_form(follow_up: str) -> dict:
    """The head's decision on what an inspection found (also completed through the API)."""
    form = {"follow_up": follow_up, "follow_up_opinion": "同意。"}
    if follow_up in ("order_correction", "order_and_file"):
        form.update(correction_order_number="穗天市监责改〔2026〕1号", correction_deadline="2026-04-15",
                    correction_requirements="建立并执行进货查验记录制度")
    if follow_up == "transfer":
        form["transfer_target"] = "广州市天河区卫生健康局"
    return form


def test_forms_mirror_the_law(make) -> None:
    case = make()
    assert case.form_errors("prepare_inspection", {**plan(), "draw_reference": ""})
    case.complete("prepare_inspection", plan())
    assert case.form_errors("conduct_inspection", record(False, officers_present=["张明"]))  # two officers
    assert case.form_errors("conduct_inspection", record(False, party_present=False))  # a witness
    assert case.form_errors("conduct_inspection", record(False, enforcement_ids_shown=False))


def test_the_draw_is_a_pure_function_of_the_seed() -> None:
    subjects, inspectors = list(range(1, 31)), [11, 12, 13, 14, 15]
    first = pick("5eed0001", subjects, inspectors, 5)
    assert first == pick("5eed0001", list(reversed(subjects)), list(reversed(inspectors)), 5)  # pool order is irrelevant
    assert first != pick("5eed0002", subjects, inspectors, 5)
    assert len({r["subject_id"] for r in first}) == 5 and all(r["subject_id"] in subjects for r in first)
    for r in first:
        assert len(set(r["officer_ids"])) == 2 and set(r["officer_ids"]) <= set(inspectors)
    # Pinned: the same seed must give the same draw on every machine and Python 3 release (SHA-512 seeding).
    assert pick("00000000", [1, 2, 3, 4], [7, 8, 9], 2) == [
        {"subject_id": 3, "officer_ids": [7, 9]}, {"subject_id": 4, "officer_ids": [7, 9]},
    ]

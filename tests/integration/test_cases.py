"""Opening cases through the engine (`engine.cases.open_case` in a unit of work of the acting user).

The rules: a catalogue matter the agency is competent for, a valid party, two or more certified
officers of the agency (行政处罚法第四十二条), an officer or agency head opening it. Case numbers are
`<机关简称>〔<年>〕<n>号`, gapless per agency and year: a refused opening consumes no number.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from engine import cases, tasks
from engine.accounts import principal_for_username
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core, Principal
from engine.demo import STEP_DATA
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.models import (
    Agency,
    AgencyMatter,
    AuditEvent,
    Case,
    CaseOfficer,
    CaseSequence,
    Matter,
    TaskRow,
    TimerRow,
    User,
)
from tests.conftest import START, empty_case_tables

PRICE_TAGS = "440201003001"
ORGANIZATION = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
PERSON = {"type": "person", "name": "王小明", "id_number": "11010519491231002x"}  # lower-case check character


def principal(core: Core, username: str) -> Principal:
    with core.unit() as unit:
        return principal_for_username(unit, username)


def ids(core: Core, *usernames: str) -> list[int]:
    with core.unit() as unit:
        found = dict(unit.session.execute(select(User.username, User.id).where(User.username.in_(usernames))).all())
    return [found[u] for u in usernames]


def open_as(core: Core, username: str, *, matter: str = PRICE_TAGS, party: Any = None, officers: Any = None,
            summary: str = "投诉：未明码标价") -> cases.CaseView:
    actor = principal(core, username)
    if officers is None:
        officers = ids(core, "officer1", "officer2") if actor.agency_path == principal(core, "officer1").agency_path \
            else ids(core, "officer3", "officer4")
    with core.unit(actor) as unit:
        opened = cases.open_case(unit, matter, ORGANIZATION if party is None else party, officers, summary)
        return cases.get_case(unit, opened.id)


def counts(core: Core) -> tuple[int, int, int, list[Any]]:
    with core.unit() as unit:
        s = unit.session
        return (
            s.scalar(select(func.count()).select_from(Case)),
            s.scalar(select(func.count()).select_from(AuditEvent)),
            s.scalar(select(func.count()).select_from(TaskRow)),
            s.execute(select(CaseSequence.agency_id, CaseSequence.year, CaseSequence.last_value)
                      .order_by(CaseSequence.agency_id, CaseSequence.year)).all(),
        )


# -- a case as opened ------------------------------------------------------------------------------------
def test_an_opened_case(core: Core) -> None:
    view = open_as(core, "officer1", party=PERSON, summary="  网店未公示营业执照信息  ")
    assert view.number == "穗天市监〔2026〕1号"
    assert view.status == "open" and view.outcome is None and view.closed_at is None
    assert view.opened_at == START
    assert view.matter.code == PRICE_TAGS and view.matter.process_id == "general_punishment"
    assert view.agency["abbreviation"] == "穗天市监"
    assert view.summary == "网店未公示营业执照信息"  # trimmed
    assert view.party["id_number"] == "11010519491231002X"  # normalised
    assert [o["username"] for o in view.officers] == ["officer1", "officer2"]
    assert [(t.bpmn_id, t.lane, t.state) for t in view.tasks] == [("verify_clue", "officer", "ready")]
    [timer] = view.timers
    assert timer.bpmn_id == "timer_p2_filing" and timer.status == "pending"
    officer1, officer2 = ids(core, "officer1", "officer2")
    with core.unit() as unit:
        [event] = unit.session.scalars(select(AuditEvent).where(AuditEvent.case_id == view.id))
        last_hash = unit.session.get(Case, view.id).last_audit_hash
    assert event.action == "case.opened" and event.actor_id == officer1
    assert event.detail["number"] == view.number
    assert sorted(event.detail["officers"]) == sorted([officer1, officer2])
    assert last_hash == event.hash


def test_an_agency_head_may_open_a_case(core: Core) -> None:
    assert open_as(core, "head1").number == "穗天市监〔2026〕1号"


@pytest.mark.parametrize("username", ["reviewer1", "supervisor1", "designer1", "admin"])
def test_other_roles_may_not_open_cases(core: Core, username: str) -> None:
    before = counts(core)
    with pytest.raises(Forbidden):
        open_as(core, username, officers=ids(core, "officer1", "officer2"))
    assert counts(core) == before


# -- numbering ---------------------------------------------------------------------------------------------
def test_case_numbers_are_gapless_per_agency(core: Core) -> None:
    numbers = [open_as(core, "officer1").number for _ in range(3)]
    assert numbers == ["穗天市监〔2026〕1号", "穗天市监〔2026〕2号", "穗天市监〔2026〕3号"]
    # 越秀 counts on its own.
    assert open_as(core, "officer3").number == "穗越市监〔2026〕1号"
    assert open_as(core, "officer1").number == "穗天市监〔2026〕4号"


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param({"party": {**ORGANIZATION, "credit_code": "91350100M000100Y44"}}, id="bad-party"),
        pytest.param({"matter": "000000000000"}, id="unknown-matter"),
        pytest.param({"officers": "only-one"}, id="one-officer"),
    ],
)
def test_a_refused_opening_in_between_does_not_consume_a_number(core: Core, refusal: dict[str, Any]) -> None:
    assert open_as(core, "officer1").number == "穗天市监〔2026〕1号"
    if refusal.get("officers") == "only-one":
        refusal = {"officers": ids(core, "officer1")}
    before = counts(core)
    with pytest.raises(InvalidInput):
        open_as(core, "officer1", **refusal)
    assert counts(core) == before
    assert open_as(core, "officer1").number == "穗天市监〔2026〕2号"
    assert open_as(core, "officer1").number == "穗天市监〔2026〕3号"


def test_a_failure_after_the_number_was_taken_rolls_it_back(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """The number is only used when the whole opening commits (the workflow fails to start here)."""
    assert open_as(core, "officer1").number == "穗天市监〔2026〕1号"
    before = counts(core)

    def broken_start(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("workflow could not start")

    monkeypatch.setattr(cases.instances, "start", broken_start)
    with pytest.raises(RuntimeError):
        open_as(core, "officer1")
    monkeypatch.undo()
    assert counts(core) == before
    assert open_as(core, "officer1").number == "穗天市监〔2026〕2号"


def test_numbering_starts_again_each_year(core: Core, clock: FrozenClock) -> None:
    assert open_as(core, "officer1").number == "穗天市监〔2026〕1号"
    assert open_as(core, "officer1").number == "穗天市监〔2026〕2号"
    # 2027-01-01 00:30 in Guangzhou is still 2026 in UTC: the Chinese calendar year counts.
    clock.set(datetime(2027, 1, 1, 0, 30, tzinfo=CHINA_TZ))
    assert open_as(core, "officer1").number == "穗天市监〔2027〕1号"
    with core.unit() as unit:
        rows = unit.session.execute(select(CaseSequence.year, CaseSequence.last_value).order_by(CaseSequence.year)).all()
    assert [tuple(r) for r in rows] == [(2026, 2), (2027, 1)]


def test_the_last_minutes_of_the_year_belong_to_that_year(core: Core, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 12, 31, 23, 59, tzinfo=CHINA_TZ))
    assert open_as(core, "officer1").number == "穗天市监〔2026〕1号"


# -- the matter --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["000000000000", "", None, 440201003001])
def test_unknown_matter(core: Core, code: Any) -> None:
    before = counts(core)
    with pytest.raises(InvalidInput) as info:
        open_as(core, "officer1", matter=code)
    assert [p.field for p in info.value.problems] == ["matter_code"]
    assert counts(core) == before


@pytest.fixture
def matter_without_competence(core: Core) -> Iterator[str]:
    """A catalogue matter no agency is competent for yet; 天河 gets it in one test. Removed afterwards."""
    code = "449999000002"
    with core.unit() as unit:
        unit.session.add(Matter(code=code, name="测试事项（无管辖）", category="punishment", legal_basis="测试依据",
                                penalty_basis=None, process_id="general_punishment", domain="测试"))
    yield code
    with core.unit() as unit:
        empty_case_tables(unit.session)
        unit.session.execute(delete(AgencyMatter).where(AgencyMatter.matter_code == code))
        unit.session.execute(delete(Matter).where(Matter.code == code))


def test_a_matter_outside_the_agencys_competence_is_forbidden(core: Core, matter_without_competence: str) -> None:
    before = counts(core)
    for username in ("officer1", "officer3"):
        with pytest.raises(Forbidden) as info:
            open_as(core, username, matter=matter_without_competence)
        assert matter_without_competence in info.value.detail
    assert counts(core) == before
    # Competence is per agency: give it to 天河 only.
    with core.unit() as unit:
        tianhe = unit.session.scalar(select(Agency.id).where(Agency.code == "GZ-TH-SJJ"))
        unit.session.add(AgencyMatter(agency_id=tianhe, matter_code=matter_without_competence))
    assert open_as(core, "officer1", matter=matter_without_competence).number == "穗天市监〔2026〕1号"
    with pytest.raises(Forbidden):
        open_as(core, "officer3", matter=matter_without_competence)


# -- the officers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "officers",
    [["officer1"], ["officer1", "officer1"], [], ["officer1", "officer3"], ["officer1", "reviewer1"],
     ["officer3", "officer4"]],
    ids=["one", "same-twice", "none", "other-agency", "not-an-officer", "both-of-other-agency"],
)
def test_two_certified_officers_of_the_agency_are_required(core: Core, officers: list[str]) -> None:
    before = counts(core)
    with pytest.raises(InvalidInput) as info:
        open_as(core, "officer1", officers=ids(core, *officers))
    assert {p.field for p in info.value.problems} == {"officer_ids"}
    assert counts(core) == before


def test_the_problem_names_the_officer_of_another_agency(core: Core) -> None:
    [officer3] = ids(core, "officer3")
    with pytest.raises(InvalidInput) as info:
        open_as(core, "officer1", officers=ids(core, "officer1", "officer3"))
    assert any(str(officer3) in p.message and "广州市天河区市场监督管理局" in p.message for p in info.value.problems)


@pytest.fixture
def certificate_of_officer2(core: Core) -> Iterator[Any]:
    """Set officer2's certificate end date for one test; restored afterwards."""
    with core.unit() as unit:
        original = unit.session.scalar(select(User.certificate_valid_until).where(User.username == "officer2"))

    def set_until(value: Any) -> None:
        with core.unit() as unit:
            unit.session.execute(update(User).where(User.username == "officer2").values(certificate_valid_until=value))

    yield set_until
    set_until(original)


def test_an_expired_certificate_does_not_count(core: Core, clock: FrozenClock, certificate_of_officer2: Any) -> None:
    certificate_of_officer2(START.date())
    assert open_as(core, "officer1").number == "穗天市监〔2026〕1号"  # valid through its last day
    clock.set(START + timedelta(days=1))
    before = counts(core)
    with pytest.raises(InvalidInput) as info:
        open_as(core, "officer1")
    assert [p.field for p in info.value.problems] == ["officer_ids"]
    assert "officer2" in info.value.problems[0].message
    assert counts(core) == before


def test_no_certificate_end_date_does_not_count(core: Core, certificate_of_officer2: Any) -> None:
    certificate_of_officer2(None)
    with pytest.raises(InvalidInput):
        open_as(core, "officer1")


def test_an_inactive_officer_does_not_count(core: Core) -> None:
    with core.unit() as unit:
        unit.session.execute(update(User).where(User.username == "officer2").values(active=False))
    try:
        with pytest.raises(InvalidInput) as info:
            open_as(core, "officer1")
        assert [p.field for p in info.value.problems] == ["officer_ids"]
    finally:
        with core.unit() as unit:
            unit.session.execute(update(User).where(User.username == "officer2").values(active=True))


# -- the party ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "party, field",
    [
        ({**PERSON, "id_number": "110105194912310021"}, "party.id_number"),
        ({**ORGANIZATION, "credit_code": "91350100M000100Y44"}, "party.credit_code"),
        ({**ORGANIZATION, "name": ""}, "party.name"),
        ({**ORGANIZATION, "type": "company"}, "party.type"),
        ([ORGANIZATION], "party"),
    ],
    ids=["id-number", "credit-code", "name", "type", "not-an-object"],
)
def test_invalid_party(core: Core, party: Any, field: str) -> None:
    before = counts(core)
    with pytest.raises(InvalidInput) as info:
        open_as(core, "officer1", party=party)
    assert field in {p.field for p in info.value.problems}
    assert counts(core) == before


def test_the_party_is_stored_cleaned(core: Core) -> None:
    view = open_as(core, "officer1", party={**ORGANIZATION, "name": "  示例公司  ", "credit_code": "91350100m000100y43",
                                             "address": "广州市天河区", "nested": {"drop": "me"}})
    assert view.party["name"] == "示例公司"
    assert view.party["credit_code"] == "91350100M000100Y43"
    assert view.party["address"] == "广州市天河区"
    assert "nested" not in view.party


# -- reading ----------------------------------------------------------------------------------------------
def test_cases_are_read_within_the_agency_tree(core: Core) -> None:
    tianhe = open_as(core, "officer1")
    yuexiu = open_as(core, "officer3")
    with core.unit(principal(core, "officer3")) as unit:
        with pytest.raises(Forbidden):
            cases.get_case(unit, tianhe.id)
        assert cases.get_case(unit, yuexiu.id).number == "穗越市监〔2026〕1号"
        assert [c["number"] for c in cases.list_cases(unit)[0]] == ["穗越市监〔2026〕1号"]
    with core.unit(principal(core, "supervisor1")) as unit:
        assert cases.get_case(unit, tianhe.id).id == tianhe.id
        items, total = cases.list_cases(unit)
        assert total == 2 and {c["number"] for c in items} == {tianhe.number, yuexiu.number}
    with core.unit(principal(core, "officer1")) as unit, pytest.raises(NotFound):
        cases.get_case(unit, 999_999)


def test_the_whole_city_but_not_another_city(core: Core) -> None:
    """The 广州市司法局 supervisor oversees 广州 (天河, 越秀); the provincial designer oversees nothing by role."""
    open_as(core, "officer1")
    with core.unit(principal(core, "designer1")) as unit:
        assert cases.list_cases(unit)[1] == 0


def test_assigned_officers_are_recorded(core: Core) -> None:
    view = open_as(core, "officer3")
    with core.unit() as unit:
        assigned = set(unit.session.scalars(select(CaseOfficer.user_id).where(CaseOfficer.case_id == view.id)))
    assert assigned == set(ids(core, "officer3", "officer4"))
    # And only they do the officer tasks of the case: officer1 of 天河 is refused.
    [task] = [t for t in view.tasks if t.bpmn_id == "verify_clue"]
    with core.unit(principal(core, "officer1")) as unit, pytest.raises(Forbidden):
        tasks.complete(unit, task.id, STEP_DATA["verify_clue"])
    with core.unit(principal(core, "officer4")) as unit:
        tasks.complete(unit, task.id, STEP_DATA["verify_clue"])
        after = cases.get_case(unit, view.id)
    assert [t.bpmn_id for t in after.tasks if t.state == "ready"] == ["approve_filing"]


def test_a_timer_row_for_each_armed_statutory_timer(core: Core) -> None:
    view = open_as(core, "officer1")
    with core.unit() as unit:
        rows = unit.session.scalars(select(TimerRow).where(TimerRow.case_id == view.id)).all()
    assert [(r.bpmn_id, r.status, r.limit_amount, r.limit_unit) for r in rows] == [
        ("timer_p2_filing", "waiting", 15, "working_days")
    ]

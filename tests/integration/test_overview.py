"""Deadline counts by agency for supervisors, rolled up the agency tree, within each user's scope."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import cases, overview
from engine.accounts import principal_for_username
from engine.clock import CHINA_TZ
from engine.core import Core
from engine.demo import open_demo_case
from engine.errors import Forbidden
from engine.models import Agency, User

PARTY = {"type": "person", "name": "王小明", "id_number": "11010519491231002X"}


def open_yuexiu_case(core: Core) -> int:
    with core.unit() as unit:
        actor = principal_for_username(unit, "officer3")
        ids = list(unit.session.scalars(select(User.id).where(User.username.in_(["officer3", "officer4"]))))
    with core.unit(actor) as unit:
        return cases.open_case(unit, "440201004001", PARTY, ids, "越秀区的线索").id


def agency_id(core: Core, code: str) -> int:
    with core.unit() as unit:
        return unit.session.scalar(select(Agency.id).where(Agency.code == code))


def board(core: Core, username: str, code: str | None = None) -> overview.DeadlineBoard:
    target = agency_id(core, code) if code else None
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, username)
        return overview.deadline_board(unit, target)


def counts(found: overview.DeadlineBoard) -> dict[str, tuple[int, int, int]]:
    return {c.agency.name: (c.overdue, c.due_soon, c.pending) for c in found.children}


def test_counts_roll_up_the_tree_and_follow_the_clock(core: Core) -> None:
    open_demo_case(core, "440201004001", PARTY, "天河区的线索")
    open_yuexiu_case(core)
    # Each case runs its filing period P2 (15 working days from 2026-03-02: ends 2026-03-23 24:00).
    start = board(core, "supervisor1")
    assert start.agency.name == "广州市人民政府" and start.ancestors == []
    assert (start.total.overdue, start.total.due_soon, start.total.pending) == (0, 0, 2)
    assert counts(start) == {"广州市司法局": (0, 0, 0), "广州市天河区人民政府": (0, 0, 1), "广州市越秀区人民政府": (0, 0, 1)}

    core.clock.set(datetime(2026, 3, 21, 9, 0, tzinfo=CHINA_TZ))
    soon = board(core, "supervisor1")
    assert (soon.total.overdue, soon.total.due_soon, soon.total.pending) == (0, 2, 2)

    core.clock.set(datetime(2026, 3, 24, 0, 0, 1, tzinfo=CHINA_TZ))  # no sweep ran: still overdue by the clock
    late = board(core, "supervisor1")
    assert (late.total.overdue, late.total.due_soon) == (2, 0)
    tianhe = board(core, "supervisor1", "GZ-TH")
    assert [a.name for a in tianhe.ancestors] == ["广州市人民政府"]
    assert counts(tianhe) == {"广州市天河区市场监督管理局": (1, 0, 0)}
    assert tianhe.children[0].agency.has_children is False

    tianhe_id = agency_id(core, "GZ-TH")
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "supervisor1")
        listed = overview.agency_timers(unit, tianhe_id)
    assert [(t.bpmn_id, t.status) for t in listed] == [("timer_p2_filing", "overdue")]


def test_officers_see_their_own_agency_only(core: Core) -> None:
    open_demo_case(core, "440201004001", PARTY, "天河区的线索")
    own = board(core, "officer3")
    assert own.agency.name == "广州市越秀区市场监督管理局" and own.children == []
    assert own.total.pending == 0
    with pytest.raises(Forbidden):
        board(core, "officer3", "GZ-TH-SJJ")
    other = agency_id(core, "GZ-TH-SJJ")
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "officer3")
        with pytest.raises(Forbidden):
            overview.agency_timers(unit, other)


def test_user_names(core: Core) -> None:
    with core.unit() as unit:
        ids = {u.id: u.name for u in unit.session.scalars(select(User).where(User.username.in_(["officer1", "head1"])))}
        assert overview.user_names(unit, set(ids)) == ids
        assert overview.user_names(unit, set()) == {}


def test_step_durations_average_the_completed_tasks(core: Core) -> None:
    from engine.demo import run_steps

    for days in (1, 3):
        case_id = open_demo_case(core, "440201004001", PARTY, "线索")
        core.clock.advance(days=days)
        run_steps(core, case_id, ["verify_clue"])
        core.clock.advance(hours=2)
        run_steps(core, case_id, ["approve_filing"])
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "supervisor1")
        found = {d.bpmn_id: d for d in overview.step_durations(unit, "general_punishment")}
    assert set(found) == {"verify_clue", "approve_filing"}
    assert found["verify_clue"].count == 2
    assert (found["verify_clue"].average_seconds, found["verify_clue"].longest_seconds) == (2 * 86400, 3 * 86400)
    assert found["approve_filing"].average_seconds == 2 * 3600
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "officer3")  # 越秀区: none of these cases
        assert overview.step_durations(unit, "general_punishment") == []


def test_nearest_running_deadline_of_each_case(core: Core) -> None:
    case_id = open_demo_case(core, "440201004001", PARTY, "线索")
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "officer1")
        found = overview.nearest_deadlines(unit, {case_id})
        assert found[case_id].bpmn_id == "timer_p2_filing" and found[case_id].status == "pending"
        assert overview.nearest_deadlines(unit, set()) == {}
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "officer3")
        assert overview.nearest_deadlines(unit, {case_id}) == {}


def test_indicators_count_cases_and_kept_limits(core: Core) -> None:
    from engine.demo import run_steps

    kept = open_demo_case(core, "440201004001", PARTY, "按期立案")
    run_steps(core, kept, ["verify_clue", "approve_filing"])  # the filing period P2 is met
    open_demo_case(core, "440201004001", PARTY, "超期未立案")
    core.clock.set(datetime(2026, 3, 24, 0, 0, 1, tzinfo=CHINA_TZ))  # the second case's P2 has passed
    tianhe = agency_id(core, "GZ-TH")
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "supervisor1")
        found = overview.indicators(unit, tianhe)
    assert (found.cases_open, found.cases_closed) == (2, 0)
    assert (found.limits_met, found.limits_breached) == (1, 0)
    assert found.limits_overdue == 1
    assert found.on_time_rate == 0.5
    with core.unit() as unit:
        unit.actor = principal_for_username(unit, "officer3")
        with pytest.raises(Forbidden):
            overview.indicators(unit, tianhe)

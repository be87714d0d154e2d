"""The timer process fires each timer when it falls due: it sleeps until the earliest waiting due instant
(or a failed case's next attempt), at most the poll interval, never spinning on what another process holds.
The frozen clock stands in for time: the loop's wait moves it instead of sleeping."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from engine.clock import CHINA_TZ
from engine.core import Core
from engine.demo import open_demo_case
from engine.models import ProcessInstance
from engine.supervision.models import TimerFiring
from engine.timers import MIN_WAIT_SECONDS, fire_on_time, run_due, seconds_until_due

PARTY = {"type": "person", "name": "王小明", "id_number": "11010519491231002X"}
P2_DUE = datetime(2026, 3, 23, 23, 59, 59, tzinfo=CHINA_TZ)  # P2: 15 working days from 2026-03-02


def lateness(core: Core) -> list[int]:
    with core.unit() as unit:
        return list(unit.session.scalars(select(TimerFiring.lateness_ms)))


def test_it_sleeps_until_the_next_timer_falls_due_at_most_the_poll_interval(core: Core) -> None:
    assert seconds_until_due(core, poll_seconds=2) == 2  # nothing waits
    open_demo_case(core, "440201004001", PARTY, "网店未公示执照")
    assert seconds_until_due(core, poll_seconds=2) == 2  # due in three weeks
    core.clock.set(P2_DUE - timedelta(seconds=0.25))
    assert seconds_until_due(core, poll_seconds=2) == 0.25
    core.clock.set(P2_DUE + timedelta(seconds=1))  # due and not fired (another process holds it, say)
    assert seconds_until_due(core, poll_seconds=2) == MIN_WAIT_SECONDS
    assert run_due(core) == 1
    assert seconds_until_due(core, poll_seconds=2) == 2


def test_a_backing_off_case_wakes_the_loop_at_its_next_attempt_not_before(core: Core) -> None:
    case_id = open_demo_case(core, "440201004001", PARTY, "坏案件")
    with core.unit() as unit:
        unit.session.execute(update(ProcessInstance).where(ProcessInstance.case_id == case_id).values(state={"broken": True}))
    core.clock.set(P2_DUE + timedelta(seconds=1))
    assert run_due(core) == 0  # failed: retried in a minute
    assert seconds_until_due(core, poll_seconds=300) == 60
    assert seconds_until_due(core, poll_seconds=2) == 2


def test_the_loop_fires_a_timer_at_its_due_instant(core: Core) -> None:
    open_demo_case(core, "440201004001", PARTY, "网店未公示执照")
    core.clock.set(P2_DUE - timedelta(seconds=4.5))
    waits: list[float] = []

    def wait(seconds: float) -> bool:  # what threading.Event.wait would do, on the frozen clock
        waits.append(seconds)
        core.clock.advance(seconds=seconds)
        return len(waits) == 5

    fire_on_time(core, poll_seconds=2, wait=wait)
    # Polled, then woke at the due instant. SpiffWorkflow fires a timer once now is *past* its due instant
    # (a real clock is, by microseconds, when the loop wakes; the frozen one stands exactly on it), so the
    # loop looked again MIN_WAIT_SECONDS later, fired, and slept the poll interval.
    assert waits == [2, 2, 0.5, MIN_WAIT_SECONDS, 2]
    assert lateness(core) == [int(MIN_WAIT_SECONDS * 1000)]

"""Every path of the general procedure (processes/general_punishment.bpmn, with hearing.bpmn and the clock
change branch) through the REST API, on SQLite and PostgreSQL, as the users of each lane would take it.

Each path is a table row: the steps (a task completed at a time, due timers fired after moving the frozen
clock, a clock change asked for) and what a user checks at the end: the tasks in the order they were done,
the case's status and outcome, the timers with their legal basis and last day, and the audit trail.
Due days are computed by hand from /work/shared/legal/time-limits.md (start day excluded; 2026 rest days
04-04..04-06 清明; calendar-day periods ending on a rest day move to the next working day).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.demo import LANE_USERS, STEP_DATA
from engine.timers import run_due

PARTY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43"}
DROP = object()  # an override that removes a key of STEP_DATA

# The form fields that carry the moment a step is done: set from the step's time, so the data agrees with the clock.
STAMPS = {
    "approve_filing": {"approval_date": "date"}, "investigate": {"investigation_ended_on": "date"},
    "prior_notice": {"served_at": "iso"}, "record_statement": {"response_submitted_on": "date"},
    "hearing_notice": {"hearing_notice_served_at": "iso"}, "hold_hearing": {"hearing_held_at": "iso"},
    "collective_discussion": {"discussion_held_at": "iso"}, "decide": {"decided_at": "iso"},
    "serve_decision": {"served_at": "iso"}, "record_payment": {"paid_at": "iso"}, "archive": {"archived_at": "iso"},
    "approve_clock_change": {"approval_date": "date"},
}
EXTRA_DATA: dict[str, dict[str, Any]] = {  # the hearing and major-case tasks the demo does not need
    "hearing_notice": {"hearing_notice_number": "穗天市监听〔2026〕1号", "hearing_date": "2026-03-25", "hearing_time": "09:30",
                       "hearing_place": "本局听证室", "hearing_public": True, "presiding_officer_name": "李四",
                       "presiding_officer_id": "reviewer1"},
    "hold_hearing": {"hearing_attendance": "attended", "hearing_report": "建议维持拟处罚意见。",
                     "hearing_record": "当事人陈述了整改情况，调查人员出示了证据。"},
    "legal_review": {"legal_review_result": "pass", "legal_review_opinion": "程序合法，适用依据正确。", "reviewer_qualified": True},
    "collective_discussion": {"participants": "王局长、赵副局长、钱副局长", "discussion_record": "一致同意拟处罚意见。",
                              "discussion_conclusion": "punish"},
    "approve_clock_change": {"clock_decision": "approve", "clock_opinion": "同意。"},
}


# The law each timer counts (processes/general_punishment.bpmn, legal/time-limits.md).
LEGAL_BASIS = {
    "timer_p2_filing": "市场监督管理行政处罚程序规定第十八条", "timer_p5_handling": "行政处罚法第六十条",
    "timer_p6_legal_review": "行政处罚法第五十八条", "timer_p7_statement": "市场监督管理行政处罚程序规定第五十七条第二款",
    "timer_p11_service": "行政处罚法第六十一条", "timer_p12_payment": "行政处罚法第六十七条第三款",
    "timer_p17_closure": "市场监督管理行政处罚程序规定第七十七条",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}").replace(tzinfo=CHINA_TZ)


def form(bpmn_id: str, when: datetime, overrides: dict[str, Any]) -> dict[str, Any]:
    data = {**STEP_DATA.get(bpmn_id, {}), **EXTRA_DATA.get(bpmn_id, {})}
    for key, kind in STAMPS.get(bpmn_id, {}).items():
        data[key] = when.date().isoformat() if kind == "date" else when.isoformat()
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not DROP}


# -- steps ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    when: str
    bpmn_id: str
    data: dict[str, Any] = field(default_factory=dict)
    again: bool = False  # the same task comes back (a refused hearing notice, an unpaid late fee)
    then: dict[str, Any] = field(default_factory=dict)  # what the next task shows its user (computed by the procedure)


@dataclass(frozen=True)
class Fire:
    when: str
    timers: dict[str, str]  # bpmn id -> its status once fired (an interrupting timer "fired", a reminder "overdue")
    then: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClockChange:
    when: str
    body: dict[str, Any]
    status: int


def task(when: str, bpmn_id: str, again: bool = False, then: dict[str, Any] | None = None, **data: Any) -> Task:
    return Task(when, bpmn_id, data, again, then or {})


FILE = [task("03-02T10:00", "verify_clue"), task("03-02T15:00", "approve_filing")]
PUNISH = [task("03-10T10:00", "investigate"), task("03-11T10:00", "case_review"), task("03-12T10:00", "prior_notice")]
DECIDE_AND_PAY = [task("03-20T10:00", "decide"), task("03-23T10:00", "serve_decision"),
                  task("03-30T10:00", "record_payment")]


def close(reason: str = "executed", when: str = "04-01T10:00") -> list[Task]:
    return [task(when, "close_case", closure_reason=reason), task(when, "approve_closure"), task(when, "archive")]


NOTHING_PROPOSED = {"proposed_penalties": [], "proposed_fine_amount": 0, "discretion_tier": DROP, "discretion_reasons": DROP}
NOTHING_DECIDED = {"penalties": [], "fine_amount": 0}
HEAVY = {"proposed_penalties": ["warning", "revoke_permit"], "proposed_fine_amount": 0}  # in the hearing scope
HEARING_REQUEST = {"statement_response": "hearing_request", "statement_summary": "当事人要求举行听证。",
                   "statement_review": DROP, "statement_adopted": DROP}


@dataclass(frozen=True)
class Path:
    steps: list[Task | Fire | ClockChange]
    decision: str | None  # what the agency decided (the decide task's data); None when never filed
    timers: dict[str, tuple[str, str]]  # bpmn id -> (status, last day) of its latest timer
    audit: tuple[str, ...] = ()  # actions the trail must hold besides the opening, the tasks and the closing


PATHS = {
    "not_filed": Path(
        [task("03-03T10:00", "verify_clue", suspected_violation=False, filing_recommendation="not_file",
              recommendation_reasons="违法行为轻微并已改正。"),
         task("03-04T10:00", "approve_filing", filing_decision="not_file", not_filing_ground="minor_corrected")],
        None, {"timer_p2_filing": ("met", "2026-03-23")}),
    "no_punishment": Path(
        [*FILE, task("03-10T10:00", "investigate", proposed_outcome="no_punish", no_punish_ground="first_minor",
                     **NOTHING_PROPOSED),
         task("03-11T10:00", "case_review"),
         task("03-12T10:00", "decide", decision="no_punish", **NOTHING_DECIDED),
         task("03-13T10:00", "serve_decision"), *close("not_punished")],
        "no_punish", {"timer_p5_handling": ("met", "2026-06-01"), "timer_p11_service": ("met", "2026-03-23"),
                      # closure counts from the decision not to punish: 15 working days after Thu 03-12
                      "timer_p17_closure": ("met", "2026-04-02")}),
    "transfer": Path(
        [*FILE, task("03-10T10:00", "investigate", proposed_outcome="transfer", transfer_target="广州市公安局",
                     transfer_reason="涉嫌犯罪。", **NOTHING_PROPOSED),
         task("03-11T10:00", "case_review"),
         task("03-12T10:00", "decide", decision="transfer", transfer_target="广州市公安局", **NOTHING_DECIDED),
         *close("transferred", "03-13T10:00")],
        "transfer", {"timer_p17_closure": ("met", "2026-04-02")}),
    "statement_adopted": Path(
        [*FILE, *PUNISH, task("03-13T10:00", "record_statement", statement_adopted=True), *DECIDE_AND_PAY, *close()],
        "punish", {"timer_p7_statement": ("met", "2026-03-19"), "timer_p12_payment": ("met", "2026-04-07"),
                   # 15 working days after Mon 03-30: 03-31..04-03 (4), 04-07..10 (8), 04-13..17 (13), 04-20, 21
                   "timer_p17_closure": ("met", "2026-04-21")}),
    "statement_waived_by_timer": Path(
        [*FILE, *PUNISH, Fire("03-20T08:00", {"timer_p7_statement": "fired"},
                              {"statement_waived": True, "hearing_requested": False}), *DECIDE_AND_PAY, *close()],
        "punish", {"timer_p7_statement": ("fired", "2026-03-19"), "timer_p11_service": ("met", "2026-03-31")}),
    "major_case": Path(
        [*FILE, task("03-10T10:00", "investigate", is_major=True), *PUNISH[1:],
         task("03-13T10:00", "record_statement"), task("03-16T10:00", "legal_review"),
         task("03-18T10:00", "collective_discussion"), *DECIDE_AND_PAY, *close()],
        # 10 working days after Fri 03-13 (the statement): 03-16..20 (5), 03-23..27 (10)
        "punish", {"timer_p6_legal_review": ("met", "2026-03-27"), "timer_p7_statement": ("met", "2026-03-19")}),
    "hearing_held": Path(
        [*FILE, task("03-10T10:00", "investigate", **HEAVY), *PUNISH[1:],
         task("03-13T10:00", "record_statement", **HEARING_REQUEST),
         # served Mon 03-16: the hearing may be held from the 7th working day after, Wed 03-25
         task("03-16T10:00", "hearing_notice", True, {"hearing_date_ok": False, "hearing_date_earliest": "2026-03-25"},
              hearing_date="2026-03-24"),
         task("03-16T10:00", "hearing_notice", True, {"presiding_officer_ok": False},
              presiding_officer_id="officer1"),  # an investigator of the case (行政处罚法第六十四条第四项)
         task("03-16T10:00", "hearing_notice"),
         task("03-25T15:00", "hold_hearing"), task("03-26T10:00", "legal_review"),
         task("03-27T10:00", "decide", penalties=["warning", "revoke_permit"], fine_amount=0),
         task("03-30T10:00", "serve_decision"), *close()],
        # 10 working days after Wed 03-25: 03-26, 27 (2), 03-30..04-03 (7), 04-07..09 (10).
        # P5: the hearing's days, after the request of Fri 03-13 up to the hearing on Wed 03-25 (12), do not
        # count (SAMR-Proc Art. 64): 90 + 12 days after the filing on 03-02 is Fri 06-12 (not 06-01).
        "punish", {"timer_p6_legal_review": ("met", "2026-04-09"), "timer_p7_statement": ("met", "2026-03-19"),
                   "timer_p5_handling": ("met", "2026-06-12")}, ("clock.changed", "timer.rescheduled")),
    "hearing_party_absent": Path(
        [*FILE, task("03-10T10:00", "investigate", **HEAVY), *PUNISH[1:],
         task("03-13T10:00", "record_statement", **HEARING_REQUEST), task("03-16T10:00", "hearing_notice"),
         task("03-25T10:00", "hold_hearing", then={"hearing_terminated": True, "hearing_held": False},
              hearing_attendance="absent_without_cause", hearing_record=DROP),
         task("03-26T10:00", "legal_review"),
         task("03-27T10:00", "decide", penalties=["warning", "revoke_permit"], fine_amount=0),
         task("03-30T10:00", "serve_decision"), *close()],
        "punish", {"timer_p6_legal_review": ("met", "2026-04-09")}),
    "hearing_already_excluded": Path(
        [*FILE, task("03-10T10:00", "investigate", **HEAVY), *PUNISH[1:],
         task("03-13T10:00", "record_statement", **HEARING_REQUEST), task("03-16T10:00", "hearing_notice"),
         ClockChange("03-20T10:00", {"kind": "exclude", "ground": "hearing", "from": "2026-03-13", "to": "2026-03-20",
                                     "reason": "听证准备期间。"}, 201),
         task("03-20T11:00", "approve_clock_change"),
         task("03-25T15:00", "hold_hearing"), task("03-26T10:00", "legal_review"),
         task("03-27T10:00", "decide", penalties=["warning", "revoke_permit"], fine_amount=0),
         task("03-30T10:00", "serve_decision"), *close()],
        # the officer's approved exclusion (7 days) overlaps the hearing's own period, which is then not applied
        # (recorded); 90 + 7 days after 03-02 is Sun 06-07, the next working day Mon 06-08
        "punish", {"timer_p5_handling": ("met", "2026-06-08")}, ("clock.changed", "clock.exclusion_not_applied")),
    "payment_late_with_late_fee": Path(
        [*FILE, *PUNISH, task("03-13T10:00", "record_statement"), *DECIDE_AND_PAY[:2],
         Fire("04-08T09:00", {"timer_p12_payment": "overdue"}),
         # 3 days late (04-08..04-10) x 3 % x 2,000 yuan = 180.00: the first payment leaves the late fee owed
         task("04-10T10:00", "record_payment", True, {"late_fee_amount": "180.00", "payment_complete": False}),
         task("04-10T10:00", "record_payment", then={"late_fee_amount": "180.00", "payment_complete": True},
              late_fee_paid=180),
         *close(when="04-13T10:00")],
        "punish", {"timer_p12_payment": ("breached", "2026-04-07")}),
    "clock_extension": Path(
        [*FILE,
         ClockChange("03-05T10:00", {"kind": "extend", "amount": 31, "reason": "案情复杂。"}, 422),
         ClockChange("03-05T10:00", {"kind": "extend", "amount": 30, "reason": "案情复杂。"}, 201),
         task("03-05T11:00", "approve_clock_change"),
         *PUNISH, task("03-13T10:00", "record_statement"), *DECIDE_AND_PAY, *close()],
        # 90 + 30 days after 2026-03-02: 06-30, a Tuesday
        "punish", {"timer_p5_handling": ("met", "2026-06-30")}, ("clock.change_requested", "clock.changed")),
}


# -- running a path ------------------------------------------------------------------------------
def local_day(iso: str | None) -> str | None:
    return None if iso is None else datetime.fromisoformat(iso).astimezone(CHINA_TZ).date().isoformat()


def ready(user: Any, case_id: int) -> list[dict[str, Any]]:
    return user.get(f"/api/v1/tasks?case_id={case_id}&state=ready").get_json()["items"]


def run(step: Task | Fire | ClockChange, case_id: int, login: Any, core: Core, clock: FrozenClock) -> None:
    when = at(step.when)
    clock.set(when)
    officer = login("officer1")
    if isinstance(step, Fire):
        assert run_due(core) == len(step.timers)
        assert run_due(core) == 0, "each timer fires once"
        timers = {t["bpmn_id"]: t["status"] for t in officer.get(f"/api/v1/cases/{case_id}").get_json()["timers"]}
        assert {k: timers[k] for k in step.timers} == step.timers
        shows(officer, case_id, step.then)
    elif isinstance(step, ClockChange):
        before = officer.get(f"/api/v1/cases/{case_id}").get_json()
        response = officer.post(f"/api/v1/cases/{case_id}/clock-changes", json=step.body)
        assert response.status_code == step.status, response.get_json()
        if step.status == 422:
            problem = response.get_json()
            assert response.mimetype == "application/problem+json" and problem["errors"][0]["field"] == "amount"
            assert "第六十四条" in problem["detail"]
            assert officer.get(f"/api/v1/cases/{case_id}").get_json() == before, "a refused change changes nothing"
    else:
        waiting = ready(officer, case_id)
        names = [t["bpmn_id"] for t in waiting]
        # the clock change approval runs beside the procedure; otherwise one task at a time
        assert step.bpmn_id in names and len(set(names) - {"approve_clock_change"}) <= 1, names
        user = login(LANE_USERS[next(t["lane"] for t in waiting if t["bpmn_id"] == step.bpmn_id)])
        response = user.post(f"/api/v1/tasks/{user.ready(case_id, step.bpmn_id)['id']}/complete",
                             json={"data": form(step.bpmn_id, when, step.data)})
        assert response.status_code == 200, response.get_json().get("errors")
        still = [t["bpmn_id"] for t in ready(officer, case_id)]
        assert (step.bpmn_id in still) == step.again, f"{step.bpmn_id} ready again: {still}"
        shows(user, case_id, step.then)


def shows(user: Any, case_id: int, expected: dict[str, Any]) -> None:
    """The procedure's next task (beside a clock change approval) shows its user what the procedure computed."""
    if not expected:
        return
    (waiting,) = [t for t in ready(user, case_id) if t["bpmn_id"] != "approve_clock_change"]
    data = user.get(f"/api/v1/tasks/{waiting['id']}").get_json()["data"]
    assert {k: data.get(k) for k in expected} == expected, waiting["bpmn_id"]


@pytest.mark.parametrize("name", list(PATHS))
def test_every_path_through_the_api(name: str, login: Any, core: Core, clock: FrozenClock) -> None:
    path = PATHS[name]
    officer = login("officer1")
    ids = [o["id"] for o in officer.get("/api/v1/officers").get_json()["items"] if o["username"] in ("officer1", "officer2")]
    opened = officer.post("/api/v1/cases", json={"matter_code": "440201003001", "party": PARTY, "officer_ids": ids,
                                                 "summary": "投诉：未明码标价"})
    assert opened.status_code == 201, opened.get_json()
    case_id = opened.get_json()["id"]
    for step in path.steps:
        run(step, case_id, login, core, clock)

    case = officer.get(f"/api/v1/cases/{case_id}").get_json()
    assert (case["status"], case["outcome"]) == ("closed", "not_filed" if path.decision is None else "filed")
    assert not [t for t in case["tasks"] if t["state"] == "ready"]
    done = [s.bpmn_id for s in path.steps if isinstance(s, Task)]
    assert sorted(t["bpmn_id"] for t in case["tasks"] if t["state"] == "completed") == sorted(done)

    latest = {t["bpmn_id"]: t for t in case["timers"]}
    for bpmn_id, (status, day) in path.timers.items():
        timer = latest[bpmn_id]
        assert (timer["status"], local_day(timer["due_at"])) == (status, day), bpmn_id
        assert timer["due_at"].endswith("15:59:59+00:00"), "a day period ends at 24:00 Beijing time"
        assert timer["legal_basis"].startswith(LEGAL_BASIS[bpmn_id]), bpmn_id
    assert all(t["legal_basis"] and "第" in t["legal_basis"] for t in case["timers"]), "every timer cites its law"
    assert {t["status"] for t in case["timers"]} <= {"met", "fired", "breached"}, "nothing left running"

    audit = officer.get(f"/api/v1/cases/{case_id}/audit").get_json()["items"]
    actions = [e["action"] for e in audit]
    assert actions[0] == "case.opened" and actions[-1] == "case.closed"
    assert [e["detail"]["bpmn_id"] for e in audit if e["action"] == "task.completed"] == done, "in this order"
    assert set(path.audit) <= set(actions)
    decided = [e["detail"]["data"] for e in audit if e["action"] == "task.completed" and e["detail"]["bpmn_id"] == "decide"]
    assert [d["decision"] for d in decided[-1:]] == ([path.decision] if path.decision else [])
    assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(audit)), "the trail is one hash chain"

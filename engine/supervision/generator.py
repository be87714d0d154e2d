"""`zhifa bench generate --cases N`: a provincial-scale database for the supervision benchmarks.

Guangdong's shape: the province, 21 cities, 120 counties, 1,600 townships; each city and county with its
government, market-supervision bureau (enforcement) and judicial bureau (supervision); each township an
enforcement office. Two certified officers per enforcement agency, competent for the whole catalogue; a
supervisor per judicial bureau (and `gen-sup-province` at the province's 司法厅).

Cases are written as their projections only (case, officers, one user task, the P2 filing timer, and the
P5 handling timer once filed), reproducibly from a seed: about 70 % open (opened in the last 100 days before
the clock; about 30 % of their deadlines overdue-and-fired), 30 % closed (in the last year; deadlines met). They have no
workflow state: the database is for the supervision queries, not for driving cases (their waiting timers
all fall due after the clock, and the sweep is not meant to run on it).
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from engine.accounts import hash_password
from engine.core import Core
from engine.models import (
    Agency,
    AgencyMatter,
    Case,
    CaseOfficer,
    Matter,
    ProcessDefinition,
    TaskRow,
    TimerRow,
    User,
)
from engine.seed import seed_demo
from engine.supervision import overdue
from engine.supervision.kinds import SUPERVISION_CATEGORY

CITIES, COUNTIES, TOWNSHIPS = 21, 120, 1600
STAGES = [("verify_clue", "核查线索"), ("approve_filing", "立案审批"), ("investigate", "调查取证"), ("case_review", "案件审核"),
          ("prior_notice", "行政处罚告知"), ("decide", "作出决定"), ("serve_decision", "送达决定书")]
P2 = ("timer_p2_filing", "P2 立案期限（15个工作日）", "市场监督管理行政处罚程序规定第十八条", 15, "working_days", 21)
P5 = ("timer_p5_handling", "P5 办案期限（90日）", "行政处罚法第六十条；市场监督管理行政处罚程序规定第六十四条", 90, "calendar_days", 90)


@dataclass(frozen=True)
class Generated:
    agencies: int
    officers: int
    cases: int
    timers: int


def generate(core: Core, cases: int, *, seed: int = 2026, password: str = "bench-password", batch: int = 5000) -> Generated:
    seed_demo(core, password)
    enforcement, officers = _tree(core, password)
    with core.unit() as unit:
        definition = unit.session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.process_id == "general_punishment"))
        matters = list(unit.session.scalars(select(Matter.code).where(Matter.category != SUPERVISION_CATEGORY).order_by(Matter.code)))
        next_id = (unit.session.scalar(select(func.max(Case.id))) or 0) + 1
        opener = unit.session.scalar(select(User.id).order_by(User.id))
    rng = random.Random(f"{seed}:{next_id}")  # the same seed into the same database writes the same cases
    now = core.clock.now()
    made = timers = 0
    while made < cases:
        size = min(batch, cases - made)
        rows: dict[str, list[dict[str, Any]]] = {"cases": [], "officers": [], "tasks": [], "timers": []}
        for i in range(size):
            agency = rng.choice(enforcement)
            _case(rows, rng, next_id + made + i, agency, officers[agency[0]] or [opener], definition, rng.choice(matters), now)
        with core.unit() as unit:
            s = unit.session
            s.execute(insert(Case), rows["cases"])
            s.execute(insert(CaseOfficer), rows["officers"])
            s.execute(insert(TaskRow), rows["tasks"])
            s.execute(insert(TimerRow), rows["timers"])
        made += size
        timers += len(rows["timers"])
    overdue.compact(core)  # the triggers on timers appended a delta per overdue timer: fold them in
    with core.unit() as unit:
        if unit.session.bind.dialect.name == "postgresql":
            unit.session.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"))
    if core.db.engine.dialect.name == "postgresql":
        with core.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")  # as autovacuum would: index-only scans need it
    return Generated(len(enforcement), sum(len(v) for v in officers.values()), made, timers)


def _case(rows: dict[str, list[dict[str, Any]]], rng: random.Random, case_id: int, agency: tuple[int, str],
          officer_ids: list[int], definition: int, matter: str, now: datetime) -> None:
    agency_id, abbreviation = agency
    closed = rng.random() < 0.3
    opened = now - timedelta(days=rng.uniform(0, 365 if closed else 100))
    rows["cases"].append({
        "id": case_id, "number": f"{abbreviation}〔生成〕{case_id}号", "agency_id": agency_id, "matter_code": matter,
        "definition_id": definition, "party": {"type": "organization", "name": f"生成企业{case_id}"}, "summary": "生成案件",
        "status": "closed" if closed else "open", "outcome": "executed" if closed else None, "opened_at": opened,
        "opened_by": officer_ids[0], "closed_at": opened + timedelta(days=rng.uniform(20, 120)) if closed else None,
        "updated_at": opened, "revision": 1, "last_audit_hash": "0" * 64,
    })
    rows["officers"].extend({"case_id": case_id, "user_id": u} for u in officer_ids[:2])
    stage = 0 if closed else rng.randrange(len(STAGES))
    timer = P2 if stage < 2 else P5
    bpmn_id, name, basis, amount, unit_name, days = timer
    due = opened + timedelta(days=days)
    if closed:
        status = "met"
    elif due <= now:
        status = "overdue"  # fired while the work is still open: the red ones
    else:
        status = "waiting"
    rows["timers"].append({
        "id": str(uuid.UUID(int=rng.getrandbits(128))), "case_id": case_id, "agency_id": agency_id, "bpmn_id": bpmn_id,
        "name": name, "task_name": STAGES[stage][1], "kind": "deadline", "legal_basis": basis, "limit_amount": amount,
        "limit_unit": unit_name, "started_at": opened.isoformat(), "due_at": due, "status": status, "interrupting": False,
        "provisional": False,
    })
    bpmn, task_name = STAGES[stage if not closed else len(STAGES) - 1]
    rows["tasks"].append({
        "id": str(uuid.UUID(int=rng.getrandbits(128))), "case_id": case_id, "agency_id": agency_id, "bpmn_id": bpmn,
        "name": task_name, "lane": "officer", "state": "completed" if closed else "ready", "form": None,
        "claimed_by": None, "completed_by": officer_ids[0] if closed else None, "created_at": opened,
        "completed_at": opened + timedelta(days=10) if closed else None, "due_at": None if closed else due,
    })


def _tree(core: Core, password: str) -> tuple[list[tuple[int, str]], dict[int, list[int]]]:
    """The agency tree, officers and supervisors, once; returns the enforcement agencies and their officers."""
    with core.unit() as unit:
        s = unit.session
        if s.scalar(select(Agency.id).where(Agency.code == "GEN-C01")) is None:
            _build_tree(unit, password)
        enforcement = [(a, b) for a, b in s.execute(
            select(Agency.id, Agency.abbreviation).where(Agency.code.like("GEN-%"), Agency.kind == "enforcement").order_by(Agency.id)
        )]
        officers: dict[int, list[int]] = {a: [] for a, _ in enforcement}
        for user_id, agency_id in s.execute(select(User.id, User.agency_id).where(User.username.like("gen-off-%")).order_by(User.id)):
            officers.setdefault(agency_id, []).append(user_id)
    return enforcement, officers


def _build_tree(unit: Any, password: str) -> None:
    s = unit.session
    province = s.scalar(select(Agency).where(Agency.code == "GD"))
    counties_of = _spread(COUNTIES, CITIES)
    townships_of = _spread(TOWNSHIPS, COUNTIES)

    def add(level: list[tuple[str, str, str, str, str, Agency]]) -> list[Agency]:
        made = [Agency(code=c, name=n, abbreviation=a, level=lv, kind=k, parent_id=p.id, path="") for c, n, a, lv, k, p in level]
        s.add_all(made)
        s.flush()
        parents = {id(m): p for m, (*_, p) in zip(made, level, strict=True)}
        for m in made:
            m.path = f"{parents[id(m)].path}{m.id}/"
        s.flush()
        return made

    cities = add([(f"GEN-C{c:02}", f"生成市{c:02}人民政府", f"生{c:02}", "city", "government", province) for c in range(1, CITIES + 1)])
    add([(f"{g.code}-{suffix}", f"{g.name[:-4]}{name}", f"{g.abbreviation}{short}", "city", kind, g)
         for g in cities for suffix, name, short, kind in (("SJJ", "市场监督管理局", "市监", "enforcement"), ("SFJ", "司法局", "司", "supervision"))])
    county_rows = []
    for g, n in zip(cities, counties_of, strict=True):
        county_rows += [(f"{g.code}-X{x:02}", f"{g.name[:-4]}{x:02}区人民政府", f"{g.abbreviation}{x:02}", "county", "government", g) for x in range(1, n + 1)]
    counties = add(county_rows)
    add([(f"{g.code}-{suffix}", f"{g.name[:-6]}{name}", f"{g.abbreviation}{short}", "county", kind, g)
         for g in counties for suffix, name, short, kind in (("SJJ", "市场监督管理局", "市监", "enforcement"), ("SFJ", "司法局", "司", "supervision"))])
    township_rows = []
    for g, n in zip(counties, townships_of, strict=True):
        township_rows += [(f"{g.code}-T{t:02}", f"{g.name[:-6]}{t:02}街道综合行政执法办公室", f"{g.abbreviation}{t:02}执", "township", "enforcement", g)
                          for t in range(1, n + 1)]
    add(township_rows)
    hashed = hash_password(password)
    valid = (unit.now + timedelta(days=3 * 365)).date()
    agencies = list(s.execute(select(Agency.id, Agency.code, Agency.kind).where(Agency.code.like("GEN-%"))))
    users = []
    for agency_id, code, kind in agencies:
        if kind == "enforcement":
            users += [{"username": f"gen-off-{code}-{k}", "name": f"执法员{code[-3:]}{k}", "agency_id": agency_id, "password_hash": hashed,
                       "roles": ["officer"], "certificate_no": f"粤执G{agency_id:05}{k}", "certificate_valid_until": valid, "active": True}
                      for k in (1, 2)]
        elif kind == "supervision":
            users.append({"username": f"gen-sup-{code}", "name": f"监督员{code}", "agency_id": agency_id, "password_hash": hashed,
                          "roles": ["supervisor"], "certificate_no": None, "certificate_valid_until": None, "active": True})
    province_sft = s.scalar(select(Agency.id).where(Agency.code == "GD-SFT"))
    users.append({"username": "gen-sup-province", "name": "省监督员", "agency_id": province_sft, "password_hash": hashed,
                  "roles": ["supervisor"], "certificate_no": None, "certificate_valid_until": None, "active": True})
    s.execute(insert(User), users)
    matters = list(s.scalars(select(Matter.code).where(Matter.category != SUPERVISION_CATEGORY)))
    s.execute(insert(AgencyMatter), [{"agency_id": a, "matter_code": m} for a, _, k in agencies if k == "enforcement" for m in matters])


def _spread(total: int, over: int) -> list[int]:
    """`total` split over `over` parts as evenly as possible, larger parts first."""
    base, extra = divmod(total, over)
    return [base + (1 if i < extra else 0) for i in range(over)]

"""Helpers for the publicity tests: cases decided through the general procedure, or scheduled directly."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine import cases
from engine.accounts import principal_for_username
from engine.core import Core
from engine.demo import TO_DECISION, run_steps
from engine.models import Case, User
from engine.publicity import publications

PERSON = {"type": "person", "name": "王小明", "id_number": "11010519491231002X", "phone": "13800138000",
          "address": "广州市天河区体育西路1号"}
COMPANY = {"type": "organization", "name": "广州市天河区示例便利店有限公司", "credit_code": "91350100M000100Y43",
           "address": "广州市天河区天河路2号", "legal_representative": "李大华"}
PRICE_TAGS = "440201003001"


def open_case(core: Core, party: dict[str, Any], matter: str = PRICE_TAGS, officer: str = "officer1",
              colleague: str = "officer2") -> int:
    with core.unit() as unit:
        actor = principal_for_username(unit, officer)
        ids = list(unit.session.scalars(select(User.id).where(User.username.in_([officer, colleague]))))
    with core.unit(actor) as unit:
        return cases.open_case(unit, matter, party, ids, "投诉：商品未明码标价").id


def decided_case(core: Core, party: dict[str, Any], decide: dict[str, Any] | None = None) -> int:
    """A case of the 天河 agency taken through the general procedure up to its decision."""
    case_id = open_case(core, party)
    run_steps(core, case_id, TO_DECISION, {"decide": decide or {}})
    return case_id


def schedule(core: Core, case_id: int, decision: dict[str, Any]) -> int | None:
    with core.unit() as unit:
        case = unit.session.get(Case, case_id)
        row = publications.schedule_decision(unit, case, decision)
        return row.id if row is not None else None

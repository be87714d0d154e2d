"""The enforcement catalogue (执法事项目录) and each agency's competence."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select

from engine.core import Unit
from engine.errors import Forbidden, InvalidInput, Problem
from engine.models import Agency, AgencyMatter, Matter
from engine.supervision.kinds import SUPERVISION_CATEGORY


@dataclass(frozen=True)
class MatterView:
    code: str
    name: str
    category: str
    legal_basis: str
    penalty_basis: str | None
    process_id: str
    domain: str


def list_matters(unit: Unit, *, competent_only: bool = True) -> list[MatterView]:
    query = select(Matter).where(Matter.category != SUPERVISION_CATEGORY).order_by(Matter.code)
    if competent_only and not unit.actor.has_role("supervisor", "admin", "process_designer"):
        query = query.join(AgencyMatter, AgencyMatter.matter_code == Matter.code).where(
            AgencyMatter.agency_id == unit.actor.agency_id
        )
    return [_view(m) for m in unit.session.scalars(query)]


def competent_matter(unit: Unit, agency: Agency | None, code: str) -> MatterView:
    """The matter, checked against the agency's competence when an agency is given."""
    matter = unit.session.get(Matter, code) if isinstance(code, str) else None
    competent = agency is None or matter is None or unit.session.get(AgencyMatter, (agency.id, code)) is not None
    return checked_matter(agency, code, matter, competent)


def competence_clause(agency_id: Any, code: Any) -> Any:
    """SQL: whether the agency is competent for the matter (for callers that fold it into a query)."""
    return exists().where(AgencyMatter.agency_id == agency_id, AgencyMatter.matter_code == code)


def checked_matter(agency: Any, code: Any, matter: Any, competent: bool) -> MatterView:
    """`matter` is a Matter row or anything with its attributes; `agency` anything with a name."""
    if matter is None:
        raise InvalidInput(f"unknown matter {code!r}", [Problem("not in the enforcement catalogue", field="matter_code")])
    if agency is not None and not competent:
        raise Forbidden(f"{agency.name} is not competent for matter {code} ({matter.name})")
    return _view(matter)


def _view(m: Matter) -> MatterView:
    return MatterView(m.code, m.name, m.category, m.legal_basis, m.penalty_basis, m.process_id, m.domain)

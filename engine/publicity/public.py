"""What the public reads without logging in: published decisions (search), enforcement subjects, the
officer roster, the catalogue with legal basis and time limits, annual statistics per agency.

Every query here reads only `publications` rows whose status is `published` (and not past their
end) and the public catalogue and roster data; `public_item` is the only shape a decision leaves in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import extract, func, or_, select, text

from engine import definitions
from engine.accounts import has_valid_certificate
from engine.clock import CHINA_TZ
from engine.core import Unit
from engine.errors import InvalidInput, NotFound, Problem
from engine.models import Agency, AgencyMatter, Matter, User
from engine.parties import valid_credit_code
from engine.publicity.models import SQLITE_FTS_TABLE, Publication
from engine.supervision.kinds import SUPERVISION_CATEGORY
from engine.xmlsafe import parse_xml

PUBLIC_FIELDS = ("number", "agency", "party_name", "credit_code", "matter", "decision", "decided_at", "published_at")
DOMAIN_LABELS = {"market_supervision": "市场监督管理"}
_CODE = re.compile(r"[A-Za-z0-9-]{1,40}")
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def public_item(row: Publication) -> dict[str, Any]:
    """The public shape of a published decision: the listed fields and nothing else."""
    return {
        "number": row.number, "agency": row.agency_name, "party_name": row.party_name, "credit_code": row.credit_code,
        "matter": row.matter_name, "decision": row.decision,
        "decided_at": row.decided_at.astimezone(CHINA_TZ).date().isoformat(),
        "published_at": row.published_at.astimezone(CHINA_TZ).date().isoformat() if row.published_at else None,
    }


def _published(unit: Unit) -> list[Any]:
    return [Publication.status == "published", or_(Publication.expires_at.is_(None), Publication.expires_at > unit.now)]


@dataclass(frozen=True)
class DecisionQuery:
    q: str | None = None
    credit_code: str | None = None
    region: str | None = None
    matter: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    per_page: int = 20


def decision_query(args: dict[str, str | None]) -> DecisionQuery:
    """Check the search parameters (strings as they came); every problem names its parameter."""
    problems: list[Problem] = []
    q = (args.get("q") or "").strip() or None
    if q is not None and len(q) > 100:
        problems.append(Problem("at most 100 characters", field="q"))
    code = (args.get("credit_code") or "").strip().upper() or None
    if code is not None and not valid_credit_code(code):
        problems.append(Problem("not a valid 18-character unified social credit code", field="credit_code"))
    region, matter = (args.get("region") or None), (args.get("matter") or None)
    for name, value in (("region", region), ("matter", matter)):
        if value is not None and not _CODE.fullmatch(value):
            problems.append(Problem("a code of 1 to 40 letters, digits or hyphens", field=name))
    dates = {name: _date(args.get(name), name, problems) for name in ("from", "to")}
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        problems.append(Problem("must not be after 'to'", field="from"))
    page = _int(args.get("page"), "page", 1, 1, 1000, problems)
    per_page = _int(args.get("per_page"), "per_page", 20, 1, 100, problems)
    if problems:
        raise InvalidInput("the search parameters are not acceptable", problems)
    return DecisionQuery(q, code, region, matter, dates["from"], dates["to"], page, per_page)


def search_decisions(unit: Unit, query: DecisionQuery) -> tuple[list[dict[str, Any]], int]:
    rows, total = search_publications(unit, query)
    return [public_item(r) for r in rows], total


def search_publications(unit: Unit, query: DecisionQuery) -> tuple[list[Publication], int]:
    """The published rows matching `query` (the pages link each to its page; only `public_item` is shown)."""
    stmt = select(Publication).where(*_published(unit))
    if query.q:
        stmt = stmt.where(_text_match(unit, query.q))
    if query.credit_code:
        stmt = stmt.where(Publication.credit_code == query.credit_code)
    if query.region:
        stmt = stmt.where(Publication.region_path.contains(f"/{query.region.upper()}/", autoescape=True))
    if query.matter:
        stmt = stmt.where(Publication.matter_code == query.matter)
    if query.date_from:
        stmt = stmt.where(Publication.decided_at >= datetime.combine(query.date_from, time.min, CHINA_TZ))
    if query.date_to:
        stmt = stmt.where(Publication.decided_at <= datetime.combine(query.date_to, time.max, CHINA_TZ))
    total = unit.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = unit.session.scalars(
        stmt.order_by(Publication.published_at.desc(), Publication.id.desc())
        .offset((query.page - 1) * query.per_page).limit(query.per_page)
    )
    return list(rows), total


def decision_page(unit: Unit, publication_id: int) -> dict[str, Any]:
    """One publication as the public sees it: `{"decision": public_item}` while it is published, or
    `{"withdrawal": {number, agency, withdrawn_on, notice}}` (APL Art. 48(2): the reason is made public)
    while a withdrawn record's publicity period lasts. Anything else (scheduled, not published,
    cancelled, expired, unknown) is not found, alike."""
    row = unit.session.get(Publication, publication_id)
    live = row is not None and (row.expires_at is None or row.expires_at > unit.now)
    if live and row.status == "published":
        return {"decision": public_item(row)}
    if live and row.status == "withdrawn" and row.withdrawn_at is not None:
        return {"withdrawal": {
            "number": row.number, "agency": row.agency_name,
            "withdrawn_on": row.withdrawn_at.astimezone(CHINA_TZ).date().isoformat(),
            "notice": row.withdrawal_notice or "该行政处罚决定信息已依法撤回。",
        }}
    raise NotFound(f"no published decision {publication_id}")


def _text_match(unit: Unit, q: str) -> Any:
    """Chinese substring match over the masked public text: pg_trgm (GIN) on PostgreSQL, FTS5 trigram on
    SQLite (which needs three characters; shorter terms scan the column)."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if unit.session.bind.dialect.name == "postgresql":
        return Publication.search_text.ilike(pattern, escape="\\")
    if len(q) < 3:
        return Publication.search_text.like(pattern, escape="\\")
    fts = text(f"SELECT rowid FROM {SQLITE_FTS_TABLE} WHERE search_text LIKE :pattern ESCAPE '\\'").bindparams(pattern=pattern)
    return Publication.id.in_(fts)


def feed_entries(unit: Unit, *, region: str | None = None, matter: str | None = None, credit_code: str | None = None,
                 limit: int = 50) -> list[Publication]:
    """Newest published decisions for an Atom feed (callers render only `public_item` of each)."""
    query = decision_query({"region": region, "matter": matter, "credit_code": credit_code, "per_page": str(limit)})
    stmt = select(Publication).where(*_published(unit))
    if query.region:
        stmt = stmt.where(Publication.region_path.contains(f"/{query.region.upper()}/", autoescape=True))
    if query.matter:
        stmt = stmt.where(Publication.matter_code == query.matter)
    if query.credit_code:
        stmt = stmt.where(Publication.credit_code == query.credit_code)
    return list(unit.session.scalars(stmt.order_by(Publication.published_at.desc(), Publication.id.desc()).limit(limit)))


def subjects(unit: Unit) -> list[dict[str, Any]]:
    """Enforcement subjects (执法主体) with the matters they are competent for (their powers)."""
    agencies = unit.session.scalars(select(Agency).where(Agency.kind == "enforcement").order_by(Agency.code)).all()
    parents = {a.id: a.name for a in unit.session.scalars(select(Agency).where(Agency.id.in_([a.parent_id for a in agencies if a.parent_id])))}
    powers: dict[int, list[dict[str, str]]] = {}
    for agency_id, code, name, category in unit.session.execute(
        select(AgencyMatter.agency_id, Matter.code, Matter.name, Matter.category)
        .join(Matter, Matter.code == AgencyMatter.matter_code).order_by(Matter.code)
    ):
        powers.setdefault(agency_id, []).append({"code": code, "name": name, "category": category})
    return [
        {"code": a.code, "name": a.name, "level": a.level, "government": parents.get(a.parent_id), "matters": powers.get(a.id, [])}
        for a in agencies
    ]


def roster(unit: Unit, agency_code: str | None = None) -> list[dict[str, Any]]:
    """Certified officers: name, certificate number, agency, scope — nothing else about them."""
    today = unit.now.astimezone(CHINA_TZ).date()
    stmt = select(User, Agency).join(Agency, Agency.id == User.agency_id).where(User.active.is_(True))
    if agency_code:
        stmt = stmt.where(Agency.code == agency_code)
    domains: dict[int, set[str]] = {}
    for agency_id, domain in unit.session.execute(
        select(AgencyMatter.agency_id, Matter.domain).join(Matter, Matter.code == AgencyMatter.matter_code).distinct()
    ):
        domains.setdefault(agency_id, set()).add(DOMAIN_LABELS.get(domain, domain))
    return [
        {"name": u.name, "certificate_no": u.certificate_no, "agency": a.name, "scope": "、".join(sorted(domains.get(a.id, set())))}
        for u, a in unit.session.execute(stmt.order_by(Agency.code, User.certificate_no))
        if "officer" in u.roles and has_valid_certificate(u, today)
    ]


def catalogue(unit: Unit) -> list[dict[str, Any]]:
    """The catalogue of matters, each with its legal basis, procedure and the procedure's time limits."""
    limits: dict[str, list[dict[str, str]]] = {}
    out = []
    for m in unit.session.scalars(select(Matter).where(Matter.category != SUPERVISION_CATEGORY).order_by(Matter.code)):
        if m.process_id not in limits:
            limits[m.process_id] = procedure_time_limits(unit, m.process_id)
        out.append({
            "code": m.code, "name": m.name, "category": m.category, "domain": DOMAIN_LABELS.get(m.domain, m.domain),
            "legal_basis": m.legal_basis, "penalty_basis": m.penalty_basis, "procedure": m.process_id,
            "time_limits": limits[m.process_id],
        })
    return out


def procedure_diagram(unit: Unit, process_id: str) -> bytes:
    """The BPMN (with its diagram) of the newest deployed version of a procedure, read-only."""
    if not _CODE.fullmatch(process_id.replace("_", "-")):
        raise NotFound(f"no procedure {process_id}")
    try:
        row = definitions.latest_executable(unit, process_id)
    except InvalidInput:  # no deployed version: for the public, there is no such procedure
        raise NotFound(f"no procedure {process_id}") from None
    return definitions.main_xml(unit, row.id)[1]


def procedure_time_limits(unit: Unit, process_id: str) -> list[dict[str, str]]:
    """The statutory timers of the procedure's newest version: name, limit and legal basis."""
    try:
        xml = procedure_diagram(unit, process_id)
    except NotFound:
        return []
    tree = parse_xml(xml, f"{process_id}.bpmn")
    found = []
    for event in tree.iter(f"{{{BPMN_NS}}}boundaryEvent", f"{{{BPMN_NS}}}intermediateCatchEvent"):
        props = {p.get("name"): p.get("value") for p in event.iter(f"{{{SPIFF_NS}}}property")}
        if props.get("legal_basis"):
            found.append({"name": event.get("name") or event.get("id"), "limit": props.get("limit") or "",
                          "legal_basis": props["legal_basis"]})
    return found


def statistics(unit: Unit, year: Any) -> list[dict[str, Any]]:
    """Per agency, for decisions taken in `year`: how many were published, withdrawn, and their fines."""
    problems: list[Problem] = []
    y = _int(year, "year", unit.now.astimezone(CHINA_TZ).year, 2000, 2100, problems)
    if problems:
        raise InvalidInput("year out of range", problems)
    year_of = extract("year", Publication.decided_at)
    rows = unit.session.execute(
        select(Publication.agency_name, Publication.status, func.count(), func.coalesce(func.sum(Publication.fine_amount), 0))
        .where(Publication.published_at.is_not(None), year_of == y)
        .group_by(Publication.agency_name, Publication.status)
    ).all()
    per: dict[str, dict[str, Any]] = {}
    for agency, status, count, fines in rows:
        item = per.setdefault(agency, {"agency": agency, "year": y, "published": 0, "withdrawn": 0, "fines_total": 0.0})
        item["published"] += count
        if status == "withdrawn":
            item["withdrawn"] += count
        else:
            item["fines_total"] += float(fines)
    return sorted(per.values(), key=lambda i: i["agency"])


def _date(value: str | None, name: str, problems: list[Problem]) -> date | None:
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        problems.append(Problem("a date YYYY-MM-DD", field=name))
        return None
    if not 2000 <= parsed.year <= 2100:
        problems.append(Problem("between 2000 and 2100", field=name))
        return None
    return parsed


def _int(value: Any, name: str, default: int, low: int, high: int, problems: list[Problem]) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        problems.append(Problem("an integer", field=name))
        return default
    if not low <= number <= high:
        problems.append(Problem(f"between {low} and {high}", field=name))
    return number


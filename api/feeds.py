"""Atom feeds (RFC 4287) of published decisions: all, per region, per matter, per party credit code.

    /feeds/decisions.atom
    /feeds/regions/<region code>.atom      e.g. /feeds/regions/GZ-TH.atom
    /feeds/matters/<matter code>.atom
    /feeds/credit-codes/<credit code>.atom

Each entry carries only the public fields of a decision (engine.publicity.public.public_item).
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request
from lxml import etree

from engine.errors import ZhifaError
from engine.publicity import public

from . import problems
from .context import unit

ATOM = "http://www.w3.org/2005/Atom"
bp = Blueprint("feeds", __name__, url_prefix="/feeds")


@bp.errorhandler(ZhifaError)
def _problem(exc: ZhifaError) -> tuple[Response, int]:
    status = problems.status_of(exc)
    body = problems.body(status, exc.title, exc.detail, [p.as_dict() for p in exc.problems])
    return current_app.json.response(body), status


@bp.get("/decisions.atom")
def all_decisions() -> Response:
    return _feed("行政处罚决定公示", "decisions")


@bp.get("/regions/<code>.atom")
def by_region(code: str) -> Response:
    return _feed(f"行政处罚决定公示 · 地区 {code}", f"regions/{code}", region=code)


@bp.get("/matters/<code>.atom")
def by_matter(code: str) -> Response:
    return _feed(f"行政处罚决定公示 · 事项 {code}", f"matters/{code}", matter=code)


@bp.get("/credit-codes/<code>.atom")
def by_credit_code(code: str) -> Response:
    return _feed(f"行政处罚决定公示 · {code}", f"credit-codes/{code}", credit_code=code)


def _feed(title: str, path: str, **filters: str) -> Response:
    with unit(authenticated=False) as u:
        rows = public.feed_entries(u, **filters)
        now = u.now
    base = request.host_url.rstrip("/")
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _sub(feed, "id", f"{base}/feeds/{path}.atom")
    _sub(feed, "title", title)
    _sub(feed, "updated", _stamp(max((r.published_at for r in rows if r.published_at), default=now)))
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base}/feeds/{path}.atom")
    author = _sub(feed, "author")
    _sub(author, "name", "广东省行政执法信息平台")
    for row in rows:
        item = public.public_item(row)
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:zhifa:decision:{row.id}")
        _sub(entry, "title", f"{item['number']} {item['party_name']}")
        _sub(entry, "updated", _stamp(row.published_at or now))
        _sub(entry, "published", _stamp(row.published_at or now))
        summary = (f"{item['agency']}：{item['party_name']}"
                   + (f"（统一社会信用代码 {item['credit_code']}）" if item["credit_code"] else "")
                   + f"，{item['matter']}。{item['decision']} 决定日期 {item['decided_at']}。")
        _sub(entry, "summary", summary)
        etree.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=f"{base}/public/decisions/{row.id}")
    body = etree.tostring(feed, xml_declaration=True, encoding="utf-8")
    return Response(body, mimetype="application/atom+xml")


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

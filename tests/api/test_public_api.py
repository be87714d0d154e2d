"""The public API without login: decision search (Chinese partial match on both databases), subjects,
roster, catalogue, statistics, feeds, caching, rate limit, verification, and clear 4xx for bad input.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select, update

from api import create_app
from engine.accounts import principal_for_username
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.documents import service as documents
from engine.documents.models import DocumentContent
from engine.models import Agency, AgencyMatter
from engine.publicity import sweep
from engine.publicity.public import PUBLIC_FIELDS
from tests.api.test_documents_api import INQUIRY
from tests.support.publicity import COMPANY, PERSON, decided_case, open_case, schedule

OTHER = {"type": "organization", "name": "广州示例化妆品有限公司", "credit_code": "91440101MA5CXXQ00X"}


@pytest.fixture
def published(core: Core, clock: FrozenClock) -> dict[str, int]:
    """A natural person's and an organisation's decisions published, a third still scheduled."""
    person, company = decided_case(core, PERSON), decided_case(core, COMPANY, {"decision_document_number": "穗天市监罚〔2026〕2号"})
    sweep(core)
    pending = open_case(core, OTHER)
    schedule(core, pending, {"decision_document_number": "穗天市监罚〔2026〕3号", "decided_at": "2026-03-02T10:00:00+08:00",
                             "penalties": ["fine"], "fine_amount": 500, "confiscation_value": 0})
    return {"person": person, "company": company, "pending": pending}


def search(http: Any, **params: str) -> dict[str, Any]:
    response = http.get("/api/v1/public/decisions", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_published_decisions_without_login(http: Any, published: dict[str, int]) -> None:
    body = search(http)
    assert body["total"] == 2
    assert all(set(item) == set(PUBLIC_FIELDS) for item in body["items"])
    by_name = {i["party_name"]: i for i in body["items"]}
    assert set(by_name) == {"王某某", "广州市天河区示例便利店有限公司"}
    assert by_name["王某某"]["credit_code"] is None
    assert by_name["广州市天河区示例便利店有限公司"]["credit_code"] == "91350100M000100Y43"
    assert by_name["王某某"]["decided_at"] == "2026-03-20" and by_name["王某某"]["agency"] == "广州市天河区市场监督管理局"


@pytest.mark.parametrize("q, found", [
    ("示例便利", {"穗天市监罚〔2026〕2号"}),  # part of a name, 4 characters
    ("便利", {"穗天市监罚〔2026〕2号"}),  # two characters: below the trigram length
    ("王某某", {"穗天市监罚〔2026〕1号"}),
    ("王小明", set()),  # the real name of a natural person is not searchable
    ("11010519491231002X", set()),
    ("明码标价", {"穗天市监罚〔2026〕1号", "穗天市监罚〔2026〕2号"}),  # the matter
    ("化妆品", set()),  # scheduled, not yet published
    ("100%", set()),
])
def test_search_finds_a_party_by_part_of_its_name(http: Any, published: dict[str, int], q: str, found: set[str]) -> None:
    assert {i["number"] for i in search(http, q=q)["items"]} == found


def test_filters(http: Any, published: dict[str, int]) -> None:
    assert search(http, credit_code="91350100M000100Y43")["total"] == 1
    assert search(http, region="GZ-TH")["total"] == 2 and search(http, region="GZ")["total"] == 2
    assert search(http, region="GZ-YX")["total"] == 0
    assert search(http, matter="440201003001")["total"] == 2 and search(http, matter="440201002001")["total"] == 0
    assert search(http, **{"from": "2026-03-20", "to": "2026-03-20"})["total"] == 2
    assert search(http, **{"from": "2026-03-21"})["total"] == 0
    assert search(http, per_page="1", page="2")["items"][0]["number"] in {"穗天市监罚〔2026〕1号", "穗天市监罚〔2026〕2号"}


@pytest.mark.parametrize("params, field", [
    ({"credit_code": "123"}, "credit_code"),
    ({"from": "2026-13-01"}, "from"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
    ({"to": "1900-01-01"}, "to"),
    ({"page": "0"}, "page"),
    ({"per_page": "1000"}, "per_page"),
    ({"page": "x"}, "page"),
    ({"region": "天河; drop"}, "region"),
    ({"q": "字" * 101}, "q"),
])
def test_bad_search_parameters_are_422_naming_the_parameter(http: Any, params: dict[str, str], field: str) -> None:
    response = http.get("/api/v1/public/decisions", query_string=params)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in [e.get("field") for e in response.get_json()["errors"]]


def test_answers_are_cacheable_with_an_etag(http: Any, published: dict[str, int]) -> None:
    first = http.get("/api/v1/public/decisions")
    assert first.headers["Cache-Control"] == "public, max-age=60" and first.headers["ETag"]
    again = http.get("/api/v1/public/decisions", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_too_many_requests_is_429_until_the_next_minute(core: Core, clock: FrozenClock) -> None:
    http = create_app(Core(replace(core.settings, public_rate_per_minute=3), clock=clock, db=core.db)).test_client()
    clock.set(datetime(2026, 3, 2, 9, 0, 5, tzinfo=CHINA_TZ))
    assert [http.get("/api/v1/public/subjects").status_code for _ in range(3)] == [200, 200, 200]
    blocked = http.get("/api/v1/public/decisions")
    assert blocked.status_code == 429 and blocked.mimetype == "application/problem+json"
    assert blocked.headers["Retry-After"] == "55"
    assert http.get("/feeds/decisions.atom").status_code == 429
    assert http.get("/api/v1/health").status_code != 429  # the limit is for the public surface
    other = http.get("/api/v1/public/subjects", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200
    clock.set(datetime(2026, 3, 2, 9, 1, 0, tzinfo=CHINA_TZ))
    assert http.get("/api/v1/public/subjects").status_code == 200


def test_subjects_roster_catalogue(http: Any, core: Core) -> None:
    subjects = http.get("/api/v1/public/subjects").get_json()["items"]
    tianhe = next(s for s in subjects if s["code"] == "GZ-TH-SJJ")
    with core.unit() as unit:  # every matter of the catalogue the bureau is competent for
        competent = set(unit.session.scalars(
            select(AgencyMatter.matter_code).join(Agency, Agency.id == AgencyMatter.agency_id).where(Agency.code == "GZ-TH-SJJ")
        ))
    assert tianhe["government"] == "广州市天河区人民政府" and {m["code"] for m in tianhe["matters"]} == competent
    assert {s["code"] for s in subjects} == {"GZ-TH-SJJ", "GZ-YX-SJJ"}
    roster = http.get("/api/v1/public/officers").get_json()["items"]
    assert {"name": "张明", "certificate_no": "粤执44010600101", "agency": "广州市天河区市场监督管理局", "scope": "市场监督管理"} in roster
    assert all(set(o) == {"name", "certificate_no", "agency", "scope"} for o in roster) and len(roster) == 4
    assert len(http.get("/api/v1/public/officers?agency=GZ-YX-SJJ").get_json()["items"]) == 2
    catalogue = http.get("/api/v1/public/catalogue").get_json()["items"]
    price = next(m for m in catalogue if m["code"] == "440201003001")
    assert price["legal_basis"].startswith("《中华人民共和国价格法》")
    limits = {t["name"]: t for t in price["time_limits"]}
    assert limits["P2 立案期限（15个工作日）"]["legal_basis"] == "市场监督管理行政处罚程序规定第十八条"
    assert limits["P2 立案期限（15个工作日）"]["limit"] == "15 working_days"
    diagram = http.get("/api/v1/public/procedures/general_punishment")
    assert diagram.status_code == 200 and b"BPMNDiagram" in diagram.data
    assert http.get("/api/v1/public/procedures/nothing_here").status_code == 404


def test_annual_statistics_per_agency(http: Any, published: dict[str, int]) -> None:
    [row] = http.get("/api/v1/public/statistics?year=2026").get_json()["items"]
    assert row == {"agency": "广州市天河区市场监督管理局", "year": 2026, "published": 2, "withdrawn": 0, "fines_total": 4000.0}
    assert http.get("/api/v1/public/statistics?year=2025").get_json()["items"] == []
    assert http.get("/api/v1/public/statistics?year=1800").status_code == 422


ATOM = "{http://www.w3.org/2005/Atom}"


def feed(http: Any, path: str) -> etree._Element:
    response = http.get(path)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    return etree.fromstring(response.data)


def test_atom_feeds_per_region_matter_and_credit_code(http: Any, published: dict[str, int]) -> None:
    assert len(feed(http, "/feeds/decisions.atom").findall(f"{ATOM}entry")) == 2
    assert len(feed(http, "/feeds/regions/GZ-TH.atom").findall(f"{ATOM}entry")) == 2
    assert len(feed(http, "/feeds/regions/GZ-YX.atom").findall(f"{ATOM}entry")) == 0
    assert len(feed(http, "/feeds/matters/440201003001.atom").findall(f"{ATOM}entry")) == 2
    [entry] = feed(http, "/feeds/credit-codes/91350100M000100Y43.atom").findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "穗天市监罚〔2026〕2号 广州市天河区示例便利店有限公司"
    text = etree.tostring(feed(http, "/feeds/decisions.atom"), encoding="unicode")
    assert "王某某" in text and "王小明" not in text and "11010519491231002X" not in text
    bad = http.get("/feeds/credit-codes/nonsense.atom")
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"


def test_document_verification(http: Any, core: Core) -> None:
    """A document's code (printed on each page) tells the public its number, kind, agency and date, and
    whether the stored PDF still has the hash recorded at issue; never the party."""
    assert http.get("/api/v1/public/documents/ABCD1234EF").status_code == 404
    assert http.get("/api/v1/public/documents/%3Cscript%3E").status_code == 422
    case_id = open_case(core, COMPANY)
    with core.unit() as unit:
        officer = principal_for_username(unit, "officer1")
    with core.unit(officer) as unit:
        doc = documents.issue(unit, case_id, template="inquiry_record", data=INQUIRY)

    response = http.get(f"/api/v1/public/documents/{doc.verification_code}")
    assert response.get_json() == {
        "code": doc.verification_code, "number": doc.number, "kind": doc.title, "agency": "广州市天河区市场监督管理局",
        "issued_on": doc.issued_at.astimezone(CHINA_TZ).date().isoformat(), "hash_matches": True,
    }
    assert COMPANY["name"] not in response.get_data(as_text=True)
    typed = doc.verification_code.replace("-", "").lower()  # as a person types it
    assert http.get(f"/api/v1/public/documents/{typed}").get_json()["number"] == doc.number

    with core.db.transaction() as session:  # a changed byte in storage, behind the application's back
        content = DocumentContent.__table__
        pdf = session.execute(select(content.c.pdf).where(content.c.document_id == doc.id)).scalar_one()
        session.execute(update(content).where(content.c.document_id == doc.id).values(pdf=pdf[:-1] + b"!"))
    assert http.get(f"/api/v1/public/documents/{doc.verification_code}").get_json()["hash_matches"] is False

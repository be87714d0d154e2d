"""Property: over generated cases (natural persons with ID numbers, phones and addresses; organisations with
credit codes; every publication state), no public endpoint returns an unpublished record, an internal field,
an unmasked name, an ID number, a phone number or an address.
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api import create_app
from engine.accounts import principal_for_username
from engine.clock import FrozenClock
from engine.core import Core
from engine.models import Case
from engine.parties import _ID_CHECK, _ID_WEIGHTS, _USCC_ALPHABET, _USCC_WEIGHTS
from engine.publicity import publications, sweep
from engine.publicity.models import Publication
from engine.publicity.public import PUBLIC_FIELDS
from tests.conftest import START
from tests.support.publicity import open_case

SURNAMES = ["王", "李", "赵", "钱", "欧阳", "司马", "诸葛"]
GIVEN = "娜婷宇浩轩梓涵睿瑶琪"  # none of these is in an agency, matter or legal text of the seed
ORG_WORDS = ["星辰", "远航", "瑞丰", "嘉禾", "鼎盛"]
ACTIONS = ["leave_scheduled", "publish", "withdraw", "cancel", "expire", "warning_only"]
PUBLIC_URLS = [
    "/api/v1/public/decisions", "/api/v1/public/decisions?per_page=100", "/api/v1/public/statistics?year=2026",
    "/api/v1/public/subjects", "/api/v1/public/officers", "/api/v1/public/catalogue", "/feeds/decisions.atom",
    "/feeds/regions/GZ-TH.atom", "/feeds/matters/440201003001.atom",
    # the public pages (api/web/views/public.py) call the same services
    "/public", "/public/decisions", "/public/subjects", "/public/officers", "/public/catalogue", "/public/statistics",
    "/public/feeds", "/public/benchmarks",
]
_numbers = itertools.count(1000)


def id_number(digits: str) -> str:
    total = sum(int(d) * w for d, w in zip(digits, _ID_WEIGHTS, strict=True))
    return digits + _ID_CHECK[total % 11]


def credit_code(body: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_ALPHABET[(31 - total % 31) % 31]


phones = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
persons = st.builds(
    lambda surname, given, digits, phone, road: {
        "type": "person", "name": surname + given, "id_number": id_number(digits), "phone": phone,
        "address": f"广州市天河区{road}路{len(road)}号",
    },
    st.sampled_from(SURNAMES), st.text(GIVEN, min_size=1, max_size=2), st.from_regex(r"[1-6][0-9]{16}", fullmatch=True),
    phones, st.text("梧桐凤凰", min_size=2, max_size=3),
)
organisations = st.builds(
    lambda word, body, phone, with_phone, rep: {
        "type": "organization", "name": f"广州市{word}商贸有限公司" + (phone if with_phone else ""),
        "credit_code": credit_code(body), "phone": phone, "legal_representative": rep, "address": "广州市越秀区梧桐路8号",
    },
    st.sampled_from(ORG_WORDS), st.text(_USCC_ALPHABET, min_size=17, max_size=17).map(lambda b: "91" + b[2:]),
    phones, st.booleans(), st.sampled_from(["王娜婷", "李梓涵"]),
)
decisions = st.fixed_dictionaries({
    "penalties": st.lists(st.sampled_from(["fine", "confiscate", "revoke_permit", "circulate_criticism"]), min_size=1, max_size=3, unique=True),
    "fine_amount": st.integers(0, 200_000),
    "confiscation_value": st.integers(0, 50_000),
})


def _secrets(party: dict[str, Any]) -> list[str]:
    found = [party[k] for k in ("id_number", "phone", "address", "legal_representative") if party.get(k)]
    if party["type"] == "person":
        found.append(party["name"])
    return found


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(party=st.one_of(persons, organisations), decision=decisions, action=st.sampled_from(ACTIONS), complainant=persons)
def test_no_public_endpoint_leaks(
    core: Core, clock: FrozenClock, party: dict[str, Any], decision: dict[str, Any], action: str, complainant: dict[str, Any]
) -> None:
    clock.set(START)
    http = create_app(Core(replace(core.settings, public_rate_per_minute=10**9), clock=clock, db=core.db)).test_client()
    case_id = open_case(core, party)
    number = f"穗天市监罚〔2026〕{next(_numbers)}号"
    data = {**decision, "decision_document_number": number, "decided_at": "2026-03-02T08:00:00+08:00"}
    if action == "warning_only":
        data.update(penalties=["warning"], fine_amount=0)
    with core.unit() as unit:
        row = publications.schedule_decision(unit, unit.session.get(Case, case_id), data)
        publication_id = row.id
    if action != "leave_scheduled":
        _drive(core, clock, publication_id, action)

    lodged = http.post("/api/v1/public/complaints", json={
        "kind": "violation", "agency": "GZ-TH-SJJ", "subject": "某商户", "content": "商品未标明价格，请依法查处。",
        "complainant_name": complainant["name"], "complainant_phone": complainant["phone"],
    })
    assert lodged.status_code == 201
    texts = {url: http.get(url) for url in PUBLIC_URLS}
    texts["complaint"] = http.get(f"/api/v1/public/complaints/{lodged.get_json()['tracking_code']}")
    texts["complaint page"] = http.get(f"/public/complaints/{lodged.get_json()['tracking_code']}")
    texts[f"page q={party['name']}"] = http.get("/public/decisions", query_string={"q": party["name"][:1]})
    page = http.get(f"/public/decisions/{publication_id}")  # the publication's own page: shown only when public
    assert page.status_code == {"publish": 200, "withdraw": 200}.get(action, 404), (action, page.status_code)
    texts["publication page"] = page if page.status_code == 200 else http.get("/public")
    texts[f"q={party['name']}"] = http.get("/api/v1/public/decisions", query_string={"q": party["name"]})
    texts["q=id"] = http.get("/api/v1/public/decisions", query_string={"q": party.get("id_number") or party["credit_code"]})
    for url, response in texts.items():
        assert response.status_code == 200, (url, response.status_code)
        body = response.get_data(as_text=True)
        if url.startswith("page q="):  # the query typed is echoed in the search field; the results must not match it
            body = body.split('id="result-count"', 1)[-1]
        for secret in [*_secrets(party), complainant["name"], complainant["phone"]]:
            assert secret not in body, (url, secret)

    with core.unit() as unit:
        visible = set(unit.session.scalars(select(Publication.number).where(
            Publication.status == "published", Publication.expires_at > unit.now)))
    listing = texts["/api/v1/public/decisions?per_page=100"].get_json()
    assert set(listing) == {"items", "total", "page", "per_page"}
    assert all(set(item) == set(PUBLIC_FIELDS) for item in listing["items"])
    assert {i["number"] for i in listing["items"]} == visible and listing["total"] == len(visible)
    assert (number in visible) == (action == "publish")
    assert texts["/feeds/decisions.atom"].get_data(as_text=True).count("<entry>") == len(visible)
    if party["type"] == "person" and action == "publish":
        [item] = [i for i in listing["items"] if i["number"] == number]
        assert item["party_name"].endswith("某某") and item["credit_code"] is None
    for item in texts[f"q={party['name']}"].get_json()["items"]:
        assert item["number"] in visible
    listed_page = texts["/public/decisions"].get_data(as_text=True)
    assert (number in listed_page) == (action == "publish")
    if action == "withdraw":  # the notice of the withdrawal, never the decision
        notice = texts["publication page"].get_data(as_text=True)
        assert "撤回" in notice and "罚款人民币" not in notice


def _drive(core: Core, clock: FrozenClock, publication_id: int, action: str) -> None:
    if action in ("publish", "withdraw", "expire"):
        clock.advance(hours=2)
        sweep(core)
    if action in ("withdraw", "cancel"):
        with core.unit() as unit:
            head = principal_for_username(unit, "head1")
        with core.unit(head) as unit:
            publications.withdraw(unit, publication_id, "决定已撤销")
    if action == "expire":
        clock.advance(days=3 * 366 + 10)
        sweep(core)
        clock.set(START + timedelta(hours=2))

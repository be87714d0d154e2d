"""Webhooks for enterprises, delivered to a real HTTP server on 127.0.0.1: HMAC-signed payloads with only the
public fields, retries with backoff on failure, a delivery log, and the subscription's filters.
"""
from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import pytest

from engine.accounts import principal_for_username
from engine.clock import FrozenClock
from engine.core import Core
from engine.errors import Forbidden, InvalidInput
from engine.publicity import publications, sweep, webhooks
from engine.publicity.public import PUBLIC_FIELDS
from tests.support.publicity import COMPANY, decided_case


class Receiver:
    """A local HTTP server that records each POST and answers with the next scripted status."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def core(core: Core) -> Core:
    """The receivers here listen on 127.0.0.1: allow delivering to a private address (off by default)."""
    return Core(replace(core.settings, webhook_allow_private=True), clock=core.clock, db=core.db)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def subscribe(core: Core, url: str, **filters: Any) -> webhooks.CreatedSubscription:
    with core.unit() as unit:
        admin = principal_for_username(unit, "admin")
    with core.unit(admin) as unit:
        return webhooks.subscribe(unit, "示例便利店", url, **filters)


def deliveries(core: Core, subscription_id: int) -> list[webhooks.DeliveryView]:
    with core.unit() as unit:
        admin = principal_for_username(unit, "admin")
    with core.unit(admin) as unit:
        return webhooks.list_deliveries(unit, subscription_id)


def test_a_publication_is_delivered_signed_with_public_fields_only(core: Core, receiver: Receiver) -> None:
    created = subscribe(core, receiver.url, credit_code="91350100M000100Y43")
    other = subscribe(core, receiver.url, credit_code="91440101MA5CXXQ00X")
    decided_case(core, COMPANY)
    assert sweep(core) == (1, 1)
    [got] = receiver.received
    headers, body = got["headers"], got["body"]
    assert headers["X-Zhifa-Signature"] == webhooks.sign(created.secret, int(headers["X-Zhifa-Timestamp"]), body)
    assert headers["X-Zhifa-Event"] == "decision.published"
    payload = json.loads(body)
    assert payload["event"] == "decision.published" and set(payload["decision"]) == set(PUBLIC_FIELDS)
    assert payload["decision"]["credit_code"] == "91350100M000100Y43"
    [log] = deliveries(core, created.subscription.id)
    assert (log.status, log.attempts, [a["status_code"] for a in log.log]) == ("delivered", 1, [204])
    assert deliveries(core, other.subscription.id) == []


def test_failed_deliveries_are_retried_with_backoff_then_given_up(core: Core, clock: FrozenClock, receiver: Receiver) -> None:
    created = subscribe(core, receiver.url, region="GZ-TH")
    receiver.statuses = [500, 503]
    decided_case(core, COMPANY)
    sweep(core)
    [first] = deliveries(core, created.subscription.id)
    assert (first.status, first.attempts, first.next_attempt_at) == ("pending", 1, clock.now() + timedelta(minutes=1))
    assert sweep(core) == (0, 0)  # not yet due
    clock.advance(minutes=1)
    sweep(core)
    assert deliveries(core, created.subscription.id)[0].next_attempt_at == clock.now() + timedelta(minutes=5)
    clock.advance(minutes=5)
    assert sweep(core) == (0, 1)
    [done] = deliveries(core, created.subscription.id)
    assert done.status == "delivered" and [a["status_code"] for a in done.log] == [500, 503, 204]
    assert len(receiver.received) == 3


def test_an_unreachable_receiver_fails_after_the_last_retry(core: Core, clock: FrozenClock) -> None:
    with socket.socket() as probe:  # a port on 127.0.0.1 nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    created = subscribe(core, f"http://127.0.0.1:{port}/hook")
    decided_case(core, COMPANY)
    sweep(core)
    for minutes in webhooks.BACKOFF_MINUTES:
        clock.advance(minutes=minutes)
        sweep(core)
    [gone] = deliveries(core, created.subscription.id)
    assert gone.status == "failed" and gone.attempts == len(webhooks.BACKOFF_MINUTES) + 1
    assert all(a["status_code"] is None and a["error"] for a in gone.log)


def test_withdrawal_is_delivered_too(core: Core, receiver: Receiver) -> None:
    created = subscribe(core, receiver.url, matter_code="440201003001")
    case_id = decided_case(core, COMPANY)
    sweep(core)
    with core.unit() as unit:
        head = principal_for_username(unit, "head1")
    with core.unit(head) as unit:
        [view], _ = publications.list_publications(unit, case_id=case_id)
        publications.withdraw(unit, view.id, "决定已撤销")
    sweep(core)
    assert [json.loads(r["body"])["event"] for r in receiver.received] == ["decision.published", "decision.withdrawn"]
    assert len(deliveries(core, created.subscription.id)) == 2


def test_subscriptions_are_for_administrators_with_valid_filters(core: Core) -> None:
    with core.unit() as unit:
        officer, admin = principal_for_username(unit, "officer1"), principal_for_username(unit, "admin")
    with core.unit(officer) as unit, pytest.raises(Forbidden):
        webhooks.subscribe(unit, "x", "https://example.org/hook")
    with core.unit(admin) as unit, pytest.raises(InvalidInput) as bad:
        webhooks.subscribe(unit, "", "ftp://example.org/hook", credit_code="123")
    assert {p.field for p in bad.value.problems} == {"name", "url", "credit_code"}


def test_private_addresses_are_refused_unless_allowed(core: Core, receiver: Receiver) -> None:
    strict = Core(replace(core.settings, webhook_allow_private=False), clock=core.clock, db=core.db)
    created = subscribe(strict, receiver.url)
    decided_case(strict, COMPANY)
    assert sweep(strict) == (1, 0)
    [refused] = deliveries(strict, created.subscription.id)
    assert refused.status == "failed" and "127.0.0.1" in refused.log[0]["error"]
    assert receiver.received == []

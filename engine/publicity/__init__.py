"""The publicity platform (issue 7): publication of decisions, public queries, complaints, feeds,
webhooks and document verification. See docs/publicity.md."""
from __future__ import annotations

from engine.core import Core


def sweep(core: Core) -> tuple[int, int]:
    """The periodic job: publish what is due, end what expired, deliver webhooks. (changed, delivered)"""
    from engine.publicity import publications, webhooks

    return publications.run_due(core), webhooks.deliver_due(core)

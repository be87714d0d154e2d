"""The publicity platform (issue 7): publication of decisions, public queries, complaints, feeds,
webhooks and document verification. See docs/publicity.md."""
from __future__ import annotations

from engine.core import Core


def sweep(core: Core) -> tuple[int, int]:
    """The periodic job: withdraw what was changed (D7), publish what is due, end what expired, deliver
    webhooks, forget finished rate-limit windows. Returns (publications changed, webhooks delivered)."""
    from engine.publicity import changes, publications, ratelimit, webhooks

    ratelimit.forget_finished(core.db, core.clock.now(), 60)
    changed = changes.run_due(core) + publications.run_due(core)
    return changed, webhooks.deliver_due(core)

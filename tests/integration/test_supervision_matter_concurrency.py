"""Two supervisors taking up the same alert at the same moment on PostgreSQL: the alert row is locked by the
first, the second waits, then finds the matter and gets a Conflict; one matter, one number."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from engine.accounts import principal_for_username
from engine.clock import CHINA_TZ
from engine.core import Core
from engine.errors import Conflict
from engine.models import Agency
from engine.supervision import matters
from engine.supervision.matter_models import SupervisionMatter
from engine.supervision.models import ComplianceAlert
from engine.timers import run_due
from tests.integration.test_concurrency import open_case, pg_core, run_together  # noqa: F401  (pg_core: fixture)

pytestmark = pytest.mark.postgres


def test_one_alert_opens_one_matter_when_two_try_at_once(pg_core: Core) -> None:  # noqa: F811
    open_case(pg_core)
    pg_core.clock.set(datetime(2026, 3, 24, 0, 0, 1, tzinfo=CHINA_TZ))  # the filing deadline (P2) has passed
    assert run_due(pg_core) == 1
    with pg_core.unit() as unit:
        supervisor = principal_for_username(unit, "supervisor1")
        alert = unit.session.scalar(select(ComplianceAlert))
        body = {"agency_id": alert.agency_id, "source": "alert", "alert_id": alert.id, "summary": "立案期限届满"}
        assert unit.session.get(Agency, alert.agency_id).code == "GZ-TH-SJJ"

    def take_up() -> str:
        with pg_core.unit(supervisor) as unit:
            return matters.open_matter(unit, dict(body)).number

    results = run_together([take_up, take_up])
    assert sorted(kind for kind, _ in results) == ["error", "ok"]
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, Conflict) and error.problems[0].field == "alert_id"
    assert next(value for kind, value in results if kind == "ok") == "穗司监督〔2026〕1号"
    with pg_core.unit() as unit:
        assert unit.session.scalar(select(func.count()).select_from(SupervisionMatter)) == 1

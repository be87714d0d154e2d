"""Edited discretion tables (engine/discretion_store.py) on SQLite and PostgreSQL: a save is checked as the
engine loads a table, stored as an immutable numbered version with its SHA-256, who and when, audited, and
from then on used by the assessment, the published benchmarks and the decision check; refusals are located
and store nothing."""
from __future__ import annotations

import hashlib
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import discretion, discretion_store
from engine.accounts import principal_for_username
from engine.core import Core
from engine.discretion_store import DiscretionTableVersion, TableVersionImmutable
from engine.errors import Conflict, DeploymentInvalid, Forbidden, InvalidInput, NotFound
from engine.models import AuditEvent
from engine.publicity.benchmarks import published_benchmarks

FINE = (Path(__file__).resolve().parents[2] / "processes" / "discretion" / "fine_benchmark.dmn").read_bytes()
# 不按规定明码标价 (rule 5, 0–5000 yuan): 一般 is 30–70 % of the range; the edit makes it 40–60 %.
WIDER = FINE.replace(b'<outputEntry id="fine_benchmark_rule_5_out_5"><text>0.3</text>',
                     b'<outputEntry id="fine_benchmark_rule_5_out_5"><text>0.4</text>').replace(
                     b'<outputEntry id="fine_benchmark_rule_5_out_6"><text>0.7</text>',
                     b'<outputEntry id="fine_benchmark_rule_5_out_6"><text>0.6</text>')


def unit_as(core: Core, username: str):  # type: ignore[no-untyped-def]
    with core.unit() as unit:
        actor = principal_for_username(unit, username)
    return core.unit(actor)


def general_band(core: Core) -> tuple[D, D]:
    with unit_as(core, "officer1") as unit:
        found = discretion.assess_matter(unit, "440201003001", {}, "general")
    return found.band_low, found.band_high


def test_a_saved_version_is_the_one_in_force(core: Core) -> None:
    assert WIDER != FINE
    assert general_band(core) == (D("1500.00"), D("3500.00"))
    with unit_as(core, "designer1") as unit:
        saved = discretion_store.save(unit, "fine_benchmark", WIDER)
    assert (saved.version, saved.created, saved.sha256) == (1, True, hashlib.sha256(WIDER).hexdigest())
    assert saved.saved_by_name and saved.saved_at is not None and saved.rule_count == 14
    assert general_band(core) == (D("2000.00"), D("3000.00"))
    with unit_as(core, "officer1") as unit:
        published = published_benchmarks(unit, "440201003001")
        tables = discretion.published(unit)
        event = unit.session.scalars(select(AuditEvent).where(AuditEvent.action == "discretion.table_saved")).one()
        history = discretion_store.history(unit, "fine_benchmark")
        shown, content = discretion_store.content_of(unit, "fine_benchmark")
    general = next(t for t in published["items"][0]["benchmarks"][0]["tiers"] if t["tier"] == "general")
    assert (general["from"], general["to"]) == ("2000.00", "3000.00")
    assert tables[1]["rules"][4]["then"][5:7] == ["0.4", "0.6"]
    assert event.detail == {"table": "fine_benchmark", "version": 1, "sha256": saved.sha256, "rules": 14}
    assert [v.version for v in history] == [1, 0] and (shown.version, content) == (1, WIDER)
    # The same bytes again store nothing; the shipped file is version 0 and can be restored as version 2.
    with unit_as(core, "designer1") as unit:
        assert discretion_store.save(unit, "fine_benchmark", WIDER).created is False
    with unit_as(core, "admin") as unit:
        restored = discretion_store.save(unit, "fine_benchmark", FINE)
    assert (restored.version, restored.created) == (2, True)
    assert general_band(core) == (D("1500.00"), D("3500.00"))


def test_refusals_are_located_and_store_nothing(core: Core) -> None:
    broken = FINE.replace(b"</rule>", b"</rul>", 1)
    with unit_as(core, "designer1") as unit, pytest.raises(DeploymentInvalid) as caught:
        discretion_store.save(unit, "fine_benchmark", broken)
    assert caught.value.problems[0].file == "fine_benchmark.dmn" and caught.value.problems[0].line
    unsafe = FINE.replace(b'<text>"amount"</text>', b'<text>__import__("os")</text>', 1)
    with unit_as(core, "designer1") as unit, pytest.raises(DeploymentInvalid) as caught:
        discretion_store.save(unit, "fine_benchmark", unsafe)
    assert any(p.element_id for p in caught.value.problems)
    renamed = FINE.replace(b'name="fine_max"', b'name="maximum"')
    with unit_as(core, "designer1") as unit, pytest.raises(DeploymentInvalid) as caught:
        discretion_store.save(unit, "fine_benchmark", renamed)
    assert any("fine_max" in p.message and p.field == "outputs" for p in caught.value.problems)
    with unit_as(core, "designer1") as unit, pytest.raises(InvalidInput):
        discretion_store.save(unit, "fine_benchmark", b"  ")
    with unit_as(core, "designer1") as unit, pytest.raises(NotFound):
        discretion_store.save(unit, "other_table", FINE)
    with unit_as(core, "officer1") as unit, pytest.raises(Forbidden):
        discretion_store.save(unit, "fine_benchmark", WIDER)
    with unit_as(core, "reviewer1") as unit, pytest.raises(Forbidden):
        discretion_store.save(unit, "fine_benchmark", WIDER)
    with core.unit() as unit:
        assert unit.session.scalars(select(DiscretionTableVersion)).all() == []


def test_versions_never_change(core: Core) -> None:
    with unit_as(core, "designer1") as unit:
        discretion_store.save(unit, "fine_benchmark", WIDER)
    with pytest.raises(TableVersionImmutable), core.unit() as unit:
        row = unit.session.scalars(select(DiscretionTableVersion)).one()
        row.content = FINE
        unit.session.flush()
    with pytest.raises(TableVersionImmutable), core.unit() as unit:
        unit.session.delete(unit.session.scalars(select(DiscretionTableVersion)).one())
        unit.session.flush()


def test_a_save_racing_another_is_a_conflict(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    with unit_as(core, "designer1") as unit:
        discretion_store.save(unit, "fine_benchmark", WIDER)
    # What a save sees that read the newest version before the other save committed: none yet.
    monkeypatch.setattr(discretion_store, "_newest", lambda unit, table: None)
    with unit_as(core, "admin") as unit, pytest.raises(Conflict):
        discretion_store.save(unit, "fine_benchmark", FINE.replace(b"<text>0.3</text>", b"<text>0.35</text>", 1))
    with core.unit() as unit:
        assert [r.content for r in unit.session.scalars(select(DiscretionTableVersion))] == [WIDER]

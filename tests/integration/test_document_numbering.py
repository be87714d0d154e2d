"""Document numbers: gapless per agency, type and year, on SQLite and PostgreSQL; a failure after the
number was taken gives it back; concurrent issues on PostgreSQL get distinct consecutive numbers;
issued documents cannot be changed or deleted through the ORM.
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import cases
from engine.accounts import principal_for_username
from engine.clock import CHINA_TZ, FrozenClock
from engine.core import Core
from engine.documents import service
from engine.documents.models import Document, DocumentContent, DocumentImmutable
from engine.errors import Forbidden
from engine.models import User
from tests.integration.test_concurrency import (  # noqa: F401 - pg_core is a fixture
    ORGANIZATION,
    open_case,
    pg_core,
    run_together,
)

SAMPLES = Path(__file__).resolve().parents[2] / "templates" / "samples"
ORDER = json.loads((SAMPLES / "rectification_order.json").read_text(encoding="utf-8"))


def open_yuexiu_case(core: Core) -> int:
    with core.unit() as unit:
        actor = principal_for_username(unit, "officer3")
        officers = list(unit.session.scalars(select(User.id).where(User.username.in_(["officer3", "officer4"]))))
    with core.unit(actor) as unit:
        return cases.open_case(unit, "440201003001", ORGANIZATION, officers, "越秀区案件").id


def issue(core: Core, case_id: int, template: str = "rectification_order", username: str = "officer1") -> Any:
    data = ORDER if template == "rectification_order" else json.loads((SAMPLES / f"{template}.json").read_text(encoding="utf-8"))
    with core.unit() as unit:
        actor = principal_for_username(unit, username)
    with core.unit(actor) as unit:
        return service.issue(unit, case_id, template=template, data=data)


def test_numbers_are_gapless_per_agency_type_and_year(core: Core, clock: FrozenClock) -> None:
    first, second = open_case(core), open_case(core)
    assert [issue(core, c).number for c in (first, second, first)] == [
        "穗天市监责改〔2026〕1号", "穗天市监责改〔2026〕2号", "穗天市监责改〔2026〕3号"]
    yuexiu = open_yuexiu_case(core)
    assert issue(core, yuexiu, username="officer3").number == "穗越市监责改〔2026〕1号"  # its own sequence
    assert issue(core, first, template="inspection_record", username="officer1").number == "穗天市监检〔2026〕1号"
    clock.set(clock.now().replace(year=2027, month=1, day=1, hour=0, minute=0, tzinfo=CHINA_TZ))
    assert issue(core, first).number == "穗天市监责改〔2027〕1号"


def test_a_failure_after_the_number_was_taken_gives_it_back(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = open_case(core)
    assert issue(core, case_id).number.endswith("〔2026〕1号")

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("the PDF engine failed")

    monkeypatch.setattr(service.rendering, "to_pdf", broken)
    with pytest.raises(RuntimeError):
        issue(core, case_id)
    monkeypatch.undo()
    assert issue(core, case_id).number.endswith("〔2026〕2号")
    with core.unit() as unit:
        assert [d.serial for d in unit.session.scalars(select(Document).order_by(Document.id))] == [1, 2]


def test_a_refused_request_takes_no_number(core: Core) -> None:
    case_id = open_case(core)
    with pytest.raises(Forbidden):
        issue(core, case_id, username="supervisor1")
    assert issue(core, case_id).number.endswith("〔2026〕1号")


def test_issued_documents_are_immutable(core: Core) -> None:
    doc = issue(core, open_case(core))
    with pytest.raises(DocumentImmutable), core.unit() as unit:
        unit.session.get(Document, doc.id).title = "改过的标题"
        unit.session.flush()
    with pytest.raises(DocumentImmutable), core.unit() as unit:
        unit.session.delete(unit.session.get(DocumentContent, doc.id))
        unit.session.flush()
    with core.unit() as unit:
        assert unit.session.get(Document, doc.id).title == "责令改正通知书"


def test_verification_codes_are_random_and_typeable(core: Core) -> None:
    case_id = open_case(core)
    docs = [issue(core, case_id) for _ in range(3)]
    codes = {d.verification_code for d in docs}
    assert len(codes) == 3
    for code in codes:
        assert len(code.replace("-", "")) == 20 and set(code.replace("-", "")) <= set(service.CODE_ALPHABET)
    with core.unit() as unit:
        typed = docs[0].verification_code.lower().replace("-", " ").replace("0", "o")
        assert service.find_by_code(unit, typed).id == docs[0].id
        assert service.find_by_code(unit, "0000-0000-0000-0000-0000") is None


@pytest.mark.postgres
def test_concurrent_issues_get_distinct_consecutive_numbers(pg_core: Core) -> None:  # noqa: F811
    cases = [open_case(pg_core) for _ in range(4)]
    results = run_together([lambda c=c: issue(pg_core, c).number for c in cases])
    assert all(kind == "ok" for kind, _ in results), results
    assert sorted(n for _, n in results) == sorted(f"穗天市监责改〔2026〕{i}号" for i in range(1, 5))


@pytest.mark.postgres
def test_concurrent_issues_in_one_case_keep_the_audit_chain(pg_core: Core) -> None:  # noqa: F811
    case_id = open_case(pg_core)
    results = run_together([lambda: issue(pg_core, case_id).number for _ in range(3)])
    assert all(kind == "ok" for kind, _ in results), results
    from engine import audit

    with pg_core.unit() as unit:
        events = audit.case_events(unit, case_id)
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))
    assert [e["action"] for e in events].count("document.issued") == 3


def test_the_base_sample_shows_what_the_engine_gives_every_template(core: Core) -> None:
    case_id = open_case(core)
    with core.unit() as unit:
        from engine.models import Case

        case = unit.session.get(Case, case_id)
        given = set(service.base_context(unit, case)) | set(service._workflow_data(unit, case))
    base = json.loads((SAMPLES / "_base.json").read_text(encoding="utf-8"))
    assert set(base) == given

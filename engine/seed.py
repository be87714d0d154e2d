"""Demo data: the Guangzhou agency tree, accounts, a catalogue of real matters, procedures, cases.

Seeding is idempotent: it does nothing when the demo agencies exist already.
"""
from __future__ import annotations

import json
from datetime import date
from importlib import resources
from typing import Any

from sqlalchemy import select

from engine import definitions
from engine.accounts import hash_password
from engine.core import Core, Unit
from engine.models import Agency, AgencyMatter, Matter, User

AGENCIES = [
    # code, name, abbreviation, level, kind, parent code
    ("GD", "广东省人民政府", "粤", "province", "government", None),
    ("GD-SFT", "广东省司法厅", "粤司", "province", "supervision", "GD"),
    ("GZ", "广州市人民政府", "穗", "city", "government", "GD"),
    ("GZ-SFJ", "广州市司法局", "穗司", "city", "supervision", "GZ"),
    ("GZ-TH", "广州市天河区人民政府", "穗天", "county", "government", "GZ"),
    ("GZ-TH-SJJ", "广州市天河区市场监督管理局", "穗天市监", "county", "enforcement", "GZ-TH"),
    ("GZ-YX", "广州市越秀区人民政府", "穗越", "county", "government", "GZ"),
    ("GZ-YX-SJJ", "广州市越秀区市场监督管理局", "穗越市监", "county", "enforcement", "GZ-YX"),
]

USERS = [
    # username, name, agency code, roles, certificate number
    ("officer1", "张明", "GZ-TH-SJJ", ["officer"], "44010600101"),
    ("officer2", "李华", "GZ-TH-SJJ", ["officer"], "44010600102"),
    ("officer3", "陈静", "GZ-YX-SJJ", ["officer"], "44010400103"),
    ("officer4", "黄伟", "GZ-YX-SJJ", ["officer"], "44010400104"),
    ("reviewer1", "王法审", "GZ-TH-SJJ", ["legal_reviewer"], None),
    ("head1", "刘局长", "GZ-TH-SJJ", ["agency_head"], None),
    ("supervisor1", "赵监督", "GZ-SFJ", ["supervisor"], None),
    ("designer1", "孙法规", "GD-SFT", ["process_designer"], None),
    ("admin", "系统管理员", "GD", ["admin"], None),
]


def seed_demo(core: Core, password: str) -> bool:
    """Create the demo data once; returns False when it was already there."""
    with core.unit() as unit:
        if unit.session.scalar(select(Agency.id).where(Agency.code == "GZ-TH-SJJ")) is not None:
            return False
        agencies = _agencies(unit)
        _users(unit, agencies, password)
        _catalogue(unit, agencies)
        definitions.deploy_directory(unit, core.settings.processes_dir)
    return True


def load_catalogue() -> list[dict[str, Any]]:
    return json.loads(resources.files("engine").joinpath("data/catalogue.json").read_text(encoding="utf-8"))["matters"]


def _agencies(unit: Unit) -> dict[str, Agency]:
    made: dict[str, Agency] = {}
    for code, name, abbreviation, level, kind, parent in AGENCIES:
        parent_row = made.get(parent) if parent else None
        agency = Agency(
            code=code, name=name, abbreviation=abbreviation, level=level, kind=kind,
            parent_id=parent_row.id if parent_row else None, path="",
        )
        unit.session.add(agency)
        unit.session.flush()
        agency.path = f"{parent_row.path if parent_row else '/'}{agency.id}/"
        made[code] = agency
    return made


def _users(unit: Unit, agencies: dict[str, Agency], password: str) -> None:
    hashed = hash_password(password)
    valid_until = date(unit.now.year + 3, 12, 31)
    for username, name, agency, roles, certificate in USERS:
        unit.session.add(
            User(
                username=username, name=name, agency_id=agencies[agency].id, password_hash=hashed, roles=roles,
                certificate_no=f"粤执{certificate}" if certificate else None,
                certificate_valid_until=valid_until if certificate else None, active=True,
            )
        )


def _catalogue(unit: Unit, agencies: dict[str, Agency]) -> None:
    enforcing = [a for a in agencies.values() if a.kind == "enforcement"]
    for item in load_catalogue():
        unit.session.add(Matter(**item))
        unit.session.flush()
        for agency in enforcing:
            unit.session.add(AgencyMatter(agency_id=agency.id, matter_code=item["code"]))

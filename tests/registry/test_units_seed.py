"""The seeded units of Đắk Nông and Lâm Đồng, and following successors to today's unit."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from trace_service.principal import system_principal
from trace_service.registry.enums import UnitLevel
from trace_service.registry.models import AdministrativeUnit
from trace_service.registry.units import current_unit, seed_units
from trace_service.registry.units_data import MERGER_DATE, UNITS

ACTOR = system_principal("test")


def test_the_seed_data_is_consistent():
    keys = [u["key"] for u in UNITS]
    assert len(keys) == len(set(keys))
    seen: set[str] = set()
    for unit in UNITS:
        assert unit["parent"] is None or unit["parent"] in seen, unit["key"]
        seen.add(unit["key"])
        assert unit["successor"] is None or unit["successor"] in keys
        if unit["key"].startswith("dn"):
            assert unit["valid_to"] == date(2025, 6, 30) and unit["successor"], unit["key"]
        else:
            assert unit["valid_from"] == MERGER_DATE and unit["valid_to"] is None


def test_dak_nong_had_gia_nghia_and_seven_districts():
    districts = [u["name"] for u in UNITS if u["level"] == "district"]
    assert len(districts) == 8
    assert "Thành phố Gia Nghĩa" in districts
    assert {
        "Huyện Đắk Mil",
        "Huyện Cư Jút",
        "Huyện Krông Nô",
        "Huyện Đắk Song",
        "Huyện Tuy Đức",
        "Huyện Đắk R'Lấp",
        "Huyện Đắk Glong",
    } <= set(districts)


def test_seeding_is_idempotent_and_links_successors(db_session):
    first = seed_units(db_session, ACTOR)
    count = db_session.scalar(select(func.count()).select_from(AdministrativeUnit))
    again = seed_units(db_session, ACTOR)
    assert db_session.scalar(select(func.count()).select_from(AdministrativeUnit)) == count
    assert {k: u.id for k, u in first.items()} == {k: u.id for k, u in again.items()}
    levels = Counter(u.level for u in first.values())
    assert levels[UnitLevel.PROVINCE] == 2 and levels[UnitLevel.DISTRICT] == 8
    assert first["dn"].successor is first["ld"]


def test_an_old_commune_leads_to_the_unit_that_holds_it_today(db_session):
    units = seed_units(db_session, ACTOR)
    old = next(u for k, u in units.items() if k.startswith("dn.dakmil."))
    assert current_unit(old, date(2025, 6, 30)) is old
    today = current_unit(old, date(2026, 1, 1))
    assert today.level is UnitLevel.COMMUNE and today.valid_from == MERGER_DATE
    assert today.parent is units["ld"]

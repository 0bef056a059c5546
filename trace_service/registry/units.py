"""Loading the administrative units of ``units_data`` and following successor links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.audit.tags import Tag
from trace_service.principal import Principal
from trace_service.registry.enums import UnitLevel
from trace_service.registry.models import AdministrativeUnit
from trace_service.registry.units_data import UNITS


def seed_units(session: Session, actor: Principal) -> dict[str, AdministrativeUnit]:
    """Insert the seeded units that are not there yet; return every seeded unit by its key.

    Idempotent: a unit with the same name, level and start date is taken as already loaded.
    """
    by_key: dict[str, AdministrativeUnit] = {}
    existing = {
        (u.name, u.level, u.valid_from): u for u in session.scalars(select(AdministrativeUnit))
    }
    created = 0
    for seed in UNITS:
        level = UnitLevel(seed["level"])
        unit = existing.get((seed["name"], level, seed["valid_from"]))
        if unit is None:
            unit = AdministrativeUnit(
                code=seed["code"],
                name=seed["name"],
                level=level,
                parent=by_key[seed["parent"]] if seed["parent"] else None,
                valid_from=seed["valid_from"],
                valid_to=seed["valid_to"],
                lat=seed["lat"],
                lon=seed["lon"],
            )
            session.add(unit)
            created += 1
        by_key[seed["key"]] = unit
    for seed in UNITS:
        if seed["successor"]:
            by_key[seed["key"]].successor = by_key[seed["successor"]]
    session.flush()
    if created:
        record_event(
            session,
            actor,
            Tag.UNIT_CREATED,
            "admin_unit",
            None,
            {"seeded": created, "source": "units_data"},
        )
    return by_key


def current_unit(unit: AdministrativeUnit, day: date) -> AdministrativeUnit:
    """Follow successor links from ``unit`` to the unit that holds its territory on ``day``."""
    seen: set[int] = set()
    while not unit.is_valid_on(day) and unit.successor is not None and unit.id not in seen:
        seen.add(unit.id)
        unit = unit.successor
    return unit


def place_on(unit: AdministrativeUnit, day: date) -> str:
    """Where ``unit``'s territory lay on ``day``, as written on a page: the unit of that day
    (after its successors) with the units above it that existed then, e.g. "Xã Đức Lập,
    Tỉnh Lâm Đồng" on a day after 1 Jul 2025 for an old commune of Huyện Đắk Mil."""
    names, seen = [], set()
    at: AdministrativeUnit | None = current_unit(unit, day)
    while at is not None and at.id not in seen:
        seen.add(at.id)
        names.append(current_unit(at, day).name)
        at = at.parent
    return ", ".join(dict.fromkeys(names))  # an old district's successor: its new province


@dataclass(frozen=True)
class Address:
    """An address as it reads on a day; ``was`` the address as recorded, until ``until``,
    when its commune has since been merged away."""

    now: str
    was: str | None = None
    until: date | None = None


def address_on(address: str, commune: AdministrativeUnit | None, day: date) -> Address:
    """A producer's address as it reads on ``day``. The recorded address is free text
    ("Thôn 3, Xã Đắk Hòa, Huyện Đắk Song, Tỉnh Đắk Nông"): the part before the commune's
    old name (the village, the street) is kept, and the units from the commune up are
    written as they are on ``day`` ("Thôn 3, Xã Đắk Song, Tỉnh Lâm Đồng")."""
    if commune is None or commune.is_valid_on(day):
        return Address(address)
    at = address.casefold().find(commune.name.casefold())
    street = address[:at].strip(" ,") if at >= 0 else ""
    now = place_on(commune, day)
    return Address(f"{street}, {now}" if street else now, address, commune.valid_to)

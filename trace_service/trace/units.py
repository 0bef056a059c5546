"""Quantities and their units: what a lot is counted in, and converting to a common unit."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class Unit(StrEnum):
    KG = "kg"
    TONNE = "t"  # tấn
    GRAM = "g"
    BAG = "bag"  # bao, of a declared weight in kg
    LITRE = "l"
    PIECE = "piece"  # packaged units (gói, hộp, chai)


UNIT_VI = {
    Unit.KG: "kg",
    Unit.TONNE: "tấn",
    Unit.GRAM: "g",
    Unit.BAG: "bao",
    Unit.LITRE: "lít",
    Unit.PIECE: "đơn vị",
}
UNIT_EN = {
    Unit.KG: "kg",
    Unit.TONNE: "tonnes",
    Unit.GRAM: "g",
    Unit.BAG: "bags",
    Unit.LITRE: "litres",
    Unit.PIECE: "units",  # the value "piece" is the API's word, not the page's
}
# A unit as pages name it, (Vietnamese, English), for templates' ``t(*names[unit])``.
UNIT_NAMES = {unit: (UNIT_VI[unit], UNIT_EN[unit]) for unit in Unit}
# UN/CEFACT Recommendation 20 codes, as EPCIS quantity lists want them.
UNECE = {
    Unit.KG: "KGM",
    Unit.TONNE: "TNE",
    Unit.GRAM: "GRM",
    Unit.LITRE: "LTR",
    Unit.PIECE: "H87",
    Unit.BAG: "KGM",
}
_KG_PER = {Unit.KG: Decimal(1), Unit.TONNE: Decimal(1000), Unit.GRAM: Decimal("0.001")}


def in_kg(amount: Decimal, unit: Unit, unit_weight_kg: Decimal | None) -> Decimal | None:
    """The mass in kg, or None when the unit is not a mass (litres; pieces or bags of no
    declared weight)."""
    if unit in _KG_PER:
        return amount * _KG_PER[unit]
    if unit in (Unit.BAG, Unit.PIECE) and unit_weight_kg is not None:
        return amount * unit_weight_kg
    return None

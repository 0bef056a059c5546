"""How long a certificate is valid: 36 months from its decision or its issue, as the
province whose authority issued it counts them (``rules.VALIDITY_FROM_BY_PROVINCE``)."""

from __future__ import annotations

from datetime import date

from trace_service.certificates.rules import (
    ValidityFrom,
    valid_until,
    validity_from,
    validity_start,
)
from trace_service.registry.enums import UnitLevel
from trace_service.registry.models import AdministrativeUnit


def province_code(unit: AdministrativeUnit | None) -> str | None:
    """The GSO code of the province ``unit`` belongs to (None for the central level)."""
    while unit is not None and unit.level is not UnitLevel.PROVINCE:
        unit = unit.parent
    return unit.code if unit is not None else None


def counts_from(unit: AdministrativeUnit | None) -> ValidityFrom:
    return validity_from(province_code(unit))


def certificate_valid_until(
    unit: AdministrativeUnit | None, issue_date: date, decision_date: date
) -> date:
    """The last valid day of a certificate issued by ``unit``'s People's Committee (or the
    ministry, ``None``), counted as that province counts."""
    return valid_until(validity_start(counts_from(unit), issue_date, decision_date))

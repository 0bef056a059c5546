"""Fixtures of the certificate tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from trace_service.principal import system_principal
from trace_service.registry.models import AdministrativeUnit
from trace_service.registry.units import seed_units


@pytest.fixture
def units(db_session: Session) -> dict[str, AdministrativeUnit]:
    """Đắk Nông's province and districts until 30 Jun 2025 and Lâm Đồng after, as seeded:
    the issuing authorities an import is matched to."""
    return seed_units(db_session, system_principal("test"))

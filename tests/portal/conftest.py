"""Signing in through the portal's own form, as a browser does (with its CSRF token)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests import factories
from trace_service.auth.passwords import hash_password
from trace_service.clock import today_vn
from trace_service.principal import Role, system_principal
from trace_service.trace.models import Lot
from trace_service.trace.services import record_harvest

PASSWORD = "một mật khẩu dài đủ 10"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client, username: str, password: str = PASSWORD, **extra):
    page = client.get("/dang-nhap", headers=BROWSER)
    form = {"csrf_token": csrf_of(page.get_data(as_text=True)), "username": username}
    return client.post("/dang-nhap", data={**form, "password": password}, headers=BROWSER, **extra)


@pytest.fixture
def producer_user(db_session):
    producer = factories.ProducerFactory()
    return factories.UserFactory(
        role=Role.PRODUCER, producer_id=producer.id, password_hash=hash_password(PASSWORD)
    )


@pytest.fixture
def office_user(db_session):
    return factories.UserFactory(role=Role.ADMIN, password_hash=hash_password(PASSWORD))


@dataclass
class Certified:
    """A producer who can sign in, with a certified product and a harvested lot to pack."""

    user: Any
    product: Any
    certificate: Any
    harvest_lot: Any
    area: Any


def make_certified(session, name: str = "Hợp tác xã Nông nghiệp Dịch vụ Thuận An") -> Certified:
    producer = factories.ProducerFactory(name=name)
    user = factories.UserFactory(
        role=Role.PRODUCER, producer_id=producer.id, password_hash=hash_password(PASSWORD)
    )
    product = factories.ProductFactory(
        producer=producer, name_vi="Cà phê bột Robusta Đắk Mil – rang mộc"
    )
    certificate = factories.CertificateFactory(
        product=product, issue_date=today_vn() - timedelta(days=200)
    )
    area = factories.AreaFactory(producer=producer, name="Vườn cà phê Thuận An 1")
    harvest = record_harvest(
        session,
        system_principal("test"),
        {
            "area_id": area.id,
            "harvest_start": date(2025, 11, 1),
            "harvest_end": date(2025, 11, 20),
            "event_time": datetime(2025, 11, 20, 10, 0, tzinfo=UTC),
            "lot": {
                "code": f"H-{producer.id}-1",
                "material": "Cà phê nhân",
                "quantity": 500,
                "unit": "kg",
            },
        },
    )
    return Certified(user, product, certificate, harvest.lots[0].lot, area)


@pytest.fixture
def certified(db_session) -> Certified:
    return make_certified(db_session)


def add_lot(session, certified: Certified, **values: Any) -> Lot:
    """A lot of the certified producer, made directly (``values``: its code, material,
    quantity, unit and, for a product's lot, product_id)."""
    lot = Lot(producer_id=certified.product.producer_id, **values)
    session.add(lot)
    session.flush()
    return lot

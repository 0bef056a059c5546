"""A packed lot of a certified product, recorded through the API, ready for labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests import factories
from tests.conftest import Account, make_account
from trace_service.clock import today_vn
from trace_service.labels import page_check
from trace_service.principal import Role

P = "/api/v1"
VN = "+07:00"


@dataclass
class Packed:
    producer: object
    account: Account
    product: object
    certificate: object
    area: object
    harvest: int  # lot ids
    bags: int


def _post(client, account, path, body):
    response = client.post(f"{P}{path}", headers=account.headers, json=body)
    assert response.status_code == 201, response.json
    return next(item["lot_id"] for item in response.json["lots"] if item["role"] == "output")


def pack(client, account, product, area, *, bags: int, code: str, harvest_code: str) -> tuple:
    harvest = _post(
        client,
        account,
        "/trace/harvests",
        {
            "area_id": area.id,
            "harvest_start": "2025-11-01",
            "harvest_end": "2025-11-20",
            "event_time": f"2025-11-20T17:00:00{VN}",
            "lot": {
                "code": harvest_code,
                "material": "Cà phê bột",
                "quantity": bags,
                "unit": "kg",
            },
        },
    )
    packed = _post(
        client,
        account,
        "/trace/packings",
        {
            "event_time": f"2026-01-06T08:00:00{VN}",
            "inputs": [{"lot_id": harvest, "quantity": bags / 4}],
            "outputs": [
                {
                    "code": code,
                    "material": "Cà phê bột 250 g",
                    "quantity": bags,
                    "unit": "piece",
                    "unit_weight_kg": 0.25,
                    "product_id": product.id,
                }
            ],
        },
    )
    return harvest, packed


@pytest.fixture
def packed(client, db_session) -> Packed:
    producer = factories.ProducerFactory(name="Hợp tác xã Nông nghiệp Dịch vụ Thuận An")
    account = make_account(db_session, Role.PRODUCER, producer.id)
    product = factories.ProductFactory(
        producer=producer, name_vi="Cà phê bột Robusta Đắk Mil – rang mộc"
    )
    certificate = factories.CertificateFactory(
        product=product, issue_date=today_vn() - timedelta(days=200)
    )
    area = factories.AreaFactory(producer=producer, name="Vườn cà phê Thuận An 1")
    harvest, bags = pack(
        client, account, product, area, bags=2000, code="DM2601-RB1", harvest_code="H-2511-1"
    )
    return Packed(producer, account, product, certificate, area, harvest, bags)


@dataclass
class Committed:
    """A certified product and its packed lot, committed in a database of their own (for
    tests that need several connections: concurrency, background builds)."""

    product_id: int
    lot_id: int
    headers: dict[str, str]
    more_headers: list[dict[str, str]]  # other accounts of the same producer


def seed_committed(app, bags: int = 10_000, accounts: int = 1) -> Committed:
    from datetime import UTC, date, datetime

    from trace_service.auth.services import issue_token
    from trace_service.db import session_scope
    from trace_service.principal import system_principal
    from trace_service.trace.services import record_harvest, record_packing

    actor = system_principal("test")
    with app.app_context(), session_scope(app) as session:
        factories.bind(session)
        producer = factories.ProducerFactory()
        product = factories.ProductFactory(producer=producer)
        factories.CertificateFactory(product=product, issue_date=today_vn() - timedelta(days=30))
        area = factories.AreaFactory(producer=producer)
        harvest = record_harvest(
            session,
            actor,
            {
                "area_id": area.id,
                "harvest_start": date(2025, 11, 1),
                "harvest_end": date(2025, 11, 20),
                "event_time": datetime(2025, 11, 21, tzinfo=UTC),
                "lot": {"code": "H-C", "material": "Cà phê", "quantity": bags, "unit": "kg"},
            },
        )
        packing = record_packing(
            session,
            actor,
            {
                "event_time": datetime(2026, 1, 6, tzinfo=UTC),
                "inputs": [{"lot_id": harvest.lots[0].lot_id, "quantity": bags / 4}],
                "outputs": [
                    {
                        "code": "B-C",
                        "material": "Cà phê 250 g",
                        "quantity": bags,
                        "unit": "piece",
                        "unit_weight_kg": 0.25,
                        "product_id": product.id,
                    }
                ],
            },
        )
        headers = []
        for _ in range(accounts):
            user = factories.UserFactory(role=Role.PRODUCER, producer_id=producer.id)
            token = issue_token(session, actor, user, "test", ttl_days=1).token
            headers.append({"Authorization": f"Bearer {token}"})
        lot_id = next(item.lot_id for item in packing.lots if item.role == "output")
        return Committed(product.id, lot_id, headers[0], headers[1:])


@pytest.fixture
def compositions(monkeypatch) -> list[int]:
    """Counts the runs' facts composed from the records (a cache miss each)."""
    made: list[int] = []
    compose = page_check.run_facts

    def counted(session, run, today, window_days):
        made.append(run.id)
        return compose(session, run, today, window_days)

    monkeypatch.setattr(page_check, "run_facts", counted)
    return made

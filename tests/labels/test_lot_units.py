"""Stamps for lots counted by weight or volume (issue 10, finding 6): two orders of 1,000
stamps each on a 1 kg packed lot both passed, as only lots in bags or pieces were counted.
Such a lot now declares how many units it holds first; no lot gets more stamps than units."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import make_account
from tests.labels.conftest import VN, P
from trace_service.audit.models import AuditEvent
from trace_service.labels.models import PrintRun
from trace_service.principal import Role


def _pack_by_weight(client, packed, code: str, **output) -> int:
    """1 kg of the packed fixture's harvest, packed as a lot counted in kg."""
    response = client.post(
        f"{P}/trace/packings",
        headers=packed.account.headers,
        json={
            "event_time": f"2026-01-07T08:00:00{VN}",
            "inputs": [{"lot_id": packed.harvest, "quantity": 1}],
            "outputs": [
                {
                    "code": code,
                    "material": "Cà phê bột, túi 250 g",
                    "quantity": 1,
                    "unit": "kg",
                    "product_id": packed.product.id,
                    **output,
                }
            ],
        },
    )
    assert response.status_code == 201, response.json
    return next(item["lot_id"] for item in response.json["lots"] if item["role"] == "output")


def _order(client, packed, lot_id: int, quantity: int):
    return client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": lot_id, "quantity": quantity},
    )


def _stamps(db_session, lot_id: int) -> int:
    return db_session.scalar(
        select(func.coalesce(func.sum(PrintRun.quantity), 0)).where(PrintRun.lot_id == lot_id)
    )


def test_two_orders_of_1000_stamps_on_a_1_kg_lot_are_both_refused(client, packed, db_session):
    lot = _pack_by_weight(client, packed, "KG-1")
    for _ in range(2):
        response = _order(client, packed, lot, 1000)
        assert response.status_code == 422
        assert "lot_id" in response.json["errors"]["json"]
        assert f"PATCH /api/v1/lots/{lot}" in response.json["message_en"]
        assert "unit_count" in response.json["message"]
    assert _stamps(db_session, lot) == 0


def test_a_1_kg_lot_of_4_units_gets_at_most_4_stamps_in_all(client, packed, db_session):
    lot = _pack_by_weight(client, packed, "KG-4", unit_count=4)
    assert _order(client, packed, lot, 1000).status_code == 422
    assert _order(client, packed, lot, 3).status_code == 202
    refused = _order(client, packed, lot, 2)
    assert refused.status_code == 422
    assert "at most 1 more" in refused.json["message_en"]
    assert _order(client, packed, lot, 1).status_code == 202
    assert _order(client, packed, lot, 1).status_code == 422
    assert _stamps(db_session, lot) == 4


def test_a_voided_stamp_frees_its_unit_for_a_new_one(client, packed, db_session):
    # A spoiled stamp is on no unit: a producer must be able to print one in its place.
    lot = _pack_by_weight(client, packed, "KG-V", unit_count=4)
    run = _order(client, packed, lot, 4)
    assert run.status_code == 202
    assert _order(client, packed, lot, 1).status_code == 422
    voided = client.post(
        f"{P}/print-runs/{run.json['id']}/voids",
        headers=packed.account.headers,
        json={"ranges": [{"first": 3, "last": 4}], "reason": "In hỏng"},
    )
    assert voided.status_code == 200, voided.json
    refused = _order(client, packed, lot, 3)
    assert refused.status_code == 422 and "at most 2 more" in refused.json["message_en"]
    assert _order(client, packed, lot, 2).status_code == 202
    # the lot's units may not fall below the stamps on its units (voided ones not counted)
    fewer = client.patch(f"{P}/lots/{lot}", headers=packed.account.headers, json={"unit_count": 3})
    assert fewer.status_code == 422


def test_units_declared_after_packing_open_the_lot_to_stamps(client, packed, db_session):
    lot = _pack_by_weight(client, packed, "KG-D")
    declared = client.patch(
        f"{P}/lots/{lot}", headers=packed.account.headers, json={"unit_count": 4}
    )
    assert declared.status_code == 200, declared.json
    assert declared.json["unit_count"] == 4
    assert _order(client, packed, lot, 4).status_code == 202
    assert _order(client, packed, lot, 1).status_code == 422
    # never fewer units than stamps already ordered; more is the producer's word, audited
    fewer = client.patch(f"{P}/lots/{lot}", headers=packed.account.headers, json={"unit_count": 3})
    assert fewer.status_code == 422 and "unit_count" in fewer.json["errors"]["json"]
    more = client.patch(f"{P}/lots/{lot}", headers=packed.account.headers, json={"unit_count": 5})
    assert more.status_code == 200
    audited = db_session.scalars(
        select(AuditEvent.details)
        .where(AuditEvent.tag == "trace:lot:units_declared")
        .order_by(AuditEvent.id)
    ).all()
    assert [(d["before"], d["unit_count"]) for d in audited] == [(None, 4), (4, 5)]


@pytest.mark.parametrize(
    "lot_of, body",
    [
        ("bags", {"unit_count": 10}),  # a lot in pieces counts its units in its quantity
        ("harvest", {"unit_count": 10}),  # a harvest is of no product: it takes no stamps
        ("weight", {"unit_count": 0}),
        ("weight", {"unit_count": 2.5}),
        ("weight", {"unit_count": "4"}),
        ("weight", {"unit_count": None}),
        ("weight", {}),
    ],
)
def test_a_unit_count_that_means_nothing_is_refused(client, packed, lot_of, body):
    lots = {"bags": packed.bags, "harvest": packed.harvest}
    lot = lots.get(lot_of) or _pack_by_weight(client, packed, "KG-X")
    response = client.patch(f"{P}/lots/{lot}", headers=packed.account.headers, json=body)
    assert response.status_code == 422
    assert "unit_count" in response.json["errors"]["json"]


def test_pieces_declare_no_unit_count_when_packed(client, packed):
    response = client.post(
        f"{P}/trace/packings",
        headers=packed.account.headers,
        json={
            "event_time": f"2026-01-07T08:00:00{VN}",
            "inputs": [{"lot_id": packed.harvest, "quantity": 1}],
            "outputs": [
                {
                    "code": "PC-X",
                    "material": "Cà phê bột 250 g",
                    "quantity": 4,
                    "unit": "piece",
                    "unit_weight_kg": 0.25,
                    "product_id": packed.product.id,
                    "unit_count": 4,
                }
            ],
        },
    )
    assert response.status_code == 422
    assert "outputs.0.unit_count" in response.json["errors"]["json"]


def test_only_the_owner_and_the_office_declare_units(client, packed, db_session, admin, inspector):
    lot = _pack_by_weight(client, packed, "KG-O")
    stranger = make_account(db_session, Role.PRODUCER, factories.ProducerFactory().id)
    body = {"unit_count": 4}
    assert client.patch(f"{P}/lots/{lot}", headers=inspector.headers, json=body).status_code == 403
    assert client.patch(f"{P}/lots/{lot}", headers=stranger.headers, json=body).status_code == 404
    assert client.patch(f"{P}/lots/{lot}", headers=admin.headers, json=body).status_code == 200

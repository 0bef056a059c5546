"""A lot's numbers are checked by the service, for every caller (the portal's pages call it
without the API's schemas): no value reaches the database's CHECK (unit_count > 0,
quantity > 0) as a bare 409, and every field's problem is told at once (review user1, F2, F5)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.conftest import make_account
from tests.portal.conftest import make_certified
from trace_service.auth.services import principal_of
from trace_service.errors import InvalidInput
from trace_service.principal import Role
from trace_service.trace.models import Lot
from trace_service.trace.services import record_packing


def _packing(made, *, take="25", out="25", units: object = 100) -> dict:
    return {
        "event_time": datetime.now(UTC),
        "inputs": [{"lot_id": made.harvest_lot.id, "quantity": take}],
        "outputs": [
            {
                "code": "N-1",
                "material": "Cà phê bột",
                "quantity": out,
                "unit": "kg",
                "product_id": made.product.id,
                "unit_count": units,
            }
        ],
    }


def _lots(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Lot))


@pytest.mark.parametrize("units", [0, -5])
def test_a_unit_count_below_1_is_a_422_naming_the_field(db_session, units):
    made = make_certified(db_session)
    before = _lots(db_session)
    with pytest.raises(InvalidInput) as refused:
        record_packing(db_session, _actor(db_session, made), _packing(made, units=units))
    assert refused.value.field == "outputs.0.unit_count"
    assert refused.value.message == "Số gói, chai… đã đóng: phải từ 1 trở lên."
    assert _lots(db_session) == before


@pytest.mark.parametrize(("take", "out"), [("0.0004", "25"), ("25", "0.0004"), ("25", "1e13")])
def test_a_quantity_the_database_cannot_hold_is_refused_first(db_session, take, out):
    made = make_certified(db_session)
    with pytest.raises(InvalidInput) as refused:
        record_packing(db_session, _actor(db_session, made), _packing(made, take=take, out=out))
    assert refused.value.field in ("inputs.0.quantity", "outputs.0.quantity")


def test_every_problem_of_a_packing_is_told_at_once(db_session):
    made = make_certified(db_session)
    body = _packing(made, take="9000", out="0", units=0)
    with pytest.raises(InvalidInput) as refused:
        record_packing(db_session, _actor(db_session, made), body)
    fields = {problem.field for problem in refused.value.problems or []}
    assert fields == {"inputs.0.quantity", "outputs.0.quantity", "outputs.0.unit_count"}
    assert set(refused.value.errors["json"]) == fields
    assert "chỉ còn 500 kg" in refused.value.message


def test_a_packing_yielding_more_than_it_takes_is_told_in_vietnamese_words(db_session):
    """The step named in Vietnamese ("đóng gói", not "packing"), amounts as written here."""
    made = make_certified(db_session)
    body = _packing(made, take="25", out="12500.5")
    with pytest.raises(InvalidInput) as refused:
        record_packing(db_session, _actor(db_session, made), body)
    assert refused.value.message == (
        "Đầu ra 12.500,5 kg vượt mức cho phép của công đoạn đóng gói: 25 kg × 1 = 25 kg."
    )
    assert refused.value.message_en == (
        "packing: 12500.5 kg out of 25 kg in is more than the maximum yield 1 allows (25 kg)."
    )


def test_the_api_refuses_a_unit_count_of_0_with_422(client, db_session):
    made = make_certified(db_session)
    account = make_account(db_session, Role.PRODUCER, made.product.producer_id)
    body = _packing(made, units=0)
    body["event_time"] = body["event_time"].isoformat()
    body["inputs"][0]["quantity"] = 25
    body["outputs"][0]["quantity"] = 25
    answer = client.post("/api/v1/trace/packings", headers=account.headers, json=body)
    assert answer.status_code == 422, answer.json
    assert "outputs" in str(answer.json["errors"])


def _actor(db_session, made):
    return principal_of(made.user)

"""JSON never holds NaN or Infinity (issue 10, finding 4): Python's json reads them (and
1e400) by default, so a request could store a non-finite number, after which responses were
not JSON (``"quantity":Infinity``) and a browser's ``JSON.parse`` failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import make_account
from trace_service.api import DEPTH_MESSAGE, MAX_JSON_DEPTH, NON_FINITE_MESSAGE, SURROGATE_MESSAGE
from trace_service.principal import Role
from trace_service.trace.models import Lot, TraceEvent

P = "/api/v1"
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]


def strict(text: str):
    """JSON as a browser reads it: no NaN, no Infinity."""

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def lot(client, db_session):
    producer = factories.ProducerFactory()
    account = make_account(db_session, Role.PRODUCER, producer.id)
    area = factories.AreaFactory(producer=producer)
    response = client.post(
        f"{P}/trace/harvests",
        headers=account.headers,
        json={
            "area_id": area.id,
            "harvest_start": "2025-11-01",
            "harvest_end": "2025-11-02",
            "event_time": "2025-11-03T08:00:00+07:00",
            "lot": {"code": "NF-1", "material": "Quả cà phê", "quantity": 10, "unit": "kg"},
        },
    )
    assert response.status_code == 201
    return {"account": account, "id": response.json["lots"][0]["lot_id"]}


def _events(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(TraceEvent))


@pytest.mark.parametrize("number", NON_FINITE)
def test_a_non_finite_number_in_free_details_is_refused_and_stores_nothing(
    client, lot, db_session, number
):
    before = _events(db_session)
    body = (
        '{"kind": "shipping", "event_time": "2026-01-07T08:00:00+07:00",'
        f' "lots": [{{"lot_id": {lot["id"]}}}], "details": {{"moisture": {number}}}}}'
    )
    response = client.post(
        f"{P}/trace/observations",
        headers={**lot["account"].headers, "Content-Type": "application/json"},
        data=body,
    )
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"details": {"moisture": [NON_FINITE_MESSAGE]}}
    assert response.json["message_en"] == NON_FINITE_MESSAGE
    assert "NaN, Infinity" in NON_FINITE_MESSAGE
    assert _events(db_session) == before
    listed = client.get(f"{P}/lots/{lot['id']}/trace", headers=lot["account"].headers)
    strict(listed.get_data(as_text=True))


@pytest.mark.parametrize("number", NON_FINITE)
def test_a_non_finite_quantity_is_refused_naming_the_field(client, lot, number):
    body = (
        '{"process": "drying", "event_time": "2026-01-07T08:00:00+07:00",'
        f' "inputs": [{{"lot_id": {lot["id"]}, "quantity": {number}}}],'
        ' "outputs": [{"code": "NF-2", "material": "Khô", "quantity": 1, "unit": "kg"}]}'
    )
    response = client.post(
        f"{P}/trace/transformations",
        headers={**lot["account"].headers, "Content-Type": "application/json"},
        data=body,
    )
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"inputs": {"0": {"quantity": [NON_FINITE_MESSAGE]}}}
    strict(response.get_data(as_text=True))


def test_every_non_finite_number_is_named_however_deep(client, lot):
    body = '{"kind": "shipping", "lots": [], "details": {"a": [1, NaN, {"b": -Infinity}]}}'
    response = client.post(
        f"{P}/trace/observations",
        headers={**lot["account"].headers, "Content-Type": "application/json"},
        data=body,
    )
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {
        "details": {"a": {"1": [NON_FINITE_MESSAGE], "2": {"b": [NON_FINITE_MESSAGE]}}}
    }
    deep = "[" * 400 + "NaN" + "]" * 400
    response = client.post(
        f"{P}/trace/observations",
        headers={**lot["account"].headers, "Content-Type": "application/json"},
        data=deep,
    )
    assert response.status_code == 422


def test_the_apps_json_cannot_write_a_non_finite_number(app):
    for value in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError):
            app.json.dumps({"quantity": value})
    assert app.json.dumps({"quantity": 1.5}) == '{"quantity": 1.5}'
    with pytest.raises(ValueError):
        app.json.loads('{"quantity": NaN}')


def test_a_non_finite_value_that_got_into_the_database_is_never_sent_as_json(
    client, lot, db_session, backend
):
    # Only a bypass of every check could store one now (SQLite keeps Infinity in NUMERIC;
    # PostgreSQL keeps NaN in NUMERIC(16, 3)): the answer is an error, never broken JSON.
    row = db_session.get(Lot, lot["id"])
    row.quantity = Decimal("Infinity") if backend == "sqlite" else Decimal("NaN")
    db_session.flush()
    db_session.expire_all()
    response = client.get(f"{P}/lots/{lot['id']}", headers=lot["account"].headers)
    assert response.status_code == 500
    assert strict(response.get_data(as_text=True))["code"] == "internal_error"


def test_finite_numbers_still_round_trip(client, lot, db_session):
    response = client.post(
        f"{P}/trace/observations",
        headers=lot["account"].headers,
        json={
            "kind": "shipping",
            "event_time": datetime(2026, 1, 7, tzinfo=UTC).isoformat(),
            "lots": [{"lot_id": lot["id"], "quantity": 2.5}],
            "details": {"moisture": 12.5, "big": 1e300},
        },
    )
    assert response.status_code == 201
    assert response.json["details"] == {"moisture": 12.5, "big": 1e300}


def test_a_lone_surrogate_is_refused_naming_the_field_and_stores_nothing(client, lot, db_session):
    # "\ud800" parses as JSON but is not text: no database and no UTF-8 encoder takes it, so
    # it used to end in a 500 at the insert (attack finding F4).
    before = _events(db_session)
    for details in ('{"note": "a\\ud800b"}', '{"bad\\udfffkey": 1}'):
        body = (
            '{"kind": "shipping", "event_time": "2026-01-07T08:00:00+07:00",'
            f' "lots": [{{"lot_id": {lot["id"]}}}], "details": {details}}}'
        )
        response = client.post(
            f"{P}/trace/observations",
            headers={**lot["account"].headers, "Content-Type": "application/json"},
            data=body,
        )
        assert response.status_code == 422, response.json
        assert response.json["message_en"] == SURROGATE_MESSAGE
        assert response.json["errors"]["json"]["details"]
    assert _events(db_session) == before


def test_a_body_nested_deeper_than_the_limit_is_refused_by_name(client, lot, db_session):
    before = _events(db_session)
    nested = "[" * (MAX_JSON_DEPTH + 5) + "1" + "]" * (MAX_JSON_DEPTH + 5)
    body = (
        '{"kind": "shipping", "event_time": "2026-01-07T08:00:00+07:00",'
        f' "lots": [{{"lot_id": {lot["id"]}}}], "details": {{"deep": {nested}}}}}'
    )
    response = client.post(
        f"{P}/trace/observations",
        headers={**lot["account"].headers, "Content-Type": "application/json"},
        data=body,
    )
    assert response.status_code == 422
    assert response.json["message_en"] == DEPTH_MESSAGE
    assert _events(db_session) == before
    # A body of several kinds of problem names each beside its field.
    mixed = '{"kind": "shipping", "lots": [], "details": {"a": NaN, "b": "\\ud800"}}'
    response = client.post(
        f"{P}/trace/observations",
        headers={**lot["account"].headers, "Content-Type": "application/json"},
        data=mixed,
    )
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {
        "details": {"a": [NON_FINITE_MESSAGE], "b": [SURROGATE_MESSAGE]}
    }
    assert response.json["message_en"].startswith("The body holds values no field takes")

"""When something happened is a time this service can hold and a person could mean: from 2000
to tomorrow (attack finding F4/F7: 9999-12-31T23:59:59-12:00 answered 500, the year 3000 and
the year 1 were stored)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import make_account
from trace_service.principal import Role
from trace_service.trace.models import TraceEvent

P = "/api/v1"


@pytest.fixture
def producer(db_session):
    producer = factories.ProducerFactory()
    return {
        "account": make_account(db_session, Role.PRODUCER, producer.id),
        "area": factories.AreaFactory(producer=producer),
    }


def _harvest(producer, *, time="2026-01-01T08:00:00+07:00", start="2025-11-01", end=None):
    return {
        "area_id": producer["area"].id,
        "harvest_start": start,
        "harvest_end": end or start,
        "event_time": time,
        "lot": {"code": "D-1", "material": "Quả cà phê", "quantity": 1, "unit": "kg"},
    }


def _count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(TraceEvent))


@pytest.mark.parametrize(
    "time",
    [
        "9999-12-31T23:59:59-12:00",  # no datetime holds it in UTC
        "0001-01-01T00:00:00+14:00",
        "1999-12-31T23:59:59+00:00",
        "3000-01-01T00:00:00+07:00",
        pytest.param((datetime.now(UTC) + timedelta(days=3)).isoformat(), id="in-3-days"),
    ],
)
def test_an_event_time_out_of_range_is_refused_naming_the_field(client, db_session, producer, time):
    before = _count(db_session)
    response = client.post(
        f"{P}/trace/harvests",
        headers=producer["account"].headers,
        json=_harvest(producer, time=time),
    )
    assert response.status_code == 422, response.json
    assert response.json["errors"]["json"]["event_time"][0].startswith("Must be between 2000-01-01")
    assert _count(db_session) == before


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2999-01-01"])
def test_a_harvest_day_out_of_range_is_refused(client, db_session, producer, day):
    response = client.post(
        f"{P}/trace/harvests",
        headers=producer["account"].headers,
        json=_harvest(producer, start=day),
    )
    assert response.status_code == 422
    assert "harvest_start" in response.json["errors"]["json"]


def test_a_time_a_few_hours_ahead_in_a_far_time_zone_is_taken(client, producer):
    # +14:00 (Kiribati) is the furthest ahead; a phone there is not wrong.
    now_far_east = datetime.now(UTC).astimezone(timezone(timedelta(hours=14)))
    response = client.post(
        f"{P}/trace/harvests",
        headers=producer["account"].headers,
        json=_harvest(producer, time=now_far_east.isoformat(), start="2025-11-01"),
    )
    assert response.status_code == 201, response.json


@pytest.mark.parametrize("code", ["=cmd|' /C calc'!A0", "+1", "-A", "@SUM(A1)"])
def test_a_lot_code_that_starts_like_a_spreadsheet_formula_is_refused(
    client, db_session, producer, code
):
    # Exports escape such cells; refusing them at the door keeps every other copy safe too
    # (attack finding F6: only the spreadsheet import refused them).
    body = _harvest(producer)
    body["lot"]["code"] = code
    response = client.post(f"{P}/trace/harvests", headers=producer["account"].headers, json=body)
    assert response.status_code == 422
    assert "spreadsheet" in response.json["errors"]["json"]["lot"]["code"][0]

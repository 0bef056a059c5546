"""Importing a partner's EPCIS 2.0 document: checked against GS1's schema, recorded through
the same rules as the API, every event or none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests import factories
from tests.conftest import make_account
from trace_service.principal import Role
from trace_service.trace.epcis import (
    Quantity,
    TraceEventView,
    epcis_document,
    schema_path,
)

P = "/api/v1"
VN = timezone(timedelta(hours=7))

pytestmark = pytest.mark.skipif(
    not schema_path().is_file(), reason="GS1's EPCIS schema is not beside the project"
)


@pytest.fixture
def partner(db_session):
    producer = factories.ProducerFactory()
    product = factories.ProductFactory(producer=producer)
    return {
        "account": make_account(db_session, Role.PRODUCER, producer.id),
        "area": factories.AreaFactory(producer=producer),
        "product": product,
    }


def _document(partner, green_out=55.0):
    area, gtin = partner["area"], partner["product"].gtin14
    cherry = "urn:ocop:lot:NK-CHERRY-1"
    green = "urn:ocop:lot:NK-GREEN-1"
    bags = f"https://id.example.vn/01/{gtin}/10/NK-BAG-1"
    events = [
        TraceEventView(
            "urn:uuid:6e0b7d38-1111-4c6e-9a10-000000000001",
            "harvest",
            datetime(2025, 11, 20, 17, tzinfo=VN),
            "+07:00",
            f"urn:ocop:area:{area.id}",
            outputs=(Quantity(cherry, 300, "KGM"),),
            extensions={"ocop:harvestStart": "2025-11-01", "ocop:harvestEnd": "2025-11-20"},
        ),
        TraceEventView(
            "urn:uuid:6e0b7d38-1111-4c6e-9a10-000000000002",
            "transformation",
            datetime(2025, 12, 10, 9, tzinfo=VN),
            "+07:00",
            "urn:ocop:producer:1",
            inputs=(Quantity(cherry, 300, "KGM"),),
            outputs=(Quantity(green, green_out, "KGM"),),
            extensions={"ocop:processingKind": "cherry_to_green"},
        ),
        TraceEventView(
            "urn:uuid:6e0b7d38-1111-4c6e-9a10-000000000003",
            "packing",
            datetime(2025, 12, 12, 9, tzinfo=VN),
            "+07:00",
            "urn:ocop:producer:1",
            inputs=(Quantity(green, 50, "KGM"),),
            outputs=(Quantity(bags, 50, "KGM"),),
        ),
        TraceEventView(
            "urn:uuid:6e0b7d38-1111-4c6e-9a10-000000000004",
            "shipping",
            datetime(2025, 12, 13, 9, tzinfo=VN),
            "+07:00",
            "urn:ocop:producer:1",
            subjects=(Quantity(bags, 50, "KGM"),),
        ),
    ]
    return epcis_document(
        events,
        document_uri="urn:uuid:6e0b7d38-2222-4c6e-9a10-000000000000",
        created=datetime(2025, 12, 14, tzinfo=UTC),
    )


def _import(client, partner, document, dry_run=False):
    return client.post(
        f"{P}/trace/epcis?dry_run={str(dry_run).lower()}",
        headers=partner["account"].headers,
        json=document,
    )


def test_a_partners_document_is_checked_then_recorded_whole(client, partner):
    document = _document(partner)
    checked = _import(client, partner, document, dry_run=True)
    assert checked.status_code == 200, checked.json
    assert checked.json["ok"] is True and checked.json["imported"] == 0
    assert client.get(f"{P}/lots", headers=partner["account"].headers).json["total"] == 0
    done = _import(client, partner, document)
    assert done.status_code == 200 and done.json["imported"] == 4
    lots = client.get(f"{P}/lots?code=NK-BAG-1", headers=partner["account"].headers).json
    bag = lots["items"][0]
    assert bag["product_id"] == partner["product"].id
    trace = client.get(f"{P}/lots/{bag['id']}/trace", headers=partner["account"].headers).json
    assert [a["id"] for a in trace["areas"]] == [partner["area"].id]
    assert [e["kind"] for e in trace["events"]] == [
        "harvest",
        "transformation",
        "packing",
        "shipping",
    ]


def test_one_refused_event_refuses_the_document_and_says_which(client, partner):
    response = _import(client, partner, _document(partner, green_out=120.0))  # > 0.25 × 300
    assert response.status_code == 422
    refused = response.json["errors"]["events"]
    assert refused[0]["index"] == 1 and "maximum yield" in refused[0]["problems"][0]
    # the packing and the shipping name a lot that was never made: reported too
    assert {e["index"] for e in refused} == {1, 2, 3}
    assert client.get(f"{P}/lots", headers=partner["account"].headers).json["total"] == 0


def test_a_document_that_breaks_gs1s_schema_is_refused_with_the_paths(client, partner):
    document = _document(partner)
    document["epcisBody"]["eventList"][0]["action"] = "PUT"
    response = _import(client, partner, document)
    assert response.status_code == 422
    assert any("eventList[0]" in problem for problem in response.json["errors"]["json"])


def test_a_harvest_at_someone_elses_area_is_refused(client, partner, db_session):
    other = make_account(db_session, Role.PRODUCER, factories.ProducerFactory().id)
    response = client.post(f"{P}/trace/epcis", headers=other.headers, json=_document(partner))
    assert response.status_code == 422
    assert "area" in response.json["errors"]["events"][0]["problems"][0]


def test_a_document_of_more_events_than_one_import_takes_is_refused_before_any_work(
    client, partner, db_session
):
    # Attack finding F2: a megabyte of small events was thousands of savepoints under the
    # write lock, a dry run too.
    from trace_service.trace.epcis_import import MAX_EVENTS

    document = _document(partner)
    events = document["epcisBody"]["eventList"]
    document["epcisBody"]["eventList"] = (events * (MAX_EVENTS // len(events) + 1))[
        : MAX_EVENTS + 1
    ]
    for dry_run in (True, False):
        response = _import(client, partner, document, dry_run=dry_run)
        assert response.status_code == 422
        assert response.json["message_en"].startswith(
            f"One EPCIS document holds at most {MAX_EVENTS}"
        )
    assert client.get(f"{P}/lots", headers=partner["account"].headers).json["total"] == 0

"""Who recorded each event (issue 10, finding 1): a producer could void or doctor an
inspector's inspection, record inspections itself, and nothing showed who recorded what."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import Account, make_account
from trace_service.principal import Role, system_principal
from trace_service.trace.epcis import schema_path, validate_epcis
from trace_service.trace.models import Attachment, TraceEvent
from trace_service.trace.services import record_harvest

P = "/api/v1"
VN = "+07:00"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def farm(client, db_session):
    """A producer's harvest lot, recorded through the API by the producer's account."""
    producer = factories.ProducerFactory()
    account = make_account(db_session, Role.PRODUCER, producer.id)
    area = factories.AreaFactory(producer=producer)
    harvest = _post(
        client,
        account,
        "/trace/harvests",
        {
            "area_id": area.id,
            "harvest_start": "2025-11-01",
            "harvest_end": "2025-11-20",
            "event_time": f"2025-11-20T17:00:00{VN}",
            "lot": {"code": "REC-H1", "material": "Quả cà phê", "quantity": 500, "unit": "kg"},
        },
    )
    return {
        "producer": producer,
        "account": account,
        "area": area,
        "harvest": harvest,
        "lot": harvest["lots"][0]["lot_id"],
    }


def _post(client, account: Account, path: str, body: dict) -> dict:
    response = client.post(f"{P}{path}", headers=account.headers, json=body)
    assert response.status_code == 201, response.json
    return response.json


def _inspect(client, account: Account, lot_id: int, kind: str = "inspection", day: int = 8):
    return client.post(
        f"{P}/trace/observations",
        headers=account.headers,
        json={
            "kind": kind,
            "event_time": f"2026-01-{day:02d}T09:00:00{VN}",
            "lots": [{"lot_id": lot_id}],
            "details": {"result": "không đạt", "report": "PKN-0113"},
        },
    )


def _correct(client, account: Account, event_id: int, reason: str = "Sai kết quả"):
    return client.post(
        f"{P}/trace/corrections",
        headers=account.headers,
        json={
            "corrects_event_id": event_id,
            "event_time": f"2026-01-09T10:00:00{VN}",
            "reason": reason,
        },
    )


def _attach(client, account: Account, event_id: int):
    return client.post(
        f"{P}/trace/events/{event_id}/attachments",
        headers=account.headers,
        data={"file": (io.BytesIO(PDF), "Phiếu kết quả ĐẠT.pdf")},
    )


def _count(db_session, model, *where) -> int:
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_producer_cannot_void_an_inspectors_inspection(client, farm, inspector, db_session):
    inspection = _inspect(client, inspector, farm["lot"]).json
    refused = _correct(client, farm["account"], inspection["id"])
    assert refused.status_code == 403
    assert "inspectors and the OCOP office" in refused.json["message_en"]
    assert _count(db_session, TraceEvent, TraceEvent.corrects_event_id == inspection["id"]) == 0
    # the inspection is not marked erroneous in the lot's EPCIS history
    document = client.get(f"{P}/lots/{farm['lot']}/epcis", headers=inspector.headers)
    assert "errorDeclaration" not in document.get_data(as_text=True)


def test_a_producer_cannot_attach_its_own_lab_report_to_an_inspection(
    client, farm, inspector, db_session
):
    inspection = _inspect(client, inspector, farm["lot"]).json
    refused = _attach(client, farm["account"], inspection["id"])
    assert refused.status_code == 403
    assert _count(db_session, Attachment, Attachment.event_id == inspection["id"]) == 0
    assert _attach(client, inspector, inspection["id"]).status_code == 201


@pytest.mark.parametrize("kind", ["inspection", "sampling"])
def test_a_producer_cannot_record_an_inspection_or_a_sample(client, farm, db_session, kind):
    before = _count(db_session, TraceEvent)
    refused = _inspect(client, farm["account"], farm["lot"], kind)
    assert refused.status_code == 403
    assert refused.json["message"].startswith("Chỉ thanh tra hoặc văn phòng OCOP")
    assert _count(db_session, TraceEvent) == before


@pytest.mark.parametrize("kind", ["inspection", "sampling"])
def test_the_office_and_inspectors_record_and_correct_inspections(
    client, farm, inspector, admin, kind
):
    by_inspector = _inspect(client, inspector, farm["lot"], kind).json
    by_office = _inspect(client, admin, farm["lot"], kind, day=10).json
    assert _correct(client, admin, by_inspector["id"]).status_code == 201
    assert _correct(client, inspector, by_office["id"]).status_code == 201


def test_an_inspector_corrects_only_inspections_and_sampling(client, farm, inspector):
    refused = _correct(client, inspector, farm["harvest"]["id"])
    assert refused.status_code == 403
    assert refused.json["message_en"] == "Inspectors correct inspections and sampling only."


def test_a_producer_may_not_correct_what_the_office_recorded(client, farm, admin):
    by_office = _post(
        client,
        admin,
        "/trace/observations",
        {
            "kind": "shipping",
            "event_time": f"2026-01-07T08:00:00{VN}",
            "lots": [{"lot_id": farm["lot"], "quantity": 100}],
        },
    )
    refused = _correct(client, farm["account"], by_office["id"])
    assert refused.status_code == 403
    assert "recorded by the OCOP office" in refused.json["message_en"]
    assert refused.json["message"].startswith("Sự kiện này do văn phòng OCOP ghi")
    assert _correct(client, admin, by_office["id"]).status_code == 201


def test_a_producer_may_not_correct_what_the_system_recorded(client, farm, db_session):
    event = record_harvest(
        db_session,
        system_principal("demo"),
        {
            "area_id": farm["area"].id,
            "harvest_start": date(2025, 11, 1),
            "harvest_end": date(2025, 11, 2),
            "event_time": datetime(2025, 11, 3, tzinfo=UTC),
            "lot": {"code": "REC-DEMO", "material": "Quả cà phê", "quantity": 5, "unit": "kg"},
        },
    )
    assert (event.recorded_by, event.recorder_name, event.recorder_role) == (
        None,
        "demo",
        "system",
    )
    assert _correct(client, farm["account"], event.id).status_code == 403


def test_a_producer_corrects_what_another_account_of_its_own_recorded(client, farm, db_session):
    colleague = make_account(db_session, Role.PRODUCER, farm["producer"].id)
    corrected = _correct(client, colleague, farm["harvest"]["id"])
    assert corrected.status_code == 201, corrected.json
    assert corrected.json["recorded_by"]["user_id"] == colleague.user.id


def test_every_event_says_who_recorded_it_in_the_api_and_the_trace(client, farm, inspector, admin):
    producer = farm["account"].user
    assert farm["harvest"]["recorded_by"] == {
        "user_id": producer.id,
        "name": producer.username,
        "role": "producer",
    }
    inspection = _inspect(client, inspector, farm["lot"]).json
    assert inspection["recorded_by"] == {
        "user_id": inspector.user.id,
        "name": inspector.user.username,
        "role": "inspector",
    }
    correction = _correct(client, admin, inspection["id"]).json
    assert correction["recorded_by"]["role"] == "admin"
    trace = client.get(f"{P}/lots/{farm['lot']}/trace", headers=farm["account"].headers).json
    assert [(e["kind"], e["recorded_by"]["role"]) for e in trace["events"]] == [
        ("harvest", "producer"),
        ("inspection", "inspector"),
        ("correction", "admin"),
    ]


@pytest.mark.skipif(not schema_path().is_file(), reason="GS1's EPCIS schema is not installed")
def test_the_epcis_export_says_who_recorded_and_who_declared_an_error(
    client, farm, inspector, admin
):
    inspection = _inspect(client, inspector, farm["lot"]).json
    _correct(client, admin, inspection["id"], reason="Nhầm lô")
    response = client.get(f"{P}/lots/{farm['lot']}/epcis", headers=inspector.headers)
    document = response.get_json(force=True)
    assert validate_epcis(document) == []
    events = document["epcisBody"]["eventList"]
    harvest, inspected, declared = events
    assert harvest["ocop:recordedBy"] == {
        "ocop:role": "producer",
        "ocop:name": farm["account"].user.username,
        "ocop:userId": farm["account"].user.id,
    }
    assert inspected["ocop:recordedBy"]["ocop:role"] == "inspector"
    declaration = declared["errorDeclaration"]
    assert declaration["ocop:recordedBy"]["ocop:role"] == "admin"
    assert declaration["ocop:reason"] == "Nhầm lô"


def test_a_correction_cannot_itself_be_corrected(client, farm, admin):
    correction = _correct(client, farm["account"], farm["harvest"]["id"]).json
    refused = _correct(client, admin, correction["id"])
    assert refused.status_code == 422
    assert "corrects_event_id" in refused.json["errors"]["json"]
    # the lot's history still exports (a corrected correction cannot be written in EPCIS)
    assert client.get(f"{P}/lots/{farm['lot']}/epcis", headers=admin.headers).status_code == 200


def test_one_inspection_names_lots_of_one_producer(client, farm, inspector, db_session):
    other = factories.ProducerFactory()
    theirs = record_harvest(
        db_session,
        system_principal("test"),
        {
            "area_id": factories.AreaFactory(producer=other).id,
            "harvest_start": date(2025, 11, 1),
            "harvest_end": date(2025, 11, 2),
            "event_time": datetime(2025, 11, 3, tzinfo=UTC),
            "lot": {"code": "REC-OTHER", "material": "Tiêu", "quantity": 5, "unit": "kg"},
        },
    )
    response = client.post(
        f"{P}/trace/observations",
        headers=inspector.headers,
        json={
            "kind": "inspection",
            "event_time": f"2026-01-08T09:00:00{VN}",
            "lots": [{"lot_id": farm["lot"]}, {"lot_id": theirs.lots[0].lot_id}],
        },
    )
    assert response.status_code == 422
    assert "lots" in response.json["errors"]["json"]

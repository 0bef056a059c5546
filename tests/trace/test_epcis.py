"""EPCIS 2.0 export: does a coffee chain from three farms to 250 g bags come out as a document
GS1's own schema accepts, with each kind of event spoken the way CBV 2.0 says?"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker

from trace_service.trace import epcis
from trace_service.trace.epcis import (
    EPCIS_CONTEXT,
    PROCESSING_BIZ_STEP,
    Certification,
    Quantity,
    TraceEventView,
    epcis_document,
    schema_path,
    validate_epcis,
)

needs_schema = pytest.mark.skipif(
    not schema_path().is_file(),
    reason=f"GS1's EPCIS JSON schema is not at {schema_path()} (set OCOP_EPCIS_SCHEMA)",
)

ICT = timezone(timedelta(hours=7))
CO_OP = "https://id.ocop.example/414/8934563000004"  # the co-operative's drying/roasting yard
SHOP = "https://id.ocop.example/414/8934563000011"  # a distributor in Gia Nghĩa
BAGS = "https://id.ocop.example/01/08934563138165/10/DM-2025-001"  # 250 g bags, GTIN + lot
CERT = Certification(
    standard="OCOP",
    agency="UBND tỉnh Đắk Nông",
    value="3 sao",
    identification="1234/QĐ-UBND",
    start_date=date(2024, 12, 20),
    end_date=date(2027, 12, 19),
)


def at(day: int, hour: int, month: int = 10) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=ICT)


def lot(code: str, amount: float, uom: str = "KGM") -> Quantity:
    return Quantity(f"urn:ocop:lot:{code}", amount, uom)


def harvest(uri: str, area: int, code: str, kg: float, day: int) -> TraceEventView:
    return TraceEventView(
        event_uri=uri,
        kind="harvest",
        event_time=at(day, 16),
        time_zone="+07:00",
        location_uri=f"urn:ocop:area:{area}",
        outputs=(lot(code, kg),),
        extensions={
            "ocop:harvestStart": date(2025, 10, day - 3),
            "ocop:harvestEnd": date(2025, 10, day),
            # EUDR: the plot as a GeoJSON point, WGS84 [lon, lat], six decimals.
            "ocop:geolocation": {"type": "Point", "coordinates": [107.690000 + area / 1000, 12.0]},
        },
    )


def process(uri: str, kind: str, source: Quantity, made: Quantity, day: int) -> TraceEventView:
    return TraceEventView(
        event_uri=uri,
        kind="transformation",
        event_time=at(day, 9),
        time_zone="+07:00",
        location_uri=CO_OP,
        inputs=(source,),
        outputs=(made,),
        extensions={"ocop:processingKind": kind},
    )


def chain() -> list[TraceEventView]:
    """Three plots harvest cherry, the co-op dries, hulls, roasts, grinds and packs it into
    250 g bags, ships them, an inspector samples them, the lot is recalled, and a harvest
    weighed wrong is corrected. Given out of order on purpose."""
    return [
        TraceEventView(
            "urn:uuid:0b7a4c1e-0000-4000-8000-00000000000c",
            "recall",
            at(5, 10, month=12),
            "+07:00",
            CO_OP,
            subjects=(Quantity(BAGS, 2000, "H87"),),
            extensions={"ocop:reason": "Ochratoxin A vượt ngưỡng"},
        ),
        harvest("urn:uuid:0b7a4c1e-0000-4000-8000-000000000001", 12, "CH-A12", 1200.0, 6),
        harvest("urn:uuid:0b7a4c1e-0000-4000-8000-000000000002", 13, "CH-A13", 950, 6),
        harvest("urn:uuid:0b7a4c1e-0000-4000-8000-000000000003", 14, "CH-A14", 1400, 7),
        TraceEventView(
            "urn:uuid:0b7a4c1e-0000-4000-8000-000000000004",
            "transformation",
            at(25, 17),
            "+07:00",
            CO_OP,
            inputs=(lot("CH-A12", 1200), lot("CH-A13", 950), lot("CH-A14", 1350)),
            outputs=(lot("DC-2025-001", 1575),),
            extensions={"ocop:processingKind": "drying", "ocop:moisturePercent": 12.5},
        ),
        process(
            "urn:uuid:0b7a4c1e-0000-4000-8000-000000000005",
            "hulling",
            lot("DC-2025-001", 1575),
            lot("GB-2025-001", 630),
            27,
        ),
        process(
            "urn:uuid:0b7a4c1e-0000-4000-8000-000000000006",
            "roasting",
            lot("GB-2025-001", 630),
            lot("RB-2025-001", 535.5),
            29,
        ),
        process(
            "urn:uuid:0b7a4c1e-0000-4000-8000-000000000007",
            "grinding",
            lot("RB-2025-001", 535.5),
            lot("GR-2025-001", 530),
            30,
        ),
        TraceEventView(
            "urn:uuid:0b7a4c1e-0000-4000-8000-000000000008",
            "packing",
            at(31, 14),
            "+07:00",
            CO_OP,
            inputs=(lot("GR-2025-001", 500),),
            outputs=(Quantity(BAGS, 2000, "H87"),),
            certifications=(CERT,),
            extensions={"ocop:bestBefore": date(2026, 10, 31)},
        ),
        TraceEventView(
            "urn:uuid:0b7a4c1e-0000-4000-8000-000000000009",
            "shipping",
            at(3, 7, month=11),
            "+07:00",
            CO_OP,
            subjects=(Quantity(BAGS, 1200, "H87"),),
        ),
        TraceEventView(
            "urn:uuid:0b7a4c1e-0000-4000-8000-00000000000a",
            "receiving",
            at(3, 15, month=11),
            "+07:00",
            SHOP,
            subjects=(Quantity(BAGS, 1200, "H87"),),
        ),
        TraceEventView(
            "urn:uuid:0b7a4c1e-0000-4000-8000-00000000000b",
            "sampling",
            at(20, 10, month=11),
            "+07:00",
            SHOP,
            subjects=(Quantity(BAGS, 4, "H87"),),
        ),
        TraceEventView(
            "urn:uuid:0b7a4c1e-0000-4000-8000-00000000000d",
            "inspection",
            at(21, 10, month=11),
            "+07:00",
            SHOP,
            subjects=(Quantity(BAGS, 1200, "H87"),),
            disposition="non_conformant",
            certifications=(CERT,),
        ),
        # Plot 14 was weighed on a faulty scale: the same harvest again, with the right
        # weight, declares the first record erroneous.
        TraceEventView(
            "urn:uuid:0b7a4c1e-0000-4000-8000-00000000000e",
            "harvest",
            at(7, 16),
            "+07:00",
            "urn:ocop:area:14",
            outputs=(lot("CH-A14", 1350),),
            error_declaration=("urn:uuid:0b7a4c1e-0000-4000-8000-000000000003",),
        ),
    ]


def document(events: list[TraceEventView] | None = None) -> dict[str, Any]:
    return epcis_document(
        chain() if events is None else events,
        document_uri="urn:uuid:5d1e8a3c-9f0b-4c2d-8e7f-6a5b4c3d2e1f",
        created=datetime(2025, 12, 6, 8, 0, tzinfo=UTC),
        sender="https://id.ocop.example/417/8934563000004",
    )


def events_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["epcisBody"]["eventList"]


def event(doc: dict[str, Any], uri: str) -> dict[str, Any]:
    found = [e for e in events_of(doc) if e["eventID"] == uri and "errorDeclaration" not in e]
    assert len(found) == 1
    return found[0]


def uri(n: int) -> str:
    return f"urn:uuid:0b7a4c1e-0000-4000-8000-{n:012x}"


# --- the whole chain against GS1's schema ------------------------------------------------


@needs_schema
def test_does_the_coffee_chain_validate_against_gs1s_schema() -> None:
    assert validate_epcis(document()) == []


@needs_schema
def test_does_the_document_survive_a_json_round_trip_and_still_validate() -> None:
    text = json.dumps(document(), ensure_ascii=False)
    assert validate_epcis(json.loads(text)) == []


def test_does_the_document_carry_the_epcis_envelope() -> None:
    doc = document()
    assert doc["@context"] == [EPCIS_CONTEXT, {"ocop": "https://ocop.example/ns/"}]
    assert doc["type"] == "EPCISDocument"
    assert doc["schemaVersion"] == "2.0"
    assert doc["creationDate"] == "2025-12-06T08:00:00+00:00"
    assert doc["id"] == "urn:uuid:5d1e8a3c-9f0b-4c2d-8e7f-6a5b4c3d2e1f"
    assert doc["sender"] == "https://id.ocop.example/417/8934563000004"
    assert "sender" not in epcis_document([], document_uri="urn:uuid:x", created=at(1, 1))


def test_are_events_sorted_by_event_time_with_the_declaration_after_its_event() -> None:
    listed = events_of(document())
    times = [datetime.fromisoformat(e["eventTime"]) for e in listed]
    assert times == sorted(times)
    ids = [e["eventID"] for e in listed]
    # 14 views: 14 events and 1 error declaration repeating an eventID.
    assert len(listed) == 15
    assert ids[:5] == [uri(1), uri(2), uri(3), uri(3), uri(14)]
    assert ids[-1] == uri(12)
    assert all(e["eventID"].startswith("urn:uuid:") for e in listed)


# --- each kind of event ------------------------------------------------------------------


def test_is_a_harvest_a_commissioning_object_event_at_the_plot() -> None:
    harvested = event(document(), uri(1))
    assert harvested["type"] == "ObjectEvent"
    assert harvested["action"] == "ADD"
    assert harvested["bizStep"] == "commissioning"
    assert harvested["disposition"] == "active"
    assert harvested["readPoint"] == {"id": "urn:ocop:area:12"}
    assert harvested["bizLocation"] == {"id": "urn:ocop:area:12"}
    assert harvested["quantityList"] == [
        {"epcClass": "urn:ocop:lot:CH-A12", "quantity": 1200, "uom": "KGM"}
    ]
    assert type(harvested["quantityList"][0]["quantity"]) is int  # 1200.0 written as 1200
    assert harvested["eventTime"] == "2025-10-06T16:00:00+07:00"
    assert harvested["eventTimeZoneOffset"] == "+07:00"
    assert harvested["ocop:harvestStart"] == "2025-10-03"
    assert harvested["ocop:harvestEnd"] == "2025-10-06"
    assert harvested["ocop:geolocation"]["type"] == "Point"


def test_is_processing_a_transformation_event_with_a_custom_step_and_its_kind() -> None:
    doc = document()
    dried = event(doc, uri(4))
    assert dried["type"] == "TransformationEvent"
    assert "action" not in dried  # TransformationEvent has none
    assert dried["bizStep"] == PROCESSING_BIZ_STEP
    assert not dried["bizStep"].startswith(("urn:epcglobal:cbv", "https://ns.gs1.org/cbv"))
    assert dried["ocop:processingKind"] == "drying"
    assert dried["ocop:moisturePercent"] == 12.5
    assert [q["epcClass"] for q in dried["inputQuantityList"]] == [
        "urn:ocop:lot:CH-A12",
        "urn:ocop:lot:CH-A13",
        "urn:ocop:lot:CH-A14",
    ]
    assert dried["outputQuantityList"] == [
        {"epcClass": "urn:ocop:lot:DC-2025-001", "quantity": 1575, "uom": "KGM"}
    ]
    kinds = [event(doc, uri(n))["ocop:processingKind"] for n in (4, 5, 6, 7)]
    assert kinds == ["drying", "hulling", "roasting", "grinding"]
    assert event(doc, uri(6))["outputQuantityList"][0]["quantity"] == 535.5
    assert dried["readPoint"] == dried["bizLocation"] == {"id": CO_OP}


def test_is_packing_a_transformation_from_bulk_kilograms_to_bags() -> None:
    packed = event(document(), uri(8))
    assert packed["type"] == "TransformationEvent"
    assert packed["bizStep"] == "packing"
    assert packed["disposition"] == "active"
    assert packed["inputQuantityList"] == [
        {"epcClass": "urn:ocop:lot:GR-2025-001", "quantity": 500, "uom": "KGM"}
    ]
    assert packed["outputQuantityList"] == [{"epcClass": BAGS, "quantity": 2000, "uom": "H87"}]
    assert packed["ocop:bestBefore"] == "2026-10-31"


def test_are_shipping_and_receiving_observations_in_transit_then_in_progress() -> None:
    doc = document()
    shipped, received = event(doc, uri(9)), event(doc, uri(10))
    assert (shipped["type"], shipped["action"]) == ("ObjectEvent", "OBSERVE")
    assert (shipped["bizStep"], shipped["disposition"]) == ("shipping", "in_transit")
    assert shipped["readPoint"] == {"id": CO_OP}
    assert "bizLocation" not in shipped  # in transit, nowhere
    assert shipped["quantityList"] == [{"epcClass": BAGS, "quantity": 1200, "uom": "H87"}]
    assert (received["type"], received["action"]) == ("ObjectEvent", "OBSERVE")
    assert (received["bizStep"], received["disposition"]) == ("receiving", "in_progress")
    assert received["bizLocation"] == {"id": SHOP}


def test_are_inspection_and_sampling_observations_with_their_outcome() -> None:
    doc = document()
    sampled, inspected = event(doc, uri(11)), event(doc, uri(13))
    assert (sampled["type"], sampled["action"], sampled["bizStep"]) == (
        "ObjectEvent",
        "OBSERVE",
        "sampling",
    )
    assert "disposition" not in sampled
    assert sampled["quantityList"] == [{"epcClass": BAGS, "quantity": 4, "uom": "H87"}]
    assert (inspected["action"], inspected["bizStep"]) == ("OBSERVE", "inspecting")
    assert inspected["disposition"] == "non_conformant"


def test_is_a_recall_a_holding_observation_with_disposition_recalled() -> None:
    recalled = event(document(), uri(12))
    assert (recalled["type"], recalled["action"]) == ("ObjectEvent", "OBSERVE")
    assert (recalled["bizStep"], recalled["disposition"]) == ("holding", "recalled")
    assert recalled["quantityList"] == [{"epcClass": BAGS, "quantity": 2000, "uom": "H87"}]
    assert recalled["ocop:reason"] == "Ochratoxin A vượt ngưỡng"
    assert "bizLocation" not in recalled


def test_does_a_view_disposition_override_the_default_but_not_for_a_recall() -> None:
    shipped = TraceEventView(uri(1), "shipping", at(1, 1), "+07:00", CO_OP, subjects=(lot("X", 1),))
    returned = TraceEventView(
        uri(2),
        "receiving",
        at(1, 2),
        "+07:00",
        CO_OP,
        subjects=(lot("X", 1),),
        disposition="returned",
    )
    doc = document([shipped, returned])
    assert [e["disposition"] for e in events_of(doc)] == ["in_transit", "returned"]
    wrong = TraceEventView(
        uri(3),
        "recall",
        at(1, 3),
        "+07:00",
        CO_OP,
        subjects=(lot("X", 1),),
        disposition="active",
    )
    with pytest.raises(ValueError, match="recalled"):
        document([wrong])


def test_are_certificates_named_by_uri_in_certification_info_with_details_beside() -> None:
    packed = event(document(), uri(8))
    assert packed["certificationInfo"] == ["urn:ocop:certificate:ocop:1234%2FQ%C4%90-UBND"]
    assert packed["ocop:certificationDetails"] == [
        {
            "ocop:certificationStandard": "OCOP",
            "ocop:certificationAgency": "UBND tỉnh Đắk Nông",
            "ocop:certificationValue": "3 sao",
            "ocop:certificationIdentification": "1234/QĐ-UBND",
            "ocop:certificationStartDate": "2024-12-20",
            "ocop:certificationEndDate": "2027-12-19",
        }
    ]
    published = Certification("VietGAP", "Trung tâm X", "đạt", "https://cert.example/vg/77")
    view = TraceEventView(
        uri(1),
        "harvest",
        at(1, 1),
        "+07:00",
        "urn:ocop:area:1",
        outputs=(lot("X", 1),),
        certifications=(published,),
    )
    only = events_of(document([view]))[0]
    assert only["certificationInfo"] == ["https://cert.example/vg/77"]
    assert "ocop:certificationStartDate" not in only["ocop:certificationDetails"][0]


# --- corrections -------------------------------------------------------------------------


def test_does_a_correction_repeat_the_wrong_event_with_an_error_declaration() -> None:
    doc = document()
    wrong = [e for e in events_of(doc) if e["eventID"] == uri(3)]
    assert len(wrong) == 2
    original, declared = wrong
    assert "errorDeclaration" not in original
    assert {k: v for k, v in declared.items() if k != "errorDeclaration"} == original
    assert declared["errorDeclaration"] == {
        "declarationTime": "2025-10-07T16:00:00+07:00",
        "reason": "incorrect_data",
        "correctiveEventIDs": [uri(14)],
    }
    corrective = event(doc, uri(14))
    assert corrective["quantityList"][0]["quantity"] == 1350
    assert "errorDeclaration" not in corrective


@needs_schema
def test_does_a_bare_correction_declare_the_error_without_an_event_of_its_own() -> None:
    sampled = TraceEventView(
        uri(1), "sampling", at(1, 8), "+07:00", SHOP, subjects=(Quantity(BAGS, 4, "H87"),)
    )
    correction = TraceEventView(
        uri(2),
        "correction",
        at(2, 9),
        "+07:00",
        SHOP,
        error_declaration=(uri(1),),
        extensions={"reasonText": "ghi nhầm lô"},
    )
    corrective = TraceEventView(
        uri(3),
        "sampling",
        at(3, 9),
        "+07:00",
        SHOP,
        subjects=(Quantity(BAGS, 2, "H87"),),
        error_declaration=(uri(1),),
    )
    doc = document([corrective, correction, sampled])
    assert [e["eventID"] for e in events_of(doc)] == [uri(1), uri(1), uri(3)]
    assert events_of(doc)[1]["errorDeclaration"] == {
        "declarationTime": "2025-10-02T09:00:00+07:00",
        "reason": "incorrect_data",
        "correctiveEventIDs": [uri(3)],
        "ocop:reasonText": "ghi nhầm lô",
    }
    assert validate_epcis(doc) == []
    alone = document([sampled, correction])
    assert "correctiveEventIDs" not in events_of(alone)[1]["errorDeclaration"]
    assert validate_epcis(alone) == []


@pytest.mark.parametrize(
    ("views", "message"),
    [
        ([TraceEventView(uri(1), "harvesting", at(1, 1), "+07:00", "urn:x:1")], "unknown"),
        (
            [TraceEventView(uri(1), "harvest", datetime(2025, 10, 1), "+07:00", "urn:x:1")],
            "timezone-aware",
        ),
        ([TraceEventView(uri(1), "harvest", at(1, 1), "+7", "urn:x:1")], "time_zone"),
        ([TraceEventView(uri(1), "harvest", at(1, 1), "+07:00", "urn:x:1")], "needs outputs"),
        (
            [
                TraceEventView(
                    uri(1),
                    "shipping",
                    at(1, 1),
                    "+07:00",
                    "urn:x:1",
                    subjects=(lot("A", 1),),
                    outputs=(lot("A", 1),),
                )
            ],
            "takes no outputs",
        ),
        (
            [
                TraceEventView(
                    uri(1), "packing", at(1, 1), "+07:00", "urn:x:1", outputs=(lot("A", 1),)
                )
            ],
            "needs inputs",
        ),
        ([TraceEventView(uri(1), "correction", at(1, 1), "+07:00", "urn:x:1")], "must name"),
        (
            [
                TraceEventView(
                    uri(1),
                    "harvest",
                    at(1, 1),
                    "+07:00",
                    "urn:x:1",
                    outputs=(lot("A", 1),),
                    error_declaration=(uri(9),),
                )
            ],
            "not among the exported",
        ),
        (
            [
                TraceEventView(
                    uri(1),
                    "harvest",
                    at(1, 1),
                    "+07:00",
                    "urn:x:1",
                    outputs=(lot("A", 1),),
                    error_declaration=(uri(1),),
                )
            ],
            "itself",
        ),
        (
            [
                TraceEventView(
                    uri(1), "sampling", at(1, 1), "+07:00", "urn:x:1", subjects=(lot("A", 1),)
                ),
                TraceEventView(
                    uri(2),
                    "correction",
                    at(1, 2),
                    "+07:00",
                    "urn:x:1",
                    error_declaration=(uri(1),),
                ),
                TraceEventView(
                    uri(3),
                    "correction",
                    at(1, 3),
                    "+07:00",
                    "urn:x:1",
                    error_declaration=(uri(2),),
                ),
            ],
            "cannot itself be corrected",
        ),
        (
            [
                TraceEventView(
                    uri(1), "sampling", at(1, 1), "+07:00", "urn:x:1", subjects=(lot("A", 1),)
                )
            ]
            * 2,
            "share the id",
        ),
        (
            [
                TraceEventView(
                    uri(1), "sampling", at(1, 1), "+07:00", "urn:x:1", subjects=(lot("A", 0),)
                )
            ],
            "positive",
        ),
        (
            [
                TraceEventView(
                    uri(1),
                    "sampling",
                    at(1, 1),
                    "+07:00",
                    "urn:x:1",
                    subjects=(lot("A", float("nan")),),
                )
            ],
            "positive",
        ),
        (
            [
                TraceEventView(
                    uri(1),
                    "sampling",
                    at(1, 1),
                    "+07:00",
                    "urn:x:1",
                    subjects=(lot("A", 1),),
                    extensions={"example:field": 1},
                )
            ],
            "prefix",
        ),
        (
            [
                TraceEventView(
                    uri(1),
                    "sampling",
                    at(1, 1),
                    "+07:00",
                    "urn:x:1",
                    subjects=(lot("A", 1),),
                    extensions={"bizStep": "x"},
                )
            ],
            "overwrite",
        ),
        (
            [
                TraceEventView(
                    uri(1),
                    "sampling",
                    at(1, 1),
                    "+07:00",
                    "urn:x:1",
                    subjects=(lot("A", 1),),
                    extensions={"ocop:t": float("inf")},
                )
            ],
            "JSON",
        ),
    ],
)
def test_are_views_epcis_cannot_speak_refused(views: list[TraceEventView], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        document(views)


def test_is_a_naive_creation_date_refused() -> None:
    with pytest.raises(ValueError, match="created"):
        epcis_document([], document_uri="urn:uuid:x", created=datetime(2025, 1, 1))


def test_are_extension_values_written_as_plain_json() -> None:
    view = TraceEventView(
        uri(1),
        "sampling",
        at(1, 1),
        "+07:00",
        "urn:x:1",
        subjects=(lot("A", 1),),
        extensions={
            "lab": {"name": "Quatest 3", "at": at(1, 2), "ids": ("a", "b")},
            "ocop:moisture": Decimal("12.5"),
            "https://example.org/ns/flag": True,
            "ocop:note": None,
        },
    )
    only = events_of(document([view]))[0]
    assert only["ocop:lab"] == {
        "name": "Quatest 3",
        "at": "2025-10-01T02:00:00+07:00",
        "ids": ["a", "b"],
    }
    assert only["ocop:moisture"] == 12.5
    assert only["https://example.org/ns/flag"] is True
    assert only["ocop:note"] is None
    odd = TraceEventView(
        uri(1),
        "sampling",
        at(1, 1),
        "+07:00",
        "urn:x:1",
        subjects=(lot("A", 1),),
        extensions={"ocop:x": object()},
    )
    with pytest.raises(TypeError, match="object"):
        document([odd])


def test_is_a_decimal_amount_written_as_a_number() -> None:
    view = TraceEventView(
        uri(1),
        "sampling",
        at(1, 1),
        "+07:00",
        "urn:x:1",
        subjects=(Quantity("urn:ocop:lot:A", Decimal("0.25"), "KGM"),),  # type: ignore[arg-type]
    )
    written = events_of(document([view]))[0]["quantityList"][0]["quantity"]
    assert type(written) is float
    assert written == 0.25


# --- GS1's own examples: proof that URI checks are on ------------------------------------


@needs_schema
@pytest.mark.parametrize(
    "example", ["example-ObjectEvent-DigitalLink.jsonld", "example-TransformationEvent.jsonld"]
)
def test_are_gs1s_blank_node_ids_reported_as_not_uris(example: str) -> None:
    examples = epcis.SHARED_SCHEMA_PATH.parent
    if not (examples / example).is_file():
        pytest.skip(f"GS1's examples are not in {examples}")
    official = json.loads((examples / example).read_text(encoding="utf-8"))
    assert official["id"] == "_:document1"
    assert validate_epcis(official) == ["$.id: '_:document1' is not a 'uri'"]
    official["id"] = "urn:uuid:1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"
    assert validate_epcis(official) == []


# --- broken documents: every failure names its JSON path --------------------------------


def _drop_event_time(doc: dict[str, Any]) -> None:
    del events_of(doc)[0]["eventTime"]


def _put(doc: dict[str, Any]) -> None:
    events_of(doc)[0]["action"] = "PUT"


def _harvesting(doc: dict[str, Any]) -> None:
    events_of(doc)[0]["bizStep"] = "harvesting"


def _blank_event_id(doc: dict[str, Any]) -> None:
    events_of(doc)[4]["eventID"] = "_:event5"


def _lowercase_uom(doc: dict[str, Any]) -> None:
    events_of(doc)[5]["inputQuantityList"][0]["uom"] = "kg"


def _thirteenth_month(doc: dict[str, Any]) -> None:
    doc["creationDate"] = "2025-13-01T08:00:00Z"


def _numeric_date(doc: dict[str, Any]) -> None:
    doc["creationDate"] = 20251206


def _cbv_urn_step(doc: dict[str, Any]) -> None:
    events_of(doc)[6]["bizStep"] = "urn:epcglobal:cbv:bizstep:roasting"


def _no_quantities(doc: dict[str, Any]) -> None:
    del events_of(doc)[0]["quantityList"]


@needs_schema
@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_drop_event_time, ["$.epcisBody.eventList[0]: 'eventTime' is a required property"]),
        (_put, ["$.epcisBody.eventList[0].action: 'PUT' is not one of"]),
        (_harvesting, ["$.epcisBody.eventList[0].bizStep: fits none of the allowed forms"]),
        (_blank_event_id, ["$.epcisBody.eventList[4].eventID: '_:event5' is not a 'uri'"]),
        (_lowercase_uom, ["$.epcisBody.eventList[5].inputQuantityList[0].uom: 'kg' does not"]),
        (_thirteenth_month, ["$.creationDate: '2025-13-01T08:00:00Z' is not a 'date-time'"]),
        (_numeric_date, ["$.creationDate: 20251206 is not of type 'string'"]),
        (_cbv_urn_step, ["$.epcisBody.eventList[6].bizStep: fits none of the allowed forms"]),
        (_no_quantities, ["$.epcisBody.eventList[0]: fits none of the allowed forms"]),
    ],
)
def test_is_each_broken_document_reported_at_its_path(
    mutate: Callable[[dict[str, Any]], None], expected: list[str]
) -> None:
    broken = copy.deepcopy(document())
    mutate(broken)
    errors = validate_epcis(broken)
    for start in expected:
        assert any(e.startswith(start) for e in errors), errors


@needs_schema
def test_does_a_bad_action_also_say_why_each_alternative_failed() -> None:
    broken = document()
    events_of(broken)[0]["action"] = "PUT"
    errors = validate_epcis(broken)
    assert len(errors) == 2
    (alternatives,) = [e for e in errors if e.startswith("$.epcisBody.eventList[0]: fits none")]
    assert "'PUT' does not match '^ADD$' at $.epcisBody.eventList[0].action" in alternatives


@needs_schema
def test_does_a_non_uri_step_say_it_is_neither_a_cbv_step_nor_a_uri() -> None:
    broken = document()
    events_of(broken)[0]["bizStep"] = "harvesting"
    (error,) = validate_epcis(broken)
    assert "'harvesting' is not a 'uri'" in error
    assert "'harvesting' is not one of ['accepting'" in error


# --- where the schema comes from ---------------------------------------------------------


def test_is_a_missing_schema_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OCOP_EPCIS_SCHEMA", str(tmp_path / "nowhere.json"))
    with pytest.raises(FileNotFoundError, match="OCOP_EPCIS_SCHEMA"):
        validate_epcis(document())


@needs_schema
def test_is_the_schema_path_taken_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    moved = tmp_path / "epcis.json"
    shutil.copyfile(schema_path(), moved)
    monkeypatch.setenv("OCOP_EPCIS_SCHEMA", str(moved))
    assert schema_path() == moved
    assert validate_epcis(document()) == []


def test_is_the_default_schema_the_copy_shipped_with_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OCOP_EPCIS_SCHEMA", raising=False)
    shipped = Path(epcis.__file__).resolve().parent / "gs1" / "EPCIS-JSON-Schema.json"
    assert schema_path() == shipped and shipped.is_file()


def test_are_uri_checks_refused_to_be_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without rfc3986-validator jsonschema has no "uri" checker and passes anything."""
    monkeypatch.setattr(Draft7Validator, "FORMAT_CHECKER", FormatChecker(formats=["date"]))
    with pytest.raises(RuntimeError, match="rfc3986-validator"):
        epcis._format_checker()


def test_the_shipped_schema_is_gs1s_own() -> None:
    from trace_service.trace.epcis import DEFAULT_SCHEMA_PATH, SHARED_SCHEMA_PATH

    if not SHARED_SCHEMA_PATH.is_file():
        pytest.skip("../shared/epcis/ is not beside the project to compare with")
    assert DEFAULT_SCHEMA_PATH.read_bytes() == SHARED_SCHEMA_PATH.read_bytes()


def test_a_labelling_event_must_name_the_labelled_units():
    view = TraceEventView(
        "urn:uuid:0d6f4a52-3c1e-4a3b-8f6e-00000000b001",
        "labelling",
        at(20, 9),
        "+07:00",
        CO_OP,
    )
    with pytest.raises(ValueError, match="labelled units"):
        epcis_document([view], document_uri="urn:uuid:x", created=at(21, 9))
    with pytest.raises(ValueError, match="takes no outputs"):
        epcis_document(
            [
                TraceEventView(
                    view.event_uri,
                    "labelling",
                    at(20, 9),
                    "+07:00",
                    CO_OP,
                    outputs=(lot("X", 1),),
                    epcs=(f"{BAGS}/21/ABC",),
                )
            ],
            document_uri="urn:uuid:x",
            created=at(21, 9),
        )

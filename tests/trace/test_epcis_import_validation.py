"""The EPCIS import goes through the API's validation (issue 10, finding 4): a quantity of
Infinity or 1e300, lot codes with control characters or over 64 characters were stored;
an area id of 23 digits and a harvest start of 2026-13-45 answered 500.

A generated corpus of malformed documents (every field of every event type the import
understands, replaced by wrong types, huge, negative and non-finite numbers, control
characters, over-long strings, unknown or out-of-range ids and impossible dates): each is
refused with a 4xx in the one error shape, naming the event and the field, and stores nothing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import Account, make_account
from trace_service.api import NON_FINITE_MESSAGE
from trace_service.audit.models import AuditEvent
from trace_service.principal import Role, system_principal
from trace_service.trace.epcis import (
    EPCIS_CONTEXT,
    OCOP_NAMESPACE,
    PROCESSING_BIZ_STEP,
    schema_path,
)
from trace_service.trace.epcis_import import json_path
from trace_service.trace.models import (
    Attachment,
    EventLot,
    Lot,
    LotLink,
    Recall,
    TraceEvent,
)
from trace_service.trace.services import record_harvest

P = "/api/v1"
pytestmark = pytest.mark.skipif(
    not schema_path().is_file(), reason="GS1's EPCIS schema is not beside the project"
)
TABLES = (Lot, TraceEvent, EventLot, LotLink, Recall, Attachment, AuditEvent)
CHERRY = "urn:ocop:lot:CORPUS-CHERRY"


@dataclass
class Partner:
    account: Account
    area_id: int
    gtin: str


@pytest.fixture
def partner(db_session) -> Partner:
    producer = factories.ProducerFactory()
    area = factories.AreaFactory(producer=producer)
    product = factories.ProductFactory(producer=producer)
    record_harvest(
        db_session,
        system_principal("test"),
        {
            "area_id": area.id,
            "harvest_start": date(2025, 11, 1),
            "harvest_end": date(2025, 11, 20),
            "event_time": datetime(2025, 11, 21, tzinfo=UTC),
            "lot": {
                "code": "CORPUS-CHERRY",
                "material": "Quả cà phê",
                "quantity": 1000,
                "unit": "kg",
            },
        },
    )
    # The office: it may import every kind of event, inspections included, so each
    # refusal below is the field's fault, not the account's.
    return Partner(make_account(db_session, Role.ADMIN), area.id, product.gtin14)


def _envelope(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [EPCIS_CONTEXT, {"ocop": OCOP_NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-12-20T00:00:00+00:00",
        "id": "urn:uuid:9a0e5b7c-0000-4000-8000-000000000000",
        "epcisBody": {"eventList": [event]},
    }


def _common(n: int, day: int) -> dict[str, Any]:
    return {
        "eventID": f"urn:uuid:9a0e5b7c-0000-4000-8000-{n:012d}",
        "eventTime": f"2025-12-{day:02d}T09:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
    }


def base_events(partner: Partner) -> dict[str, dict[str, Any]]:
    """One well-formed event of each kind the import understands (each imports alone)."""
    made = f"https://id.example.vn/01/{partner.gtin}/10/CORPUS-PACKED"
    observed = [{"epcClass": CHERRY, "quantity": 5, "uom": "KGM"}]
    events = {
        "harvest": {
            "type": "ObjectEvent",
            **_common(1, 5),
            "action": "ADD",
            "bizStep": "commissioning",
            "readPoint": {"id": f"urn:ocop:area:{partner.area_id}"},
            "quantityList": [
                {"epcClass": "urn:ocop:lot:CORPUS-NEW-H", "quantity": 10, "uom": "KGM"}
            ],
            "ocop:harvestStart": "2025-12-01",
            "ocop:harvestEnd": "2025-12-04",
            "ocop:material": "Quả cà phê chín",
        },
        "transformation": {
            "type": "TransformationEvent",
            **_common(2, 10),
            "bizStep": PROCESSING_BIZ_STEP,
            "readPoint": {"id": "urn:ocop:producer:1"},
            "inputQuantityList": [{"epcClass": CHERRY, "quantity": 100, "uom": "KGM"}],
            "outputQuantityList": [
                {"epcClass": "urn:ocop:lot:CORPUS-NEW-D", "quantity": 50, "uom": "KGM"}
            ],
            "ocop:processingKind": "drying",
            "ocop:material": "Cà phê quả khô",
        },
        "packing": {
            "type": "TransformationEvent",
            **_common(3, 11),
            "bizStep": "packing",
            "readPoint": {"id": "urn:ocop:producer:1"},
            "inputQuantityList": [{"epcClass": CHERRY, "quantity": 10, "uom": "KGM"}],
            "outputQuantityList": [{"epcClass": made, "quantity": 10, "uom": "KGM"}],
            "ocop:material": "Cà phê nhân 1 kg",
        },
    }
    for n, step in enumerate(("shipping", "receiving", "inspecting", "sampling"), start=4):
        events[step] = {
            "type": "ObjectEvent",
            **_common(n, 12),
            "action": "OBSERVE",
            "bizStep": step,
            "readPoint": {"id": "urn:ocop:producer:1"},
            "quantityList": copy.deepcopy(observed),
        }
    return events


class Raw(str):
    """A number written into the JSON text as is (NaN, Infinity, 1e400): not JSON."""


WRONG_TYPES = [12345, True, None, [], {}]
TEXTS = ["", "A\u0000B", "\u001b[31mX\u001b[0m", "x" * 10_000]
NUMBERS = [
    *["12", True, None, [], {}],
    -1,
    0,
    -1e-9,
    1e300,
    10**30,
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    Raw("1e400"),
]
DATE_TIMES = [
    "2026-13-45T10:00:00+07:00",
    "2026-02-30T10:00:00+07:00",
    "2025-12-05T25:00:00+07:00",
    "2025-12-05T17:00:00",
    "1900-01-01T00:00:00+07:00",  # real, but before every event of the lots it names
]
DATES = ["2026-13-45", "2026-02-30", "01/12/2025", "2025-12-31", "0000-01-01"]
LOTS_KNOWN = [  # a lot the event must find
    "urn:ocop:lot:NO-SUCH-LOT",
    "urn:ocop:lot:" + "A" * 65,
    "urn:ocop:lot:A%00B",
    "urn:ocop:lot:%1B%5B31m",
    "urn:example:not-a-lot",
]
LOTS_NEW = [  # a lot the event makes
    CHERRY,  # taken
    "urn:ocop:lot:" + "A" * 65,
    "urn:ocop:lot:A%00B",
    "urn:ocop:lot:%1B%5B31m",
    "urn:ocop:lot:%20",
    "https://id.example.vn/01/00000000000000/10/UNKNOWN-GTIN",
    "urn:example:not-a-lot",
]
AREAS = [
    "urn:ocop:area:99999999999999999999999",
    "urn:ocop:area:0",
    "urn:ocop:area:999999999",
    "urn:ocop:area:-1",
    "urn:ocop:producer:1",
]
LOCATIONS = ["urn:ocop:producer:" + "9" * 300]
UOMS = ["XX", "kgm", "H87", "KGM1"]


# Fields of the envelope, which GS1's schema alone rules on: fewer values each.
ENVELOPE = [12345, None, "A\u0000B"]


def _field_values(kind: str, path: tuple) -> list[Any]:
    """The bad values for one field of one kind of event."""
    name = path[-1]
    if name == "quantity":
        return NUMBERS
    values: list[Any] = [*WRONG_TYPES, *TEXTS] if name.startswith("ocop:") else [12345, [], *TEXTS]
    if name in ("type", "eventID", "eventTimeZoneOffset", "action", "bizStep", "uom"):
        values = list(ENVELOPE)
    if name == "eventTime":
        values += DATE_TIMES
    elif name in ("ocop:harvestStart", "ocop:harvestEnd"):
        values += DATES
    elif name == "epcClass":
        values += LOTS_NEW if path[0] == "outputQuantityList" or kind == "harvest" else LOTS_KNOWN
    elif name == "id":
        values += AREAS if kind == "harvest" else LOCATIONS
    elif name == "uom":
        values += UOMS if kind != "harvest" else [*UOMS, "H87"]
    elif name == "ocop:processingKind":
        values += ["packing", "Drying", "roasting; drop table lots"]
    elif name == "eventTimeZoneOffset":
        values += ["+25:00", "07:00"]
    elif name == "action":
        values += ["DELETE", "ADD" if kind != "harvest" else "OBSERVE"]
    elif name == "bizStep":
        observed = kind in ("shipping", "receiving", "inspecting", "sampling")
        values += ["urn:example:step", "commissioning" if observed else "shipping"]
    elif name == "type":
        values += ["AggregationEvent", "EPCISDocument"]
    elif name in ("quantityList", "inputQuantityList", "outputQuantityList"):
        values = [*ENVELOPE, [], [[]], [None]]
    elif name == "readPoint":
        values = [*ENVELOPE, {}, "urn:ocop:producer:1"]
    return values


def _paths(event: dict[str, Any]) -> Iterator[tuple]:
    for key, value in event.items():
        yield (key,)
        if isinstance(value, dict):
            for inner in value:
                yield (key, inner)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in value[0]:
                yield (key, 0, inner)


def _put(event: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    target = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


def _text(document: dict[str, Any]) -> str:
    """The document as JSON text, with Raw numbers written as they are."""
    marks: dict[str, str] = {}

    def mark(value: Any) -> Any:
        if isinstance(value, Raw):
            key = f"@@raw{len(marks)}@@"
            marks[key] = str(value)
            return key
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(document), ensure_ascii=False)
    for key, raw in marks.items():
        text = text.replace(f'"{key}"', raw)
    return text


def corpus(partner: Partner) -> Iterator[tuple[str, tuple, Any, str]]:
    """(kind, field path, value, document text) for every malformed document."""
    for kind, event in base_events(partner).items():
        for path in _paths(event):
            for value in _field_values(kind, path):
                yield kind, path, value, _text(_envelope(_put(event, path, value)))


# Fields checked together: a harvest that ends before it starts, or is recorded before it
# ends, is named at the field the rule reads last.
_TOGETHER = {("ocop:harvestStart",), ("ocop:harvestEnd",), ("eventTime",)}


def _named(path: tuple) -> set[tuple]:
    """The fields a refusal of ``path`` may name."""
    return _TOGETHER if path in _TOGETHER else {path}


def _counts(db_session) -> dict[str, int]:
    return {
        model.__tablename__: db_session.scalar(select(func.count()).select_from(model))
        for model in TABLES
    }


def _send(client, partner: Partner, text: str, dry_run: bool = False):
    return client.post(
        f"{P}/trace/epcis?dry_run={str(dry_run).lower()}",
        headers={**partner.account.headers, "Content-Type": "application/json"},
        data=text.encode(),
    )


def test_each_well_formed_event_of_the_corpus_imports(client, partner, db_session):
    for kind, event in base_events(partner).items():
        response = _send(client, partner, json.dumps(_envelope(event)), dry_run=True)
        assert response.status_code == 200, (kind, response.json)
        assert response.json["ok"] is True, (kind, response.json)


def test_every_malformed_document_is_refused_naming_event_and_field_and_stores_nothing(
    client, partner, db_session
):
    before = _counts(db_session)
    documents = list(corpus(partner))
    assert len(documents) >= 100
    event_path = json_path(("epcisBody", "eventList", 0))
    seen_layers = set()
    for kind, path, value, text in documents:
        case = (kind, path, repr(value)[:60])
        response = _send(client, partner, text)
        body = response.json
        assert 400 <= response.status_code < 500, (case, body)
        assert body["status"] == response.status_code, case
        assert body["message"] and body["message_en"], case
        errors = body["errors"]
        if isinstance(value, Raw):  # not JSON: NaN, Infinity, 1e400, named where they stand
            assert response.status_code == 422, case
            where = errors["json"]
            for part in ("epcisBody", "eventList", 0, *path):
                where = where[str(part)]
            assert where == [NON_FINITE_MESSAGE], case
            seen_layers.add("json")
        else:
            fields = [json_path(("epcisBody", "eventList", 0, *p)) for p in _named(path)]
            named = [k for k in errors["json"] if k.startswith(event_path)]
            assert named, (case, errors)
            # the field itself, something inside it, or the event it is part of
            assert any(f.startswith(k) or k.startswith(f) for k in named for f in fields), (
                case,
                errors,
            )
            if "events" in errors:  # refused by the API's own rules: the event by index and id
                refused = errors["events"][0]
                assert refused["index"] == 0 and refused["problems"], case
                assert refused["event_id"] == base_events(partner)[kind]["eventID"] or (
                    path == ("eventID",)
                ), case
                seen_layers.add("api")
            else:
                seen_layers.add("gs1")
        assert _counts(db_session) == before, case
    assert seen_layers == {"json", "gs1", "api"}


def _harvest(partner: Partner, **changes: Any) -> dict[str, Any]:
    event = base_events(partner)["harvest"]
    for path, value in changes.items():
        parts = tuple(int(p) if p.isdigit() else p for p in path.split("/"))
        event = _put(event, parts, value)
    return _envelope(event)


@pytest.mark.parametrize(
    "raw, field",
    [
        ("1e300", "$.epcisBody.eventList[0].quantityList[0].quantity"),
        ("1000000000001", "$.epcisBody.eventList[0].quantityList[0].quantity"),
        ("-5", "$.epcisBody.eventList[0].quantityList[0].quantity"),
    ],
)
def test_a_huge_or_negative_quantity_is_refused_by_the_apis_own_rule(
    client, partner, db_session, raw, field
):
    before = _counts(db_session)
    text = _text(_harvest(partner, **{"quantityList/0/quantity": Raw(raw)}))
    response = _send(client, partner, text)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert _counts(db_session) == before


@pytest.mark.parametrize("raw", ["Infinity", "NaN", "1e400"])
def test_an_infinite_quantity_is_not_json_and_is_refused(client, partner, db_session, raw):
    before = _counts(db_session)
    text = _text(_harvest(partner, **{"quantityList/0/quantity": Raw(raw)}))
    response = _send(client, partner, text)
    assert response.status_code == 422
    assert response.json["message_en"] == NON_FINITE_MESSAGE
    assert _counts(db_session) == before
    listed = client.get(f"{P}/lots?page_size=100", headers=partner.account.headers)
    assert "Infinity" not in listed.get_data(as_text=True)


@pytest.mark.parametrize(
    "code, message",
    [
        ("urn:ocop:lot:A%07B", "control characters"),
        ("urn:ocop:lot:A%0AB", "line breaks"),
        ("urn:ocop:lot:" + "L" * 65, "64"),
    ],
)
def test_lot_codes_follow_the_apis_rules(client, partner, code, message):
    response = _send(
        client, partner, json.dumps(_harvest(partner, **{"quantityList/0/epcClass": code}))
    )
    assert response.status_code == 422
    where = "$.epcisBody.eventList[0].quantityList[0].epcClass"
    assert message in " ".join(response.json["errors"]["json"][where])


def test_an_area_id_out_of_range_is_refused_not_a_crash(client, partner):
    area = "urn:ocop:area:99999999999999999999999"
    response = _send(client, partner, json.dumps(_harvest(partner, **{"readPoint/id": area})))
    assert response.status_code == 422
    assert "$.epcisBody.eventList[0].readPoint.id" in response.json["errors"]["json"]
    refused = response.json["errors"]["events"][0]
    assert refused["index"] == 0 and refused["event_id"].startswith("urn:uuid:9a0e5b7c")
    assert refused["problems"][0].startswith("readPoint.id: Not a valid id")


def test_an_impossible_harvest_date_is_refused_not_a_crash(client, partner):
    response = _send(
        client, partner, json.dumps(_harvest(partner, **{"ocop:harvestStart": "2026-13-45"}))
    )
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert errors["$.epcisBody.eventList[0]['ocop:harvestStart']"] == ["Not a valid date."]


def test_a_dry_run_reports_each_field_without_storing(client, partner, db_session):
    before = _counts(db_session)
    document = _harvest(partner, **{"ocop:material": "x" * 121, "quantityList/0/quantity": 0})
    response = _send(client, partner, json.dumps(document), dry_run=True)
    assert response.status_code == 200 and response.json["ok"] is False
    errors = response.json["events"][0]["errors"]
    assert set(errors) == {
        "$.epcisBody.eventList[0]['ocop:material']",
        "$.epcisBody.eventList[0].quantityList[0].quantity",
    }
    assert _counts(db_session) == before


def test_a_producer_cannot_learn_another_producers_lot_codes(client, partner, db_session):
    stranger = make_account(db_session, Role.PRODUCER, factories.ProducerFactory().id)
    document = _envelope(base_events(partner)["shipping"])  # names CORPUS-CHERRY, not theirs
    unknown = _envelope(
        _put(base_events(partner)["shipping"], ("quantityList", 0, "epcClass"), "urn:ocop:lot:X")
    )
    answers = []
    for doc in (document, unknown):
        response = client.post(f"{P}/trace/epcis", headers=stranger.headers, json=doc)
        assert response.status_code == 422
        answers.append(response.json["errors"]["events"][0]["problems"][0].split("'")[0])
    assert answers[0] == answers[1]  # the same words for theirs as for none at all


def test_who_recorded_is_the_importer_whatever_the_document_claims(client, partner, db_session):
    event = base_events(partner)["inspecting"]
    event["ocop:recordedBy"] = {"ocop:role": "inspector", "ocop:name": "thanh-tra-tinh"}
    response = client.post(
        f"{P}/trace/epcis", headers=partner.account.headers, json=_envelope(event)
    )
    assert response.status_code == 200, response.json
    recorded = db_session.scalars(select(TraceEvent).order_by(TraceEvent.id.desc())).first()
    assert (recorded.recorder_role, recorded.recorded_by) == ("admin", partner.account.user.id)


@pytest.mark.parametrize(
    "document",
    [
        {"type": "EPCISDocument", "epcisBody": {"eventList": []}},
        {
            "type": "EPCISQueryDocument",
            "epcisBody": {
                "queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": []}}
            },
        },
    ],
)
def test_a_document_without_events_is_refused_not_a_crash(client, partner, document):
    document = {
        "@context": [EPCIS_CONTEXT],
        "schemaVersion": "2.0",
        "creationDate": "2025-12-20T00:00:00+00:00",
        **document,
    }
    response = _send(client, partner, json.dumps(document))
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"$.epcisBody.eventList": ["No events to import."]}

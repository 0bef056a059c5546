"""Importing a partner's EPCIS 2.0 document: checked against GS1's schema, then each event
read into the API's own request shape, loaded with the API's own schemas (the same field
rules: finite, bounded quantities, lot codes, real dates, ids in range) and recorded through
the same services (the same business rules), all or nothing.

Understood: ObjectEvent ADD ``commissioning`` at one of our areas (a harvest),
TransformationEvent (processing, or ``packing`` into a product named by its GTIN), and
ObjectEvent OBSERVE ``shipping``/``receiving``/``inspecting``/``sampling``. Lots are named by
``urn:ocop:lot:<code>`` or a GS1 Digital Link with ``/10/<lot>``, as our export writes them.

Every refusal names the event (its index in ``eventList`` and its ``eventID``) and the field,
by JSON path (``$.epcisBody.eventList[2].quantityList[0].quantity``), as GS1's schema errors
are named. Who recorded an event is the importing account, never what the document claims.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from marshmallow import Schema, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.auth.scoping import scoped
from trace_service.errors import DomainError, InvalidInput, Unavailable
from trace_service.principal import Principal
from trace_service.registry.models import Product
from trace_service.trace import services
from trace_service.trace.epcis import schema_errors
from trace_service.trace.models import Lot
from trace_service.trace.rules import MAX_YIELD
from trace_service.trace.schemas import (
    EpcisEventResultSchema,
    HarvestSchema,
    ObservationSchema,
    PackingSchema,
    TransformationSchema,
    lot_code,
)
from trace_service.trace.units import Unit
from trace_service.web.formatting import vn_number

# Units a new lot may be counted in (mass or volume); an existing lot may also be in pieces.
_UOM = {"KGM": Unit.KG, "TNE": Unit.TONNE, "GRM": Unit.GRAM, "LTR": Unit.LITRE}
_UOM_OF_EXISTING = {**_UOM, "H87": Unit.PIECE}
_LOT_URN = re.compile(r"^urn:ocop:lot:(?P<code>.+)$")
_DIGITAL_LINK = re.compile(r"/01/(?P<gtin>\d{14})/10/(?P<code>[^/?#]+)")
_AREA_URN = re.compile(r"^urn:ocop:area:(?P<id>\d+)$")
_OBSERVATIONS = {
    "shipping": "shipping",
    "receiving": "receiving",
    "inspecting": "inspection",
    "sampling": "sampling",
}
# Processing: our export's own step, CBV 1.2's deprecated "transforming", or none given.
_TRANSFORMATION_STEPS = {"packing", "processing", "transforming", ""}
_DEFAULT_MATERIAL = "Nguyên liệu nhập từ EPCIS"
_LOT_CODE = lot_code()
_JSON_PATH_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Path = tuple[str | int, ...]  # a place in an event: ("quantityList", 0, "quantity")


@dataclass
class EventResult:
    index: int
    event_id: str | None
    type: str | None
    problems: list[str] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)  # by JSON path in the document


@dataclass
class EpcisImportReport:
    events: list[EventResult]
    imported: int
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.events) and not any(e.problems for e in self.events)

    @property
    def errors(self) -> dict[str, list[str]]:
        """Every refused event's field errors, by JSON path in the document."""
        return {path: messages for e in self.events for path, messages in e.errors.items()}


def json_path(parts: Path) -> str:
    """``$.epcisBody.eventList[0]['ocop:harvestStart']``, written as jsonschema writes them."""
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _JSON_PATH_NAME.match(part):
            path += f".{part}"
        else:
            path += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path


class _Refused(Exception):
    """An event cannot be recorded: messages by where in the event they belong."""

    def __init__(self, errors: dict[Path, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass
class _Reading:
    """One event read into the API's request shape, and where each API field came from in
    the event, so an error of the API's schema or services points back into the document."""

    data: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Path] = field(default_factory=dict)
    errors: dict[Path, list[str]] = field(default_factory=dict)

    def put(self, key: str, value: Any, where: Path) -> None:
        self.data[key] = value
        self.origin[key] = where

    def fail(self, where: Path, message: str) -> None:
        self.errors.setdefault(where, []).append(message)

    def place(self, api_field: str) -> Path:
        """Where an API field ("outputs.0.quantity") came from; the nearest field named."""
        parts = api_field.split(".")
        while parts:
            if (found := self.origin.get(".".join(parts))) is not None:
                return found
            parts.pop()
        return ()


def _step(event: Mapping[str, Any]) -> str:
    return str(event.get("bizStep", "")).rsplit("/", 1)[-1].removeprefix("BizStep-")


def _lot_code(reading: _Reading, uri: Any, where: Path) -> tuple[str | None, str | None]:
    """(lot code, GTIN-14 or None) from a lot identifier, the code read as the API reads one."""
    text = uri if isinstance(uri, str) else ""
    if match := _LOT_URN.match(text):
        code, gtin = unquote(match["code"]), None
    elif match := _DIGITAL_LINK.search(text):
        code, gtin = unquote(match["code"]), match["gtin"]
    else:
        reading.fail(where, "Cannot read a lot from it (urn:ocop:lot:… or a Digital Link /10/…).")
        return None, None
    try:
        return _LOT_CODE.deserialize(code), gtin
    except ValidationError as error:
        for _, message in _flatten(error.messages):
            reading.fail(where, f"Lot code: {message}")
        return None, None


def _unit(reading: _Reading, item: Mapping[str, Any], where: Path, units: dict[str, Unit]) -> Any:
    uom = item.get("uom")
    if uom not in units:
        reading.fail(
            (*where, "uom"), f"Needs a unit of measure of {', '.join(units)}, not {uom!r}."
        )
        return None
    return units[uom].value


def _items(event: Mapping[str, Any], key: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    items = event.get(key)
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, Mapping):
            yield i, item


def _existing_lot(
    session: Session, actor: Principal, reading: _Reading, item: Mapping[str, Any], where: Path
) -> Lot | None:
    code, _ = _lot_code(reading, item.get("epcClass"), (*where, "epcClass"))
    if code is None:
        return None
    # Another producer's lot is as unknown as one that does not exist.
    lot = session.scalar(scoped(select(Lot).where(Lot.code == code), actor, Lot))
    if lot is None:
        reading.fail((*where, "epcClass"), f"No lot {code!r} of yours is known here.")
    return lot


def _new_lot(
    session: Session,
    actor: Principal,
    reading: _Reading,
    event: Mapping[str, Any],
    item: Mapping[str, Any],
    key: str,
    where: Path,
) -> dict[str, Any]:
    """A new lot's fields (as NewLotSchema takes them) and where they came from."""
    code, gtin = _lot_code(reading, item.get("epcClass"), (*where, "epcClass"))
    spec: dict[str, Any] = {
        "code": code,
        "material": event.get("ocop:material", _DEFAULT_MATERIAL),
        "unit": _unit(reading, item, where, _UOM),
    }
    if "quantity" in item:
        spec["quantity"] = item["quantity"]
    reading.origin |= {
        key: where,
        f"{key}.code": (*where, "epcClass"),
        f"{key}.product_id": (*where, "epcClass"),
        f"{key}.quantity": (*where, "quantity"),
        f"{key}.unit": (*where, "uom"),
        f"{key}.material": ("ocop:material",),
    }
    if gtin is not None:
        stmt = scoped(select(Product.id).where(Product.gtin14 == gtin), actor, Product)
        spec["product_id"] = session.scalar(stmt)
        if spec["product_id"] is None:
            reading.fail((*where, "epcClass"), f"No product of yours has GTIN {gtin}.")
    return spec


def _common(reading: _Reading, event: Mapping[str, Any], *, location: bool = True) -> None:
    reading.put("event_time", event.get("eventTime"), ("eventTime",))
    read_point = event.get("readPoint")
    if location and isinstance(read_point, Mapping) and "id" in read_point:
        reading.put("location", read_point["id"], ("readPoint", "id"))


def _harvest(
    session: Session, actor: Principal, event: Mapping[str, Any]
) -> tuple[_Reading, Schema]:
    reading = _Reading()
    _common(reading, event, location=False)
    read_point = event.get("readPoint")
    location = read_point.get("id") if isinstance(read_point, Mapping) else None
    area = _AREA_URN.match(location) if isinstance(location, str) else None
    if area is None:
        reading.fail(
            ("readPoint", "id"),
            f"A harvest happens at one of our areas (urn:ocop:area:N), not {location!r}.",
        )
    else:
        reading.put("area_id", int(area["id"]), ("readPoint", "id"))
    items = list(_items(event, "quantityList"))
    if len(items) != 1 or len(event.get("quantityList") or ()) != 1:
        reading.fail(("quantityList",), "A harvest commissions exactly one lot.")
    else:
        i, item = items[0]
        reading.data["lot"] = _new_lot(
            session, actor, reading, event, item, "lot", ("quantityList", i)
        )
    # The harvest's days default to the day of the event, as the export leaves them out
    # only when they are that day.
    day = _day(event.get("eventTime"))
    for key, name in (("harvest_start", "ocop:harvestStart"), ("harvest_end", "ocop:harvestEnd")):
        reading.put(key, event.get(name, day), (name,))
    return reading, HarvestSchema()


def _day(moment: Any) -> str | None:
    try:
        return datetime.fromisoformat(str(moment).replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return None


def _transformation(
    session: Session, actor: Principal, event: Mapping[str, Any], packing: bool
) -> tuple[_Reading, Schema]:
    reading = _Reading()
    _common(reading, event)
    inputs: list[dict[str, Any]] = []
    for i, item in _items(event, "inputQuantityList"):
        where = ("inputQuantityList", i)
        lot = _existing_lot(session, actor, reading, item, where)
        spec = {
            "lot_id": lot.id if lot else None,
            "unit": _unit(reading, item, where, _UOM_OF_EXISTING),
        }
        if "quantity" in item:
            spec["quantity"] = item["quantity"]
        n = len(inputs)
        reading.origin |= {
            f"inputs.{n}": where,
            f"inputs.{n}.lot_id": (*where, "epcClass"),
            f"inputs.{n}.quantity": (*where, "quantity"),
            f"inputs.{n}.unit": (*where, "uom"),
        }
        inputs.append(spec)
    outputs = [
        _new_lot(session, actor, reading, event, item, f"outputs.{n}", ("outputQuantityList", i))
        for n, (i, item) in enumerate(_items(event, "outputQuantityList"))
    ]
    reading.put("inputs", inputs, ("inputQuantityList",))
    reading.put("outputs", outputs, ("outputQuantityList",))
    if packing:
        return reading, PackingSchema()
    reading.put("process", event.get("ocop:processingKind"), ("ocop:processingKind",))
    return reading, TransformationSchema()


def _observation(
    session: Session, actor: Principal, event: Mapping[str, Any]
) -> tuple[_Reading, Schema]:
    reading = _Reading()
    _common(reading, event)
    reading.put("kind", _OBSERVATIONS[_step(event)], ("bizStep",))
    lots: list[dict[str, Any]] = []
    for i, item in _items(event, "quantityList"):
        where = ("quantityList", i)
        lot = _existing_lot(session, actor, reading, item, where)
        subject: dict[str, Any] = {"lot_id": lot.id if lot else None}
        if "quantity" in item:
            subject["quantity"] = item["quantity"]
            unit = _unit(reading, item, where, _UOM_OF_EXISTING)
            if lot is not None and unit is not None and unit != lot.unit:
                reading.fail((*where, "uom"), f"Lot {lot.code} is counted in {lot.unit}.")
        n = len(lots)
        reading.origin |= {
            f"lots.{n}": where,
            f"lots.{n}.lot_id": (*where, "epcClass"),
            f"lots.{n}.quantity": (*where, "quantity"),
        }
        lots.append(subject)
    reading.put("lots", lots, ("quantityList",))
    return reading, ObservationSchema()


def _flatten(messages: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(API field, message) pairs from marshmallow's nested messages."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, str):
        yield prefix, messages
    else:
        for value in messages:
            yield from _flatten(value, prefix)


def _read(
    session: Session, actor: Principal, event: Mapping[str, Any]
) -> tuple[_Reading, Schema, str]:
    kind, step, action = event.get("type"), _step(event), event.get("action")
    if kind == "ObjectEvent" and action == "ADD" and step == "commissioning":
        return (*_harvest(session, actor, event), "harvest")
    if kind == "TransformationEvent" and step in _TRANSFORMATION_STEPS:
        packing = step == "packing"
        name = "packing" if packing else "transformation"
        return (*_transformation(session, actor, event, packing), name)
    if kind == "ObjectEvent" and action == "OBSERVE" and step in _OBSERVATIONS:
        return (*_observation(session, actor, event), "observation")
    understood = "harvests, transformations, packing, shipping, receiving, inspecting, sampling"
    message = (
        f"{kind} with action {action} and bizStep {step[:80]!r} is not understood ({understood})."
    )
    raise _Refused({(): [message]})


def _record(
    session: Session, actor: Principal, event: Mapping[str, Any], yields: dict[str, Decimal]
) -> None:
    reading, schema, kind = _read(session, actor, event)
    explained = set(reading.errors)  # a field read wrongly is left empty: say why only once
    try:
        data = schema.load(reading.data)
    except ValidationError as error:
        for api_field, message in _flatten(error.messages):
            if (where := reading.place(api_field)) not in explained:
                reading.fail(where, message)
    if reading.errors:
        raise _Refused(reading.errors)
    try:
        if kind == "harvest":
            services.record_harvest(session, actor, data)
        elif kind == "packing":
            services.record_packing(session, actor, data)
        elif kind == "transformation":
            services.record_transformation(session, actor, data, yields)
        else:
            services.record_observation(session, actor, data)
    except DomainError as error:
        found: dict[Path, list[str]] = {}
        for api_field, message in _flatten((error.errors or {}).get("json") or {}):
            found.setdefault(reading.place(api_field), []).append(message)
        if not any(error.message_en in messages for messages in found.values()):
            found = {(): [error.message_en], **found}  # the whole story first, then the fields
        raise _Refused(found) from None


# One import is one transaction (a dry run too: it writes, then rolls back), and on SQLite it
# holds the write lock throughout: a partner sends a day's or a batch's events, not a year's.
# A megabyte of minimal events would otherwise be thousands of savepoints under that lock.
MAX_EVENTS = 500


def _refuse_too_many_events(document: Any) -> None:
    listed = document.get("epcisBody", {}) if isinstance(document, dict) else None
    listed = listed.get("eventList") if isinstance(listed, dict) else None
    if isinstance(listed, list) and len(listed) > MAX_EVENTS:
        raise InvalidInput(
            f"Một tài liệu EPCIS có tối đa {MAX_EVENTS} sự kiện (tài liệu này có "
            f"{vn_number(len(listed))}); hãy chia thành nhiều lần nhập.",
            f"One EPCIS document holds at most {MAX_EVENTS} events (this one has "
            f"{len(listed)}); split it into several imports.",
            errors={"json": {"$.epcisBody.eventList": [f"At most {MAX_EVENTS} events."]}},
        )


def import_epcis(
    session: Session,
    actor: Principal,
    document: dict[str, Any],
    *,
    dry_run: bool,
    schema_file: str | None = None,
    yields: dict[str, Decimal] = MAX_YIELD,
) -> EpcisImportReport:
    """Record every event of ``document`` or none; the report names each refused event and
    its fields."""
    _refuse_too_many_events(document)
    try:
        problems = schema_errors(document, schema_file)
    except FileNotFoundError as missing:
        raise Unavailable(
            "Chưa cài lược đồ EPCIS của GS1 để kiểm tra tài liệu.",
            f"GS1's EPCIS schema is not installed here: {missing}",
        ) from missing
    if problems:
        raise InvalidInput(
            "Tài liệu EPCIS không đúng lược đồ GS1.",
            "The document does not follow GS1's EPCIS 2.0 schema.",
            errors={"json": problems},
        )
    listed = document.get("epcisBody", {}).get("eventList")
    if document.get("type") != "EPCISDocument" or not listed:
        raise InvalidInput(
            "Tài liệu EPCIS không có sự kiện nào để nhập.",
            "The document holds no events to import (an EPCISDocument with an eventList).",
            errors={"json": {"$.epcisBody.eventList": ["No events to import."]}},
        )
    events = sorted(enumerate(listed), key=lambda pair: str(pair[1].get("eventTime")))
    results = []
    outer = session.begin_nested()
    for index, event in events:
        result = EventResult(index, event.get("eventID"), event.get("type"))
        step = session.begin_nested()  # a refused event leaves nothing; the next ones go on
        try:
            _record(session, actor, event, yields)
            step.commit()
        except _Refused as refused:
            step.rollback()
            for where, messages in refused.errors.items():
                path = json_path(("epcisBody", "eventList", index, *where))
                result.errors.setdefault(path, []).extend(messages)
                relative = json_path(where).removeprefix("$").removeprefix(".")
                result.problems += [f"{relative}: {m}" if relative else m for m in messages]
        results.append(result)
    report = EpcisImportReport(sorted(results, key=lambda r: r.index), 0, dry_run)
    if dry_run or not report.ok:
        outer.rollback()
    else:
        outer.commit()
        report.imported = len(results)
    return report


def import_or_refuse(
    session: Session,
    actor: Principal,
    document: dict[str, Any],
    *,
    dry_run: bool,
    schema_file: str | None = None,
    yields: dict[str, Decimal] = MAX_YIELD,
) -> EpcisImportReport:
    """``import_epcis`` as a request answers it: an import with a refused event imports
    nothing and is refused itself (422, naming each refused event); a dry run reports."""
    report = import_epcis(
        session, actor, document, dry_run=dry_run, schema_file=schema_file, yields=yields
    )
    if not report.ok and not dry_run:
        refused = EpcisEventResultSchema(many=True).dump([e for e in report.events if e.problems])
        raise InvalidInput(
            "Có sự kiện bị từ chối; không nhập sự kiện nào.",
            "Some events were refused; nothing was imported.",
            errors={"json": report.errors, "events": refused},
        )
    return report

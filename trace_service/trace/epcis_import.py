"""Importing a partner's EPCIS 2.0 document: checked against GS1's schema, then each event
recorded through the same services (and rules) as the API's, all or nothing.

Understood: ObjectEvent ADD ``commissioning`` at one of our areas (a harvest),
TransformationEvent (processing, or ``packing`` into a product named by its GTIN), and
ObjectEvent OBSERVE ``shipping``/``receiving``/``inspecting``/``sampling``. Lots are named by
``urn:ocop:lot:<code>`` or a GS1 Digital Link with ``/10/<lot>``, as our export writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.auth.principal import Principal
from trace_service.errors import DomainError, InvalidInput, Unavailable
from trace_service.registry.models import Product
from trace_service.trace import services
from trace_service.trace.epcis import validate_epcis
from trace_service.trace.models import Lot
from trace_service.trace.rules import MAX_YIELD
from trace_service.trace.units import Unit

_UOM = {"KGM": Unit.KG, "TNE": Unit.TONNE, "GRM": Unit.GRAM, "LTR": Unit.LITRE}
_LOT_URN = re.compile(r"^urn:ocop:lot:(?P<code>.+)$")
_DIGITAL_LINK = re.compile(r"/01/(?P<gtin>\d{14})/10/(?P<code>[^/?#]+)")
_AREA_URN = re.compile(r"^urn:ocop:area:(?P<id>\d+)$")
_OBSERVATIONS = {
    "shipping": "shipping",
    "receiving": "receiving",
    "inspecting": "inspection",
    "sampling": "sampling",
}


@dataclass
class EventResult:
    index: int
    event_id: str | None
    type: str | None
    problems: list[str] = field(default_factory=list)


@dataclass
class EpcisImportReport:
    events: list[EventResult]
    imported: int

    @property
    def ok(self) -> bool:
        return bool(self.events) and not any(e.problems for e in self.events)


class _Refused(Exception):
    pass


def _step(event: dict[str, Any]) -> str:
    return str(event.get("bizStep", "")).rsplit("/", 1)[-1].removeprefix("BizStep-")


def _lot_code(uri: str) -> tuple[str, str | None]:
    """(lot code, GTIN-14 or None) from a lot identifier."""
    if match := _LOT_URN.match(uri):
        return unquote(match["code"]), None
    if match := _DIGITAL_LINK.search(uri):
        return unquote(match["code"]), match["gtin"]
    raise _Refused(f"Cannot read a lot from '{uri}' (urn:ocop:lot:… or a Digital Link /10/…).")


def _when(event: dict[str, Any]) -> datetime:
    moment = datetime.fromisoformat(str(event["eventTime"]).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise _Refused("eventTime has no time zone.")
    return moment


def _amount(item: dict[str, Any]) -> tuple[float, Unit]:
    uom = item.get("uom")
    if uom not in _UOM or "quantity" not in item:
        raise _Refused(
            f"Quantity of {item.get('epcClass')} needs a mass or volume uom "
            f"({', '.join(_UOM)}), not {uom!r}."
        )
    return float(item["quantity"]), _UOM[uom]


def _existing_lot(session: Session, uri: str) -> Lot:
    code, _ = _lot_code(uri)
    lot = session.scalar(select(Lot).where(Lot.code == code))
    if lot is None:
        raise _Refused(f"No lot {code} is known here; import its earlier events first.")
    return lot


def _new_lot(session: Session, item: dict[str, Any], material: str) -> dict[str, Any]:
    code, gtin = _lot_code(item["epcClass"])
    quantity, unit = _amount(item)
    spec: dict[str, Any] = {"code": code, "material": material, "quantity": quantity, "unit": unit}
    if gtin is not None:
        product = session.scalar(select(Product).where(Product.gtin14 == gtin))
        if product is None:
            raise _Refused(f"No product has GTIN {gtin}.")
        spec["product_id"] = product.id
    return spec


def _record(
    session: Session, actor: Principal, event: dict[str, Any], yields: dict[str, Decimal]
) -> None:
    kind, step = event.get("type"), _step(event)
    when = _when(event)
    location = (event.get("readPoint") or {}).get("id", "")
    material = str(event.get("ocop:material", "Nguyên liệu nhập từ EPCIS"))
    if kind == "ObjectEvent" and event.get("action") == "ADD" and step == "commissioning":
        area = _AREA_URN.match(location)
        if area is None:
            raise _Refused(
                f"A harvest must happen at one of our areas (urn:ocop:area:N), not '{location}'."
            )
        items = event.get("quantityList") or []
        if len(items) != 1:
            raise _Refused("A harvest commissions exactly one lot.")
        start = event.get("ocop:harvestStart") or when.date().isoformat()
        end = event.get("ocop:harvestEnd") or when.date().isoformat()
        services.record_harvest(
            session,
            actor,
            {
                "area_id": int(area["id"]),
                "event_time": when,
                "lot": _new_lot(session, items[0], material),
                "harvest_start": date.fromisoformat(start),
                "harvest_end": date.fromisoformat(end),
            },
        )
    elif kind == "TransformationEvent":
        inputs = [
            {"lot_id": _existing_lot(session, i["epcClass"]).id, "quantity": _amount(i)[0]}
            for i in event.get("inputQuantityList") or []
        ]
        outputs = [_new_lot(session, o, material) for o in event.get("outputQuantityList") or []]
        if not inputs or not outputs:
            raise _Refused("A transformation needs input and output quantities.")
        data = {"event_time": when, "inputs": inputs, "outputs": outputs, "location": location}
        if step == "packing":
            services.record_packing(session, actor, data)
        else:
            process = str(event.get("ocop:processingKind", ""))
            if process not in yields:
                raise _Refused(
                    f"Unknown processing kind '{process}' (ocop:processingKind: "
                    f"{', '.join(sorted(yields))})."
                )
            services.record_transformation(session, actor, {**data, "process": process}, yields)
    elif kind == "ObjectEvent" and event.get("action") == "OBSERVE" and step in _OBSERVATIONS:
        lots = [
            {"lot_id": _existing_lot(session, q["epcClass"]).id}
            for q in event.get("quantityList") or []
        ]
        if not lots:
            raise _Refused("An observation names at least one lot.")
        services.record_observation(
            session,
            actor,
            {"kind": _OBSERVATIONS[step], "event_time": when, "lots": lots, "location": location},
        )
    else:
        raise _Refused(
            f"{kind} with action {event.get('action')} and bizStep '{step}' is not understood here."
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
    """Record every event of ``document`` or none; the report names each refused event."""
    try:
        problems = validate_epcis(document, schema_file)
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
    events = sorted(
        enumerate(document["epcisBody"]["eventList"]),
        key=lambda pair: str(pair[1].get("eventTime")),
    )
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
            result.problems.append(str(refused))
        except DomainError as error:
            step.rollback()
            details = [
                f"{k}: {'; '.join(map(str, v))}"
                for k, v in ((error.errors or {}).get("json") or {}).items()
            ]
            result.problems.append(" ".join([error.message_en, *details]))
        results.append(result)
    report = EpcisImportReport(sorted(results, key=lambda r: r.index), 0)
    if dry_run or not report.ok:
        outer.rollback()
    else:
        outer.commit()
        report.imported = len(results)
    return report

"""A lot's whole history as an EPCIS 2.0 document: the service's records turned into the
plain views ``epcis.py`` builds from."""

from __future__ import annotations

import uuid
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.certificates.models import Certificate
from trace_service.certificates.standing import in_force_clause
from trace_service.clock import today_vn
from trace_service.trace.epcis import Certification, Quantity, TraceEventView, epcis_document
from trace_service.trace.models import EventLot, Lot, Recall, TraceEvent
from trace_service.trace.rules import EventKind
from trace_service.trace.services import Trace
from trace_service.trace.units import UNECE, Unit

_RECALL_NAMESPACE = uuid.UUID("6f1c1a52-7d0e-4c61-9d52-1b0e3c1f0a01")


def lot_uri(lot: Lot, base_url: str) -> str:
    """GS1 Digital Link (GTIN + lot) when the lot is of a product with a GTIN; else a URN."""
    gtin14 = lot.product.gtin14 if lot.product is not None else None
    if gtin14:
        return f"{base_url}/01/{gtin14}/10/{quote(lot.code, safe='')}"
    return f"urn:ocop:lot:{quote(lot.code, safe='')}"


def _quantity(item: EventLot, base_url: str) -> Quantity:
    lot = item.lot
    if item.unit is Unit.BAG and lot.unit_weight_kg is not None:
        return Quantity(lot_uri(lot, base_url), float(item.quantity * lot.unit_weight_kg), "KGM")
    return Quantity(lot_uri(lot, base_url), float(item.quantity), UNECE[item.unit])


def _certifications(
    session: Session, event: TraceEvent, lots: list[Lot]
) -> tuple[Certification, ...]:
    """The OCOP certificates in force on the event's day (the certificates' one rule: a
    revocation or a supersession after that day does not reach back), for the products
    packed."""
    day = today_vn(event.event_time)
    found = []
    for product_id in {lot.product_id for lot in lots if lot.product_id is not None}:
        cert = session.scalar(
            select(Certificate)
            .where(Certificate.product_id == product_id, in_force_clause(day))
            .order_by(Certificate.issue_date.desc())
            .limit(1)
        )
        if cert is not None:
            found.append(
                Certification(
                    "OCOP",
                    cert.issuing_authority,
                    f"{cert.star} sao",
                    cert.number,
                    cert.issue_date,
                    cert.valid_until,
                )
            )
    return tuple(found)


RECORDED_BY_FIELD = "ocop:recordedBy"


def _recorder(event: TraceEvent) -> dict[str, object]:
    """Who recorded the event, as an extension field in our namespace (GS1's schema lets
    events and error declarations carry fields named by a URI such as ``ocop:…``)."""
    recorder: dict[str, object] = {
        "ocop:role": event.recorder_role,
        "ocop:name": event.recorder_name,
    }
    if event.recorded_by is not None:
        recorder["ocop:userId"] = event.recorded_by
    return recorder


def _view(
    session: Session, event: TraceEvent, by_id: dict[int, TraceEvent], base_url: str
) -> TraceEventView:
    location = (
        f"urn:ocop:area:{event.area_id}"
        if event.area_id is not None
        else f"urn:ocop:producer:{event.producer_id}"
    )
    if event.kind == EventKind.CORRECTION:
        wrong = by_id.get(event.corrects_event_id or 0)
        return TraceEventView(
            event.uri,
            "correction",
            event.event_time,
            event.time_zone,
            location,
            error_declaration=(wrong.uri,) if wrong else (),
            # Goes into the error declaration: who declared the event erroneous, and why.
            extensions={"ocop:reason": event.reason or "", RECORDED_BY_FIELD: _recorder(event)},
        )
    inputs = tuple(_quantity(i, base_url) for i in event.lots if i.role == "input")
    outputs = tuple(_quantity(i, base_url) for i in event.lots if i.role == "output")
    subjects = tuple(_quantity(i, base_url) for i in event.lots if i.role == "subject")
    extensions: dict[str, object] = {RECORDED_BY_FIELD: _recorder(event)}
    if event.kind == EventKind.HARVEST:
        extensions |= {
            "ocop:harvestStart": event.harvest_start.isoformat() if event.harvest_start else None,
            "ocop:harvestEnd": event.harvest_end.isoformat() if event.harvest_end else None,
        }
    if event.process and event.kind == EventKind.TRANSFORMATION:
        extensions["ocop:processingKind"] = event.process
    certifications: tuple[Certification, ...] = ()
    if event.kind == EventKind.PACKING:
        certifications = _certifications(
            session, event, [i.lot for i in event.lots if i.role == "output"]
        )
    return TraceEventView(
        event.uri,
        str(event.kind),
        event.event_time,
        event.time_zone,
        location,
        inputs=inputs,
        outputs=outputs,
        subjects=subjects,
        certifications=certifications,
        extensions={k: v for k, v in extensions.items() if v is not None},
    )


def _recall_view(recall: Recall, base_url: str) -> TraceEventView:
    lot = recall.lot
    return TraceEventView(
        f"urn:uuid:{uuid.uuid5(_RECALL_NAMESPACE, str(recall.id))}",
        "recall",
        recall.recalled_at,
        "+07:00",
        f"urn:ocop:producer:{lot.producer_id}",
        subjects=(Quantity(lot_uri(lot, base_url), float(lot.quantity), UNECE[lot.unit]),),
        extensions={"ocop:reason": recall.reason},
    )


def history_views(session: Session, trace: Trace, base_url: str) -> list[TraceEventView]:
    """Every event and recall of a trace as EPCIS views."""
    by_id = {event.id: event for event in trace.events}
    views = [_view(session, event, by_id, base_url) for event in trace.events]
    views += [_recall_view(recall, base_url) for recall in trace.recalls]
    return views


def lot_history_document(
    session: Session, lot: Lot, trace: Trace, base_url: str, now: datetime
) -> dict[str, object]:
    return epcis_document(
        history_views(session, trace, base_url),
        document_uri=f"urn:uuid:{uuid.uuid4()}",
        created=now,
        sender=f"urn:ocop:producer:{lot.producer_id}",
    )

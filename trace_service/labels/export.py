"""One labelled unit's whole history as EPCIS 2.0: its lot's events back to the plots, then
the labelling that gave the unit its own identifier (GTIN + lot + serial)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from trace_service.labels.models import Label
from trace_service.labels.services import get_label
from trace_service.principal import Principal
from trace_service.trace.documents import Document
from trace_service.trace.epcis import Certification, TraceEventView, epcis_document
from trace_service.trace.export import history_views
from trace_service.trace.services import backward_trace

_LABEL_NAMESPACE = uuid.UUID("2b5e0c7a-4f3d-4e8a-9c61-7a1d3e5f9b02")


def label_uri(label: Label) -> str:
    """The unit's identifier: the label's GS1 Digital Link without its signature (lower-case
    scheme and host, as URIs are compared), or a URN for a product without a GTIN."""
    run = label.run
    if run.gtin is None:
        return f"urn:ocop:label:{label.serial}"
    return f"{run.base_url.lower()}/01/{run.gtin}/10/{run.lot_code}/21/{label.serial}"


def labelling_view(label: Label) -> TraceEventView:
    run = label.run
    certificate = run.certificate
    return TraceEventView(
        f"urn:uuid:{uuid.uuid5(_LABEL_NAMESPACE, label.serial)}",
        "labelling",
        run.created_at,
        "+07:00",
        f"urn:ocop:producer:{run.producer_id}",
        epcs=(label_uri(label),),
        certifications=(
            Certification(
                "OCOP",
                certificate.issuing_authority,
                f"{run.star} sao",
                certificate.number,
                certificate.issue_date,
                run.valid_until,
            ),
        ),
        extensions={"ocop:printRun": str(run.id), "ocop:keyId": run.kid},
    )


def label_history_document(
    session: Session, label: Label, base_url: str, now: datetime
) -> dict[str, object]:
    trace = backward_trace(session, label.run.lot)
    views = [*history_views(session, trace, base_url), labelling_view(label)]
    return epcis_document(
        views,
        document_uri=f"urn:uuid:{uuid.uuid4()}",
        created=now,
        sender=f"urn:ocop:producer:{label.run.producer_id}",
    )


def label_epcis(
    session: Session, actor: Principal, code: str, base_url: str, now: datetime
) -> Document:
    """The history of a label the actor may see, as an EPCIS 2.0 JSON-LD document."""
    label = get_label(session, actor, code)
    body = label_history_document(session, label, base_url, now)
    return Document(body, f"label-{label.serial}-epcis.json")

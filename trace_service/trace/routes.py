"""Traceability API: recording events, lots, trace queries, recalls."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app

from trace_service.api import API_PREFIX, ApiBlueprint, accepts_files, page_schema, paginate
from trace_service.db import get_session, utcnow
from trace_service.principal import ALL_ROLES, Role, current_principal, require_roles
from trace_service.trace import documents, epcis_import, services
from trace_service.trace.epcis_import import EpcisImportReport
from trace_service.trace.files import content_disposition
from trace_service.trace.models import Attachment, Lot, Recall, TraceEvent
from trace_service.trace.rules import max_yields
from trace_service.trace.schemas import (
    AttachmentFileSchema,
    AttachmentSchema,
    CompletenessItemSchema,
    CorrectionSchema,
    EpcisDocumentSchema,
    EpcisImportQuerySchema,
    EpcisImportReportSchema,
    HarvestSchema,
    LotQuerySchema,
    LotSchema,
    LotUnitsSchema,
    ObservationSchema,
    PackingSchema,
    RecallSchema,
    TraceEventSchema,
    TraceQuerySchema,
    TraceSchema,
    TransformationSchema,
)

blp = ApiBlueprint(
    "trace",
    __name__,
    url_prefix=API_PREFIX,
    description="Lots and their events, from raw-material area to packed unit",
)
WRITERS = (Role.ADMIN, Role.PRODUCER)


@blp.route("/trace/harvests", methods=["POST"])
@require_roles(*WRITERS)
@blp.arguments(HarvestSchema)
@blp.response(201, TraceEventSchema)
def record_harvest(data: dict[str, Any]) -> TraceEvent:
    """A harvest at a raw-material area makes a new lot."""
    return services.record_harvest(get_session(), current_principal(), data)


@blp.route("/trace/transformations", methods=["POST"])
@require_roles(*WRITERS)
@blp.arguments(TransformationSchema)
@blp.response(201, TraceEventSchema)
def record_transformation(data: dict[str, Any]) -> TraceEvent:
    """Input lots become output lots (drying, hulling, roasting…), within the process's yield."""
    yields = max_yields(current_app.config["MAX_YIELDS"])
    return services.record_transformation(get_session(), current_principal(), data, yields)


@blp.route("/trace/packings", methods=["POST"])
@require_roles(*WRITERS)
@blp.arguments(PackingSchema)
@blp.response(201, TraceEventSchema)
def record_packing(data: dict[str, Any]) -> TraceEvent:
    """A bulk lot becomes packed units of a product."""
    return services.record_packing(get_session(), current_principal(), data)


@blp.route("/trace/observations", methods=["POST"])
@require_roles(Role.ADMIN, Role.PRODUCER, Role.INSPECTOR)
@blp.arguments(ObservationSchema)
@blp.response(201, TraceEventSchema)
def record_observation(data: dict[str, Any]) -> TraceEvent:
    """Lots shipped, received, inspected or sampled (`details` holds the destination, the
    result or the lab report's reference)."""
    return services.record_observation(get_session(), current_principal(), data)


@blp.route("/trace/corrections", methods=["POST"])
@require_roles(Role.ADMIN, Role.PRODUCER, Role.INSPECTOR)
@blp.arguments(CorrectionSchema)
@blp.response(201, TraceEventSchema)
def record_correction(data: dict[str, Any]) -> TraceEvent:
    """Declare an earlier event erroneous (the record keeps both). Producers correct what
    producers recorded; inspections and sampling are corrected by inspectors and the office."""
    return services.record_correction(get_session(), current_principal(), data)


@blp.route("/lots")
@require_roles(*ALL_ROLES)
@blp.arguments(LotQuerySchema, location="query")
@blp.response(200, page_schema(LotSchema))
def list_lots(args: dict[str, Any]) -> dict[str, Any]:
    """Lots (a producer sees its own)."""
    return paginate(get_session(), services.lot_query(current_principal(), args), args)


@blp.route("/lots/<id:lot_id>")
@require_roles(*ALL_ROLES)
@blp.response(200, LotSchema)
def get_lot(lot_id: int) -> Lot:
    """One lot."""
    return services.get_lot(get_session(), current_principal(), lot_id)


@blp.route("/lots/<id:lot_id>", methods=["PATCH"])
@require_roles(*WRITERS)
@blp.arguments(LotUnitsSchema)
@blp.response(200, LotSchema)
def declare_lot_units(data: dict[str, Any], lot_id: int) -> Lot:
    """Declare how many units (bags, bottles…) a packed lot counted by weight or volume holds;
    stamps are ordered for at most that many."""
    session, actor = get_session(), current_principal()
    lot = services.get_lot(session, actor, lot_id)
    return services.declare_unit_count(session, actor, lot, data["unit_count"])


@blp.route("/lots/<id:lot_id>/trace")
@require_roles(*ALL_ROLES)
@blp.arguments(TraceQuerySchema, location="query")
@blp.response(200, TraceSchema)
def trace_lot(args: dict[str, Any], lot_id: int) -> services.Trace:
    """Every lot, event and raw-material area behind a lot (`backward`), or everything made
    from it (`forward`, for recalls)."""
    return services.trace_lot(get_session(), current_principal(), lot_id, args["direction"])


@blp.route("/areas/<id:area_id>/trace")
@require_roles(*ALL_ROLES)
@blp.response(200, TraceSchema)
def trace_area(area_id: int) -> services.Trace:
    """Everything harvested at a raw-material area and made from it."""
    return services.trace_area(get_session(), current_principal(), area_id)


@blp.route("/lots/<id:lot_id>/recall", methods=["POST"])
@require_roles(Role.ADMIN, Role.INSPECTOR)
@blp.arguments(RecallSchema)
@blp.response(201, RecallSchema)
def recall_lot(data: dict[str, Any], lot_id: int) -> Recall:
    """Recall a lot: everything made from it is affected."""
    session, actor = get_session(), current_principal()
    return services.recall_lot(session, actor, services.get_lot(session, actor, lot_id), data)


@blp.route("/lots/<id:lot_id>/epcis")
@require_roles(*ALL_ROLES)
@blp.response(200, content_type="application/ld+json")
def lot_epcis(lot_id: int) -> Response:
    """The lot's whole history (every event behind it, and recalls) as an EPCIS 2.0 JSON-LD
    document, using CBV steps and GS1 Digital Link identifiers."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    document = documents.lot_epcis(get_session(), current_principal(), lot_id, base, utcnow())
    return Response(
        json.dumps(document.body, ensure_ascii=False, allow_nan=False),
        mimetype="application/ld+json",
        headers={"Content-Disposition": f'inline; filename="{document.filename}"'},
    )


@blp.route("/lots/<id:lot_id>/eudr.geojson")
@require_roles(*ALL_ROLES)
@blp.response(200, content_type="application/geo+json")
def lot_plots(lot_id: int) -> Response:
    """The plots behind a lot as the EU deforestation rule asks (GeoJSON, WGS84, a point up to
    4 ha, a polygon above; `eudr_ready` says whether each plot meets that)."""
    collection = documents.lot_plots(get_session(), current_principal(), lot_id)
    return Response(
        json.dumps(collection, ensure_ascii=False, allow_nan=False),
        mimetype="application/geo+json",
    )


@blp.route("/products/<id:product_id>/traceability")
@require_roles(*ALL_ROLES)
@blp.response(200, CompletenessItemSchema(many=True))
def product_traceability(product_id: int) -> list[Any]:
    """Which of the ten minimum traceability items (Circular 02/2024/TT-BKHCN) the product has."""
    return documents.product_traceability(get_session(), current_principal(), product_id)


@blp.route("/trace/epcis", methods=["POST"])
@require_roles(*WRITERS)
@blp.arguments(EpcisImportQuerySchema, location="query")
@blp.arguments(EpcisDocumentSchema)
@blp.response(200, EpcisImportReportSchema)
def import_epcis(query: dict[str, Any], document: dict[str, Any]) -> EpcisImportReport:
    """Import a partner's EPCIS 2.0 document of harvests, transformations and observations:
    checked against GS1's schema, then every event or none (`?dry_run=true` only reports)."""
    return epcis_import.import_or_refuse(
        get_session(),
        current_principal(),
        document,
        dry_run=query["dry_run"],
        schema_file=current_app.config["EPCIS_SCHEMA"] or None,
        yields=max_yields(current_app.config["MAX_YIELDS"]),
    )


@blp.route("/trace/events/<id:event_id>/attachments", methods=["POST"])
@require_roles(Role.ADMIN, Role.PRODUCER, Role.INSPECTOR)
@blp.arguments(AttachmentFileSchema, location="files")
@blp.response(201, AttachmentSchema)
@accepts_files
def attach(files: dict[str, Any], event_id: int) -> Attachment:
    """Attach a lab report, inspection record or photo to an event."""
    session, actor = get_session(), current_principal()
    upload = files["file"]
    return services.attach_file(
        session,
        actor,
        services.get_event(session, actor, event_id),
        upload.filename or "attachment",
        upload.read(),
    )


@blp.route("/trace/events/<id:event_id>/attachments/<id:attachment_id>")
@require_roles(*ALL_ROLES)
@blp.response(200, content_type="application/octet-stream")
def download(event_id: int, attachment_id: int) -> Response:
    """An attached file, as it was uploaded; its name ends with the extension of its type."""
    attachment = services.get_attachment(
        get_session(), current_principal(), event_id, attachment_id
    )
    return Response(
        attachment.data,
        mimetype=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.download_name),
            "X-Content-SHA256": attachment.sha256,
        },
    )

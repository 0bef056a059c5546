"""Shapes of lots, events and traces in the API."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import INCLUDE, Schema, fields, validate

from trace_service.api import API_PREFIX, PageArgs
from trace_service.fields import EventTime, Id, Identifier, PastDay, StrictFloat, Text
from trace_service.trace.rules import MAX_UNIT_COUNT, RecorderRole
from trace_service.trace.units import Unit

_Quantity = StrictFloat(
    required=True,
    validate=validate.Range(min=0.001, max=1e12),
    metadata={"description": "Positive, in `unit`"},
)


def lot_code() -> Text:
    """A lot code as the API takes it (the EPCIS import reads codes with the same field)."""
    return Identifier(required=True, validate=validate.Length(min=1, max=64))


def unit_count_field(**kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_UNIT_COUNT),
        metadata={
            "description": "Units (bags, bottles…) a packed lot counted by weight or volume "
            "holds: at most this many stamps are ordered for it"
        },
        **kwargs,
    )


class NewLotSchema(Schema):
    code = lot_code()
    material = Text(required=True, validate=validate.Length(min=1, max=120))
    quantity = _Quantity
    unit = fields.Enum(Unit, by_value=True, required=True)
    unit_weight_kg = StrictFloat(
        allow_none=True,
        validate=validate.Range(min=0.0001, max=100_000),
        metadata={"description": "Weight of one bag or piece (needed for those units)"},
    )
    product_id = Id(allow_none=True)
    unit_count = unit_count_field(allow_none=True)


class InputSchema(Schema):
    lot_id = Id(required=True)
    quantity = _Quantity
    unit = fields.Enum(Unit, by_value=True)


class _EventSchema(Schema):
    event_time = EventTime(
        required=True, metadata={"description": "ISO 8601 with offset, from 2000 to tomorrow"}
    )
    location = Text(allow_none=True, validate=validate.Length(max=255))
    details = fields.Dict()


class HarvestSchema(_EventSchema):
    area_id = Id(required=True)
    harvest_start = PastDay(required=True)
    harvest_end = PastDay(required=True)
    lot = fields.Nested(NewLotSchema, required=True)


class TransformationSchema(_EventSchema):
    process = fields.String(
        required=True,
        validate=validate.OneOf(
            [
                "drying",
                "pulping",
                "fermenting",
                "hulling",
                "cherry_to_green",
                "sorting",
                "roasting",
                "grinding",
                "blending",
                "extraction",
            ]
        ),
    )
    inputs = fields.List(
        fields.Nested(InputSchema), required=True, validate=validate.Length(min=1, max=100)
    )
    outputs = fields.List(
        fields.Nested(NewLotSchema), required=True, validate=validate.Length(min=1, max=100)
    )


class PackingSchema(_EventSchema):
    inputs = fields.List(
        fields.Nested(InputSchema), required=True, validate=validate.Length(min=1, max=100)
    )
    outputs = fields.List(
        fields.Nested(NewLotSchema), required=True, validate=validate.Length(min=1, max=100)
    )


class SubjectSchema(Schema):
    lot_id = Id(required=True)
    quantity = StrictFloat(
        validate=validate.Range(min=0.001, max=1e12),
        metadata={"description": "Default: the whole lot"},
    )


class ObservationSchema(_EventSchema):
    kind = fields.String(
        required=True, validate=validate.OneOf(["shipping", "receiving", "inspection", "sampling"])
    )
    lots = fields.List(
        fields.Nested(SubjectSchema), required=True, validate=validate.Length(min=1, max=100)
    )


class CorrectionSchema(_EventSchema):
    corrects_event_id = Id(required=True)
    reason = Text(multiline=True, required=True, validate=validate.Length(min=1, max=2000))


class LotSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    producer_id = fields.Integer()
    product_id = fields.Integer(allow_none=True)
    material = fields.String()
    quantity = fields.Float()
    unit = fields.Enum(Unit, by_value=True)
    unit_weight_kg = fields.Float(allow_none=True)
    unit_count = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class LotUnitsSchema(Schema):
    unit_count = unit_count_field(required=True)


class LotQuerySchema(PageArgs):
    producer_id = Id(strict=False)
    product_id = Id(strict=False)
    code = Text(validate=validate.Length(max=64))


class EventLotSchema(Schema):
    lot_id = fields.Integer()
    role = fields.String()
    quantity = fields.Float()
    unit = fields.Enum(Unit, by_value=True)


class AttachmentSchema(Schema):
    id = fields.Integer()
    filename = fields.String(
        attribute="download_name",
        metadata={"description": "As uploaded, ending with the extension of its type"},
    )
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    url = fields.Function(lambda a: f"{API_PREFIX}/trace/events/{a.event_id}/attachments/{a.id}")
    created_at = fields.DateTime()


class RecorderSchema(Schema):
    user_id = fields.Integer(allow_none=True, metadata={"description": "None: the system"})
    name = fields.String(
        metadata={"description": "The user's username, or what acted as the system (demo, cli)"}
    )
    role = fields.String(
        validate=validate.OneOf([r.value for r in RecorderRole]),
        metadata={"description": "The role it was recorded with"},
    )


class TraceEventSchema(Schema):
    id = fields.Integer()
    uri = fields.String()
    kind = fields.String()
    process = fields.String(allow_none=True)
    event_time = fields.DateTime()
    time_zone = fields.String()
    producer_id = fields.Integer()
    area_id = fields.Integer(allow_none=True)
    location = fields.String(allow_none=True)
    harvest_start = fields.Date(allow_none=True)
    harvest_end = fields.Date(allow_none=True)
    details = fields.Dict()
    corrects_event_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    lots = fields.List(fields.Nested(EventLotSchema))
    attachments = fields.List(fields.Nested(AttachmentSchema))
    recorded_by = fields.Nested(
        RecorderSchema, attribute="recorder", metadata={"description": "Who recorded the event"}
    )


class AreaRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    producer_id = fields.Integer()
    area_ha = fields.Float()
    geometry = fields.Dict(allow_none=True)


class RecallSchema(Schema):
    id = fields.Integer(dump_only=True)
    lot_id = fields.Integer(dump_only=True)
    recalled_at = EventTime(required=True)
    decision = Text(allow_none=True, validate=validate.Length(max=64))
    reason = Text(multiline=True, required=True, validate=validate.Length(min=1, max=2000))


class PrintRunRefSchema(Schema):
    """A print run of labels on one of the traced lots."""

    id = fields.Integer()
    lot_id = fields.Integer()
    product_id = fields.Integer()
    quantity = fields.Integer(metadata={"description": "Labels in the run"})
    status = fields.Function(lambda run: run.status.value)


class TraceSchema(Schema):
    lots = fields.List(fields.Nested(LotSchema))
    events = fields.List(fields.Nested(TraceEventSchema))
    areas = fields.List(fields.Nested(AreaRefSchema))
    recalls = fields.List(fields.Nested(RecallSchema))
    # Added to every trace by the labels layer (trace/hooks.py: Trace.parts).
    print_runs = fields.List(fields.Nested(PrintRunRefSchema), attribute="parts.print_runs")
    labels = fields.Integer(
        attribute="parts.labels", metadata={"description": "Labels issued on the traced lots"}
    )
    # Added by the inspectors' layer (verify/inspections.py).
    inspections = fields.List(
        fields.Dict(),
        attribute="parts.inspections",
        metadata={
            "description": "Field inspections of the traced lots' stamps: id, checked_at, "
            "lot_id, serial, result, verdict, place, notes, sample_taken, lab_passed, "
            "lab_result, proposal, decision"
        },
    )


class TraceQuerySchema(Schema):
    direction = fields.String(
        load_default="backward", validate=validate.OneOf(["backward", "forward"])
    )


class CompletenessItemSchema(Schema):
    key = fields.String()
    label = fields.String()
    label_en = fields.String()
    present = fields.Boolean()
    detail = fields.String()
    required = fields.Boolean(
        metadata={
            "description": "False for items the Circular marks (nếu có) and for those "
            "that do not apply to the product's group"
        }
    )
    applies = fields.Boolean(
        metadata={
            "description": "False when the item does not apply to the product's group "
            "(a tourism service has no lots)"
        }
    )


class EpcisDocumentSchema(Schema):
    """An EPCIS 2.0 JSON(-LD) document; checked in full against GS1's schema by the service."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True)
    epcisBody = fields.Dict(required=True)


class EpcisImportQuerySchema(Schema):
    dry_run = fields.Boolean(load_default=False)


class EpcisEventResultSchema(Schema):
    index = fields.Integer(metadata={"description": "Place in the document's eventList"})
    event_id = fields.String(allow_none=True)
    type = fields.String(allow_none=True)
    problems = fields.List(fields.String())
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages by JSON path in the document"},
    )


class EpcisImportReportSchema(Schema):
    ok = fields.Boolean()
    dry_run = fields.Boolean()
    imported = fields.Integer()
    events = fields.List(fields.Nested(EpcisEventResultSchema))


class AttachmentFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "PDF, PNG or JPEG"})

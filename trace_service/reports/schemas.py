"""Shapes of consumer reports in the API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from trace_service.api import PageArgs
from trace_service.fields import Id, Text
from trace_service.principal import current_principal
from trace_service.reports.models import ConsumerReport, Problem, ReportStatus
from trace_service.reports.services import MAX_NOTE


def _contact(report: ConsumerReport) -> str | None:
    # The shopper left a contact for the province office, not for the producer reported on.
    return None if current_principal().is_producer else report.contact


class ReportSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(metadata={"description": "The stamp's code, as the page showed it"})
    verdict = fields.String(metadata={"description": "The verdict the page showed"})
    label_id = fields.Integer(allow_none=True)
    product_id = fields.Integer(allow_none=True)
    producer_id = fields.Integer(allow_none=True)
    problem = fields.Enum(Problem, by_value=True)
    details = fields.String(allow_none=True)
    place = fields.String(metadata={"description": "Where the shopper bought it"})
    contact = fields.Function(
        _contact,
        allow_none=True,
        metadata={"description": "The shopper's contact, if left (not shown to producers)"},
    )
    has_photo = fields.Boolean()
    photo_type = fields.String(allow_none=True)
    status = fields.Enum(ReportStatus, by_value=True)
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    closed_by = fields.Integer(allow_none=True)
    close_note = fields.String(allow_none=True)


class ReportQuerySchema(PageArgs):
    status = fields.Enum(ReportStatus, by_value=True)
    product_id = Id(strict=False)
    since = fields.Date(metadata={"description": "Received on or after this day (Vietnam time)"})
    until = fields.Date(metadata={"description": "Received on or before this day"})


class CloseReportSchema(Schema):
    note = Text(
        multiline=True,
        required=True,
        validate=validate.Length(min=1, max=MAX_NOTE),
        metadata={"description": "What the office found or did"},
    )

"""Shapes of evaluations, certificates and their notices in the API."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from trace_service.api import API_PREFIX, PageArgs
from trace_service.certificates.checks import TEXT_LIMITS
from trace_service.certificates.notices import LETTER_THRESHOLD_DAYS
from trace_service.certificates.rules import (
    CERTIFIED_MIN_STAR,
    MAX_A,
    MAX_B,
    MAX_C,
    MAX_STAR,
    MAX_TOTAL,
    CouncilLevel,
    Status,
)
from trace_service.fields import Id, Identifier, StrictBoolean, Text
from trace_service.registry.enums import ProductGroup
from trace_service.registry.schemas import ProducerRefSchema


def _score(maximum: int, **kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=maximum), **kwargs)


class EvaluationSchema(Schema):
    id = fields.Integer(dump_only=True)
    product_id = Id(required=True)
    council_level = fields.Enum(CouncilLevel, by_value=True, required=True)
    council_unit_id = Id(
        allow_none=True,
        metadata={"description": "The district or province whose council rated it"},
    )
    evaluated_on = fields.Date(required=True)
    score_a = _score(
        MAX_A, required=True, metadata={"description": f"Product & community, ≤ {MAX_A}"}
    )
    score_b = _score(MAX_B, required=True, metadata={"description": f"Marketing, ≤ {MAX_B}"})
    score_c = _score(MAX_C, required=True, metadata={"description": f"Quality, ≤ {MAX_C}"})
    total = _score(MAX_TOTAL, metadata={"description": "Optional; must equal A + B + C"})
    mandatory_met = StrictBoolean(required=True)
    reference = Text(required=True, validate=validate.Length(min=1, max=120))
    notes = Text(multiline=True, allow_none=True, validate=validate.Length(max=5000))
    star = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "1–5; null: not certified"}
    )
    created_at = fields.DateTime(dump_only=True)


class EvaluationQuerySchema(PageArgs):
    product_id = Id(strict=False)


class ProductRefSchema(Schema):
    id = fields.Integer()
    name_vi = fields.String()
    name_en = fields.String(allow_none=True)
    product_group = fields.Enum(ProductGroup, by_value=True)
    producer = fields.Nested(ProducerRefSchema)


class AttemptSchema(Schema):
    attempted_at = fields.DateTime()
    ok = fields.Boolean()
    detail = fields.String()


class DeliverySchema(Schema):
    channel = fields.String()
    # The producer's address for e-mail; never the webhook's URL, which often holds a secret.
    recipient = fields.Function(
        lambda d: d.recipient if d.channel == "email" else None, allow_none=True
    )
    status = fields.String(
        metadata={"description": "pending, sent, failed, undeliverable or cancelled"}
    )
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)


class NoticeSchema(Schema):
    id = fields.Integer()
    threshold_days = fields.Integer()
    created_at = fields.DateTime()
    letter_url = fields.Function(
        lambda n: (
            f"{API_PREFIX}/expiry-notices/{n.id}/letter.pdf"
            if n.threshold_days == LETTER_THRESHOLD_DAYS
            else None
        )
    )
    deliveries = fields.List(fields.Nested(DeliverySchema))


def _length(field: str) -> validate.Length:
    return validate.Length(min=1, max=TEXT_LIMITS[field])


class CertificateSchema(Schema):
    """A certificate: what the office sends to issue it, and what the API shows of it, with
    its status on the day asked (today), which the service works out."""

    id = fields.Integer(dump_only=True)
    number = Identifier(required=True, validate=_length("number"))
    decision_number = Identifier(required=True, validate=_length("decision_number"))
    decision_date = fields.Date(required=True)
    evaluation_id = Id(required=True)
    issue_date = fields.Date(required=True)
    issuing_unit_id = Id(allow_none=True)
    issuing_authority = Text(
        validate=_length("issuing_authority"),
        metadata={"description": "As printed; default from the council"},
    )
    product_id = fields.Integer(dump_only=True)
    product_name = fields.String(dump_only=True, metadata={"description": "Name as certified"})
    product = fields.Nested(ProductRefSchema, dump_only=True)
    star = fields.Integer(dump_only=True)
    valid_until = fields.Date(dump_only=True, metadata={"description": "Last valid day"})
    validity_counted_from = fields.Date(
        dump_only=True,
        metadata={
            "description": "The day its 36 months count from: the decision's where the "
            "province counts so (Đắk Nông), else the issue's"
        },
    )
    status = fields.Enum(
        Status,
        by_value=True,
        dump_only=True,
        metadata={"description": "On the day asked (today); pending: issued for a later day"},
    )
    status_vi = fields.String(dump_only=True)
    status_en = fields.String(dump_only=True)
    revoked_on = fields.Date(dump_only=True, allow_none=True)
    revocation_decision = fields.String(dump_only=True, allow_none=True)
    revocation_reason = fields.String(dump_only=True, allow_none=True)
    superseded_by_id = fields.Integer(dump_only=True, allow_none=True)
    superseded_on = fields.Date(dump_only=True, allow_none=True)
    notices = fields.List(
        fields.Nested(NoticeSchema),
        dump_only=True,
        metadata={"description": "Expiry notices and who received them"},
    )


class RevocationSchema(Schema):
    revoked_on = fields.Date(required=True)
    decision = Text(required=True, validate=validate.Length(min=1, max=64))
    reason = Text(multiline=True, required=True, validate=validate.Length(min=1, max=2000))


class CertificateQuerySchema(PageArgs):
    status = DelimitedList(
        fields.Enum(Status, by_value=True),
        validate=validate.Length(min=1),
        metadata={"description": "One or more, comma-separated"},
    )
    expiring_within_days = fields.Integer(
        validate=validate.Range(min=0, max=3650),
        metadata={"description": "Standing certificates whose last valid day is this close"},
    )
    district_id = Id(
        strict=False,
        metadata={"description": "Producer's commune in this district, or issued by it"},
    )
    product_id = Id(strict=False)
    producer_id = Id(strict=False)
    product_group = fields.Enum(ProductGroup, by_value=True)
    star = fields.Integer(validate=validate.Range(min=CERTIFIED_MIN_STAR, max=MAX_STAR))


class LabelVerdictSchema(Schema):
    allowed = fields.Boolean()
    code = fields.String()
    message = fields.String()
    message_en = fields.String()
    star = fields.Integer(allow_none=True)
    certificate_id = fields.Function(lambda v: v.certificate.id if v.certificate else None)


class StatsSchema(Schema):
    day = fields.Date()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    standing_by_star = fields.Dict(keys=fields.String(), values=fields.Integer())
    standing_by_product_group = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_unit = fields.List(fields.Dict())


class PlanQuerySchema(Schema):
    year = fields.Integer(load_default=2025, validate=validate.Range(min=2019, max=2100))


class PlanReportSchema(Schema):
    year = fields.Integer()
    source = fields.String()
    targets = fields.List(fields.Dict())
    per_district = fields.List(fields.Dict())
    certified_products = fields.Integer()
    day = fields.Date()


class ImportQuerySchema(Schema):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Only check the file and report"}
    )


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "The list, as .csv or .xlsx"})


class ImportValuesSchema(Schema):
    number = fields.String(allow_none=True)
    decision_number = fields.String(allow_none=True)
    decision_date = fields.Date(allow_none=True)
    issuing_authority = fields.String(allow_none=True)
    product_id = fields.Integer(allow_none=True)
    star = fields.Integer(allow_none=True)
    issue_date = fields.Date(allow_none=True)
    issuing_unit_id = fields.Integer(allow_none=True)


class ImportRowSchema(Schema):
    line = fields.Integer()
    problems = fields.List(fields.String())
    values = fields.Nested(ImportValuesSchema)


class ImportReportSchema(Schema):
    ok = fields.Boolean()
    dry_run = fields.Boolean()
    imported = fields.Integer()
    rows = fields.List(fields.Nested(ImportRowSchema))

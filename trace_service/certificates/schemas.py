"""Shapes of evaluations, certificates and their notices in the API."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from trace_service.api import PageArgs
from trace_service.certificates.notices import LETTER_THRESHOLD_DAYS
from trace_service.certificates.rules import STATUS_VI, CouncilLevel, Status
from trace_service.clock import today_vn
from trace_service.fields import Id, StrictBoolean, Text
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
    score_a = _score(40, required=True, metadata={"description": "Product & community, ≤ 40"})
    score_b = _score(25, required=True, metadata={"description": "Marketing, ≤ 25"})
    score_c = _score(35, required=True, metadata={"description": "Quality, ≤ 35"})
    total = _score(100, metadata={"description": "Optional; must equal A + B + C"})
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
            f"/api/v1/expiry-notices/{n.id}/letter.pdf"
            if n.threshold_days == LETTER_THRESHOLD_DAYS
            else None
        )
    )
    deliveries = fields.List(fields.Nested(DeliverySchema))


def _status(cert: Any) -> str:
    from trace_service.certificates.services import status_of

    return status_of(cert, today_vn(), current_app.config["EXPIRY_WINDOW_DAYS"]).value


class CertificateSchema(Schema):
    id = fields.Integer(dump_only=True)
    number = Text(required=True, validate=validate.Length(min=1, max=64))
    decision_number = Text(required=True, validate=validate.Length(min=1, max=64))
    decision_date = fields.Date(required=True)
    evaluation_id = Id(required=True)
    issue_date = fields.Date(required=True)
    issuing_unit_id = Id(allow_none=True)
    issuing_authority = Text(
        validate=validate.Length(min=1, max=255),
        metadata={"description": "As printed; default from the council"},
    )
    product_id = fields.Integer(dump_only=True)
    product_name = fields.String(dump_only=True, metadata={"description": "Name as certified"})
    product = fields.Nested(ProductRefSchema, dump_only=True)
    star = fields.Integer(dump_only=True)
    valid_until = fields.Date(dump_only=True, metadata={"description": "Last valid day"})
    status = fields.Function(_status, dump_only=True, metadata={"enum": [s.value for s in Status]})
    status_vi = fields.Function(lambda c: STATUS_VI[Status(_status(c))], dump_only=True)
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
    star = fields.Integer(validate=validate.Range(min=3, max=5))


class LabelVerdictSchema(Schema):
    allowed = fields.Boolean()
    code = fields.String()
    message = fields.String()
    message_en = fields.String()
    star = fields.Integer(allow_none=True)
    certificate_id = fields.Function(lambda v: v.certificate.id if v.certificate else None)

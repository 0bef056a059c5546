"""Shapes of evaluations, certificates and their notices in the API."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
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
    council_total,
)
from trace_service.fields import Id, Identifier, StrictBoolean, StrictFloat, Text
from trace_service.registry.enums import ProductGroup
from trace_service.registry.schemas import ProducerRefSchema


class CouncilScore(StrictFloat):
    """A council's average score: a JSON number (a whole one, as older clients send, or a
    fraction), kept to one decimal place half up, as councils publish it (69.67 → 69.7)."""

    def __init__(self, maximum: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.maximum = maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        number = super()._deserialize(value, attr, data, **kwargs)
        if not 0 <= number <= self.maximum + 1:  # before rounding: 1e300 has no tenths
            raise ValidationError(f"Must be between 0 and {self.maximum} (given {number}).")
        score = council_total(number)
        if not 0 <= score <= self.maximum:
            raise ValidationError(f"Must be between 0 and {self.maximum} (given {score}).")
        return score


def _score(maximum: int, description: str, **kwargs: Any) -> CouncilScore:
    return CouncilScore(
        maximum,
        metadata={
            "description": f"{description}: the council's average, to one decimal place",
            "maximum": maximum,
            "minimum": 0,
        },
        **kwargs,
    )


class EvaluationSchema(Schema):
    id = fields.Integer(dump_only=True)
    product_id = Id(required=True)
    council_level = fields.Enum(CouncilLevel, by_value=True, required=True)
    council_unit_id = Id(
        allow_none=True,
        metadata={"description": "The district or province whose council rated it"},
    )
    evaluated_on = fields.Date(required=True)
    score_a = _score(MAX_A, "A, product & community strength", required=True)
    score_b = _score(MAX_B, "B, marketing", required=True)
    score_c = _score(MAX_C, "C, quality", required=True)
    total = _score(
        MAX_TOTAL,
        "The average total (tổng điểm trung bình); optional, A + B + C to within 0.1 (each "
        "average rounded on its own)",
    )
    mandatory_met = StrictBoolean(
        metadata={
            "description": "Older shape: every mandatory criterion met (false: no star). On "
            "reading: the criteria up to the band the total reaches are met"
        }
    )
    mandatory_unmet_stars = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_STAR)),
        load_only=True,
        validate=validate.Length(max=MAX_STAR),
        metadata={
            "description": "The stars whose mandatory criteria the product fails ([] none, "
            "[4]: keeps 3★ whatever its points); instead of mandatory_met"
        },
    )
    mandatory_met_through = fields.Integer(
        dump_only=True,
        metadata={
            "description": "The highest star whose mandatory criteria, and every lower "
            "star's, are met (0–5)"
        },
    )
    reference = Text(required=True, validate=validate.Length(min=1, max=120))
    notes = Text(multiline=True, allow_none=True, validate=validate.Length(max=5000))
    star = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "1–5; null: not certified"}
    )
    created_at = fields.DateTime(dump_only=True)

    @validates_schema
    def _one_shape(self, data: dict[str, Any], **_: Any) -> None:
        """Either the older flag or the stars whose criteria fail, exactly one of them."""
        given = [key for key in ("mandatory_met", "mandatory_unmet_stars") if key in data]
        if len(given) == 1:
            return
        if given:
            raise ValidationError(
                "Give mandatory_met or mandatory_unmet_stars, not both.",
                "mandatory_unmet_stars",
            )
        raise ValidationError(
            "Required: mandatory_met (true or false) or mandatory_unmet_stars (the stars "
            "whose mandatory criteria are not met, [] for none).",
            "mandatory_met",
        )


class DossierSchema(Schema):
    """A product's OCOP dossier for a year's round: registered for a star, submitted on a day
    (the plan board counts them against the plan's deadlines)."""

    id = fields.Integer(dump_only=True)
    product_id = Id(required=True)
    year = fields.Integer(strict=True, required=True, validate=validate.Range(min=2019, max=2100))
    target_star = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=CERTIFIED_MIN_STAR, max=MAX_STAR),
        metadata={"description": "The star the product is entered for (5: a national dossier)"},
    )
    registered_on = fields.Date(required=True, metadata={"description": "Registered that day"})
    submitted_on = fields.Date(
        allow_none=True,
        metadata={"description": "The day it reached the council of its star; null: not yet"},
    )
    reference = Text(allow_none=True, validate=validate.Length(max=120))
    created_at = fields.DateTime(dump_only=True)


class DossierQuerySchema(PageArgs):
    year = fields.Integer(validate=validate.Range(min=2019, max=2100))
    product_id = Id(strict=False)


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
    targets = fields.List(
        fields.Dict(),
        metadata={
            "description": "key, label, label_en, target, actual, met, counted and counted_en "
            "(how the figure was counted), deadline (ISO date or null)"
        },
    )
    per_district = fields.List(fields.Dict())
    certified_products = fields.Integer()
    ecommerce_platforms = fields.List(
        fields.String(), metadata={"description": "The platforms counted as e-commerce"}
    )
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
    recorded = fields.Boolean(
        metadata={"description": "In the registry already as this row has it: not imported"}
    )


class ImportReportSchema(Schema):
    ok = fields.Boolean()
    dry_run = fields.Boolean()
    imported = fields.Integer()
    rows = fields.List(fields.Nested(ImportRowSchema))

"""Field inspections API: an inspector's device sends what was found (once, by its own id for
the record), the inspector and the office list them."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, url_for
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from trace_service.api import (
    API_PREFIX,
    ApiBlueprint,
    PageArgs,
    accepts_files,
    page_schema,
    paginate,
)
from trace_service.db import get_session, utcnow
from trace_service.errors import DomainError
from trace_service.fields import EventTime, Id, StrictBoolean, StrictFloat, Text
from trace_service.labels.verify_response import MAX_SCANNED_CHARS
from trace_service.principal import Role, current_principal, require_roles
from trace_service.ratelimit import Rate, check_client_limit
from trace_service.signing.service import get_keystore
from trace_service.verify.inspections import (
    DEVICE_VERDICTS,
    Judge,
    add_photo,
    decide_proposal,
    get_inspection,
    get_photo,
    inspection_query,
    judge_scanned,
    record_inspection,
    record_lab_result,
)
from trace_service.verify.models import FieldInspection, InspectionResult, Proposal

blp = ApiBlueprint(
    "inspections",
    __name__,
    url_prefix=API_PREFIX,
    description="Field inspections recorded on inspectors' devices (offline, sent once)",
)
RESULTS = [r.value for r in InspectionResult]
PROPOSALS = [p.value for p in Proposal]


class DecisionSchema(Schema):
    accepted = StrictBoolean(required=True)
    reason = Text(multiline=True, required=True, validate=validate.Length(min=1, max=2000))
    decision_number = Text(
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "The office's decision number (số quyết định): required to accept, "
            "as the certificate's revocation or the lot's recall records it"
        },
    )
    certificate_id = Id(
        metadata={
            "description": "Optional: the certificate the decision was made on; accepting a "
            "revocation is refused (409) when it would now revoke another"
        },
    )
    lot_id = Id(
        metadata={
            "description": "Optional: the lot the decision was made on; accepting a recall is "
            "refused (409) when it would now recall another"
        },
    )


class LabResultSchema(Schema):
    passed = StrictBoolean(required=True, metadata={"description": "Did the sample pass?"})
    result = Text(multiline=True, required=True, validate=validate.Length(min=1, max=4000))


class InspectionPhotoFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "A JPEG, PNG or WebP photo"})


def _photo_urls(inspection: FieldInspection) -> list[str]:
    return [
        url_for("inspections.photo", inspection_id=inspection.id, photo_id=photo.id)
        for photo in inspection.photos
    ]


class InspectionSchema(Schema):
    id = fields.Integer(dump_only=True)
    client_id = Text(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9._:-]{8,64}$"),
        metadata={
            "description": "The device's own id for this record (a UUID): a retried "
            "send answers the first record"
        },
    )
    inspector_id = fields.Integer(dump_only=True)
    serial = Text(allow_none=True, validate=validate.Regexp(r"^[0-9A-Z]{15}$"))
    product_id = Id(allow_none=True)
    checked_at = EventTime(required=True)  # this century, not later than tomorrow
    place = Text(allow_none=True, validate=validate.Length(max=255))
    latitude = StrictFloat(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = StrictFloat(allow_none=True, validate=validate.Range(min=-180, max=180))
    result = fields.String(
        required=True,
        validate=validate.OneOf(RESULTS),
        metadata={"description": "passed, doubtful or failed"},
    )
    verdict = fields.String(
        allow_none=True,
        validate=validate.OneOf(DEVICE_VERDICTS),
        metadata={
            "description": "The stamp's verdict as the device's screen showed it: its headline "
            "(genuine, expiring, possibly_copied, scratch_used, expired, superseded, pending, "
            "revoked, recalled, voided, unknown_certificate, no_data, compromised_key, "
            "not_confirmed); from older devices, the signature's verdict (malformed, "
            "unknown_key, invalid_signature, not_issued...)"
        },
    )
    scanned = fields.String(
        load_only=True,
        allow_none=True,
        validate=validate.Length(max=MAX_SCANNED_CHARS),
        metadata={
            "description": "The stamp's text as scanned (its QR's URL): the service judges it "
            "again for the day of the check (`service_verdict`)"
        },
    )
    service_verdict = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "The service's own headline for the scanned text on the day of the "
            "check, judged when the record arrived (null when no text was sent)"
        },
    )
    notes = Text(multiline=True, allow_none=True, validate=validate.Length(max=4000))
    sample_taken = StrictBoolean(load_default=False)
    proposal = fields.String(
        allow_none=True,
        validate=validate.OneOf(PROPOSALS),
        metadata={"description": "A failed check may propose: revocation or recall"},
    )
    decision = fields.String(dump_only=True, metadata={"description": "accepted or rejected"})
    decision_reason = fields.String(dump_only=True)
    decided_at = fields.AwareDateTime(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    lot_id = fields.Integer(
        dump_only=True, metadata={"description": "The checked stamp's lot, found by its serial"}
    )
    lab_passed = fields.Boolean(dump_only=True, allow_none=True)
    lab_result = fields.String(dump_only=True, allow_none=True)
    lab_recorded_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    photos = fields.Function(
        _photo_urls, dump_only=True, metadata={"description": "Each photo's address (JPEG)"}
    )

    @validates_schema
    def _position(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ValidationError("Give both latitude and longitude, or neither.", "latitude")


# A day's market round is a few dozen checks; a lost phone's token must not be able to
# keep the workers decoding photos. Counted per account, wherever its devices are.
INSPECTIONS_RATE = Rate(200, 3600)
PHOTOS_RATE = Rate(300, 3600)


def _per_account(name: str, rate: Rate) -> None:
    check_client_limit(name, rate, address=f"account-{current_principal().user_id}")


def _judge(session: Any) -> Judge | None:
    """The service's judge of a scanned stamp; None where no keys are set up (the record is
    still kept: the inspector's finding does not wait on ours)."""
    try:
        store = get_keystore()
    except DomainError:
        return None
    window = current_app.config["EXPIRY_WINDOW_DAYS"]
    return lambda text, day: judge_scanned(session, store, text, day, window)


@blp.route("/inspections", methods=["POST"])
@require_roles(Role.INSPECTOR)
@blp.arguments(InspectionSchema)
@blp.response(201, InspectionSchema)
@blp.alt_response(200, schema=InspectionSchema, description="Sent before: the same record")
def record(data: dict[str, Any]) -> tuple[FieldInspection, int, dict[str, str]]:
    """Record a field inspection.

    Devices queue inspections made with no network and send them when it returns: send each
    with the same `client_id` until an answer comes; the first send makes the record (201),
    any later one answers it (200). At most 200 an hour by one account."""
    _per_account("inspection", INSPECTIONS_RATE)
    session = get_session()
    inspection, created = record_inspection(session, current_principal(), data, _judge(session))
    location = {"Location": url_for("inspections.list_inspections")}
    return inspection, 201 if created else 200, location


@blp.route("/inspections")
@require_roles(Role.INSPECTOR, Role.ADMIN)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(InspectionSchema))
def list_inspections(args: dict[str, Any]) -> dict[str, Any]:
    """Field inspections, newest first (an inspector sees their own)."""
    return paginate(get_session(), inspection_query(current_principal()), args)


@blp.route("/inspections/<id:inspection_id>/decision", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(DecisionSchema)
@blp.response(200, InspectionSchema)
def decide(data: dict[str, Any], inspection_id: int) -> FieldInspection:
    """Accept or reject an inspection's proposal (a revocation or a recall), with a reason.

    Accepting (with the office's `decision_number`) revokes the certificate the checked
    stamp was printed under (or the product's certificate in force) from today, or recalls
    the stamp's lot now, as `POST /certificates/{id}/revocation` and `POST
    /lots/{id}/recall` do, audited with the reason."""
    return decide_proposal(get_session(), current_principal(), inspection_id, data, utcnow())


@blp.route("/inspections/<id:inspection_id>")
@require_roles(Role.INSPECTOR, Role.ADMIN)
@blp.response(200, InspectionSchema)
def get_one(inspection_id: int) -> FieldInspection:
    """One field inspection (an inspector's own)."""
    return get_inspection(get_session(), current_principal(), inspection_id)


@blp.route("/inspections/<id:inspection_id>/lab-result", methods=["POST"])
@require_roles(Role.INSPECTOR, Role.ADMIN)
@blp.arguments(LabResultSchema)
@blp.response(200, InspectionSchema)
def lab_result(data: dict[str, Any], inspection_id: int) -> FieldInspection:
    """Record the laboratory's result on the sample taken at an inspection (once)."""
    return record_lab_result(get_session(), current_principal(), inspection_id, data, utcnow())


@blp.route("/inspections/<id:inspection_id>/photos", methods=["POST"])
@require_roles(Role.INSPECTOR, Role.ADMIN)
@blp.arguments(InspectionPhotoFileSchema, location="files")
@blp.response(201, InspectionSchema)
@accepts_files
def add_inspection_photo(files: dict[str, Any], inspection_id: int) -> FieldInspection:
    """Add a photo to an inspection (multipart field `file`): kept as a JPEG the service
    draws from its pixels, at most 1600 pixels a side and without the phone's metadata;
    at most 6 an inspection."""
    _per_account("inspection_photo", PHOTOS_RATE)
    session, actor = get_session(), current_principal()
    cap = current_app.config["MAX_UPLOAD_BYTES"]
    photo = add_photo(session, actor, inspection_id, files["file"].read(cap + 1))
    inspection = get_inspection(session, actor, photo.inspection_id)
    session.refresh(inspection, ["photos"])
    return inspection


@blp.route("/inspections/<id:inspection_id>/photos/<id:photo_id>.jpg")
@require_roles(Role.INSPECTOR, Role.ADMIN)
@blp.response(200, content_type="image/jpeg")
def photo(inspection_id: int, photo_id: int) -> Response:
    """One photo of an inspection (JPEG)."""
    found = get_photo(get_session(), current_principal(), inspection_id, photo_id)
    response = Response(found.data, mimetype=found.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response

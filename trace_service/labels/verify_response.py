"""The verify API's request and answer: today's verdict names and fields, for existing
clients, and what an inspector also needs to judge a stamp (the signing key's status, the
label's state, the certificate on a given day, recalls, product and producer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from functools import wraps
from typing import Any, TypeVar

from flask import request
from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema
from sqlalchemy.orm import Session

from trace_service.errors import DomainError
from trace_service.labels.label_marks import LabelState, label_state
from trace_service.labels.schemas import VerificationSchema, verification_view
from trace_service.labels.verify import Verification, verify_url
from trace_service.signing.keystore import KeyStore, UnknownKey

# A scanned stamp is a few hundred characters; a body of more is refused before any work.
MAX_VERIFY_BODY_BYTES = 4096
MAX_SCANNED_CHARS = 2000
_VIETNAM = timezone(timedelta(hours=7))
F = TypeVar("F", bound=Callable[..., Any])


class BodyTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


def small_body(limit: int) -> Callable[[F], F]:
    """Refuse a body over ``limit`` bytes before anything reads it (a declared length at
    once; a chunked body when read, by Werkzeug's limit)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            request.max_content_length = limit
            if (request.content_length or 0) > limit:
                raise BodyTooLarge(
                    f"Nội dung gửi lên quá lớn: tối đa {limit} byte (một tem chỉ vài trăm ký tự).",
                    f"The body is too large: at most {limit} bytes (a stamp is a few hundred "
                    "characters).",
                )
            return view(*args, **kwargs)

        return limited  # type: ignore[return-value]

    return decorate


class VerifyQuerySchema(Schema):
    url = fields.String(
        validate=validate.Length(min=1, max=MAX_SCANNED_CHARS),
        metadata={"description": "The label URL as scanned (or `text`)"},
    )
    text = fields.String(
        validate=validate.Length(min=1, max=MAX_SCANNED_CHARS),
        metadata={"description": "The QR code's raw content, when it is not a URL field"},
    )
    as_of = fields.Date(
        metadata={
            "description": "Judge the certificate and recalls on this day (Vietnam); default today"
        }
    )

    @validates_schema
    def _one_text(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("url" in data) == ("text" in data):
            raise ValidationError("Give exactly one of url and text.", "url")


@dataclass
class FullVerification:
    base: Verification
    as_of: date
    key_status: str | None
    label: LabelState | None


def verify_scanned(
    session: Session, store: KeyStore, text: str, as_of: date, window_days: int
) -> FullVerification:
    """The verdict on ``text`` with the certificate and recalls judged on ``as_of``."""
    base = verify_url(session, store, text, as_of, window_days)
    key_status = None
    if base.claims is not None and base.verdict != "unknown_key":
        try:
            key_status = store.status(base.claims.kid).value
        except UnknownKey:
            key_status = None
    label = None
    if base.label is not None:
        label = label_state(session, base.label.serial, as_of)
        base.recalls = [
            r for r in base.recalls if r.recalled_at.astimezone(_VIETNAM).date() <= as_of
        ]
    return FullVerification(base, as_of, key_status, label)


class _Named(Schema):
    id = fields.Integer()
    name = fields.String()


class _Product(_Named):
    gtin = fields.String(allow_none=True)


class _Certificate(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String(
        metadata={"description": "valid, expiring, expired, revoked, superseded or pending"}
    )
    star = fields.Integer()
    issued_on = fields.Date()
    valid_until = fields.Date()
    revoked_on = fields.Date(allow_none=True)
    superseded_on = fields.Date(allow_none=True)
    authority = fields.String()


class _Label(Schema):
    state = fields.String(metadata={"description": "issued, voided or possibly_copied"})
    since = fields.Date(allow_none=True)
    scans = fields.Integer(allow_none=True)


class FullVerificationSchema(VerificationSchema):
    as_of = fields.Date(metadata={"description": "The day the certificate was judged on"})
    key_status = fields.String(
        allow_none=True,
        metadata={
            "description": "active, retired (still verifies) or compromised; null when "
            "the key is unknown or the text is not a label"
        },
    )
    label = fields.Nested(_Label, allow_none=True)
    certificate = fields.Nested(_Certificate, allow_none=True)
    product = fields.Nested(_Product, allow_none=True)
    producer = fields.Nested(_Named, allow_none=True)

    @pre_dump
    def _view(self, result: FullVerification, **_kwargs: Any) -> dict[str, Any]:
        return full_view(result)


def full_view(result: FullVerification) -> dict[str, Any]:
    view = verification_view(result.base)
    run = result.base.run
    view.update(as_of=result.as_of, key_status=result.key_status, label=None)
    view.update(certificate=None, product=None, producer=None)
    if run is None:
        return view
    cert = run.certificate
    view["label"] = vars(result.label) if result.label else None
    view["certificate"] = {
        "id": cert.id,
        "number": cert.number,
        "status": view["certificate_status"],
        "star": cert.star,
        "issued_on": cert.issue_date,
        "valid_until": cert.valid_until,
        "revoked_on": cert.revoked_on,
        "superseded_on": cert.superseded_on,
        "authority": cert.issuing_authority,
    }
    view["product"] = {"id": run.product.id, "name": run.product.name_vi, "gtin": run.gtin}
    view["producer"] = {"id": run.producer.id, "name": run.producer.name}
    return view

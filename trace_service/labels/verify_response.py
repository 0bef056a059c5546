"""The verify API's request and answer: today's verdict names and fields, for existing
clients, and what an inspector also needs to judge a stamp (the signing key's status, the
label's state, the certificate on a given day, recalls, product and producer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, request
from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from trace_service.certificates.models import Certificate
from trace_service.certificates.rules import status_on
from trace_service.errors import DomainError
from trace_service.labels import payload
from trace_service.labels.label_marks import state_from
from trace_service.labels.models import Label, PrintRun
from trace_service.labels.models import LabelState as StateRow
from trace_service.labels.schemas import VerificationSchema, verification_view
from trace_service.labels.services import claims_for
from trace_service.labels.verify import MAX_SCANNED_CHARS, MESSAGES, Verification, parse_scanned
from trace_service.registry.models import Producer, Product
from trace_service.signing.keystore import KeyStore, UnknownKey, Verdict
from trace_service.trace.models import LotLink, Recall
from trace_service.web.formatting import vn_number

# A scanned stamp is a few hundred characters; a body of more is refused before any work.
MAX_VERIFY_BODY_BYTES = 4096
_VIETNAM = timezone(timedelta(hours=7))
F = TypeVar("F", bound=Callable[..., Any])


class BodyTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


def small_body(limit: int) -> Callable[[F], F]:
    """Refuse a body over ``limit`` bytes before anything reads it: a declared length at
    once; a chunked one read whole first (bounded by the API's body limit) and measured."""

    def decorate(view: F) -> F:
        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            request.max_content_length = limit
            declared = request.content_length
            if (declared or 0) > limit or (declared is None and len(request.get_data()) > limit):
                raise BodyTooLarge(
                    f"Nội dung gửi lên quá lớn: tối đa {vn_number(limit)} byte (một tem chỉ "
                    "vài trăm ký tự).",
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


VERIFY_QUERY = VerifyQuerySchema()


@dataclass
class FullVerification:
    """The answer, as the schema dumps it (``full_view``'s keys)."""

    view: dict[str, Any]


def _facts_statement() -> Select[*tuple[Any, ...]]:
    """Everything a verdict shows of an issued label, by serial, in one statement of plain
    columns (no ORM objects: this is the inspectors' hot path): one row per recall that
    reaches its lot (of the lot or of anything it was made from, as
    ``trace.services.recalled_by``), or one row with no recall. Named as ``PrintRun``'s
    attributes where ``claims_for`` reads them."""
    label = Label.serial == bindparam("serial")
    tree = (
        select(PrintRun.lot_id.label("lot_id"))
        .join(Label, Label.run_id == PrintRun.id)
        .where(label)
        .cte("ancestors", recursive=True)
    )
    tree = tree.union(
        select(LotLink.parent_lot_id).join(tree, LotLink.child_lot_id == tree.c.lot_id)
    )
    return (
        select(
            Label.signature,
            PrintRun.base_url,
            PrintRun.gtin,
            PrintRun.product_id,
            PrintRun.lot_code,
            PrintRun.star,
            PrintRun.certificate_id,
            PrintRun.valid_until,
            PrintRun.kid,
            StateRow.voided_at,
            StateRow.flagged_at,
            StateRow.scan_count,
            Certificate.number.label("cert_number"),
            Certificate.star.label("cert_star"),
            Certificate.issue_date.label("cert_issued_on"),
            Certificate.valid_until.label("cert_valid_until"),
            Certificate.revoked_on.label("cert_revoked_on"),
            Certificate.superseded_on.label("cert_superseded_on"),
            Certificate.issuing_authority.label("cert_authority"),
            Product.name_vi.label("product_name"),
            Producer.id.label("producer_id"),
            Producer.name.label("producer_name"),
            Recall.lot_id.label("recall_lot_id"),
            Recall.reason.label("recall_reason"),
            Recall.decision.label("recall_decision"),
            Recall.recalled_at,
        )
        .join(PrintRun, Label.run_id == PrintRun.id)
        .join(Certificate, PrintRun.certificate_id == Certificate.id)
        .join(Product, PrintRun.product_id == Product.id)
        .join(Producer, PrintRun.producer_id == Producer.id)
        .outerjoin(StateRow, StateRow.label_id == Label.id)
        .outerjoin(Recall, Recall.lot_id.in_(select(tree.c.lot_id)))
        .where(label)
        .order_by(Recall.id)
    )


# Built once per process, not per request.
_FACTS = _facts_statement()


def _no_facts(verdict: str, as_of: date, key_status: str | None) -> FullVerification:
    return FullVerification(
        {
            **verification_view(Verification(verdict)),
            "as_of": as_of,
            "key_status": key_status,
            **dict.fromkeys(("label", "certificate", "product", "producer")),
        }
    )


def verify_scanned(
    session: Session, store: KeyStore, text: str, as_of: date, window_days: int
) -> FullVerification:
    """The verdict on ``text`` with the certificate and recalls judged on ``as_of``: the
    same verdicts as ``page_check.check_page`` (the label page's), read in two plain
    statements (the label with its run, state, certificate, product and producer; recalls)."""
    try:
        claims, signature = parse_scanned(text)
    except payload.MalformedLabelUrl:
        return _no_facts("malformed", as_of, None)
    verdict = store.verify(claims.kid, claims.message(), signature)
    if verdict is Verdict.UNKNOWN_KEY:
        return _no_facts("unknown_key", as_of, None)
    try:
        key_status: str | None = store.status(claims.kid).value
    except UnknownKey:  # pragma: no cover - the key went between two reads of its file
        key_status = None
    if verdict is Verdict.INVALID:
        return _no_facts("invalid_signature", as_of, key_status)
    # Core execution on the session's connection: plain rows, none of the ORM's work.
    rows = list(session.connection().execute(_FACTS, {"serial": claims.serial}).all())
    row = rows[0] if rows else None
    # The row has PrintRun's attribute names for what the label claims.
    if (
        row is None
        or row.signature != signature
        or claims_for(cast(Any, row), claims.serial) != claims
    ):
        return _no_facts("not_issued", as_of, key_status)
    return _genuine(_name_of(verdict), claims, rows, as_of, window_days, key_status)


def _name_of(verdict: Verdict) -> str:
    return "compromised_key" if verdict is Verdict.COMPROMISED_KEY else "genuine"


def _recalls_by(rows: list[Any], as_of: date) -> list[dict[str, Any]]:
    """The recalls of the label's lot (or of anything it was made from) made by ``as_of``."""
    return [
        {
            "lot_id": r.recall_lot_id,
            "reason": r.recall_reason,
            "decision": r.recall_decision,
            "at": r.recalled_at,
        }
        for r in rows
        if r.recalled_at is not None and r.recalled_at.astimezone(_VIETNAM).date() <= as_of
    ]


def _genuine(
    name: str,
    claims: payload.LabelClaims,
    rows: list[Any],
    as_of: date,
    window_days: int,
    key_status: str | None,
) -> FullVerification:
    """The answer for a label of ours, from its statement's rows."""
    row = rows[0]
    certificate_status = status_on(
        as_of,
        issue_date=row.cert_issued_on,
        valid_until=row.cert_valid_until,
        revoked_on=row.cert_revoked_on,
        superseded_on=row.cert_superseded_on,
        expiring_window_days=window_days,
    )
    recalls = _recalls_by(rows, as_of)
    label = state_from(row.voided_at, row.flagged_at, row.scan_count, as_of)
    return FullVerification(
        {
            "verdict": name,
            "message": MESSAGES[name][0],
            "message_en": MESSAGES[name][1],
            "serial": claims.serial,
            "kid": claims.kid,
            "gtin": claims.gtin,
            "product_id": claims.product_id,
            "lot": claims.lot,
            "star": claims.star,
            "certificate_id": claims.certificate_id,
            "valid_until": claims.valid_until,
            "certificate_status": certificate_status.value,
            "recalled": bool(recalls),
            "recalls": recalls,
            "as_of": as_of,
            "key_status": key_status,
            "label": vars(label),
            "certificate": {
                "id": row.certificate_id,
                "number": row.cert_number,
                "status": certificate_status.value,
                "star": row.cert_star,
                "issued_on": row.cert_issued_on,
                "valid_until": row.cert_valid_until,
                "revoked_on": row.cert_revoked_on,
                "superseded_on": row.cert_superseded_on,
                "authority": row.cert_authority,
            },
            "product": {"id": row.product_id, "name": row.product_name, "gtin": row.gtin},
            "producer": {"id": row.producer_id, "name": row.producer_name},
        }
    )


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


class _Recall(Schema):
    lot_id = fields.Integer()
    reason = fields.String()
    decision = fields.String(allow_none=True)
    at = fields.AwareDateTime()


class FullVerificationSchema(VerificationSchema):
    """Documents the answer; ``answer`` writes it (the same JSON, without the schema's
    per-field work on the inspectors' hot path; a test holds the two equal)."""

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
    recalls = fields.List(fields.Nested(_Recall))

    @pre_dump
    def _view(self, result: FullVerification, **_kwargs: Any) -> dict[str, Any]:
        return result.view


def _plain(value: Any) -> Any:
    """Dates and times as ISO 8601 (a datetime is a date too), as the schema writes them."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value.isoformat() if isinstance(value, date) else value


def answer(result: FullVerification) -> Response:
    body = current_app.json.dumps(_plain(result.view), separators=(",", ":"))
    return current_app.response_class(f"{body}\n", mimetype="application/json")

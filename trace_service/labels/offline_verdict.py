"""The label page while the database cannot answer: what the URL alone proves.

The signature is checked against the key files (no database), so a shopper still learns
whether the stamp was signed by the OCOP service, with what it claims (product code, lot,
star, certificate valid-until, as printed), and is told plainly that the rest (is it in the
issued records, is the certificate still in force, recalls, copies) cannot be checked now.
Answered 503 with ``Retry-After``; the page is never cached.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template, request
from sqlalchemy.exc import DBAPIError

from trace_service.db import utcnow
from trace_service.errors import DatabaseFault, database_fault
from trace_service.labels import payload, serials
from trace_service.labels.jobs import label_base_url
from trace_service.labels.verify import parse_scanned
from trace_service.signing.keystore import Verdict
from trace_service.signing.service import get_keystore

Answer = tuple[str, int, dict[str, str]]

# (colour, Vietnamese, English) for what the signature alone says.
SIGNATURE_WORDS: dict[str, tuple[str, str, str]] = {
    "signed": (
        "amber",
        "Chữ ký số đúng: tem do hệ thống OCOP ký.",
        "The digital signature is right: the OCOP service signed this stamp.",
    ),
    "compromised_key": (
        "red",
        "Cảnh báo: tem được ký bằng khóa đã bị lộ; không thể khẳng định là tem thật.",
        "Warning: this label was signed with a compromised key; it cannot be trusted.",
    ),
    "invalid_signature": (
        "red",
        "Tem không hợp lệ: chữ ký số không đúng (có thể là tem giả hoặc đã bị sửa).",
        "Invalid label: the signature does not match (a fake or altered label).",
    ),
    "unknown_key": (
        "red",
        "Tem không hợp lệ: khóa ký không có trong danh sách tin cậy.",
        "Invalid label: signed with a key that is not in the trust list.",
    ),
    "malformed": (
        "red",
        "Mã QR không phải là tem OCOP hợp lệ.",
        "This QR code is not a valid OCOP label.",
    ),
}
_VERDICTS = {
    Verdict.VALID: "signed",
    Verdict.COMPROMISED_KEY: "compromised_key",
    Verdict.INVALID: "invalid_signature",
    Verdict.UNKNOWN_KEY: "unknown_key",
}


@dataclass(frozen=True)
class SignatureVerdict:
    key: str  # a key of SIGNATURE_WORDS
    claims: payload.LabelClaims | None

    @property
    def colour(self) -> str:
        return SIGNATURE_WORDS[self.key][0]

    @property
    def words(self) -> tuple[str, str]:
        return SIGNATURE_WORDS[self.key][1:]

    @property
    def code(self) -> str | None:
        return serials.grouped(self.claims.serial) if self.claims else None


def _candidate_bases() -> list[str]:
    """Where the stamp may have been printed for: the configured label base, then the host
    the phone opened (without the database the run's own base is unknown)."""
    bases = []
    for base in (label_base_url(), f"https://{request.host}"):
        try:
            bases.append(payload.canonical_base(base))
        except ValueError:
            continue
    return list(dict.fromkeys(bases))


def as_sent_query() -> str:
    """This request's query exactly as sent (``?…``, or nothing): the check keeps its signed
    parameter as every verifier does (``payload.signed_only``), not as Flask decodes it."""
    query = request.query_string.decode("latin-1")  # as the WSGI server passed it
    return f"?{query}" if query else ""


def signature_verdict() -> SignatureVerdict:
    """The verdict of the signature in this request's URL, from the key files alone."""
    best = SignatureVerdict("malformed", None)
    for base in _candidate_bases():
        try:
            claims, signature = parse_scanned(f"{base}{request.path}{as_sent_query()}")
        except payload.MalformedLabelUrl:
            continue
        verdict = _VERDICTS[get_keystore().verify(claims.kid, claims.message(), signature)]
        if verdict == "signed":
            return SignatureVerdict(verdict, claims)
        if best.claims is None:
            best = SignatureVerdict(verdict, claims)
    return best


def page_without_database(error: DBAPIError) -> Answer:
    """The label page when ``error`` says the database cannot answer; any other error (a
    fault of ours) is raised again for the usual handling."""
    fault: DatabaseFault | None = database_fault(error)
    if fault is None:
        raise error
    current_app.logger.warning("label page without the database (%s): %s", fault.kind, error)
    html = render_template(
        "labels/offline.html", verdict=signature_verdict(), fault=fault, checked_at=utcnow()
    )
    headers = {"Retry-After": str(fault.retry_after), "Cache-Control": "no-store"}
    return html, 503, headers

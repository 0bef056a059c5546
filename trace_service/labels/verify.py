"""Checking a scanned label: its signature, its record, and what has happened since printing.

Two independent facts make a label genuine: the URL carries a valid Ed25519 signature by one
of our label keys (what an offline verifier can check too), and the serial is in our records
with exactly these claims. What the consumer also needs to know is current, not printed: is
the certificate still in force, and has anything in the lot been recalled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from trace_service.certificates.rules import Status
from trace_service.labels import payload
from trace_service.labels.models import Label, PrintRun
from trace_service.trace.models import Recall

MESSAGES: dict[str, tuple[str, str]] = {
    "genuine": ("Tem OCOP chính hãng.", "Genuine OCOP label."),
    "compromised_key": (
        "Cảnh báo: tem được ký bằng khóa đã bị lộ; không thể khẳng định là tem thật.",
        "Warning: this label was signed with a compromised key; it cannot be trusted.",
    ),
    "invalid_signature": (
        "Tem không hợp lệ: chữ ký số không đúng (có thể là tem giả hoặc đã bị sửa).",
        "Invalid label: the signature does not match (a fake or altered label).",
    ),
    "unknown_key": (
        "Tem không hợp lệ: khóa ký không có trong danh sách tin cậy.",
        "Invalid label: signed with a key that is not in the trust list.",
    ),
    "not_issued": (
        "Tem không có trong hồ sơ đã cấp; có thể là tem giả.",
        "This label is not in the issued records; it may be fake.",
    ),
    "malformed": (
        "Mã QR không phải là tem OCOP hợp lệ.",
        "This QR code is not a valid OCOP label.",
    ),
}


class StampMarks(Protocol):
    """What a stamp's state row says of it (a ``LabelState``, or the page's read of one)."""

    voided_at: datetime | None
    flagged_at: datetime | None


class StampState:
    """What happened to a checked stamp since printing, from its ``label`` (the API's
    verification and the label page's check alike)."""

    label: Any

    @property
    def state(self) -> StampMarks | None:
        """What happened to the stamp since printing (None: nothing yet)."""
        return self.label.state if self.label is not None else None

    @property
    def voided(self) -> bool:
        return self.state is not None and self.state.voided_at is not None

    @property
    def possibly_copied(self) -> bool:
        return self.state is not None and self.state.flagged_at is not None

    @property
    def label_state(self) -> str | None:
        """``issued`` | ``voided`` | ``possibly_copied`` (the offline snapshot's words), or
        None when the label is not ours."""
        if self.label is None:
            return None
        return "voided" if self.voided else "possibly_copied" if self.possibly_copied else "issued"


@dataclass
class Verification(StampState):
    verdict: str
    claims: payload.LabelClaims | None = None
    label: Label | None = None
    run: PrintRun | None = None
    certificate_status: Status | None = None
    recalls: list[Recall] = field(default_factory=list)

    @property
    def message(self) -> str:
        return MESSAGES[self.verdict][0]

    @property
    def message_en(self) -> str:
        return MESSAGES[self.verdict][1]

    @property
    def recalled(self) -> bool:
        return bool(self.recalls)


_SCHEME_AND_HOST = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)(.*)$", re.DOTALL)


def as_printed(url: str) -> str:
    """Scheme and host in upper case, as printed: they are case-insensitive, and phones and
    URL libraries lower-case them. The path and the signature are left exactly as given."""
    match = _SCHEME_AND_HOST.match(url) if isinstance(url, str) else None
    # ASCII only: "ı".upper() == "I", and a host spelt with it is another domain.
    return f"{match[1].upper()}{match[2]}" if match and match[1].isascii() else url


# The longest text read as a code or a shared link, by every verifier (the API's field,
# ocop_verify's MAX_TEXT, label.js): a longer one is malformed wherever it is read.
MAX_SCANNED_CHARS = 2000


def parse_scanned(text: str) -> tuple[payload.LabelClaims, bytes]:
    """The claims and signature of a scanned code or a shared link, read the same way by
    the label page, its page without the database and the verify API: scheme and host as
    printed, only the signed parameter kept (``payload.signed_only``), then read exactly.
    ``MalformedLabelUrl`` otherwise; the signature is not checked."""
    if len(text) > MAX_SCANNED_CHARS:
        raise payload.MalformedLabelUrl(f"longer than {MAX_SCANNED_CHARS} characters")
    return payload.parse_label_url(payload.signed_only(as_printed(text)))


def find_label(session: Session, serial: str) -> Label | None:
    """The label with ``serial``, what happened to it since, its run and what a verdict
    shows of the run (certificate, product, producer, lot): one query, not six."""
    run = joinedload(Label.run, innerjoin=True)
    return session.scalar(
        select(Label)
        .where(Label.serial == serial)
        .options(
            joinedload(Label.state),
            run.joinedload(PrintRun.certificate, innerjoin=True),
            run.joinedload(PrintRun.product, innerjoin=True),
            run.joinedload(PrintRun.producer, innerjoin=True),
            run.joinedload(PrintRun.lot, innerjoin=True),
        )
    )

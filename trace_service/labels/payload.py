"""What a label's QR holds: a signed URL, small enough for QR version 8 at level M.

For a product with a GTIN the URL is a GS1 Digital Link (any GS1 reader finds the GTIN, the
lot and the serial), followed by one data attribute ``S`` that carries everything else::

    HTTPS://TEM.OCOP.EXAMPLE.VN/01/08935012345678/10/DM2507-RB1/21/7K3M9QXA2BCDEF4?S=1403…

    S = version (1 digit) · star (1) · valid-until as days since 2000-01-01 (5)
        · length of the certificate id (1) · certificate id · key id and signature
          (8 + 64 bytes as one 174-digit decimal number)

A product without a GTIN gets ``/P/{product id}/10/{lot}/21/{serial}`` instead of ``/01/…``.

Why this shape: a lowercase URL with a base64 signature lands at QR version 9–10; dense codes
fail on cheap phones. Upper case puts the URL in the QR alphanumeric mode (5.5 bits a
character instead of 8; scheme and host are case-insensitive, so every camera opens it the
same) and the digits of ``S`` go in numeric mode (3.3 bits a digit), so a 36-character host,
a realistic lot and certificate fit version 8 (49 modules) at level M.

The Ed25519 signature covers a versioned canonical byte string of the claims (``message``),
base included, so changing any character of the URL either breaks parsing (the URL must
re-serialise to exactly itself) or changes a signed claim or the signature.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from trace_service.labels import serials
from trace_service.signing.keystore import (
    KID_BYTES,
    SIGNATURE_BYTES,
    b64url_decode,
    b64url_encode,
)

PAYLOAD_VERSION = 1
DAY_ZERO = date(2000, 1, 1)
_SIGNED_BYTES = KID_BYTES + SIGNATURE_BYTES
_SIGNED_DIGITS = len(str(2 ** (8 * _SIGNED_BYTES) - 1))  # 174
_MAX_CERTIFICATE_ID = 999_999_999  # nine digits, so its length fits one digit
LOT_RE = re.compile(r"^[A-Za-z0-9._-]{1,20}$")  # GS1 AI 10 allows 20; no '/', '%' or '?'
_GTIN_RE = re.compile(r"^\d{14}$", re.ASCII)  # "\d" would take any script's digits
_HOST_RE = re.compile(r"^[A-Z0-9]([A-Z0-9-]*[A-Z0-9])?(\.[A-Z0-9]([A-Z0-9-]*[A-Z0-9])?)*$")
_LOOPBACK = {"127.0.0.1", "LOCALHOST"}


class MalformedLabelUrl(ValueError):
    """Not a label URL this service issued (or one altered so it no longer parses)."""


def canonical_base(base_url: str) -> str:
    """The scheme and host labels are printed with, upper case: ``HTTPS://TEM.OCOP.VN``.

    ``https`` only; plain ``http`` is accepted for 127.0.0.1 and localhost so a developer's
    machine can issue test labels. No path, query or user part: the label routes live at
    the root so the upper-case URL still matches them.
    """
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").upper()
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(
            "the label base URL must be a scheme and host only, e.g. https://tem.ocop.vn"
        )
    if not _HOST_RE.fullmatch(host):
        raise ValueError(f"the label base URL has no valid host: {base_url!r}")
    if scheme != "https" and not (scheme == "http" and host in _LOOPBACK):
        raise ValueError("labels must point to an https address (http only for localhost)")
    port = f":{parts.port}" if parts.port else ""
    return f"{scheme.upper()}://{host}{port}"


@lru_cache(maxsize=256)
def _is_kid(kid: str) -> bool:
    """Whether ``kid`` is a key id (a print run's stamps all name one: decoded once)."""
    try:
        return len(b64url_decode(kid)) == KID_BYTES
    except ValueError:
        return False


@dataclass(frozen=True)
class LabelClaims:
    """Everything a label asserts, as signed."""

    base: str  # canonical_base(...)
    serial: str
    gtin: str | None  # GTIN-14, when the product has one
    product_id: int | None  # our product id, when it has none
    lot: str
    star: int
    certificate_id: int
    valid_until: date
    kid: str

    def __post_init__(self) -> None:
        if (self.gtin is None) == (self.product_id is None):
            raise ValueError("a label names its product by GTIN or, lacking one, by id")
        if self.gtin is not None and not _GTIN_RE.fullmatch(self.gtin):
            raise ValueError("GTIN must be 14 digits")
        if not serials.is_serial(self.serial):
            raise ValueError("not a serial")
        if not LOT_RE.fullmatch(self.lot):
            raise ValueError("lot codes on labels are 1–20 letters, digits, '.', '_' or '-'")
        if self.star not in (3, 4, 5):
            raise ValueError("star must be 3, 4 or 5")
        if not 1 <= self.certificate_id <= _MAX_CERTIFICATE_ID:
            raise ValueError("certificate id out of range")
        if not 0 <= (self.valid_until - DAY_ZERO).days <= 99_999:
            raise ValueError("valid_until out of range")
        if not _is_kid(self.kid):
            raise ValueError("not a key id")

    @property
    def product(self) -> str:
        return f"01:{self.gtin}" if self.gtin else f"P:{self.product_id}"

    def message(self) -> bytes:
        """The canonical bytes the signature covers (ASCII, one claim per line)."""
        lines = (
            f"OCOP-LABEL/{PAYLOAD_VERSION}",
            self.base,
            self.serial,
            self.product,
            self.lot,
            str(self.star),
            str(self.certificate_id),
            self.valid_until.isoformat(),
            self.kid,
        )
        return "\n".join(lines).encode("ascii")

    def path(self) -> str:
        """The URL path, e.g. ``/01/08935012345678/10/DM2507/21/7K3M9QXA2BCDEF4``."""
        head = f"/01/{self.gtin}" if self.gtin else f"/P/{self.product_id}"
        return f"{head}/10/{self.lot}/21/{self.serial}"


def messages_for(template: LabelClaims, serial_list: Sequence[str]) -> list[bytes]:
    """Each serial's ``message()`` under the template's other claims (a 100,000-stamp order
    built 100,000 claims objects, each checked, only to join the same eight lines: a sixth of
    its request). Each serial is still checked to be one, so no line can be smuggled in."""
    lines = template.message().split(b"\n")
    if lines[2] != template.serial.encode("ascii"):  # the serial's line, as message() joins
        raise AssertionError("LabelClaims.message() changed its lines: update messages_for")
    head, tail = b"\n".join(lines[:2]) + b"\n", b"\n" + b"\n".join(lines[3:])
    if not all(map(serials.is_serial, serial_list)):
        raise ValueError("not a serial")
    return [head + serial.encode("ascii") + tail for serial in serial_list]


def label_url(claims: LabelClaims, signature: bytes) -> str:
    """The URL printed in the QR."""
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("an Ed25519 signature is 64 bytes")
    cert = str(claims.certificate_id)
    signed = int.from_bytes(b64url_decode(claims.kid) + signature, "big")
    data = (
        f"{PAYLOAD_VERSION}{claims.star}{(claims.valid_until - DAY_ZERO).days:05d}"
        f"{len(cert)}{cert}{signed:0{_SIGNED_DIGITS}d}"
    )
    return f"{claims.base}{claims.path()}?S={data}"


_URL_RE = re.compile(
    r"^(?P<base>HTTPS?://[^/?#]+)"
    r"(?:/01/(?P<gtin>\d{14})|/P/(?P<product>[1-9]\d{0,18}))"
    r"/10/(?P<lot>[A-Za-z0-9._-]{1,20})/21/(?P<serial>[0-9A-Z]{15})"
    r"\?S=(?P<data>\d+)$",
    re.ASCII,  # ASCII digits only: others parsed, then could not be signed (a 500)
)


# A space or a control character: never in a link as a browser sends it, so never dropped
# with a parameter either (a scanned text ending in a newline stays malformed).
_NOT_IN_A_LINK = re.compile(r"[\x00-\x20\x7f]")


def signed_only(url: str) -> str:
    """``url`` with its query cut down to the signed ``S`` parameter, as the label page reads
    a link: shared on social networks it gains parameters (``fbclid``, ``utm_…``) and a
    fragment, none of them signed. What is kept is judged exactly by ``parse_label_url``
    (no percent-decoding); two ``S`` are ``MalformedLabelUrl`` (which would be the signed
    one?). The browser verifier's twin is ``signedOnly`` in ``static/verify/label.js``."""
    if not isinstance(url, str) or _NOT_IN_A_LINK.search(url):
        return url
    head, mark, query = url.partition("?")
    if not mark:
        return url
    kept = [part for part in query.partition("#")[0].split("&") if part.split("=")[0] == "S"]
    if len(kept) > 1:
        raise MalformedLabelUrl("not an OCOP label address (two S parameters)")
    return f"{head}?{kept[0]}" if kept else head


def parse_label_url(url: str) -> tuple[LabelClaims, bytes]:
    """The claims and signature in a label URL; ``MalformedLabelUrl`` unless the URL is
    exactly what ``label_url`` would print for them. This does not verify the signature."""
    match = _URL_RE.fullmatch(url) if isinstance(url, str) else None
    if match is None:
        raise MalformedLabelUrl("not an OCOP label address")
    data = match["data"]
    if data[0] != str(PAYLOAD_VERSION):
        raise MalformedLabelUrl(f"unknown label payload version {data[0]}")
    try:
        star = int(data[1])
        valid_until = DAY_ZERO + timedelta(days=int(data[2:7]))
        cert_len = int(data[7])
        cert_id = int(data[8 : 8 + cert_len])
        signed_text = data[8 + cert_len :]
        if cert_len == 0 or len(signed_text) != _SIGNED_DIGITS:
            raise ValueError("wrong length")
        signed = int(signed_text).to_bytes(_SIGNED_BYTES, "big")
        claims = LabelClaims(
            base=canonical_base(match["base"]),
            serial=match["serial"],
            gtin=match["gtin"],
            product_id=int(match["product"]) if match["product"] else None,
            lot=match["lot"],
            star=star,
            certificate_id=cert_id,
            valid_until=valid_until,
            kid=b64url_encode(signed[:KID_BYTES]),
        )
    except (ValueError, OverflowError, IndexError) as exc:
        raise MalformedLabelUrl(f"not an OCOP label address: {exc}") from None
    signature = signed[KID_BYTES:]
    if label_url(claims, signature) != url:  # one printed form per label: no look-alikes
        raise MalformedLabelUrl("not an OCOP label address (not in canonical form)")
    return claims, signature

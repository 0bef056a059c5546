"""The label URL (a GS1 Digital Link in upper case), its ``S`` number and the signed bytes.

An independent reading of ``docs/label-format.md``: the service's own writer and reader are
``trace_service/labels/payload.py``; the committed test vectors and a corpus of mutated codes
hold the two (and the browser's ``static/verify/label.js``) to the same answers.

    HTTPS://TEM.OCOP.VN/01/08935012345678/10/DM2601-RB1/21/7K3M9QXA2BCDEF4?S=14…
    HTTPS://TEM.OCOP.VN/P/42/10/DM2601-RB1/21/7K3M9QXA2BCDEF4?S=14…   (no GTIN)

``S`` = payload version (1 digit, ``1``) · star (1 digit, 3–5) · valid-until as days since
2000-01-01 (5 digits) · number of digits of the certificate id (1 digit, 1–9) · certificate
id (no leading zero) · key id (8 bytes) and Ed25519 signature (64 bytes) as one big-endian
number written in exactly 174 decimal digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ocop_verify.encoding import KID_BYTES, SIGNATURE_BYTES, b64url_decode, b64url_encode

PAYLOAD_VERSION = 1
MESSAGE_HEADER = f"OCOP-LABEL/{PAYLOAD_VERSION}"
DAY_ZERO = date(2000, 1, 1)
SIGNED_DIGITS = 174  # len(str(2 ** 576 - 1))
_SIGNED_LIMIT = 2 ** (8 * (KID_BYTES + SIGNATURE_BYTES))
SERIAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
_VALUE = {ch: i for i, ch in enumerate(SERIAL_ALPHABET)}
_LOOPBACK = {"127.0.0.1", "LOCALHOST"}
_LABEL = r"[A-Z0-9](?:[A-Z0-9-]*[A-Z0-9])?"
_BASE_RE = re.compile(rf"^(HTTPS?)://({_LABEL}(?:\.{_LABEL})*)(?::([1-9][0-9]{{0,4}}))?$")
_URL_RE = re.compile(
    r"^(?P<base>[^/?#]*//[^/?#]*)"
    r"(?:/01/(?P<gtin>[0-9]{14})|/P/(?P<product>[1-9][0-9]{0,18}))"
    r"/10/(?P<lot>[A-Za-z0-9._-]{1,20})/21/(?P<serial>[0-9A-Z]{15})"
    r"\?S=(?P<data>[0-9]+)$"
)
_SCHEME_AND_HOST = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)(.*)$", re.DOTALL)
_NOT_IN_A_LINK = re.compile(r"[\x00-\x20\x7f]")  # space, control characters
MAX_TEXT = 2000  # a shared link, with its unsigned parameters (the verify API's limit)
MAX_URL = 600  # the label URL once they are dropped


class Malformed(ValueError):
    """Not a label URL as the service prints them (or one altered so it no longer is)."""


def _gf32() -> tuple[list[int], list[int]]:
    exp, log = [0] * 62, [0] * 32
    value = 1
    for power in range(31):
        exp[power] = exp[power + 31] = value
        log[value] = power
        value <<= 1
        if value & 32:
            value ^= 0b100101  # x^5 + x^2 + 1
    return exp, log


_EXP, _LOG = _gf32()


def check_char(body: str) -> str:
    """The serial's 15th character: XOR over positions p = 0…13 of value(c) · α^(p+1) in
    GF(32) with α a root of x^5 + x^2 + 1."""
    total = 0
    for position, ch in enumerate(body):
        value = _VALUE[ch]
        if value:
            total ^= _EXP[_LOG[value] + (position + 1) % 31]
    return SERIAL_ALPHABET[total]


def is_serial(text: str) -> bool:
    return (
        len(text) == 15 and all(ch in _VALUE for ch in text) and check_char(text[:-1]) == text[-1]
    )


def as_printed(text: str) -> str:
    """Scheme and host in upper case, as printed (phones lower-case them); the rest as is.
    ASCII letters only: ``"ı".upper()`` is ``"I"``, so a host spelt with a dotless i (another
    domain, where the phone would go) must not pass for ours."""
    match = _SCHEME_AND_HOST.match(text)
    return f"{match[1].upper()}{match[2]}" if match and match[1].isascii() else text


@dataclass(frozen=True)
class Claims:
    """What a label asserts, as signed."""

    base: str
    serial: str
    gtin: str | None
    product_id: int | None
    lot: str
    star: int
    certificate_id: int
    valid_until: date
    kid: str

    @property
    def product(self) -> str:
        """``01:<GTIN>`` or ``P:<product id>``: how the message and the snapshot's recalls
        name the product."""
        return f"01:{self.gtin}" if self.gtin else f"P:{self.product_id}"

    def message(self) -> bytes:
        """The bytes the Ed25519 signature covers: nine ASCII lines joined by LF."""
        return "\n".join(
            (
                MESSAGE_HEADER,
                self.base,
                self.serial,
                self.product,
                self.lot,
                str(self.star),
                str(self.certificate_id),
                self.valid_until.isoformat(),
                self.kid,
            )
        ).encode("ascii")

    def to_json(self) -> dict[str, object]:
        return {
            "base": self.base,
            "serial": self.serial,
            "gtin": self.gtin,
            "product_id": self.product_id,
            "lot": self.lot,
            "star": self.star,
            "certificate_id": self.certificate_id,
            "valid_until": self.valid_until.isoformat(),
            "kid": self.kid,
        }


def signed_only(text: str) -> str:
    """``text`` with its query cut down to the signed ``S`` parameter, as the label page
    reads a link: shared on social networks it gains parameters (``fbclid``, ``utm_…``) and
    a fragment, none of them signed. Nothing is percent-decoded; two ``S`` are ``Malformed``
    (which would be the signed one?); a space or a control character anywhere leaves the
    text as it is (not a link as a browser sends it)."""
    if _NOT_IN_A_LINK.search(text):
        return text
    head, mark, query = text.partition("?")
    if not mark:
        return text
    kept = [part for part in query.partition("#")[0].split("&") if part.split("=")[0] == "S"]
    if len(kept) > 1:
        raise Malformed("not an OCOP label address (two S parameters)")
    return f"{head}?{kept[0]}" if kept else head


def parse(text: str) -> tuple[Claims, bytes]:
    """The claims and signature of a scanned text or a shared link; ``Malformed`` unless,
    after ``as_printed`` and ``signed_only``, it is exactly a label URL as printed. Does not
    check the signature."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise Malformed("not an OCOP label address")
    printed = signed_only(as_printed(text))
    if len(printed) > MAX_URL:
        raise Malformed("not an OCOP label address")
    match = _URL_RE.fullmatch(printed)
    if match is None:
        raise Malformed("not an OCOP label address")
    base = _BASE_RE.fullmatch(match["base"])
    if base is None or (base[1] == "HTTP" and base[2] not in _LOOPBACK):
        raise Malformed("not an OCOP label address (scheme or host)")
    if base[3] is not None and int(base[3]) > 65535:
        raise Malformed("not an OCOP label address (port)")
    data = match["data"]
    if data[0] != str(PAYLOAD_VERSION):
        raise Malformed(f"unknown label payload version {data[0]}")
    cert_len = int(data[7]) if len(data) > 7 else 0
    signed_text = data[8 + cert_len :]
    if (
        cert_len == 0
        or len(data) != 8 + cert_len + SIGNED_DIGITS
        or data[8] == "0"
        or data[1] not in "345"
        or int(signed_text) >= _SIGNED_LIMIT
    ):
        raise Malformed("not an OCOP label address (S)")
    if not is_serial(match["serial"]):
        raise Malformed("not an OCOP label address (serial check character)")
    signed = int(signed_text).to_bytes(KID_BYTES + SIGNATURE_BYTES, "big")
    claims = Claims(
        base=match["base"],
        serial=match["serial"],
        gtin=match["gtin"],
        product_id=int(match["product"]) if match["product"] else None,
        lot=match["lot"],
        star=int(data[1]),
        certificate_id=int(data[8 : 8 + cert_len]),
        valid_until=DAY_ZERO + timedelta(days=int(data[2:7])),
        kid=b64url_encode(signed[:KID_BYTES]),
    )
    return claims, signed[KID_BYTES:]


def label_url(claims: Claims, signature: bytes) -> str:
    """What the QR holds (the writer; the service's is ``labels.payload.label_url``)."""
    head = f"/01/{claims.gtin}" if claims.gtin else f"/P/{claims.product_id}"
    cert = str(claims.certificate_id)
    signed = int.from_bytes(b64url_decode(claims.kid) + signature, "big")
    days = (claims.valid_until - DAY_ZERO).days
    data = f"{PAYLOAD_VERSION}{claims.star}{days:05d}{len(cert)}{cert}{signed:0{SIGNED_DIGITS}d}"
    return f"{claims.base}{head}/10/{claims.lot}/21/{claims.serial}?S={data}"

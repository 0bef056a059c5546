"""The encodings every signed OCOP document shares: base64url, key ids, canonical JSON and
the Ed25519 check. The service's ``trace_service.signing.keystore`` defines the same things;
``tests/verify/test_vectors.py`` holds the two to the committed test vectors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNATURE_BYTES = 64
PUBLIC_KEY_BYTES = 32
KID_BYTES = 8
_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding (canonical: no stray trailing bits); ``ValueError``
    on anything else."""
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:  # pragma: no cover - the pattern above rules it out
        raise ValueError("not base64url") from exc
    if b64url_encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


def key_id(public_raw: bytes) -> str:
    """First 8 bytes of SHA-256 of the raw 32-byte public key, base64url (11 characters)."""
    return b64url_encode(hashlib.sha256(public_raw).digest()[:KID_BYTES])


def canonical_json(value: Any) -> bytes:
    """What signatures over JSON cover: keys sorted, no spaces, UTF-8 (no ``\\u`` escapes
    beyond JSON's own), no NaN. Signed documents hold only strings, whole numbers, booleans,
    arrays and objects with ASCII keys, so this equals RFC 8785 (JCS) for them and a browser
    gets the same bytes from ``JSON.stringify`` with sorted keys."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(value: Any) -> str:
    """SHA-256 of the canonical JSON, base64url: names a document's exact content."""
    return b64url_encode(hashlib.sha256(canonical_json(value)).digest())


def ed25519_ok(public_raw: bytes, message: bytes, signature: bytes) -> bool:
    """True only for a valid Ed25519 signature (RFC 8032, as ``cryptography`` checks it);
    never raises."""
    if (
        not isinstance(public_raw, bytes)
        or len(public_raw) != PUBLIC_KEY_BYTES
        or not isinstance(signature, bytes)
        or len(signature) != SIGNATURE_BYTES
        or not isinstance(message, bytes)
    ):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True

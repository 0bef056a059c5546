"""The public side of the signing keys: a JWKS and a trust list signed by the root key.

``jwks`` is what ``/.well-known/jwks.json`` serves (RFC 7517, Ed25519 keys per RFC 8037), as
SMART Health Cards publish theirs. ``signed_trust_list`` is what offline verifiers download
(as EU DCC apps refresh theirs daily): the same keys, a version and the issue time, with a
detached Ed25519 signature by the root key over the canonical JSON of everything else, so a
verifier that pins the root's public key can trust the list wherever it came from.

Signed document::

    {"version": 3, "issued_at": "2026-11-28T09:00:00+00:00",
     "expires_at": "2026-12-28T09:00:00+00:00", "root_kid": "…",
     "keys": [{"kty": "OKP", …}], "snapshot_keys": [{"kty": "OKP", …}],
     "signature": "<86 base64url characters>"}

The signature covers ``canonical_json(document without "signature")``: sorted keys,
separators ``(",", ":")``, ``ensure_ascii=False``, UTF-8. ``keys`` are the label-signing keys
only (what older verifiers read); the keys that sign offline snapshots are apart in
``snapshot_keys``, so no verifier can take one for a label key. Verifiers treat the list as
stale after ``expires_at``; lists published before it existed verify as they did and expire
30 days after ``issued_at`` (``docs/label-format.md``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from trace_service.signing.keystore import (
    PUBLIC_KEY_BYTES,
    SIGNATURE_BYTES,
    KeyInfo,
    KeyRole,
    KeyStore,
    Verdict,
    b64url_decode,
    b64url_encode,
    canonical_json,
    key_id,
    verify_raw,
)

STATUS_MEMBER = "ocop:status"
TRUST_LIST_TTL = timedelta(days=30)  # the default of OCOP_TRUST_LIST_TTL_DAYS


def jwk(info: KeyInfo) -> dict[str, str]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(info.public_key_raw),
        "kid": info.kid,
        "use": "sig",
        "alg": "EdDSA",
        STATUS_MEMBER: info.status.value,
    }


def jwks(store: KeyStore) -> dict[str, list[dict[str, str]]]:
    """Every label-signing key, oldest first, with its status; never the root key.

    Retired keys stay so old labels verify; compromised keys stay so verifiers can say
    "compromised" rather than "unknown".
    """
    return {"keys": [jwk(i) for i in store.public_keys() if i.role is KeyRole.SIGNING]}


def signed_trust_list(
    store: KeyStore, version: int, issued_at: datetime, ttl: timedelta = TRUST_LIST_TTL
) -> dict[str, Any]:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError("version must be a positive whole number")
    if issued_at.tzinfo is None or issued_at.utcoffset() is None:
        raise ValueError("issued_at must be timezone-aware")
    issued_at = issued_at.replace(microsecond=0)  # plain ISO seconds: every parser reads them
    document: dict[str, Any] = {
        "version": version,
        "issued_at": issued_at.isoformat(),
        "expires_at": (issued_at + ttl).isoformat(),
        "root_kid": store.root_key().kid,
        **jwks(store),
        "snapshot_keys": [jwk(i) for i in store.public_keys() if i.role is KeyRole.SNAPSHOT],
    }
    root_kid, signature = store.sign_as_root(canonical_json(document))
    if root_kid != document["root_kid"]:  # the root changed between the two reads
        raise RuntimeError("root key changed while signing the trust list")
    return {**document, "signature": b64url_encode(signature)}


def verify_trust_list(document: Any, root_public_key_raw: bytes) -> bool:
    """True only if the root key signed exactly this document; never raises."""
    try:
        if not isinstance(document, dict) or not isinstance(root_public_key_raw, bytes):
            return False
        if len(root_public_key_raw) != PUBLIC_KEY_BYTES:
            return False
        body = {k: v for k, v in document.items() if k != "signature"}
        if body.get("root_kid") != key_id(root_public_key_raw):
            return False
        signature = b64url_decode(document["signature"])
        if len(signature) != SIGNATURE_BYTES:
            return False
        payload = canonical_json(body)
    except (KeyError, TypeError, ValueError):
        return False
    return verify_raw(root_public_key_raw, payload, signature) is Verdict.VALID

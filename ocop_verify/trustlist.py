"""The trust list: the label-signing keys and snapshot keys with their status, signed by the
root key that verifiers pin (``flask keys root`` prints it), versioned, with an expiry.

    {"version": 7, "issued_at": "…", "expires_at": "…", "root_kid": "…",
     "keys": [JWK…], "snapshot_keys": [JWK…], "signature": "<base64url>"}

The signature covers ``canonical_json`` of the document without ``signature``. Lists
published before expiry and snapshot keys existed have neither ``expires_at`` nor
``snapshot_keys``: they still verify, expire ``LEGACY_TTL`` after ``issued_at`` and vouch for
no snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ocop_verify.encoding import (
    PUBLIC_KEY_BYTES,
    b64url_decode,
    canonical_json,
    ed25519_ok,
    key_id,
)

STATUS_MEMBER = "ocop:status"
KEY_STATUSES = ("active", "retired", "compromised")
LEGACY_TTL = timedelta(days=30)


class TrustListError(ValueError):
    """The trust list is not signed by the pinned root key, or not well formed."""


@dataclass(frozen=True)
class Key:
    kid: str
    public_key: bytes
    status: str  # active | retired | compromised


@dataclass(frozen=True)
class TrustList:
    version: int
    issued_at: datetime
    expires_at: datetime
    root_kid: str
    label_keys: dict[str, Key] = field(default_factory=dict)
    snapshot_keys: dict[str, Key] = field(default_factory=dict)

    def expired(self, now: datetime) -> bool:
        return now > self.expires_at


def aware(text: Any, what: str) -> datetime:
    """An ISO 8601 time with its offset; ``ValueError`` for anything else."""
    if not isinstance(text, str):
        raise ValueError(f"{what} is not a time")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} is not an ISO 8601 time") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} has no UTC offset")
    return value


def parse_root_key(value: Any) -> bytes:
    """The pinned root key: base64url of the raw 32 bytes, or ``{"kid", "public_key"}`` as
    ``flask keys root`` prints it (the kid must match the key)."""
    if isinstance(value, dict):
        raw = b64url_decode(value.get("public_key", ""))
        if value.get("kid") != key_id(raw):
            raise ValueError("the root key's kid does not match its public key")
    else:
        raw = b64url_decode(str(value).strip())
    if len(raw) != PUBLIC_KEY_BYTES:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return raw


def _keys(entries: Any, what: str) -> dict[str, Key]:
    if not isinstance(entries, list):
        raise TrustListError(f"{what} is not a list")
    keys: dict[str, Key] = {}
    for entry in entries:
        if not isinstance(entry, dict) or (entry.get("kty"), entry.get("crv")) != (
            "OKP",
            "Ed25519",
        ):
            raise TrustListError(f"{what}: not an Ed25519 JWK")
        try:
            raw = b64url_decode(entry.get("x", ""))
        except ValueError as exc:
            raise TrustListError(f"{what}: bad public key") from exc
        kid = entry.get("kid")
        if len(raw) != PUBLIC_KEY_BYTES or kid != key_id(raw):
            raise TrustListError(f"{what}: kid {kid!r} does not match its key")
        status = entry.get(STATUS_MEMBER)
        if status not in KEY_STATUSES:
            raise TrustListError(f"{what}: key {kid} has no known status")
        if kid in keys:
            raise TrustListError(f"{what}: key {kid} is listed twice")
        keys[kid] = Key(kid, raw, status)
    return keys


def load_trust_list(document: Any, root_public_key: bytes) -> TrustList:
    """The trust list, once its root signature is checked; ``TrustListError`` otherwise.
    Expiry is not refused here: verdicts made with an expired list are marked stale."""
    if not isinstance(document, dict):
        raise TrustListError("the trust list is not a JSON object")
    body = {k: v for k, v in document.items() if k != "signature"}
    try:
        signature = b64url_decode(document.get("signature", ""))
        signed = canonical_json(body)
    except (TypeError, ValueError) as exc:
        raise TrustListError("the trust list cannot be read") from exc
    if body.get("root_kid") != key_id(root_public_key) or not ed25519_ok(
        root_public_key, signed, signature
    ):
        raise TrustListError("the trust list is not signed by the pinned root key")
    version = body.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise TrustListError("the trust list has no valid version")
    try:
        issued_at = aware(body.get("issued_at"), "issued_at")
        expires_raw = body.get("expires_at")
        expires_at = (
            issued_at + LEGACY_TTL if expires_raw is None else aware(expires_raw, "expires_at")
        )
    except ValueError as exc:
        raise TrustListError(str(exc)) from exc
    return TrustList(
        version=version,
        issued_at=issued_at,
        expires_at=expires_at,
        root_kid=body["root_kid"],
        label_keys=_keys(body.get("keys"), "keys"),
        snapshot_keys=_keys(body.get("snapshot_keys", []), "snapshot_keys"),
    )

"""The key store of this application: where it lives, its passphrase, first-run keys and the
published trust list. Routes, CLI and print runs get keys only through here."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.audit.models import AuditEvent
from trace_service.audit.services import record_event
from trace_service.db import session_scope
from trace_service.errors import Unavailable
from trace_service.principal import system_principal
from trace_service.signing.keystore import KeyRole, KeyStatus, KeyStore
from trace_service.signing.tags import SigningTag
from trace_service.signing.trustlist import TRUST_LIST_TTL, signed_trust_list

DEFAULT_KEYS_DIR = Path(__file__).resolve().parents[2] / "keys"
PUBLISHED_DIR = "published"  # inside the key directory: public trust lists, one per version
_VERSION_RE = re.compile(r"^trust-list-v(\d+)\.json$")


class SigningNotConfigured(Unavailable):
    code = "signing_not_configured"

    def __init__(self) -> None:
        super().__init__(
            "Chưa cấu hình mật khẩu kho khóa ký (OCOP_KEYS_PASSPHRASE); chưa thể ký tem.",
            "No key store passphrase is configured (OCOP_KEYS_PASSPHRASE); labels cannot be "
            "signed.",
        )


def keys_dir(app: Flask | None = None) -> Path:
    app = app or current_app
    configured = app.config["KEYS_DIR"]
    return Path(configured) if configured else DEFAULT_KEYS_DIR


def get_keystore(app: Flask | None = None) -> KeyStore:
    """This application's key store. It never makes keys: ``flask keys init`` does, in a unit
    of work of its own, before anything signs (a store without keys verifies nothing as
    genuine and refuses to sign, naming the command)."""
    app = app or current_app
    store: KeyStore | None = app.extensions.get("ocop_keystore")
    if store is None:
        passphrase = app.config["KEYS_PASSPHRASE"]
        if not passphrase:
            raise SigningNotConfigured()
        store = KeyStore(keys_dir(app), passphrase.encode("utf-8"))
        app.extensions["ocop_keystore"] = store
    return store


@dataclass(frozen=True)
class KeysReport:
    made: list[str]  # kids of the keys made now
    recorded: list[str]  # kids whose creation the audit log learnt of now
    trust_list_version: int | None  # the version published now, if one was


def init_keys(app: Flask | None = None) -> KeysReport:
    """Make the keys a fresh installation lacks (a signing key, a root key), publish the
    first trust list, and record both in the audit log, committed in a unit of work of their
    own. Safe to run again: it makes nothing twice, and records any key the audit log does
    not know yet (keys made by a run whose commit failed)."""
    app = app or current_app
    store = get_keystore(app)
    before = latest_trust_list(store)
    made = ensure_keys(store)
    after = latest_trust_list(store)
    published = after["version"] if after and after != before else None
    actor = system_principal("keys init")
    with session_scope(app) as session:
        known = set(
            session.scalars(
                select(AuditEvent.object_id).where(AuditEvent.tag == SigningTag.KEY_CREATED.value)
            )
        )
        recorded = [info.kid for info in store.public_keys() if info.kid not in known]
        for kid in recorded:
            info = store.get(kid)
            details = {"role": info.role.value, "status": info.status.value}
            record_event(session, actor, SigningTag.KEY_CREATED, "signing_key", kid, details)
        if published is not None:
            record_event(session, actor, SigningTag.TRUST_LIST_SIGNED, "trust_list", published)
    return KeysReport(made, recorded, published)


def ensure_keys(store: KeyStore) -> list[str]:
    """Make the keys an installation lacks (a signing key, a root key, a snapshot key) and
    publish the trust list naming them. Returns the kids made; nothing when all exist."""
    made = []
    for role in (KeyRole.SIGNING, KeyRole.ROOT, KeyRole.SNAPSHOT):
        has_key = any(i.role is role and i.status is KeyStatus.ACTIVE for i in store.public_keys())
        if not has_key:
            made.append(store.create(role).kid)
    if made or latest_trust_list(store) is None:
        publish_trust_list(store)
    return made


def _published(store: KeyStore) -> Path:
    folder = store.directory / PUBLISHED_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _versions(store: KeyStore) -> list[int]:
    return sorted(
        int(m.group(1)) for p in _published(store).iterdir() if (m := _VERSION_RE.fullmatch(p.name))
    )


def _ttl() -> timedelta:
    """``OCOP_TRUST_LIST_TTL_DAYS`` of the running app; the default outside one."""
    if has_app_context():
        return timedelta(days=current_app.config["TRUST_LIST_TTL_DAYS"])
    return TRUST_LIST_TTL


def publish_trust_list(store: KeyStore, now: datetime | None = None) -> dict[str, Any]:
    """Sign the current keys as the next version of the trust list and keep it on disk.

    Every version is kept (``published/trust-list-v<N>.json``) so a verifier can be told
    exactly which list it holds; a version number is never reused (the file is created
    exclusively). It expires ``OCOP_TRUST_LIST_TTL_DAYS`` after it is signed."""
    versions = _versions(store)
    version = (versions[-1] + 1) if versions else 1
    document = signed_trust_list(store, version, now or datetime.now(UTC), _ttl())
    path = _published(store) / f"trust-list-v{version}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
    return document


def latest_trust_list(store: KeyStore) -> dict[str, Any] | None:
    versions = _versions(store)
    if not versions:
        return None
    path = _published(store) / f"trust-list-v{versions[-1]}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def current_trust_list(store: KeyStore, now: datetime | None = None) -> dict[str, Any] | None:
    """The latest trust list, signed again (same keys, next version) once half its life has
    passed, so verifiers that refresh now and then never hold an expired one."""
    return _renew_if_due(store, now)[0]


def served_trust_list(session: Session, store: KeyStore) -> dict[str, Any] | None:
    """What ``/.well-known/ocop-trust-list.json`` serves: the current list; a renewal made
    for it is recorded in the audit log like any other signing of the list."""
    document, renewed = _renew_if_due(store)
    if renewed and document is not None:
        actor = system_principal("trust list renewal")
        record_event(
            session, actor, SigningTag.TRUST_LIST_SIGNED, "trust_list", document["version"]
        )
    return document


def _renew_if_due(
    store: KeyStore, now: datetime | None = None
) -> tuple[dict[str, Any] | None, bool]:
    """(the list to serve, whether this call signed it). Several workers may renew at once:
    the one that loses the race to a version serves the winner's."""
    document = latest_trust_list(store)
    if document is None:
        return None, False
    now = now or datetime.now(UTC)
    issued = datetime.fromisoformat(document["issued_at"])
    expires = document.get("expires_at")
    half_life = (datetime.fromisoformat(expires) - issued) / 2 if expires else _ttl() / 2
    if now < issued + half_life:
        return document, False
    try:
        return publish_trust_list(store, now), True
    except FileExistsError:
        return latest_trust_list(store), False


def scratch_secret(store: KeyStore) -> bytes:
    """The key scratch codes are derived with (``labels.serials.scratch_code``): HKDF of the
    key store's passphrase, so it lives where the signing keys live and nowhere else."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"ocop-scratch/1", info=b"scratch codes"
    ).derive(store.passphrase_for_derivation())


def root_public_key(store: KeyStore) -> dict[str, str]:
    """What verifiers pin: the root key's id and raw public key (base64url)."""
    info = store.root_key()
    return {"kid": info.kid, "public_key": info.to_json()["public_key"]}

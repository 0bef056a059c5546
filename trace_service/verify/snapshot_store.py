"""Signed offline snapshots, kept one file per version, rebuilt when the data changed.

Serving is cheap: each worker keeps the latest document in memory and looks at the records
again at most every ``OFFLINE_SNAPSHOT_CHECK_SECONDS`` (at once after a certificate decision
in this process). Looking means building the body and comparing its digest with the latest
version's: a new version is signed only when something a verifier judges by changed, or
when half of the latest one's life has passed (so devices never hold an expired one).
Versions are files created exclusively, so two workers never sign the same number; the
older ones stay (the last ``KEEP_VERSIONS``) so devices can fetch a delta from theirs.

With a read replica the looking is done there (a served snapshot may be as stale as the
replica's lag), but a new version is signed only from the primary's records: a replica
behind the primary must never sign a version that takes back what an earlier one said (a
revocation, a void).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from ocop_verify.encoding import canonical_json
from ocop_verify.snapshot import build_snapshot, make_delta, sign_snapshot
from trace_service.audit.services import record_event
from trace_service.certificates.signals import certificate_changed
from trace_service.db import session_scope
from trace_service.principal import system_principal
from trace_service.signing.keystore import KeyRole, KeyStatus, KeyStore
from trace_service.signing.service import served_trust_list
from trace_service.verify.snapshot_build import snapshot_content
from trace_service.verify.tags import VerifyTag

KEEP_VERSIONS = 60
_FILE_RE = re.compile(r"^snapshot-v(\d+)\.json$")
_VOLATILE = ("version", "issued_at", "expires_at", "signature")
_lock = threading.Lock()


class NoSnapshot(RuntimeError):
    """No trust list or snapshot key yet (before ``flask keys init``)."""


@dataclass
class _Cached:
    document: dict[str, Any]
    checked: float  # time.monotonic() of the last look at the records
    dirty: bool = False


def snapshot_dir(app: Flask | None = None) -> Path:
    app = app or current_app
    configured = app.config["OFFLINE_SNAPSHOT_DIR"]
    folder = Path(configured) if configured else Path(app.instance_path) / "offline"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def content_digest(document: dict[str, Any]) -> str:
    """What a verifier judges by, without the version and times: equal digests, equal data."""
    kept = {k: v for k, v in document.items() if k not in _VOLATILE}
    return hashlib.sha256(canonical_json(kept)).hexdigest()


def versions(folder: Path) -> list[int]:
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _FILE_RE.fullmatch(p.name)))


def read_version(folder: Path, version: int) -> dict[str, Any] | None:
    path = folder / f"snapshot-v{version}.json"
    if not path.exists():
        return None
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _latest(folder: Path) -> dict[str, Any] | None:
    found = versions(folder)
    return read_version(folder, found[-1]) if found else None


def _snapshot_kid(store: KeyStore) -> str:
    for info in store.public_keys():
        if info.role is KeyRole.SNAPSHOT and info.status is KeyStatus.ACTIVE:
            return info.kid
    raise NoSnapshot("no active snapshot key: run 'flask keys init'")


def build_body(
    session: Session,
    store: KeyStore,
    now: datetime,
    version: int,
    primary: Session | None = None,
) -> dict[str, Any]:
    """The unsigned snapshot from ``session``'s records; a trust list renewed on the way is
    audited on ``primary`` (default ``session``): a write."""
    trust_list = served_trust_list(primary or session, store)
    if trust_list is None:
        raise NoSnapshot("no trust list yet: run 'flask keys init'")
    config = current_app.config
    return build_snapshot(
        version=version,
        issued_at=now,
        kid=_snapshot_kid(store),
        trust_list_version=trust_list["version"],
        ttl=timedelta(days=config["OFFLINE_SNAPSHOT_TTL_DAYS"]),
        expiring_window_days=config["EXPIRY_WINDOW_DAYS"],
        stale_after_days=config["OFFLINE_STALE_AFTER_DAYS"],
        **snapshot_content(session),
    )


def _due(latest: dict[str, Any] | None, body: dict[str, Any], now: datetime) -> bool:
    """Is a new version needed: none yet, the data changed, or half its life passed?"""
    if latest is None or content_digest(latest) != content_digest(body):
        return True
    issued = datetime.fromisoformat(latest["issued_at"])
    expires = datetime.fromisoformat(latest["expires_at"])
    return now >= issued + (expires - issued) / 2


def _publish(folder: Path, store: KeyStore, body: dict[str, Any]) -> dict[str, Any]:
    """Sign ``body`` as the next version and keep it; the loser of a race serves the winner's."""
    found = versions(folder)
    body = {**body, "version": (found[-1] + 1) if found else 1}
    document = sign_snapshot(body, store.sign_as_snapshot)
    path = folder / f"snapshot-v{body['version']}.json"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return _latest(folder) or document
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, sort_keys=True)
    with session_scope() as session:  # its own unit of work: the request only reads
        details = {"digest": content_digest(document), "certificates": len(body["certificates"])}
        record_event(
            session,
            system_principal("offline snapshot"),
            VerifyTag.SNAPSHOT_SIGNED,
            "offline_snapshot",
            body["version"],
            details,
        )
    for old in found[:-KEEP_VERSIONS]:
        (folder / f"snapshot-v{old}.json").unlink(missing_ok=True)
    return document


def refresh(
    session: Session,
    store: KeyStore,
    now: datetime | None = None,
    primary: Session | None = None,
) -> dict[str, Any]:
    """Look at the records now; sign a new version if one is due. Returns the latest.
    ``primary``: given when ``session`` reads a replica; a version is then signed from it."""
    now = now or datetime.now(UTC)
    folder = snapshot_dir()
    latest = _latest(folder)
    version = (latest or {}).get("version", 0) + 1
    body = build_body(session, store, now, version, primary)
    if primary is not None and _due(latest, body, now):
        body = build_body(primary, store, now, version)  # the replica may lag: confirm
    return _publish(folder, store, body) if _due(latest, body, now) else latest or {}


def current_snapshot(
    session: Session, store: KeyStore, primary: Session | None = None
) -> dict[str, Any]:
    """The latest snapshot, looked at again when the check interval passed or a certificate
    decision was made in this process (then on the primary, if ``session`` reads a replica:
    the replica may not have the decision yet). ``primary``: as for ``refresh``."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache: dict[Path, _Cached] = app.extensions.setdefault("ocop_offline_snapshot", {})
    folder = snapshot_dir()
    interval = app.config["OFFLINE_SNAPSHOT_CHECK_SECONDS"]
    with _lock:
        held = cache.get(folder)
        if held and not held.dirty and time.monotonic() - held.checked < interval:
            return held.document
        if held and held.dirty and primary is not None:
            session, primary = primary, None
        document = refresh(session, store, primary=primary)
        cache[folder] = _Cached(document, time.monotonic())
        return document


def delta_since(version: int) -> dict[str, Any] | None:
    """The delta from ``version`` to the latest held, or None when that version is not kept
    (the device then fetches the whole snapshot)."""
    folder = snapshot_dir()
    latest, old = _latest(folder), read_version(folder, version)
    if latest is None or old is None or old["version"] >= latest["version"]:
        return None
    return make_delta(old, latest)


def _on_certificate_change(_session: Session, **_kwargs: Any) -> None:
    if not current_app:
        return
    for held in current_app.extensions.get("ocop_offline_snapshot", {}).values():
        held.dirty = True


def watch_certificates() -> None:
    certificate_changed.connect(_on_certificate_change, weak=False)

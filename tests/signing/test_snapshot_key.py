"""The snapshot key and the trust list's expiry, from the key store to an offline verifier:
what the service signs, ``ocop_verify`` (and so ``ocop-verify`` and the browser) trusts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ocop_verify.offline import verify
from ocop_verify.snapshot import build_snapshot, load_snapshot, sign_snapshot
from ocop_verify.trustlist import load_trust_list
from trace_service.labels import payload
from trace_service.labels.serials import check_char
from trace_service.signing.keystore import KeyRole, KeyStore, NoActiveKey, b64url_decode
from trace_service.signing.service import (
    current_trust_list,
    ensure_keys,
    latest_trust_list,
    root_public_key,
)
from trace_service.signing.trustlist import jwks, verify_trust_list

PASSPHRASE = b"correct horse battery staple"
NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    store = KeyStore(tmp_path / "keys", PASSPHRASE, clock=lambda: NOW)
    ensure_keys(store)
    return store


def _root(store: KeyStore) -> bytes:
    return b64url_decode(root_public_key(store)["public_key"])


def test_a_new_installation_has_a_snapshot_key_named_apart_in_an_expiring_trust_list(store):
    roles = sorted(info.role.value for info in store.public_keys())
    assert roles == ["root", "signing", "snapshot"]
    document = latest_trust_list(store)
    assert document is not None and verify_trust_list(document, _root(store))
    snapshot_kid = next(i.kid for i in store.public_keys() if i.role is KeyRole.SNAPSHOT)
    assert [k["kid"] for k in document["snapshot_keys"]] == [snapshot_kid]
    assert snapshot_kid not in {k["kid"] for k in document["keys"]}  # never a label key
    assert snapshot_kid not in {k["kid"] for k in jwks(store)["keys"]}
    issued = datetime.fromisoformat(document["issued_at"])
    assert datetime.fromisoformat(document["expires_at"]) - issued == timedelta(days=30)
    assert issued.microsecond == 0
    # A label signed with the snapshot key is not ours.
    assert store.verify(snapshot_kid, b"x", bytes(64)).value == "unknown_key"


def test_a_snapshot_signed_by_the_store_is_trusted_by_the_offline_verifier(store):
    document = latest_trust_list(store)
    trust_list = load_trust_list(document, _root(store))
    kid = next(iter(trust_list.snapshot_keys))
    body = build_snapshot(
        version=1,
        issued_at=NOW,
        kid=kid,
        trust_list_version=document["version"],
        producers=[{"id": 1, "name": "HTX Thuận An"}],
        certificates=[
            {
                "id": 7,
                "number": "7/GCN",
                "product_id": 3,
                "gtin": None,
                "product_name": "Cà phê bột",
                "producer_id": 1,
                "star": 4,
                "issued_on": date(2025, 1, 2),
                "valid_until": date(2028, 1, 2),
            }
        ],
    )
    snapshot = load_snapshot(sign_snapshot(body, store.sign_as_snapshot), trust_list, NOW)
    claims = payload.LabelClaims(
        base="HTTPS://TEM.OCOP.VN",
        serial="7K3M9QXA2BCDEF" + check_char("7K3M9QXA2BCDEF"),
        gtin=None,
        product_id=3,
        lot="L1",
        star=4,
        certificate_id=7,
        valid_until=date(2028, 1, 2),
        kid=store.active_signing_key().kid,
    )
    kid, signature = store.signer().sign(claims.message())
    result = verify(payload.label_url(claims, signature), trust_list, snapshot, now=NOW)
    assert (result.verdict, result.colour, result.product_name) == (
        "genuine",
        "green",
        "Cà phê bột",
    )


def test_without_a_snapshot_key_nothing_signs_snapshots(tmp_path):
    store = KeyStore(tmp_path / "keys", PASSPHRASE)
    store.create(KeyRole.ROOT)
    with pytest.raises(NoActiveKey):
        store.sign_as_snapshot(b"{}")


def test_the_trust_list_is_signed_again_once_half_its_life_has_passed(store):
    first = latest_trust_list(store)
    assert first is not None
    issued = datetime.fromisoformat(first["issued_at"]).astimezone(UTC)
    assert current_trust_list(store, issued + timedelta(days=14)) == first
    renewed = current_trust_list(store, issued + timedelta(days=15, seconds=1))
    assert renewed is not None and renewed["version"] == first["version"] + 1
    assert renewed["keys"] == first["keys"] and verify_trust_list(renewed, _root(store))
    assert latest_trust_list(store) == renewed


def test_a_legacy_trust_list_without_expiry_is_renewed_by_the_default_life(store, tmp_path):
    document = latest_trust_list(store)
    legacy = {k: v for k, v in document.items() if k not in ("expires_at", "signature")}
    path = store.directory / "published" / f"trust-list-v{document['version'] + 1}.json"
    legacy["version"] = document["version"] + 1
    path.write_text(json.dumps(legacy))
    issued = datetime.fromisoformat(legacy["issued_at"])
    assert current_trust_list(store, issued + timedelta(days=1)) == legacy
    assert (
        current_trust_list(store, issued + timedelta(days=16))["version"] == legacy["version"] + 1
    )


def test_no_trust_list_yet_means_none(tmp_path):
    assert current_trust_list(KeyStore(tmp_path / "empty", PASSPHRASE)) is None


def test_the_published_list_is_renewed_when_asked_for_past_half_life_and_audited(
    client, app, db_session
):
    from sqlalchemy import select

    from trace_service.audit.models import AuditEvent
    from trace_service.signing.service import get_keystore, publish_trust_list

    store = get_keystore(app)
    aged = publish_trust_list(store, datetime.now(UTC) - timedelta(days=20))
    served = client.get("/.well-known/ocop-trust-list.json").json
    assert served["version"] == aged["version"] + 1 and served["keys"] == aged["keys"]
    assert verify_trust_list(served, _root(store))
    assert client.get("/.well-known/ocop-trust-list.json").json == served  # once, not twice
    audited = db_session.scalars(
        select(AuditEvent.object_id).where(AuditEvent.tag == "signing:trust_list:signed")
    ).all()
    assert audited.count(str(served["version"])) == 1

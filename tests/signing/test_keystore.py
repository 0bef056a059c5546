"""Key store and trust list, on plain files in tmp_path (no database, no app)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trace_service.errors import DomainError
from trace_service.signing import keystore as ks
from trace_service.signing.keystore import (
    KeyIdCollision,
    KeyNotUsable,
    KeyRole,
    KeyStatus,
    KeyStore,
    KeyStoreCorrupt,
    KeyStoreInsecure,
    KeyStoreLocked,
    NoActiveKey,
    UnknownKey,
    Verdict,
    b64url_decode,
    b64url_encode,
    key_id,
)
from trace_service.signing.tags import SigningTag
from trace_service.signing.trustlist import jwks, signed_trust_list, verify_trust_list

PASSPHRASE = b"correct horse battery staple"
MESSAGE = "https://ocop.example.vn/l/ABC123?s=5★".encode()


@pytest.fixture
def keydir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def store(keydir: Path) -> KeyStore:
    return KeyStore(keydir, PASSPHRASE)


def flip_bit(data: bytes, index: int = 0, bit: int = 0) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 1 << bit
    return bytes(changed)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- files ---------------------------------------------------------------------------------


def test_is_a_new_key_directory_closed_to_others(store: KeyStore, keydir: Path) -> None:
    assert mode(keydir) == 0o700


def test_is_an_existing_open_directory_tightened(tmp_path: Path) -> None:
    directory = tmp_path / "open"
    directory.mkdir()
    directory.chmod(0o755)
    KeyStore(directory, PASSPHRASE)
    assert mode(directory) == 0o700


def test_are_key_files_private_and_the_pem_encrypted(store: KeyStore, keydir: Path) -> None:
    info = store.create()
    pem_path = keydir / f"{info.kid}.pem"
    assert mode(pem_path) == 0o600
    assert mode(keydir / f"{info.kid}.json") == 0o600
    pem = pem_path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(pem, password=None)
    key = serialization.load_pem_private_key(pem, password=PASSPHRASE)
    assert isinstance(key, Ed25519PrivateKey)


def test_does_the_sidecar_hold_the_public_metadata(store: KeyStore, keydir: Path) -> None:
    info = store.create()
    meta = json.loads((keydir / f"{info.kid}.json").read_text())
    assert meta["kid"] == info.kid
    assert meta["role"] == "signing"
    assert meta["status"] == "active"
    assert datetime.fromisoformat(meta["created_at"]).tzinfo is not None
    assert meta["status_changed_at"] == meta["created_at"]
    assert b64url_decode(meta["public_key"]) == info.public_key_raw


def test_is_the_kid_eight_bytes_of_sha256_in_base64url(store: KeyStore) -> None:
    info = store.create()
    assert len(info.kid) == 11
    assert "=" not in info.kid
    assert info.kid == b64url_encode(hashlib.sha256(info.public_key_raw).digest()[:8])
    assert key_id(info.public_key_raw) == info.kid


def test_is_a_loose_private_key_file_refused(store: KeyStore, keydir: Path) -> None:
    info = store.create()
    (keydir / f"{info.kid}.pem").chmod(0o644)
    with pytest.raises(KeyStoreInsecure):
        store.signer()


def test_is_a_broken_sidecar_a_domain_error(store: KeyStore, keydir: Path) -> None:
    info = store.create()
    (keydir / f"{info.kid}.json").write_text("{not json")
    with pytest.raises(KeyStoreCorrupt):
        store.public_keys()


def test_is_a_stray_json_file_a_domain_error(store: KeyStore, keydir: Path) -> None:
    store.create()
    (keydir / "notes.json").write_text("{}")
    with pytest.raises(KeyStoreCorrupt):
        store.public_keys()


def test_are_other_files_in_the_directory_ignored(store: KeyStore, keydir: Path) -> None:
    info = store.create()
    (keydir / "README.md").write_text("# keys")
    (keydir / ".gitignore").write_text("*")
    assert [i.kid for i in store.public_keys()] == [info.kid]


def test_is_an_unencrypted_pem_refused(store: KeyStore, keydir: Path) -> None:
    info = store.create()
    path = keydir / f"{info.kid}.pem"
    key = serialization.load_pem_private_key(path.read_bytes(), password=PASSPHRASE)
    assert isinstance(key, Ed25519PrivateKey)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(KeyStoreCorrupt):
        store.signer()


# --- passphrase ----------------------------------------------------------------------------


def test_does_a_wrong_passphrase_give_keystore_locked(store: KeyStore, keydir: Path) -> None:
    store.create()
    wrong = KeyStore(keydir, b"wrong passphrase")
    with pytest.raises(KeyStoreLocked) as caught:
        wrong.signer()
    assert isinstance(caught.value, DomainError)
    assert caught.value.code == "keystore_locked"
    assert "wrong passphrase" in caught.value.message_en
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_does_a_wrong_passphrase_add_no_key(store: KeyStore, keydir: Path) -> None:
    first = store.create()
    wrong = KeyStore(keydir, b"wrong passphrase")
    with pytest.raises(KeyStoreLocked):
        wrong.rotate()
    with pytest.raises(KeyStoreLocked):
        wrong.create(KeyRole.ROOT)
    assert [i.kid for i in store.public_keys()] == [first.kid]
    assert store.active_signing_key().kid == first.kid


def test_is_an_empty_passphrase_refused(keydir: Path) -> None:
    with pytest.raises(KeyStoreLocked):
        KeyStore(keydir, b"")


# --- signing and verifying -----------------------------------------------------------------


def test_does_a_signature_round_trip(store: KeyStore) -> None:
    info = store.create()
    kid, signature = store.signer().sign(MESSAGE)
    assert kid == info.kid
    assert len(signature) == 64
    assert store.verify(kid, MESSAGE, signature) is Verdict.VALID
    assert Verdict.VALID.ok


@pytest.mark.parametrize("count", [1, 63, 200, 1001])
def test_does_a_batch_signed_over_threads_keep_each_signature_with_its_message(
    store: KeyStore, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    monkeypatch.setattr(ks, "_SIGNING_THREADS", 4)  # split even on a one-core machine
    store.create()
    signer = store.signer()
    messages = [f"{MESSAGE!r}/{n}".encode() for n in range(count)]
    signatures = signer.sign_all(messages)
    # Ed25519 is deterministic: one at a time gives the same bytes, in the same order
    assert signatures == [signer.sign(message)[1] for message in messages]
    assert store.verify(signer.kid, messages[-1], signatures[-1]) is Verdict.VALID


def test_do_batches_signed_side_by_side_each_get_their_own_signatures(
    store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ks, "_SIGNING_THREADS", 3)
    store.create()
    signer = store.signer()
    batches = [[f"{n}/{m}".encode() for m in range(size)] for n, size in enumerate([500, 7, 300])]
    with signer.batches() as submit:
        waiting = [submit(batch) for batch in batches]  # all in flight before any is read
        signed = [wait() for wait in reversed(waiting)][::-1]
    assert signed == [[signer.sign(m)[1] for m in batch] for batch in batches]


def test_does_a_retired_key_refuse_a_batch_submitted_after_it_retired(store: KeyStore) -> None:
    store.create()
    signer = store.signer()
    with pytest.raises(KeyNotUsable), signer.batches() as submit:
        assert len(submit([b"a"] * 200)()) == 200
        store.retire(signer.kid)
        submit([b"b"] * 200)


def test_does_a_key_retired_while_the_last_batch_signs_refuse_the_batches(
    store: KeyStore,
) -> None:
    """Review attack16 F1: the status was read when a batch was handed over, not after, so a
    retirement during the last batch let its order be saved."""
    store.create()
    signer = store.signer()
    with pytest.raises(KeyNotUsable), signer.batches() as submit:
        signed = submit([b"c"] * 200)
        store.retire(signer.kid)
        assert len(signed()) == 200  # signed already; the caller must not keep them


def test_does_a_signature_verify_from_another_store_instance(store: KeyStore, keydir: Path) -> None:
    store.create()
    kid, signature = store.signer().sign(MESSAGE)
    # verifying needs only public metadata: no passphrase is checked
    assert KeyStore(keydir, b"any").verify(kid, MESSAGE, signature) is Verdict.VALID


@pytest.mark.parametrize("index", [0, 17, -1])
@pytest.mark.parametrize("bit", [0, 7])
def test_does_one_bit_change_make_it_invalid(store: KeyStore, index: int, bit: int) -> None:
    store.create()
    kid, signature = store.signer().sign(MESSAGE)
    changed_message = flip_bit(MESSAGE, index % len(MESSAGE), bit)
    changed_signature = flip_bit(signature, index % 64, bit)
    assert store.verify(kid, changed_message, signature) is Verdict.INVALID
    assert store.verify(kid, MESSAGE, changed_signature) is Verdict.INVALID
    assert not Verdict.INVALID.ok


@pytest.mark.parametrize(
    "signature", [b"", b"\x00" * 63, b"\x00" * 65, "not bytes", None, b"\xff" * 64]
)
def test_is_a_malformed_signature_invalid_not_an_error(store: KeyStore, signature: object) -> None:
    store.create()
    kid = store.active_signing_key().kid
    assert store.verify(kid, MESSAGE, signature) is Verdict.INVALID  # type: ignore[arg-type]


@pytest.mark.parametrize("kid", ["AAAAAAAAAAA", "short", "../../etc/x", "", "a" * 200])
def test_is_an_unknown_kid_unknown_key(store: KeyStore, kid: str) -> None:
    store.create()
    _, signature = store.signer().sign(MESSAGE)
    assert store.verify(kid, MESSAGE, signature) is Verdict.UNKNOWN_KEY


def test_is_the_root_key_unknown_to_label_verification(store: KeyStore) -> None:
    store.create()
    root = store.create(KeyRole.ROOT)
    root_kid, signature = store.sign_as_root(MESSAGE)
    assert root_kid == root.kid
    assert store.verify(root.kid, MESSAGE, signature) is Verdict.UNKNOWN_KEY


def test_does_the_root_key_never_sign_labels(store: KeyStore) -> None:
    root = store.create(KeyRole.ROOT)
    with pytest.raises(NoActiveKey):
        store.signer()
    with pytest.raises(KeyNotUsable):
        store.signer(root.kid)


def test_is_there_no_signer_before_a_key_exists(store: KeyStore) -> None:
    with pytest.raises(NoActiveKey):
        store.signer()
    with pytest.raises(NoActiveKey):
        store.active_signing_key()
    with pytest.raises(NoActiveKey):
        store.root_key()


# --- lifecycle -----------------------------------------------------------------------------


def test_does_rotation_keep_old_labels_valid(store: KeyStore) -> None:
    old = store.create()
    old_signer = store.signer()
    _, old_signature = old_signer.sign(MESSAGE)

    new = store.rotate()

    assert new.kid != old.kid
    assert store.active_signing_key().kid == new.kid
    assert store.get(old.kid).status is KeyStatus.RETIRED
    kid, signature = store.signer().sign(MESSAGE)
    assert kid == new.kid
    assert store.verify(new.kid, MESSAGE, signature) is Verdict.VALID
    assert store.verify(old.kid, MESSAGE, old_signature) is Verdict.VALID
    with pytest.raises(KeyNotUsable):
        old_signer.sign(MESSAGE)
    with pytest.raises(KeyNotUsable):
        store.signer(old.kid)


def test_does_rotation_stamp_the_status_change(keydir: Path) -> None:
    created, rotated, retired_at = (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 6, 1, tzinfo=UTC),
        datetime(2026, 6, 1, 0, 0, 1, tzinfo=UTC),
    )
    times = iter([created, rotated, retired_at])
    store = KeyStore(keydir, PASSPHRASE, clock=lambda: next(times))
    old = store.create()
    store.rotate()
    retired = store.get(old.kid)
    assert retired.created_at == created
    assert retired.status_changed_at == retired_at
    assert store.active_signing_key().created_at == rotated


def test_does_rotate_create_the_first_key(store: KeyStore) -> None:
    info = store.rotate()
    assert store.active_signing_key().kid == info.kid


def test_is_a_second_active_signing_key_refused(store: KeyStore) -> None:
    store.create()
    with pytest.raises(KeyNotUsable):
        store.create()
    store.create(KeyRole.ROOT)
    with pytest.raises(KeyNotUsable):
        store.create("root")


def test_does_retire_stop_signing_but_keep_verifying(store: KeyStore) -> None:
    info = store.create()
    signer = store.signer()
    _, signature = signer.sign(MESSAGE)
    retired = store.retire(info.kid)
    assert retired.status is KeyStatus.RETIRED
    assert store.retire(info.kid).status is KeyStatus.RETIRED  # idempotent
    assert store.verify(info.kid, MESSAGE, signature) is Verdict.VALID
    with pytest.raises(KeyNotUsable):
        signer.sign(MESSAGE)
    with pytest.raises(NoActiveKey):
        store.signer()


def test_a_key_marked_compromised_by_another_process_is_seen_by_the_next_verify(
    keydir: Path,
) -> None:
    """verify() keeps each key it read, and reads it again once its file changed: a worker
    that verified with a key sees it compromised by the command line at once."""
    worker, command_line = KeyStore(keydir, PASSPHRASE), KeyStore(keydir, PASSPHRASE)
    info = command_line.create()
    _, signature = command_line.signer().sign(MESSAGE)
    assert worker.verify(info.kid, MESSAGE, signature) is Verdict.VALID
    assert worker.verify(info.kid, MESSAGE, flip_bit(signature)) is Verdict.INVALID
    command_line.mark_compromised(info.kid)
    assert worker.verify(info.kid, MESSAGE, signature) is Verdict.COMPROMISED_KEY


def test_is_a_compromised_key_reported_as_such(store: KeyStore) -> None:
    info = store.create()
    signer = store.signer()
    _, signature = signer.sign(MESSAGE)
    assert store.mark_compromised(info.kid).status is KeyStatus.COMPROMISED
    assert store.mark_compromised(info.kid).status is KeyStatus.COMPROMISED  # idempotent
    assert store.verify(info.kid, MESSAGE, signature) is Verdict.COMPROMISED_KEY
    assert store.verify(info.kid, MESSAGE, b"\x00" * 64) is Verdict.COMPROMISED_KEY
    with pytest.raises(KeyNotUsable):
        signer.sign(MESSAGE)
    with pytest.raises(KeyNotUsable):
        store.retire(info.kid)  # compromised is final
    replacement = store.rotate()
    assert store.get(info.kid).status is KeyStatus.COMPROMISED
    assert store.signer().sign(MESSAGE)[0] == replacement.kid


def test_do_status_changes_of_unknown_keys_fail(store: KeyStore) -> None:
    with pytest.raises(UnknownKey):
        store.retire("AAAAAAAAAAA")
    with pytest.raises(UnknownKey):
        store.mark_compromised("nope")


def test_is_a_colliding_kid_refused(
    store: KeyStore, keydir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = Ed25519PrivateKey.generate()
    monkeypatch.setattr(KeyStore, "_generate", lambda self: fixed)
    first = store.create()
    sidecar = keydir / f"{first.kid}.json"
    pem = keydir / f"{first.kid}.pem"
    before = (sidecar.read_bytes(), pem.read_bytes())

    with pytest.raises(KeyIdCollision) as caught:
        store.rotate()  # the next key would get the same kid

    assert caught.value.kid == first.kid
    assert (sidecar.read_bytes(), pem.read_bytes()) == before
    assert store.active_signing_key().kid == first.kid
    assert [i.kid for i in store.public_keys()] == [first.kid]


def test_is_a_kid_taken_by_a_stray_private_key_file_refused(
    store: KeyStore, keydir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = Ed25519PrivateKey.generate()
    monkeypatch.setattr(ks.Ed25519PrivateKey, "generate", staticmethod(lambda: fixed))
    kid = key_id(ks.raw_public_key(fixed.public_key()))
    stray = keydir / f"{kid}.pem"
    stray.write_bytes(b"someone else's key")
    with pytest.raises(KeyIdCollision):
        store.create()
    assert stray.read_bytes() == b"someone else's key"
    assert not (keydir / f"{kid}.json").exists()


# --- no private material in reprs or logs --------------------------------------------------


def test_do_reprs_show_no_private_material(
    store: KeyStore, keydir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    info = store.create()
    signer = store.signer()
    store.rotate()
    with pytest.raises(KeyStoreLocked):
        KeyStore(keydir, b"wrong").signer()

    key = serialization.load_pem_private_key(
        (keydir / f"{info.kid}.pem").read_bytes(), password=PASSPHRASE
    )
    assert isinstance(key, Ed25519PrivateKey)
    private_raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    secrets = [private_raw.hex(), b64url_encode(private_raw), PASSPHRASE.decode()]
    texts = [repr(signer), str(signer), repr(info), str(info), repr(store), caplog.text]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert repr(signer) == f"Signer(kid={info.kid!r}, status='retired')"
    assert repr(info) == f"KeyInfo(kid={info.kid!r}, role='signing', status='active')"
    with pytest.raises(TypeError):
        pickle.dumps(signer)


def test_does_a_signer_repr_survive_a_deleted_key(store: KeyStore, keydir: Path) -> None:
    info = store.create()
    signer = store.signer()
    os.remove(keydir / f"{info.kid}.json")
    assert repr(signer) == f"Signer(kid={info.kid!r}, status='unknown')"


# --- JWKS and trust list -------------------------------------------------------------------


@pytest.fixture
def populated(store: KeyStore) -> KeyStore:
    store.create(KeyRole.ROOT)
    store.create()
    store.rotate()
    third = store.rotate()
    store.mark_compromised(store.public_keys()[1].kid)
    assert third.kid == store.active_signing_key().kid
    return store


def test_has_the_jwks_the_rfc_8037_shape(populated: KeyStore) -> None:
    document = jwks(populated)
    assert list(document) == ["keys"]
    signing = [i for i in populated.public_keys() if i.role is KeyRole.SIGNING]
    assert [k["kid"] for k in document["keys"]] == [i.kid for i in signing]
    for entry, info in zip(document["keys"], signing, strict=True):
        assert set(entry) == {"kty", "crv", "x", "kid", "use", "alg", "ocop:status"}
        assert entry["kty"] == "OKP"
        assert entry["crv"] == "Ed25519"
        assert entry["use"] == "sig"
        assert entry["alg"] == "EdDSA"
        assert entry["ocop:status"] == info.status.value
        assert len(entry["x"]) == 43
        assert "=" not in entry["x"] and "+" not in entry["x"] and "/" not in entry["x"]
        assert b64url_decode(entry["x"]) == info.public_key_raw
        assert key_id(b64url_decode(entry["x"])) == entry["kid"]
    statuses = [k["ocop:status"] for k in document["keys"]]
    assert sorted(statuses) == ["active", "compromised", "retired"]
    json.dumps(document)  # serialisable as is


def test_is_the_root_key_never_in_the_jwks(populated: KeyStore) -> None:
    root = populated.root_key()
    text = json.dumps(jwks(populated))
    assert root.kid not in text
    assert b64url_encode(root.public_key_raw) not in text


def test_does_the_signed_trust_list_verify_with_the_root_key(populated: KeyStore) -> None:
    root = populated.root_key()
    issued = datetime(2026, 11, 28, 9, 0, tzinfo=timezone(timedelta(hours=7)))
    document = signed_trust_list(populated, 3, issued)
    assert document["version"] == 3
    assert document["issued_at"] == "2026-11-28T09:00:00+07:00"
    assert document["root_kid"] == root.kid
    assert document["keys"] == jwks(populated)["keys"]
    assert len(document["signature"]) == 86
    assert verify_trust_list(document, root.public_key_raw)
    # survives a round trip through JSON text, as a verifier receives it
    assert verify_trust_list(json.loads(json.dumps(document)), root.public_key_raw)


def _mutations(document: dict) -> list[dict]:
    def changed(**overrides: object) -> dict:
        return {**json.loads(json.dumps(document)), **overrides}

    keys = json.loads(json.dumps(document["keys"]))
    keys[0]["ocop:status"] = "active"
    dropped = json.loads(json.dumps(document["keys"]))[1:]
    signature = b64url_decode(document["signature"])
    no_signature = changed()
    del no_signature["signature"]
    return [
        changed(version=document["version"] + 1),
        changed(issued_at="2026-11-29T09:00:00+07:00"),
        changed(keys=keys),
        changed(keys=dropped),
        changed(extra="x"),
        changed(root_kid="AAAAAAAAAAA"),
        changed(signature=b64url_encode(flip_bit(signature, 10, 3))),
        changed(signature=document["signature"] + "A"),
        changed(signature=document["signature"] + "=="),
        changed(signature=None),
        no_signature,
    ]


def test_does_any_change_break_the_trust_list(populated: KeyStore) -> None:
    root = populated.root_key()
    document = signed_trust_list(populated, 1, datetime(2026, 11, 28, tzinfo=UTC))
    for mutated in _mutations(document):
        assert not verify_trust_list(mutated, root.public_key_raw), mutated


def test_does_another_root_key_reject_the_trust_list(populated: KeyStore) -> None:
    document = signed_trust_list(populated, 1, datetime(2026, 11, 28, tzinfo=UTC))
    other = ks.raw_public_key(Ed25519PrivateKey.generate().public_key())
    signing = populated.active_signing_key().public_key_raw
    for wrong in (other, signing, b"", b"\x00" * 33):
        assert not verify_trust_list(document, wrong)
    assert not verify_trust_list("not a dict", populated.root_key().public_key_raw)
    assert not verify_trust_list(document, "not bytes")  # type: ignore[arg-type]


def test_does_a_trust_list_need_a_root_key(store: KeyStore) -> None:
    store.create()
    with pytest.raises(NoActiveKey):
        signed_trust_list(store, 1, datetime(2026, 11, 28, tzinfo=UTC))


@pytest.mark.parametrize("version", [0, -1, True, "1"])
def test_is_a_bad_trust_list_version_refused(populated: KeyStore, version: object) -> None:
    with pytest.raises(ValueError):
        signed_trust_list(populated, version, datetime(2026, 11, 28, tzinfo=UTC))  # type: ignore[arg-type]


def test_is_a_naive_issue_time_refused(populated: KeyStore) -> None:
    with pytest.raises(ValueError):
        signed_trust_list(populated, 1, datetime(2026, 11, 28))


def test_is_vietnamese_text_signed_as_utf8(populated: KeyStore) -> None:
    # canonical JSON keeps non-ASCII as UTF-8 (ensure_ascii=False), not \\u escapes
    document = signed_trust_list(populated, 1, datetime(2026, 11, 28, tzinfo=UTC))
    document["note"] = "Cà phê Đắk Nông"
    assert not verify_trust_list(document, populated.root_key().public_key_raw)
    assert ks.canonical_json({"n": "Đắk"}) == '{"n":"Đắk"}'.encode()


# --- base64url -----------------------------------------------------------------------------


# "AB" and "AAB" carry non-zero trailing bits: another spelling of the same bytes
@pytest.mark.parametrize("text", ["A", "AA=", "AB+/", "AB C", "AB", "AAB", None])
def test_is_only_canonical_unpadded_base64url_accepted(text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_does_base64url_round_trip() -> None:
    for data in (b"", b"\x00", b"\xfb\xff", bytes(range(256))):
        assert b64url_decode(b64url_encode(data)) == data
    assert b64url_decode("AAA") == b"\x00\x00"


def test_are_the_audit_tags_namespaced() -> None:
    assert all(str(tag).startswith("signing:") for tag in SigningTag)

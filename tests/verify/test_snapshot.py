"""Building, signing, patching and checking snapshots, and the trust list's own checks, as a
database layer and a device will use them (``ocop_verify.snapshot``, ``.trustlist``)."""

from __future__ import annotations

import copy
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocop_verify import snapshot as snap
from ocop_verify.encoding import b64url_decode, b64url_encode, canonical_json
from ocop_verify.label import Malformed, label_url, parse
from ocop_verify.offline import verify
from ocop_verify.trustlist import TrustListError, load_trust_list, parse_root_key
from tests.verify.vectors import root_key, trust_list, vectors

NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
KEYS = vectors()["test_keys"]


def private(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(b64url_decode(KEYS[name]["private_key_TEST_ONLY"]))


def sign_as(name: str):
    return lambda message: (KEYS[name]["kid"], private(name).sign(message))


def signed(body: dict, name: str = "snapshot") -> dict:
    return {**body, "signature": b64url_encode(private(name).sign(canonical_json(body)))}


# The builder takes the module's own record type (or any dataclass or mapping).
Certificate = snap.Certificate


def body(**changes) -> dict:
    kwargs = {
        "version": 9,
        "issued_at": NOW,
        "kid": KEYS["snapshot"]["kid"],
        "trust_list_version": 7,
        "producers": [{"id": 1, "name": "HTX Thuận An"}],
        "certificates": [
            Certificate(
                5, "5/GCN", 2, "08935012345678", "Cà phê", 1, 4, date(2025, 1, 1), date(2028, 1, 1)
            )
        ],
        "recalls": [
            {
                "product_id": 2,
                "gtin": None,
                "lot": "L-1",
                "since": "2026-11-01",
                "reason": "Vượt ngưỡng",
            }
        ],
        "voided": [
            {
                "serial": "7K3M9QXA2BCDEF" + _check("7K3M9QXA2BCDEF"),
                "since": date(2026, 11, 2),
            }
        ],
    }
    kwargs.update(changes)
    return snap.build_snapshot(**kwargs)


def _check(text: str) -> str:
    from ocop_verify.label import check_char

    return check_char(text)


def test_a_snapshot_is_built_from_dataclasses_and_mappings_signed_and_trusted():
    document = snap.sign_snapshot(body(), sign_as("snapshot"))
    assert document["certificates"]["5"]["gtin"] == "08935012345678"
    assert "revoked_on" not in document["certificates"]["5"]  # optional members left out
    assert document["recalls"] == {"P:2/L-1": {"since": "2026-11-01", "reason": "Vượt ngưỡng"}}
    loaded = snap.load_snapshot(document, trust_list(), NOW)
    assert loaded.version == 9 and loaded.certificates[5].product_name == "Cà phê"
    assert loaded.expires_at - loaded.issued_at == timedelta(days=30)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issued_at": datetime(2026, 12, 3)}, "timezone-aware"),
        ({"kid": "not base64!"}, "base64url"),
        ({"producers": [{"id": 0, "name": "x"}]}, "producer id"),
        ({"producers": [{"id": 1, "name": "  "}]}, "producer 1 name"),
        ({"producers": [{"id": 1, "name": "\ud800"}]}, "not valid Unicode"),
        ({"producers": ["HTX"]}, "mapping or a dataclass"),
        ({"certificates": [{"id": 5}]}, "certificate 5 number"),
        (
            {
                "certificates": [
                    Certificate(5, "5", 2, "123", "x", 1, 4, date(2025, 1, 1), date(2028, 1, 1))
                ]
            },
            "GTIN",
        ),
        (
            {
                "certificates": [
                    Certificate(5, "5", 2, None, "x", 9, 4, date(2025, 1, 1), date(2028, 1, 1))
                ]
            },
            "producer 9 is not listed",
        ),
        (
            {
                "certificates": [
                    Certificate(5, "5", 2, None, "x", 1, 2, date(2025, 1, 1), date(2028, 1, 1))
                ]
            },
            "star",
        ),
        (
            {
                "certificates": [
                    Certificate(5, "5", 2, None, "x", 1, 4, "2025-1-1", date(2028, 1, 1))
                ]
            },
            "issued_on",
        ),
        (
            {"certificates": [Certificate(5, "5", 2, None, "x", 1, 4, NOW, date(2028, 1, 1))]},
            "a date, not a time",
        ),
        (
            {"certificates": [Certificate(5, "5", 2, None, "x", 1, 4, 20250101, date(2028, 1, 1))]},
            "issued_on",
        ),
        (
            {
                "certificates": [
                    Certificate(5, "5", 2, None, "x", 1, 4, date(2025, 1, 1), date(2028, 1, 1))
                ]
                * 2
            },
            "listed twice",
        ),
        ({"recalls": [{"gtin": "1", "lot": "L", "since": "2026-01-01", "reason": "r"}]}, "GTIN"),
        ({"recalls": [{"gtin": None, "product_id": None, "lot": "L"}]}, "by GTIN or"),
        ({"recalls": [{"product_id": 2, "lot": "L/1"}]}, "lot code"),
        ({"voided": [{"serial": "NOTASERIAL", "since": "2026-01-01"}]}, "not a label serial"),
        (
            {
                "flagged": [
                    {"serial": "7K3M9QXA2BCDEF" + _check("7K3M9QXA2BCDEF"), "since": "2026-01-01"}
                ]
                * 2
            },
            "listed twice",
        ),
        ({"version": True}, "version"),
        ({"stale_after_days": 0}, "stale_after_days"),
    ],
)
def test_bad_data_is_refused_naming_the_record(changes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        body(**changes)


def test_signing_with_another_key_than_the_body_names_is_refused():
    with pytest.raises(ValueError, match="snapshot key changed"):
        snap.sign_snapshot(body(), sign_as("label"))


def _random_tree(rng: random.Random, depth: int = 0) -> dict:
    tree = {}
    for key in rng.sample("abcdefgh", rng.randrange(0, 6)):
        kind = rng.randrange(4 if depth < 3 else 3)
        tree[key] = (
            _random_tree(rng, depth + 1) if kind == 3 else [rng.randrange(3), "x", [1]][kind]
        )
    return tree


def test_a_merge_patch_from_diff_turns_any_body_into_any_other():
    rng = random.Random(7)  # noqa: S311 - test data, not a secret
    for _ in range(300):
        old, new = _random_tree(rng), _random_tree(rng)
        assert snap.merge_patch(old, snap.diff(old, new)) == new
    assert snap.merge_patch({"a": 1}, [1]) == [1]


def test_deltas_rebuild_the_next_version_and_are_refused_when_they_do_not_fit():
    v9 = snap.sign_snapshot(body(), sign_as("snapshot"))
    v10 = snap.sign_snapshot(
        body(version=10, producers=[{"id": 1, "name": "HTX mới"}]), sign_as("snapshot")
    )
    delta = snap.make_delta(v9, v10)
    assert delta["patch"]["producers"] == {"1": {"name": "HTX mới"}}
    assert snap.apply_delta(v9, delta) == v10
    with pytest.raises(ValueError, match="older version to a newer"):
        snap.make_delta(v10, v9)
    with pytest.raises(snap.SnapshotError, match="not a snapshot delta"):
        snap.apply_delta(v9, {"format": "x"})
    with pytest.raises(snap.SnapshotError, match="does not start"):
        snap.apply_delta(v10, delta)
    with pytest.raises(snap.SnapshotError, match="version does not match"):
        snap.apply_delta(v9, {**delta, "version": 11})
    forged = snap.apply_delta(v9, {**delta, "patch": {**delta["patch"], "kid": "x"}})
    with pytest.raises(snap.SnapshotError):
        snap.load_snapshot(forged, trust_list(), NOW)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="ocop-snapshot/2"), "format"),
        (lambda d: d.update(signature="!"), "cannot be read"),
        (lambda d: d["rules"].pop("stale_after_days"), "not well formed"),
        (lambda d: d["certificates"].update({"x": {}}), "not well formed"),
        (lambda d: d["voided"].update({"2026-13-01": []}), "not well formed"),
        (lambda d: d["flagged"].update({"2026-12-01": "ABC"}), "not well formed"),
        (lambda d: d.update(issued_at="3 Dec 2026"), "not well formed"),
        (lambda d: d.update(expires_at="2026-12-03T00:00:00"), "not well formed"),
    ],
)
def test_a_signed_but_ill_formed_snapshot_is_refused(mutate, message):
    document = copy.deepcopy(body())
    mutate(document)
    document = signed(document) if message != "cannot be read" else {**document}
    with pytest.raises(snap.SnapshotError, match=message):
        snap.load_snapshot(document, trust_list(), NOW)


def test_a_snapshot_key_the_trust_list_calls_compromised_signs_nothing_trusted():
    data = vectors()
    listed = copy.deepcopy(data["trust_list"])
    listed["snapshot_keys"][0]["ocop:status"] = "compromised"
    listed = {k: v for k, v in listed.items() if k != "signature"}
    listed = {**listed, "signature": b64url_encode(private("root").sign(canonical_json(listed)))}
    with pytest.raises(snap.SnapshotError, match="compromised"):
        snap.load_snapshot(data["snapshot"], load_trust_list(listed, root_key()), NOW)


def _relisted(mutate) -> dict:
    listed = {k: v for k, v in copy.deepcopy(vectors()["trust_list"]).items() if k != "signature"}
    mutate(listed)
    return {**listed, "signature": b64url_encode(private("root").sign(canonical_json(listed)))}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.update(version=0), "version"),
        (lambda t: t.update(issued_at="yesterday"), "issued_at"),
        (lambda t: t.update(keys={}), "not a list"),
        (lambda t: t["keys"].append({"kty": "RSA"}), "not an Ed25519 JWK"),
        (lambda t: t["keys"].append({**t["keys"][0], "x": "!"}), "bad public key"),
        (lambda t: t["keys"].append({**t["keys"][0], "kid": "AAAAAAAAAAA"}), "does not match"),
        (lambda t: t["keys"].append({**t["keys"][0], "ocop:status": "lost"}), "no known status"),
        (lambda t: t["keys"].append(t["keys"][0]), "listed twice"),
    ],
)
def test_a_root_signed_but_ill_formed_trust_list_is_refused(mutate, message):
    with pytest.raises(TrustListError, match=message):
        load_trust_list(_relisted(mutate), root_key())


def test_a_trust_list_is_refused_unless_it_is_an_object_signed_by_the_pinned_root():
    with pytest.raises(TrustListError, match="not a JSON object"):
        load_trust_list([], root_key())
    with pytest.raises(TrustListError, match="cannot be read"):
        load_trust_list({**vectors()["trust_list"], "signature": 5}, root_key())
    other = b64url_decode(KEYS["label"]["public_key"])
    with pytest.raises(TrustListError, match="pinned root key"):
        load_trust_list(vectors()["trust_list"], other)


def test_the_pinned_root_key_is_read_as_flask_keys_root_prints_it_or_bare():
    pinned = vectors()["root_public_key"]
    assert parse_root_key(pinned) == parse_root_key(pinned["public_key"]) == root_key()
    with pytest.raises(ValueError, match="kid"):
        parse_root_key({**pinned, "kid": "AAAAAAAAAAA"})
    with pytest.raises(ValueError, match="32 bytes"):
        parse_root_key("AAAA")


def test_an_expired_trust_list_makes_a_genuine_stamp_amber():
    genuine = next(v for v in vectors()["labels"] if v["name"] == "genuine")["input"]
    listed = trust_list()
    late = listed.expires_at + timedelta(hours=1)
    document = snap.sign_snapshot(body(issued_at=late - timedelta(days=1)), sign_as("snapshot"))
    result = verify(genuine, listed, snap.load_snapshot(document, listed, late), now=late)
    assert (result.stale, result.colour, result.verdict) == (
        "trust_list_expired",
        "amber",
        "genuine",
    )


def test_without_a_snapshot_a_label_past_its_valid_until_is_expired():
    genuine = next(v for v in vectors()["labels"] if v["name"] == "genuine")["input"]
    result = verify(genuine, trust_list(), None, now=NOW, as_of=date(2027, 3, 16))
    assert (result.certificate_status, result.colour, result.headline) == (
        "expired",
        "red",
        "expired",
    )


def test_the_writer_and_the_reader_of_label_urls_round_trip():
    genuine = next(v for v in vectors()["labels"] if v["name"] == "genuine")["input"]
    claims, signature = parse(genuine)
    assert label_url(claims, signature) == genuine
    with pytest.raises(Malformed):
        parse(genuine.replace("HTTPS://TEM.OCOP.EXAMPLE.VN", "HTTPS://TEM.OCOP.EXAMPLE.VN:70000"))
    with pytest.raises(Malformed):
        parse(None)  # type: ignore[arg-type]
    assert verify(12, trust_list(), None, now=NOW).verdict == "malformed"  # type: ignore[arg-type]


def test_strict_base64url():
    for bad in ("A", "AB=", "AB+/", "AF"):
        with pytest.raises(ValueError):
            b64url_decode(bad)
    assert b64url_decode("AA") == b"\0"

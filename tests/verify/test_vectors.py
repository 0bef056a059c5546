"""The published test vectors (docs/test-vectors.json) against the service's own reader and
signature check (as the verify API and the label page read a scan), the trust list's and
snapshot's checks, and the offline verifier.

Nothing is regenerated here: a change of the format (the URL, the signed bytes, key ids, the
trust list, the snapshot) breaks these tests until the vectors are made again on purpose
with scripts/make_test_vectors.py and published with the change.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime

import pytest

from ocop_verify import label as offline_label
from ocop_verify.encoding import b64url_decode
from ocop_verify.snapshot import SnapshotError, apply_delta, load_snapshot
from ocop_verify.trustlist import TrustListError, load_trust_list
from tests.verify.vectors import (
    differences,
    python_verdict,
    root_key,
    trust_list,
    vectors,
)
from trace_service.labels import payload
from trace_service.labels.page_cache import RunCache
from trace_service.labels.page_check import check_page
from trace_service.labels.verify import parse_scanned
from trace_service.labels.verify_response import verify_scanned
from trace_service.signing.keystore import KeyStatus, Verdict, key_id, verify_raw
from trace_service.signing.trustlist import verify_trust_list

LABELS = vectors()["labels"]
DOCUMENTS = vectors()["documents"]


def test_the_file_says_loudly_that_its_private_keys_are_test_keys():
    data = vectors()
    assert data["WARNING"].startswith("TEST KEYS ONLY")
    for key in data["test_keys"].values():
        assert "private_key_TEST_ONLY" in key and "NEVER FOR REAL LABELS" in key["derived_from"]
    assert {v["expected"]["verdict"] for v in LABELS} == {
        "genuine",
        "invalid_signature",
        "unknown_key",
        "compromised_key",
        "malformed",
    }


@pytest.mark.parametrize("vector", LABELS, ids=[v["name"] for v in LABELS])
def test_the_offline_verifier_gives_each_vector_its_published_answer(vector):
    assert differences(vector["expected"], python_verdict(vector).to_json()) == {}


def _keys() -> dict[str, bytes]:
    return {k["kid"]: b64url_decode(k["x"]) for k in vectors()["trust_list"]["keys"]}


@pytest.mark.parametrize("vector", LABELS, ids=[v["name"] for v in LABELS])
def test_the_services_reader_and_signature_check_agree_with_each_vector(vector):
    """labels/payload.py reads what ocop_verify reads, and keystore.verify_raw decides the
    signature as the vector says."""
    verdict = vector["expected"]["verdict"]
    if verdict == "malformed":
        with pytest.raises(payload.MalformedLabelUrl):
            parse_scanned(vector["input"])
        with pytest.raises(offline_label.Malformed):
            offline_label.parse(vector["input"])
        return
    claims, signature = parse_scanned(vector["input"])
    ours, our_signature = offline_label.parse(vector["input"])
    assert (ours.message(), our_signature) == (claims.message(), signature)
    if "claims" in vector:
        assert claims.serial == vector["claims"]["serial"]
        assert claims.valid_until.isoformat() == vector["claims"]["valid_until"]
        assert claims.message().decode("ascii") == vector["signed_message"]
        assert payload.label_url(claims, signature) == vector["input"]
    public = _keys().get(claims.kid)
    if verdict == "unknown_key":
        assert public is None
        return
    expected = Verdict.INVALID if verdict == "invalid_signature" else Verdict.VALID
    assert verify_raw(public, claims.message(), signature) is expected


class _VectorKeys:
    """The vectors' label keys as the service's key store answers for them (``verify`` and
    ``status``), so the API's and the page's own checks run on the published codes."""

    def __init__(self) -> None:
        self.keys = {k["kid"]: k for k in vectors()["trust_list"]["keys"]}

    def verify(self, kid: str, message: bytes, signature: bytes) -> Verdict:
        if kid not in self.keys:
            return Verdict.UNKNOWN_KEY
        if self.status(kid) is KeyStatus.COMPROMISED:
            return Verdict.COMPROMISED_KEY
        return verify_raw(b64url_decode(self.keys[kid]["x"]), message, signature)

    def status(self, kid: str) -> KeyStatus:
        return KeyStatus(self.keys[kid]["ocop:status"])


def test_the_verify_api_and_the_label_page_give_each_vector_its_verdict(db_session):
    """The API's ``verify_scanned`` and the page's ``check_page`` read every vector as the
    offline verifiers do. None of the vectors' stamps is in this database, so a code the
    offline verifiers find signed (genuine, or by a compromised key) is ``not_issued``."""
    store, day = _VectorKeys(), date.fromisoformat(vectors()["as_of"])
    for vector in LABELS:
        expected = vector["expected"]["verdict"]
        if expected in ("genuine", "compromised_key"):
            expected = "not_issued"
        api = verify_scanned(db_session, store, vector["input"], day, 30).view["verdict"]
        page = check_page(db_session, store, vector["input"], day, 30, RunCache()).verdict
        assert (api, page) == (expected, expected), vector["name"]


def test_the_trust_list_verifies_with_the_services_check_and_names_the_snapshot_key():
    document = vectors()["trust_list"]
    assert verify_trust_list(document, root_key())
    assert document["root_kid"] == key_id(root_key())
    listed = trust_list()
    assert listed.version == 7 and set(listed.snapshot_keys) == {
        vectors()["test_keys"]["snapshot"]["kid"]
    }
    assert listed.expires_at == datetime.fromisoformat(document["expires_at"])


@pytest.mark.parametrize("case", DOCUMENTS, ids=[d["name"] for d in DOCUMENTS])
def test_trust_lists_and_snapshots_are_checked_before_they_are_trusted(case):
    now = datetime.fromisoformat(case.get("now", vectors()["now"]))
    if "trust_list" in case:
        assert verify_trust_list(case["trust_list"], root_key()) is case["accepted"]
        if not case["accepted"]:
            with pytest.raises(TrustListError):
                load_trust_list(case["trust_list"], root_key())
            return
        loaded = load_trust_list(case["trust_list"], root_key())
        if "expires_at" in case:
            assert loaded.expires_at == datetime.fromisoformat(case["expires_at"])
        return
    document = case["snapshot"]
    if "delta" in case:
        document = apply_delta(document, case["delta"])
        assert document == vectors()["snapshot"]  # the delta rebuilds version 5 exactly
    if not case["accepted"]:
        with pytest.raises(SnapshotError):
            load_snapshot(document, trust_list(), now, held_version=case.get("held_version"))
        return
    assert load_snapshot(document, trust_list(), now).version == document["version"]


def test_a_delta_is_much_smaller_than_the_snapshot_it_rebuilds():
    delta = next(d for d in DOCUMENTS if "delta" in d)["delta"]
    assert len(json.dumps(delta)) < len(json.dumps(vectors()["snapshot"])) / 3


def test_the_offline_verifier_imports_neither_flask_nor_the_database_layer():
    code = (
        "import sys, ocop_verify.cli, ocop_verify.offline;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'trace_service', 'werkzeug')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_unicode_digits_in_a_gtin_are_malformed_for_the_service_too():
    """They used to parse, then fail to encode the signed bytes (a 500 on the label page)."""
    vector = next(v for v in LABELS if "Arabic-Indic" in v["name"])
    with pytest.raises(payload.MalformedLabelUrl):
        payload.parse_label_url(vector["input"])


def test_the_vectors_dates_are_those_the_file_states():
    assert date.fromisoformat(vectors()["as_of"]) == date(2026, 12, 3)

"""How long the browser verifier takes, in headless Chromium, from decoded text to verdict.

Loads the test page of ``tests/verify/www`` (the modules of ``static/verify`` as a page would)
from a live local server, sets up the published test vectors' trust list and snapshot, then
times ``verify()`` on a genuine stamp, a tampered one and a malformed text, with WebCrypto's
Ed25519 and again with the vendored @noble/ed25519 (browsers without it). Also times checking
and indexing a snapshot for the whole country (as ``snapshot_size_bench.py`` makes it), which a
page does once per update, not per stamp.

    .venv/bin/python bench/verify_browser_bench.py [--repeat 200]

Bar: median and 95th percentile from decoded text to verdict under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from snapshot_size_bench import generate

from ocop_verify import snapshot as snap
from ocop_verify.encoding import b64url_decode, b64url_encode, canonical_json, key_id
from tests.verify.browser_page import harness_page
from tests.verify.vectors import vectors

BAR_MS = 50.0


def country_documents() -> tuple[dict, dict]:
    """A trust list signed by the vectors' test root key naming a fresh snapshot key, and a
    whole-country snapshot signed by that key."""
    data = vectors()
    root = Ed25519PrivateKey.from_private_bytes(
        b64url_decode(data["test_keys"]["root"]["private_key_TEST_ONLY"])
    )
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = key_id(public)
    issued = datetime(2026, 12, 3, tzinfo=UTC)
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(public),
        "kid": kid,
        "use": "sig",
        "alg": "EdDSA",
        "ocop:status": "active",
    }
    body = {
        "version": 1,
        "issued_at": issued.isoformat(),
        "expires_at": (issued + timedelta(days=30)).isoformat(),
        "root_kid": data["root_public_key"]["kid"],
        "keys": [],
        "snapshot_keys": [jwk],
    }
    trust_list = {**body, "signature": b64url_encode(root.sign(canonical_json(body)))}
    parts = generate(random.Random(13), 15_000, 100_000)
    document = snap.sign_snapshot(
        snap.build_snapshot(version=1, issued_at=issued, kid=kid, trust_list_version=1, **parts),
        lambda message: (kid, key.sign(message)),
    )
    return trust_list, document


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 3),
        "max_ms": round(ordered[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    labels = {v["name"]: v["input"] for v in vectors()["labels"]}
    cases = {
        "genuine": labels["genuine"],
        "tampered": labels["tampered: star raised"],
        "malformed": labels["malformed: not a URL"],
    }
    trust_list, country = country_documents()
    figures: dict[str, object] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        harness_page(f"sqlite:///{tmp}/b.sqlite3") as (
            page,
            outside,
            problems,
        ),
    ):
        page.evaluate("(v) => window.harness.setup(v)", vectors())
        for backend in ("webcrypto", "noble"):
            if backend == "noble":
                page.evaluate("() => window.harness.forceNoble()")
            assert page.evaluate("() => window.harness.backend()") == backend
            for name, text in cases.items():
                page.evaluate("([t, n]) => window.harness.timeVerify(t, n)", [text, 5])  # warm
                times = page.evaluate(
                    "([t, n]) => window.harness.timeVerify(t, n)", [text, args.repeat]
                )
                figures[f"{backend}_{name}"] = summary(times)
        loads = page.evaluate(
            "([d, t, n]) => window.harness.timeLoad(d, t, n)", [country, trust_list, 3]
        )
        figures["country_snapshot_check_and_index"] = summary(loads)
        assert outside == [] and problems == [], (outside, problems)
    worst = max(
        value["p95_ms"]
        for key, value in figures.items()
        if isinstance(value, dict) and key != "country_snapshot_check_and_index"
    )
    figures["worst_p95_ms"] = worst
    figures["bar_ms"] = BAR_MS
    figures["within_bar"] = worst < BAR_MS
    for name, value in figures.items():
        print(f"{name:>36}  {value}", file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""The browser's verifier (static/verify/*.js) gives every published vector, and every code of
the mutated corpus, exactly the Python verifier's answer; it checks trust lists and snapshots
as Python does; its QR decoder (zxing-wasm, served by us) reads the codes we print."""

from __future__ import annotations

import base64

import pytest

from tests.verify.browser_page import harness_page
from tests.verify.test_cli import PDFTOPPM, PHOTO_VECTORS, printed_sheet_photo
from tests.verify.vectors import mutated_corpus, python_verdict, vectors
from trace_service.labels.qrbatch import encode
from trace_service.labels.render.qr_image import qr_png

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    database = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'x.sqlite3'}"
    with harness_page(database) as (page, outside, problems):
        assert page.evaluate("(v) => window.harness.setup(v)", vectors())
        yield page
        assert outside == [], "the verifier reached another host"
        assert problems == []


def _cases(texts_or_vectors):
    keys = ("input", "now", "as_of", "snapshot")
    return [{k: v[k] for k in keys if k in v} for v in texts_or_vectors]


def test_a_delta_naming_proto_or_no_newer_version_is_refused(page):
    # JSON.parse makes "__proto__" an own key; merged by assignment it set the prototype,
    # which the signature does not cover (attacker's review: a genuine stamp read "revoked").
    answers = page.evaluate(
        """async () => {
          const { applyDelta, DELTA_FORMAT } = await import("/static/verify/snapshot.js");
          const old = { version: 2, certificates: {}, signature: "s" };
          const tries = [
            '{"certificates": {"__proto__": {"1": {"status": "revoked"}}}, "version": 3}',
            '{"__proto__": {"x": 1}, "version": 3}',
            '{"version": 2}',
            '{"version": 3}',
          ];
          return tries.map((patch) => {
            const body = JSON.parse(patch);
            const delta = { format: DELTA_FORMAT, from_version: 2, version: body.version,
                            patch: body, signature: "t" };
            try { applyDelta(old, delta); return "applied"; } catch (e) { return e.message; }
          });
        }"""
    )
    assert "applied" not in answers[:3], answers
    assert answers[3] == "applied"  # (its signature is checked next, by loadSnapshot)


def test_webcrypto_checks_ed25519_in_this_chromium(page):
    assert page.evaluate("() => window.harness.backend()") == "webcrypto"


def test_every_vector_gets_the_python_verifiers_answer_field_for_field(page):
    labels = vectors()["labels"]
    answers = page.evaluate("(c) => window.harness.verifyAll(c)", _cases(labels))
    for vector, answer in zip(labels, answers, strict=True):
        assert answer == python_verdict(vector).to_json(), vector["name"]


def test_the_mutated_corpus_is_never_genuine_and_matches_python(page):
    corpus = mutated_corpus()
    answers = page.evaluate(
        "(c) => window.harness.verifyAll(c)", _cases({"input": t} for t in corpus)
    )
    assert len(answers) == len(corpus) >= 200
    for text, answer in zip(corpus, answers, strict=True):
        assert answer["verdict"] != "genuine" and answer["colour"] == "red", text
        assert answer == python_verdict({"input": text}).to_json(), text


def test_trust_lists_and_snapshots_are_accepted_or_refused_as_published(page):
    documents = vectors()["documents"]
    accepted = page.evaluate("() => window.harness.documents()")
    assert accepted == [case["accepted"] for case in documents]


def test_the_qr_decoder_reads_a_png_the_service_renders(page):
    genuine = next(v for v in vectors()["labels"] if v["name"] == "genuine")["input"]
    png = qr_png(encode(genuine), scale=4)
    found = page.evaluate("(b) => window.harness.decode(b)", base64.b64encode(png).decode())
    assert found == [genuine]


@pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm is not installed")
def test_the_qr_decoder_reads_every_stamp_on_a_photo_of_a_printed_sheet(page, tmp_path):
    photo = printed_sheet_photo(tmp_path)
    found = page.evaluate(
        "(b) => window.harness.decode(b)", base64.b64encode(photo.read_bytes()).decode()
    )
    by_name = {v["name"]: v["input"] for v in vectors()["labels"]}
    assert sorted(found) == sorted(by_name[name] for name in PHOTO_VECTORS)


def test_without_webcrypto_ed25519_the_vendored_library_gives_the_same_answers(page):
    """Browsers without Ed25519 in WebCrypto fall back to @noble/ed25519 (strict RFC 8032)."""
    page.evaluate("() => window.harness.forceNoble()")
    try:
        assert page.evaluate("() => window.harness.backend()") == "noble"
        labels = vectors()["labels"]
        cases = _cases(labels) + _cases({"input": t} for t in mutated_corpus()[:60])
        answers = page.evaluate("(c) => window.harness.verifyAll(c)", cases)
        for case, answer in zip(cases, answers, strict=True):
            assert answer == python_verdict(case).to_json(), case["input"]
        assert page.evaluate("() => window.harness.documents()") == [
            case["accepted"] for case in vectors()["documents"]
        ]
    finally:
        page.reload()
        page.wait_for_selector("body[data-ready=yes]")
        page.evaluate("(v) => window.harness.setup(v)", vectors())

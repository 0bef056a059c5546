"""The signed label URL: small enough for QR version 8-M, a valid GS1 Digital Link, and no
character of it can change without the verification failing."""

from __future__ import annotations

import dataclasses
import random
from datetime import date

import pytest
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trace_service.labels import payload, serials
from trace_service.labels.qrbatch import encode, fit_version
from trace_service.signing.keystore import Verdict, key_id, raw_public_key, verify_raw

HOST_36 = "tem.ocop.sokhoahoccongnghe.daknong.v"  # 36 characters
assert len(HOST_36) == 36


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _claims(key, **change) -> payload.LabelClaims:
    values = {
        "base": payload.canonical_base(f"https://{HOST_36}"),
        "serial": serials.new_serial(),
        "gtin": "08935012345678",
        "product_id": None,
        "lot": "DM2507-RB1",
        "star": 4,
        "certificate_id": 1234,
        "valid_until": date(2027, 2, 28),
        "kid": key_id(raw_public_key(key.public_key())),
    }
    values.update(change)
    return payload.LabelClaims(**values)


def _signed_url(key, **change) -> tuple[payload.LabelClaims, str]:
    claims = _claims(key, **change)
    return claims, payload.label_url(claims, key.sign(claims.message()))


def _verifies(key, url: str) -> bool:
    try:
        claims, signature = payload.parse_label_url(url)
    except payload.MalformedLabelUrl:
        return False
    public = raw_public_key(key.public_key())
    return claims.kid == key_id(public) and verify_raw(public, claims.message(), signature) is (
        Verdict.VALID
    )


@pytest.mark.parametrize(
    ("lot", "certificate_id"),
    [("DM2507-RB1", 1234), ("CF-2025-0001", 98765), ("L1", 7), ("MO-2511.A", 123456)],
)
def test_a_label_with_a_36_character_host_fits_qr_version_8_at_level_m(key, lot, certificate_id):
    for _ in range(20):
        _, url = _signed_url(key, lot=lot, certificate_id=certificate_id)
        assert fit_version(url) <= 8, url
        assert encode(url).shape == (49, 49) or encode(url).shape[0] < 49


def test_a_long_or_lower_case_lot_costs_a_version_and_still_encodes(key):
    # 20 characters, lower case: byte mode. Allowed (GS1 allows it), one size up; the run
    # records the version it got.
    _, url = _signed_url(key, lot="honey.2025.11-ab_x20", certificate_id=123456)
    assert 8 < fit_version(url) <= 10


def test_the_url_is_https_upper_case_and_round_trips(key):
    claims, url = _signed_url(key)
    assert url.startswith(f"HTTPS://{HOST_36.upper()}/01/08935012345678/10/DM2507-RB1/21/")
    parsed, _ = payload.parse_label_url(url)
    assert parsed == claims
    assert _verifies(key, url)


def test_an_independent_gs1_parser_reads_the_same_gtin_lot_and_serial(key):
    claims, url = _signed_url(key)
    for form in (url, url.replace(f"HTTPS://{HOST_36.upper()}", f"https://{HOST_36}")):
        link = GS1DigitalLinkURI.parse(form)
        values = {e.ai.ai: e.value for e in link.as_gs1_message().element_strings}
        assert values == {"01": claims.gtin, "10": claims.lot, "21": claims.serial}


def test_changing_any_character_of_the_url_makes_verification_fail(key):
    _, url = _signed_url(key)
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZabcxyz-./:?="
    rng = random.Random(7)  # noqa: S311 - a repeatable sample of replacements
    for i, original in enumerate(url):
        for replacement in rng.sample([c for c in alphabet if c != original], 3):
            altered = url[:i] + replacement + url[i + 1 :]
            assert not _verifies(key, altered), (i, altered)
    assert not _verifies(key, url + "0")
    assert not _verifies(key, url[:-1])
    assert not _verifies(key, url.lower())


def test_a_product_without_gtin_is_named_by_its_id(key):
    claims, url = _signed_url(key, gtin=None, product_id=42)
    assert "/P/42/10/DM2507-RB1/21/" in url
    assert payload.parse_label_url(url)[0] == claims
    assert b"\nP:42\n" in claims.message()


def test_the_signed_bytes_name_every_claim_and_the_payload_version(key):
    claims = _claims(key)
    lines = claims.message().decode().split("\n")
    assert lines == [
        "OCOP-LABEL/1",
        f"HTTPS://{HOST_36.upper()}",
        claims.serial,
        "01:08935012345678",
        "DM2507-RB1",
        "4",
        "1234",
        "2027-02-28",
        claims.kid,
    ]


@pytest.mark.parametrize("change", [{}, {"gtin": None, "product_id": 42}])
def test_messages_from_a_template_are_each_serials_own_claims(key, change):
    template = _claims(key, **change)
    batch = serials.new_serials(50)
    messages = payload.messages_for(template, batch)
    expected = [dataclasses.replace(template, serial=serial).message() for serial in batch]
    assert messages == expected


@pytest.mark.parametrize(
    "bad", ["7K3M9QXA2BCDEF", "7K3M9QXA2BCDEFX\nX", "7K3M9QXA2BCDEFY", "7k3m9qxa2bcdefx"]
)
def test_a_template_refuses_what_is_not_a_serial(key, bad):
    good = serials.new_serial()
    with pytest.raises(ValueError, match="not a serial"):
        payload.messages_for(_claims(key), [good, bad])


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://tem.ocop.vn", "HTTPS://TEM.OCOP.VN"),
        ("https://tem.ocop.vn/", "HTTPS://TEM.OCOP.VN"),
        ("https://tem.ocop.vn:8443", "HTTPS://TEM.OCOP.VN:8443"),
        ("http://127.0.0.1:8000", "HTTP://127.0.0.1:8000"),
        ("http://localhost:5000", "HTTP://LOCALHOST:5000"),
    ],
)
def test_the_base_url_is_scheme_and_host_upper_case(base, expected):
    assert payload.canonical_base(base) == expected


@pytest.mark.parametrize(
    "base",
    [
        "http://tem.ocop.vn",  # plain http off this machine
        "https://tem.ocop.vn/ocop",  # a path would not match once upper-cased
        "https://tem.ocop.vn/?a=1",
        "ftp://tem.ocop.vn",
        "https://user@tem.ocop.vn",
        "https://tem_ocop.vn",
        "tem.ocop.vn",
    ],
)
def test_a_base_url_labels_cannot_use_is_refused(base):
    with pytest.raises(ValueError):
        payload.canonical_base(base)


@pytest.mark.parametrize(
    "change",
    [
        {"lot": "DM/2507"},
        {"lot": "x" * 21},
        {"star": 2},
        {"certificate_id": 10**9},
        {"gtin": "8935012345678"},
        {"gtin": None},
        {"serial": "7K3M9QXA2BCDEF"},
        {"kid": "abc"},
    ],
)
def test_claims_a_label_cannot_carry_are_refused(key, change):
    with pytest.raises(ValueError):
        _claims(key, **change)


def test_urls_not_in_canonical_form_are_refused(key):
    _, url = _signed_url(key)
    head, data = url.split("?S=")
    for other in (
        f"{head}?S=0{data}",  # a leading zero: the same number, another text
        f"{head}?S={data}&x=1",
        f"{head}?s={data}",
        f"{head}/?S={data}",
        f"{head}?S=2{data[1:]}",  # an unknown payload version
        "not a url",
    ):
        with pytest.raises(payload.MalformedLabelUrl):
            payload.parse_label_url(other)

"""Write docs/test-vectors.json: the published test vectors of the OCOP label format.

Run it only when the format changes on purpose (``.venv/bin/python scripts/make_test_vectors.py``)
and commit the result with the change; the tests never run it, they check the committed file
against the service's own reader and signer (``labels/payload.py``, ``signing/keystore``),
``ocop_verify``, ``ocop-verify`` and the browser's modules, so an unintended change of the
format breaks them.

THE PRIVATE KEYS IN THE OUTPUT ARE TEST KEYS, derived from public strings below. They are
published on purpose so anyone can make more vectors. Never let any of them sign a real label.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocop_verify import snapshot as snap
from ocop_verify.encoding import b64url_encode, canonical_json, key_id
from trace_service.labels import payload

OUT = Path(__file__).resolve().parents[1] / "docs" / "test-vectors.json"
BASE = "HTTPS://TEM.OCOP.EXAMPLE.VN"
NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # 10:00 on 3 Dec 2026 in Vietnam
AS_OF = date(2026, 12, 3)
WARNING = (
    "TEST KEYS ONLY. The private keys in this file are published test keys derived from "
    "public strings (scripts/make_test_vectors.py). Anything they sign is worthless. Never "
    "let them sign a real label, trust list or snapshot, and never trust them in a verifier."
)


def test_key(name: str) -> Ed25519PrivateKey:
    seed = hashlib.sha256(f"OCOP TEST KEY, NEVER FOR REAL LABELS: {name}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


KEYS = {
    name: test_key(name)
    for name in ("root", "label", "label-retired", "label-compromised", "snapshot", "stranger")
}
KID = {name: key_id(raw_public(key)) for name, key in KEYS.items()}


def jwk(name: str, status: str) -> dict[str, str]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(raw_public(KEYS[name])),
        "kid": KID[name],
        "use": "sig",
        "alg": "EdDSA",
        "ocop:status": status,
    }


def signed(body: dict[str, Any], signer: str) -> dict[str, Any]:
    return {**body, "signature": b64url_encode(KEYS[signer].sign(canonical_json(body)))}


def trust_list(version: int, issued_at: datetime, *, legacy: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": version,
        "issued_at": issued_at.isoformat(),
        "root_kid": KID["root"],
        "keys": [
            jwk("label-compromised", "compromised"),
            jwk("label-retired", "retired"),
            jwk("label", "active"),
        ],
    }
    if not legacy:
        body["expires_at"] = (issued_at + timedelta(days=30)).isoformat()
        body["snapshot_keys"] = [jwk("snapshot", "active")]
    return signed(body, "root")


PRODUCERS = [
    {"id": 1, "name": "Hợp tác xã Nông nghiệp Dịch vụ Thuận An"},
    {"id": 2, "name": "Công ty TNHH Hồ tiêu Đắk Song"},
    {"id": 3, "name": "Hộ kinh doanh Mật ong Krông Nô"},
]
GTIN_COFFEE, GTIN_HONEY = "08935012345678", "08935012345609"


def certificate(
    cid: int, product_id: int, name: str, producer: int, issued: date, **kw: Any
) -> dict[str, Any]:
    from trace_service.certificates.rules import valid_until

    return {
        "id": cid,
        "number": f"{cid}/GCN-OCOP",
        "product_id": product_id,
        "gtin": kw.pop("gtin", None),
        "product_name": name,
        "producer_id": producer,
        "star": kw.pop("star", 4),
        "issued_on": issued,
        "valid_until": kw.pop("valid_until", valid_until(issued)),
        "authority": "UBND tỉnh Đắk Nông",
        **kw,
    }


COFFEE = "Cà phê bột Robusta Đắk Mil – rang mộc"
CERTIFICATES = [
    certificate(101, 1, COFFEE, 1, date(2024, 3, 15), gtin=GTIN_COFFEE),
    certificate(102, 2, "Hạt tiêu đen Đắk Song", 2, date(2023, 12, 20), star=3),
    certificate(103, 3, "Mật ong hoa cà phê", 3, date(2023, 12, 5), gtin=GTIN_HONEY, star=3),
    certificate(104, 4, "Bơ sáp 034", 1, date(2024, 5, 2), star=3, revoked_on=date(2026, 10, 1)),
    certificate(
        105,
        5,
        "Mắc ca sấy nứt vỏ",
        2,
        date(2023, 7, 1),
        star=3,
        superseded_on=date(2026, 6, 1),
        superseded_by=106,
    ),
    certificate(106, 5, "Mắc ca sấy nứt vỏ", 2, date(2026, 6, 1), star=4),
]


def serial(tag: str) -> str:
    from trace_service.labels.serials import ALPHABET, check_char

    digest = hashlib.sha256(f"test serial {tag}".encode()).digest()
    body = "".join(ALPHABET[b % 32] for b in digest[:14])
    return body + check_char(body)


def claims(cert: int, signer: str = "label", **kw: Any) -> payload.LabelClaims:
    record = next(c for c in CERTIFICATES if c["id"] == cert) if cert < 900 else None
    gtin = kw.pop("gtin", record["gtin"] if record else GTIN_COFFEE)
    return payload.LabelClaims(
        base=kw.pop("base", BASE),
        serial=kw.pop("serial", serial(f"{cert}-{signer}")),
        gtin=gtin,
        product_id=None if gtin else (record["product_id"] if record else 1),
        lot=kw.pop("lot", "DM2601-RB1"),
        star=kw.pop("star", record["star"] if record else 4),
        certificate_id=cert,
        valid_until=kw.pop("valid_until", record["valid_until"] if record else date(2029, 1, 1)),
        kid=KID[signer],
    )


def url_signed_by(c: payload.LabelClaims, key: str) -> str:
    return payload.label_url(c, KEYS[key].sign(c.message()))


VOIDED, FLAGGED = serial("voided"), serial("flagged")
RECALLED_LOT = "DM2601-RB9"


def snapshot_body(version: int, issued_at: datetime, *, flagged: bool = True) -> dict[str, Any]:
    return snap.build_snapshot(
        version=version,
        issued_at=issued_at,
        kid=KID["snapshot"],
        trust_list_version=7,
        producers=PRODUCERS,
        certificates=CERTIFICATES,
        recalls=[
            {
                "gtin": GTIN_COFFEE,
                "lot": RECALLED_LOT,
                "since": date(2026, 11, 20),
                "decision": "15/QĐ-SNN",
                "reason": "Phát hiện dư lượng thuốc bảo vệ thực vật vượt ngưỡng",
            }
        ],
        voided=[{"serial": VOIDED, "since": date(2026, 11, 2)}],
        flagged=[{"serial": FLAGGED, "since": date(2026, 11, 25)}] if flagged else [],
    )


def vector(name: str, text: str, expected: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "input": text, **extra, "expected": expected}


GREEN = {"verdict": "genuine", "colour": "green"}


def expected_genuine(cert: int, **kw: Any) -> dict[str, Any]:
    record = next(c for c in CERTIFICATES if c["id"] == cert)
    producer = next(p["name"] for p in PRODUCERS if p["id"] == record["producer_id"])
    return {
        **GREEN,
        "headline": "genuine",
        "key_status": "active",
        "label_state": "issued",
        "certificate_status": "valid",
        "recalled": False,
        "product_name": record["product_name"],
        "producer_name": producer,
        "stale": None,
        **kw,
    }


def red(verdict: str) -> dict[str, Any]:
    return {"verdict": verdict, "colour": "red", "headline": "not_confirmed"}


def label_vectors() -> list[dict[str, Any]]:
    genuine_claims = claims(101)
    genuine = url_signed_by(genuine_claims, "label")
    head, data = genuine.split("?S=")
    other_lot = payload.label_url(
        claims(101, lot="DM2601-RB2"), bytes.fromhex(_signature_hex(genuine))
    )
    other_serial = payload.label_url(
        claims(101, serial=serial("another")), bytes.fromhex(_signature_hex(genuine))
    )
    five_star = payload.label_url(claims(101, star=5), bytes.fromhex(_signature_hex(genuine)))
    later = payload.label_url(
        claims(101, valid_until=date(2030, 3, 15)), bytes.fromhex(_signature_hex(genuine))
    )
    other_cert = payload.label_url(
        claims(102, gtin=GTIN_COFFEE, star=4, valid_until=date(2027, 3, 15)),
        bytes.fromhex(_signature_hex(genuine)),
    )
    other_host = genuine.replace(BASE, "HTTPS://TEM.OCOP-GIA.VN")
    other_gtin = genuine.replace(GTIN_COFFEE, "08935012345692")
    last_digit = f"{head}?S={data[:-1]}{(int(data[-1]) + 1) % 10}"
    bad_check = genuine.replace(
        genuine_claims.serial,
        genuine_claims.serial[:-1] + ("0" if genuine_claims.serial[-1] != "0" else "1"),
    )
    stranger_claims = payload.LabelClaims(**{**genuine_claims.__dict__, "kid": KID["stranger"]})
    unknown = url_signed_by(stranger_claims, "stranger")
    wrong_key = payload.label_url(genuine_claims, KEYS["stranger"].sign(genuine_claims.message()))
    retired = url_signed_by(claims(101, "label-retired"), "label-retired")
    compromised = url_signed_by(claims(101, "label-compromised"), "label-compromised")
    vectors = [
        vector(
            "genuine",
            genuine,
            expected_genuine(101, valid_until="2027-03-15"),
            claims={**genuine_claims.__dict__, "valid_until": "2027-03-15"},
            signed_message=genuine_claims.message().decode("ascii"),
        ),
        vector(
            "genuine, as a phone shows it (scheme and host in lower case)",
            genuine.replace("HTTPS://TEM.OCOP.EXAMPLE.VN", "https://tem.ocop.example.vn"),
            expected_genuine(101),
        ),
        vector(
            "genuine, product without a GTIN, certificate expiring",
            url_signed_by(claims(102), "label"),
            expected_genuine(102, certificate_status="expiring", headline="expiring"),
        ),
        vector(
            "genuine, signed by a retired key (rotation keeps old labels verifying)",
            retired,
            expected_genuine(101, key_status="retired"),
        ),
        vector(
            "genuine signature, certificate not yet in force on the day asked about",
            genuine,
            expected_genuine(101, colour="red", headline="pending", certificate_status="pending"),
            as_of="2024-01-01",
        ),
        vector(
            "genuine signature, certificate expired after the snapshot was made",
            url_signed_by(claims(103), "label"),
            expected_genuine(103, colour="red", headline="expired", certificate_status="expired"),
            now="2026-12-06T03:00:00+00:00",
        ),
        vector(
            "genuine signature, certificate revoked",
            url_signed_by(claims(104), "label"),
            expected_genuine(104, colour="red", headline="revoked", certificate_status="revoked"),
        ),
        vector(
            "genuine signature, certificate superseded by a newer one",
            url_signed_by(claims(105), "label"),
            expected_genuine(
                105, colour="red", headline="superseded", certificate_status="superseded"
            ),
        ),
        vector(
            "genuine signature, lot recalled",
            url_signed_by(claims(101, lot=RECALLED_LOT), "label"),
            expected_genuine(
                101,
                colour="red",
                headline="recalled",
                recalled=True,
                recalled_since="2026-11-20",
            ),
        ),
        vector(
            "genuine signature, recall not yet made on the day asked about",
            url_signed_by(claims(101, lot=RECALLED_LOT), "label"),
            expected_genuine(101),
            as_of="2026-11-19",
        ),
        vector(
            "genuine signature, stamp voided",
            url_signed_by(claims(101, serial=VOIDED), "label"),
            expected_genuine(
                101,
                colour="red",
                headline="voided",
                label_state="voided",
                label_since="2026-11-02",
            ),
        ),
        vector(
            "genuine signature, stamp flagged as possibly copied",
            url_signed_by(claims(101, serial=FLAGGED), "label"),
            expected_genuine(
                101,
                colour="amber",
                headline="possibly_copied",
                label_state="possibly_copied",
                label_since="2026-11-25",
            ),
        ),
        vector(
            "genuine signature, certificate newer than the snapshot",
            url_signed_by(claims(950), "label"),
            {
                **GREEN,
                "colour": "amber",
                "headline": "unknown_certificate",
                "label_state": "issued",
                "certificate_status": "unknown",
                "product_name": None,
            },
        ),
        vector(
            "genuine, data older than stale_after_days",
            genuine,
            expected_genuine(101, colour="amber", stale="old"),
            now="2026-12-11T03:00:00+00:00",
        ),
        vector(
            "genuine, device clock earlier than the snapshot",
            genuine,
            expected_genuine(101, colour="amber", stale="clock_before_data"),
            now="2026-12-01T03:00:00+00:00",
        ),
        vector(
            "genuine, no snapshot at all",
            genuine,
            {
                **GREEN,
                "colour": "amber",
                "headline": "no_data",
                "label_state": None,
                "certificate_status": "unknown",
                "stale": "no_snapshot",
            },
            snapshot=False,
        ),
        vector(
            "signed by a compromised key",
            compromised,
            {
                "verdict": "compromised_key",
                "colour": "red",
                "headline": "compromised_key",
                "key_status": "compromised",
            },
        ),
        vector("signed by a key the trust list does not name", unknown, red("unknown_key")),
        vector(
            "right key id, signed by another key (wrong key)", wrong_key, red("invalid_signature")
        ),
        vector("tampered: lot changed", other_lot, red("invalid_signature")),
        vector(
            "tampered: serial changed (valid check character)",
            other_serial,
            red("invalid_signature"),
        ),
        vector("tampered: star raised", five_star, red("invalid_signature")),
        vector("tampered: valid-until extended", later, red("invalid_signature")),
        vector("tampered: certificate id changed", other_cert, red("invalid_signature")),
        vector("tampered: host changed", other_host, red("invalid_signature")),
        vector("tampered: GTIN changed", other_gtin, red("invalid_signature")),
        vector("tampered: last digit of S", last_digit, red("invalid_signature")),
        vector("malformed: serial check character wrong", bad_check, red("malformed")),
        vector(
            "malformed: serial in lower case",
            genuine.replace(genuine_claims.serial, genuine_claims.serial.lower()),
            red("malformed"),
        ),
        vector(
            "malformed: plain http to a public host",
            genuine.replace("HTTPS://", "HTTP://"),
            red("malformed"),
        ),
        vector("malformed: unknown payload version", f"{head}?S=2{data[1:]}", red("malformed")),
        vector("malformed: S one digit short", genuine[:-1], red("malformed")),
        vector(
            "malformed: certificate id with a leading zero",
            f"{head}?S={data[:7]}{int(data[7]) + 1}0{data[8:]}",
            red("malformed"),
        ),
        vector("malformed: not a URL", "OCOP 4 sao - hàng thật 100%", red("malformed")),
        vector("malformed: empty", "", red("malformed")),
        vector("malformed: trailing newline", genuine + "\n", red("malformed")),
        vector(
            "malformed: host spelt with a dotless i (another domain, though 'ı'.upper() == 'I')",
            url_signed_by(claims(101, base="HTTPS://TEM.OCOPVIETNAM.VN"), "label").replace(
                "HTTPS://TEM.OCOPVIETNAM.VN", "https://tem.ocopv\u0131etnam.vn"
            ),
            red("malformed"),
        ),
        vector(
            "malformed: GTIN in Arabic-Indic digits",
            genuine.replace(GTIN_COFFEE, "".join(chr(0x660 + int(d)) for d in GTIN_COFFEE)),
            red("malformed"),
        ),
    ]
    return vectors + shared_link_vectors(genuine, last_digit)


def shared_link_vectors(genuine: str, tampered: str) -> list[dict[str, Any]]:
    """A link shared on a social network gains parameters (fbclid, utm_…) and sometimes a
    fragment, none of them signed: the label page reads only ``S``, and so does every
    verifier. Two ``S``, or an ``S`` spelt otherwise, are malformed."""
    head, data = genuine.split("?S=")
    fbclid = "IwAR2Fq7kLmNoPqRsTuVwXyZ0123456789_abcdefGHIJ-klmnop"
    phone = head.replace(BASE, BASE.lower())
    return [
        vector(
            "genuine, shared on a social network (fbclid and utm_ parameters after S)",
            f"{genuine}&fbclid={fbclid}&utm_source=facebook&utm_medium=social",
            expected_genuine(101),
        ),
        vector(
            "genuine, as a phone opens a shared link (parameters before and after S, fragment)",
            f"{phone}?utm_source=zalo&utm_campaign=t%E1%BA%BFt&S={data}&fbclid={fbclid}#_=_",
            expected_genuine(101),
        ),
        vector(
            "tampered: last digit of S, in a shared link (fbclid)",
            f"{tampered}&fbclid={fbclid}",
            red("invalid_signature"),
        ),
        vector("malformed: S twice (even the same S)", f"{genuine}&S={data}", red("malformed")),
        vector(
            "malformed: S twice, a parameter between",
            f"{genuine}&fbclid={fbclid}&S=1{data[1:-1]}",
            red("malformed"),
        ),
        vector("malformed: the parameter named s, not S", f"{head}?s={data}", red("malformed")),
        vector(
            "malformed: S percent-encoded (never decoded)",
            f"{head}?S=%31{data[1:]}",
            red("malformed"),
        ),
        vector(
            "malformed: a space in a shared link's parameters",
            f"{genuine}&utm_campaign=tet 2027",
            red("malformed"),
        ),
    ]


def _signature_hex(url: str) -> str:
    _, signature = payload.parse_label_url(url)
    return signature.hex()


def private(name: str) -> dict[str, str]:
    return {
        "kid": KID[name],
        "public_key": b64url_encode(raw_public(KEYS[name])),
        "private_key_TEST_ONLY": b64url_encode(raw_private(KEYS[name])),
        "derived_from": f"SHA-256 of 'OCOP TEST KEY, NEVER FOR REAL LABELS: {name}'",
    }


def document_vectors(tl: dict[str, Any], v4: dict[str, Any], v5: dict[str, Any]) -> list:
    tampered = json.loads(json.dumps(v5))
    tampered["certificates"]["104"].pop("revoked_on")
    by_label_key = signed(
        {**{k: v for k, v in v5.items() if k != "signature"}, "kid": KID["label"]}, "label"
    )
    newer_tl = signed(
        {**{k: v for k, v in v5.items() if k != "signature"}, "trust_list_version": 8}, "snapshot"
    )
    tl_tampered = json.loads(json.dumps(tl))
    tl_tampered["keys"][0]["ocop:status"] = "active"
    return [
        {"name": "trust list: genuine", "trust_list": tl, "accepted": True},
        {
            "name": "trust list: a compromised key made active",
            "trust_list": tl_tampered,
            "accepted": False,
        },
        {
            "name": "trust list: published before expires_at existed (legacy)",
            "trust_list": trust_list(6, datetime(2026, 11, 20, tzinfo=UTC), legacy=True),
            "accepted": True,
            "expires_at": "2026-12-20T00:00:00+00:00",
        },
        {"name": "snapshot: genuine", "snapshot": v5, "accepted": True},
        {"name": "snapshot: a revocation removed", "snapshot": tampered, "accepted": False},
        {"name": "snapshot: signed by a label key", "snapshot": by_label_key, "accepted": False},
        {
            "name": "snapshot: made with a newer trust list than the one held",
            "snapshot": newer_tl,
            "accepted": False,
        },
        {
            "name": "snapshot: expired",
            "snapshot": v5,
            "now": "2027-01-03T00:00:00+00:00",
            "accepted": False,
        },
        {
            "name": "snapshot: older than the one held (rollback)",
            "snapshot": v4,
            "held_version": 5,
            "accepted": False,
        },
        {
            "name": "snapshot: delta from version 4 to 5",
            "snapshot": v4,
            "delta": snap.make_delta(v4, v5),
            "accepted": True,
            "result": "snapshot version 5",
        },
    ]


def main() -> None:
    tl = trust_list(7, datetime(2026, 12, 1, tzinfo=UTC))
    v4 = signed(snapshot_body(4, datetime(2026, 12, 1, 17, tzinfo=UTC), flagged=False), "snapshot")
    v5 = signed(snapshot_body(5, datetime(2026, 12, 2, 17, tzinfo=UTC)), "snapshot")
    document = {
        "WARNING": WARNING,
        "format": "ocop-test-vectors/1",
        "spec": "docs/label-format.md",
        "now": NOW.isoformat(),
        "as_of": AS_OF.isoformat(),
        "root_public_key": {
            "kid": KID["root"],
            "public_key": b64url_encode(raw_public(KEYS["root"])),
        },
        "test_keys": {name: private(name) for name in KEYS},
        "trust_list": tl,
        "snapshot": v5,
        "labels": label_vectors(),
        "documents": document_vectors(tl, v4, v5),
    }
    OUT.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(OUT.parents[1])}: {len(document['labels'])} label vectors")


if __name__ == "__main__":
    main()

"""How big the offline verifiers' snapshot is for the whole country, compressed.

Generates (deterministically, ``random.Random(13)``) 8,000 producers, 15,000 certified
products with a certificate in force and, for a third of them, an earlier certificate
(expired or superseded) whose stamps may still be on shelves; 300 revoked; 1,000 recalled
lots; 100,000 flagged (possibly copied) serials over 365 days; 10,000 voided serials. Builds
and signs it with ``ocop_verify.snapshot``, writes it as canonical JSON, compresses it with
gzip -9 and brotli -q 11, and times checking it (``load_snapshot``, signature included).
Also the delta a typical day makes (200 new flags, 20 new voids, 10 certificate changes,
2 recalls) and its compressed size.

    .venv/bin/python bench/snapshot_size_bench.py [--flagged 100000] [--products 15000]

Bar: the whole snapshot at most 2 MB (2,000,000 bytes) gzip-compressed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import brotli
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocop_verify import snapshot as snap
from ocop_verify.encoding import canonical_json, key_id
from ocop_verify.label import SERIAL_ALPHABET, check_char
from ocop_verify.trustlist import Key, TrustList

TARGET = 2_000_000
ISSUED_AT = datetime(2026, 12, 3, tzinfo=UTC)
GROUPS = [
    "Cà phê bột",
    "Cà phê nhân",
    "Hạt tiêu đen",
    "Mắc ca sấy",
    "Mật ong",
    "Bơ sáp",
    "Sầu riêng",
    "Gạo ST25",
    "Trà shan tuyết",
    "Nước mắm",
    "Miến dong",
    "Rượu cần",
    "Tinh dầu sả",
    "Nấm linh chi",
    "Chè búp",
    "Bánh tráng",
    "Hạt điều rang muối",
]
PLACES = [
    "Đắk Mil",
    "Đắk Song",
    "Krông Nô",
    "Cư Jút",
    "Tuy Đức",
    "Gia Nghĩa",
    "Bảo Lộc",
    "Di Linh",
    "Lâm Hà",
    "Mộc Châu",
    "Phú Quốc",
    "Hà Giang",
    "Sóc Trăng",
    "Bến Tre",
]
KINDS = [
    "Hợp tác xã Nông nghiệp",
    "Công ty TNHH",
    "Hộ kinh doanh",
    "Công ty Cổ phần",
    "Hợp tác xã Dịch vụ",
]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "H'Hen"]
WORDS = [
    "Thuận An",
    "Phú Sơn",
    "Hòa Bình",
    "Tân Lập",
    "Đức Xuyên",
    "Nam Dong",
    "Quảng Tín",
    "Ea Pô",
    "Đắk Đam",
    "Minh Phát",
    "Xanh",
    "Vàng",
    "Cao Nguyên",
    "Bazan",
    "Sương Mai",
]


def serial(rng: random.Random) -> str:
    body = "".join(rng.choice(SERIAL_ALPHABET) for _ in range(14))
    return body + check_char(body)


def generate(rng: random.Random, products: int, flagged: int) -> dict:
    producers = [
        {"id": i, "name": f"{rng.choice(KINDS)} {rng.choice(WORDS)} {rng.choice(PLACES)}"}
        for i in range(1, products * 8 // 15 + 1)
    ]
    certificates, cid = [], 1
    for product in range(1, products + 1):
        name = f"{rng.choice(GROUPS)} {rng.choice(WORDS)} {rng.choice(PLACES)}"
        producer = rng.randrange(1, len(producers) + 1)
        gtin = f"0893{rng.randrange(10**10):010d}" if rng.random() < 0.6 else None
        issued = date(2023, 1, 1) + timedelta(days=rng.randrange(1400))
        base = {
            "product_id": product,
            "gtin": gtin,
            "product_name": name,
            "producer_id": producer,
            "star": rng.choice((3, 3, 3, 4, 4, 5)),
            "authority": f"UBND tỉnh {rng.choice(PLACES)}",
        }
        if rng.random() < 1 / 3:
            old_issue = issued - timedelta(days=1096)
            certificates.append(
                {
                    **base,
                    "id": cid,
                    "number": f"{cid}/QĐ-UBND",
                    "issued_on": old_issue,
                    "valid_until": issued,
                    "superseded_on": issued,
                    "superseded_by": cid + 1,
                }
            )
            cid += 1
        revoked = issued + timedelta(days=200) if rng.random() < 0.02 else None
        certificates.append(
            {
                **base,
                "id": cid,
                "number": f"{cid}/QĐ-UBND",
                "issued_on": issued,
                "valid_until": issued + timedelta(days=1095),
                "revoked_on": revoked,
            }
        )
        cid += 1
    with_lots = [c for c in certificates if "superseded_on" not in c]
    recalls = []
    for _ in range(1000):
        c = rng.choice(with_lots)
        recalls.append(
            {
                "gtin": c["gtin"],
                "product_id": None if c["gtin"] else c["product_id"],
                "lot": f"L{rng.randrange(10**6):06d}-{rng.randrange(99)}",
                "since": date(2026, 1, 1) + timedelta(days=rng.randrange(330)),
                "decision": f"{rng.randrange(1, 300)}/QĐ-SNN",
                "reason": "Phát hiện dư lượng thuốc bảo vệ thực vật vượt ngưỡng",
            }
        )
    serials = {serial(rng) for _ in range(flagged + 10_000)}
    ordered = sorted(serials)
    rng.shuffle(ordered)
    day = lambda: date(2025, 12, 3) + timedelta(days=rng.randrange(365))  # noqa: E731
    return {
        "producers": producers,
        "certificates": certificates,
        "recalls": list(
            {snap.recall_key(r["gtin"], r["product_id"], r["lot"]): r for r in recalls}.values()
        ),
        "flagged": [{"serial": s, "since": day()} for s in ordered[:flagged]],
        "voided": [{"serial": s, "since": day()} for s in ordered[flagged:]],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=15_000)
    parser.add_argument("--flagged", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(13)
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = key_id(public)
    trust_list = TrustList(
        1, ISSUED_AT, ISSUED_AT + timedelta(days=30), "root", {}, {kid: Key(kid, public, "active")}
    )
    data = generate(rng, args.products, args.flagged)

    def build(version: int, at: datetime, parts: dict) -> dict:
        body = snap.build_snapshot(
            version=version, issued_at=at, kid=kid, trust_list_version=1, **parts
        )
        return snap.sign_snapshot(body, lambda message: (kid, key.sign(message)))

    started = time.perf_counter()
    document = build(1, ISSUED_AT, data)
    build_s = time.perf_counter() - started
    raw = canonical_json(document)
    gz = gzip.compress(raw, 9)
    br = brotli.compress(raw, quality=11)
    loads = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        snap.load_snapshot(json.loads(raw), trust_list, ISSUED_AT + timedelta(hours=1))
        loads.append(time.perf_counter() - started)

    # A typical day: new flags and voids, a few certificate changes, two recalls.
    nxt = {k: list(v) for k, v in data.items()}
    today = date(2026, 12, 3)
    nxt["flagged"] += [{"serial": serial(rng), "since": today} for _ in range(200)]
    nxt["voided"] += [{"serial": serial(rng), "since": today} for _ in range(20)]
    for c in rng.sample(range(len(nxt["certificates"])), 10):
        nxt["certificates"][c] = {**nxt["certificates"][c], "revoked_on": today}
    nxt["recalls"] += [
        {
            "gtin": None,
            "product_id": 1,
            "lot": f"NEW-{i}",
            "since": today,
            "reason": "Thu hồi theo quyết định mới",
        }
        for i in range(2)
    ]
    second = build(2, ISSUED_AT + timedelta(days=1), nxt)
    delta = canonical_json(snap.make_delta(document, second))
    rebuilt = snap.apply_delta(document, json.loads(delta))
    assert rebuilt == second, "a delta must rebuild the next snapshot exactly"

    figures = {
        "products": args.products,
        "certificates": len(data["certificates"]),
        "producers": len(data["producers"]),
        "recalled_lots": len(data["recalls"]),
        "flagged_serials": len(data["flagged"]),
        "voided_serials": len(data["voided"]),
        "raw_bytes": len(raw),
        "gzip_bytes": len(gz),
        "brotli_bytes": len(br),
        "target_bytes": TARGET,
        "within_2_mb_gzip": len(gz) <= TARGET,
        "build_and_sign_s": round(build_s, 3),
        "check_and_index_s_median": round(statistics.median(loads), 3),
        "day_delta_raw_bytes": len(delta),
        "day_delta_gzip_bytes": len(gzip.compress(delta, 9)),
    }
    for name, value in figures.items():
        print(f"{name:>28}  {value}", file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

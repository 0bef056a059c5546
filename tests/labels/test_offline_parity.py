"""The label page and the offline verifier never disagree: a snapshot built from the
service's own records (voided and flagged stamps from ``states.snapshot_labels``) gives the
offline verifier the page's colour and headline for the same stamps on the same day."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ocop_verify.offline import verify
from ocop_verify.snapshot import build_snapshot, load_snapshot, sign_snapshot
from ocop_verify.trustlist import load_trust_list
from tests.labels.conftest import P
from trace_service.db import utcnow
from trace_service.labels.states import snapshot_labels
from trace_service.signing.keystore import b64url_decode
from trace_service.signing.service import get_keystore, publish_trust_list, root_public_key


def _page_says(client, url: str, address: str = "203.0.113.7") -> tuple[str, str]:
    parts = urlsplit(url)
    html = client.get(
        f"{parts.path}?{parts.query}", environ_base={"REMOTE_ADDR": address}
    ).get_data(as_text=True)
    found = re.search(r'data-verdict="([a-z_]+)" data-colour="([a-z]+)"', html)
    assert found is not None
    return found[2], found[1]


def _offline(app, db_session, packed):
    store = get_keystore(app)
    document = publish_trust_list(store)  # the keys as they are now
    trust_list = load_trust_list(document, b64url_decode(root_public_key(store)["public_key"]))
    cert, now = packed.certificate, utcnow()
    body = build_snapshot(
        version=1,
        issued_at=now,
        kid=next(iter(trust_list.snapshot_keys)),
        trust_list_version=document["version"],
        producers=[{"id": packed.producer.id, "name": packed.producer.name}],
        certificates=[
            {
                "id": cert.id,
                "number": cert.number,
                "product_id": cert.product_id,
                "gtin": packed.product.gtin14,
                "product_name": cert.product_name,
                "producer_id": packed.producer.id,
                "star": cert.star,
                "issued_on": cert.issue_date,
                "valid_until": cert.valid_until,
            }
        ],
        **snapshot_labels(db_session),
    )
    snapshot = load_snapshot(sign_snapshot(body, store.sign_as_snapshot), trust_list, now)
    return lambda url: verify(url, trust_list, snapshot, now=now)


def test_the_page_and_the_offline_verifier_give_one_verdict(
    client, packed, app, db_session, monkeypatch
):
    run = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": 3},
    ).json
    fine, voided, copied = client.get(
        f"{P}/print-runs/{run['id']}/labels", headers=packed.account.headers
    ).json["items"]
    client.post(
        f"{P}/print-runs/{run['id']}/voids",
        headers=packed.account.headers,
        json={"sequences": [voided["seq"]], "reason": "In hỏng"},
    )
    monkeypatch.setitem(app.config, "LABEL_COPY_MAX_SCANS", 1)
    for n in range(2):  # two phones (one phone's reloads count once towards the flag)
        _page_says(client, copied["url"], address=f"198.51.100.{n}")
    head, data = fine["url"].split("?S=")
    tampered = f"{head}?S={data[:-1]}{(int(data[-1]) + 1) % 10}"

    offline = _offline(app, db_session, packed)
    expected = {
        fine["url"]: ("green", "genuine"),
        voided["url"]: ("red", "voided"),
        copied["url"]: ("amber", "possibly_copied"),
        tampered: ("red", "not_confirmed"),
    }
    for url, verdict in expected.items():
        result = offline(url)
        assert (result.colour, result.headline) == verdict, url
        assert _page_says(client, url) == verdict, url

"""The inspectors' verify API: today's verdicts and fields, plus the signing key's status, the
label, the certificate on a given day, recalls, product and producer; no write lock; small
bodies only."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from sqlalchemy import text

from tests.labels.conftest import P
from tests.labels.test_verification import _one_label, _path
from trace_service import create_app
from trace_service.db import get_session
from trace_service.signing.service import get_keystore


def _verify(client, account, **body):
    response = client.post(f"{P}/labels/verify", headers=account.headers, json=body)
    assert response.status_code == 200, response.json
    return response.json


def test_a_genuine_stamp_names_key_label_certificate_product_and_producer(
    client, packed, inspector
):
    label = _one_label(client, packed)
    answer = _verify(client, inspector, url=label["url"])
    assert answer["verdict"] == "genuine" and answer["serial"] == label["serial"]
    assert answer["key_status"] == "active"
    assert answer["label"] == {"state": "issued", "since": None, "scans": 0}
    cert = answer["certificate"]
    assert cert["id"] == packed.certificate.id and cert["number"] == packed.certificate.number
    assert cert["status"] == answer["certificate_status"] in {"valid", "expiring"}
    assert cert["valid_until"] == packed.certificate.valid_until.isoformat()
    assert answer["product"]["name"] == "Cà phê bột Robusta Đắk Mil – rang mộc"
    assert answer["producer"]["name"] == "Hợp tác xã Nông nghiệp Dịch vụ Thuận An"
    assert answer["recalled"] is False and answer["recalls"] == []
    # the same stamp as the QR's raw text
    assert _verify(client, inspector, text=label["url"])["verdict"] == "genuine"


def test_the_certificate_is_judged_on_the_day_asked(client, packed, inspector):
    label = _one_label(client, packed)
    after = packed.certificate.valid_until + timedelta(days=1)
    answer = _verify(client, inspector, url=label["url"], as_of=after.isoformat())
    assert answer["verdict"] == "genuine" and answer["as_of"] == after.isoformat()
    assert answer["certificate"]["status"] == answer["certificate_status"] == "expired"
    before = packed.certificate.issue_date - timedelta(days=1)
    early = _verify(client, inspector, url=label["url"], as_of=before.isoformat())
    assert early["certificate_status"] == "pending"


def test_a_key_retired_after_signing_still_verifies_and_a_compromised_one_does_not(
    client, packed, inspector, app
):
    store = get_keystore(app)
    first = _one_label(client, packed)
    signed_by = store.active_signing_key().kid
    store.rotate()
    retired = _verify(client, inspector, url=first["url"])
    assert retired["verdict"] == "genuine" and retired["key_status"] == "retired"
    second = _one_label(client, packed)
    store.rotate()  # so later tests still have an active key to sign with
    store.mark_compromised(signed_by)
    lost = _verify(client, inspector, url=first["url"])
    assert lost["verdict"] == "compromised_key" and lost["key_status"] == "compromised"
    assert _verify(client, inspector, url=second["url"])["key_status"] == "retired"


def test_what_is_not_a_stamp_gets_the_old_verdicts_and_no_facts(client, packed, inspector):
    label = _one_label(client, packed)
    head, data = label["url"].split("?S=")
    tampered = _verify(client, inspector, url=f"{head}?S={data[:-1]}{(int(data[-1]) + 1) % 10}")
    assert tampered["verdict"] in {"invalid_signature", "malformed"}
    for answer in (tampered, _verify(client, inspector, text="xin chào")):
        assert answer["certificate"] is None and answer["product"] is None
        assert answer["producer"] is None and answer["label"] is None
    assert _verify(client, inspector, text="xin chào")["verdict"] == "malformed"


def test_large_or_ambiguous_bodies_are_refused_with_a_clear_message(client, inspector):
    big = client.post(f"{P}/labels/verify", headers=inspector.headers, json={"url": "H" * 5000})
    assert big.status_code == 413 and "4096" in big.json["message_en"]
    assert "quá lớn" in big.json["message"]
    both = client.post(
        f"{P}/labels/verify", headers=inspector.headers, json={"url": "a", "text": "b"}
    )
    assert both.status_code == 422
    neither = client.post(f"{P}/labels/verify", headers=inspector.headers, json={})
    assert neither.status_code == 422
    bad_day = client.post(
        f"{P}/labels/verify", headers=inspector.headers, json={"url": "a", "as_of": "32/13"}
    )
    assert bad_day.status_code == 422


def test_the_verify_api_is_documented(client):
    spec = client.get(f"{P}/openapi.json").json
    operation = spec["paths"]["/api/v1/labels/verify"]["post"]
    assert {"200", "413"} <= set(operation["responses"])
    assert "retired" in operation["description"]


def test_verifying_takes_no_write_lock_on_sqlite(tmp_path):
    """Another writer holds SQLite's write lock: a verify request's session still begins,
    where any other POST's would wait for the lock."""
    path = tmp_path / "lock.sqlite3"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "TESTING": True})

    def begin(route: str) -> None:
        with app.test_request_context(route, method="POST"):
            get_session().execute(text("select 1"))

    begin(f"{P}/labels/verify")  # the file made, in WAL mode (switching needs the lock)
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # A plain BEGIN: no wait. BEGIN IMMEDIATE would wait the busy timeout, then fail.
        begin(f"{P}/labels/verify")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_voided_stamp_is_voided_to_the_api_and_in_the_offline_snapshot(
    app, client, packed, inspector, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "OFFLINE_SNAPSHOT_DIR", str(tmp_path / "offline"))
    from ocop_verify.offline import verify
    from ocop_verify.snapshot import load_snapshot
    from ocop_verify.trustlist import load_trust_list, parse_root_key
    from trace_service.clock import today_vn
    from trace_service.signing.service import publish_trust_list, root_public_key

    label = _one_label(client, packed)
    page = client.get(_path(label["url"]))
    assert page.status_code == 200
    assert _verify(client, inspector, url=label["url"])["label"]["scans"] == 1
    voided = client.post(
        f"{P}/print-runs/{label['run_id']}/voids",
        headers=packed.account.headers,
        json={"sequences": [label["seq"]], "reason": "Tem in lỗi"},
    )
    assert voided.status_code == 200, voided.json
    answer = _verify(client, inspector, url=label["url"])
    assert answer["verdict"] == "genuine"  # the signature still holds: the old meaning kept
    assert answer["label"] == {"state": "voided", "since": today_vn().isoformat(), "scans": 1}

    store = get_keystore(app)
    publish_trust_list(store)
    trust_list = load_trust_list(
        client.get("/.well-known/ocop-trust-list.json").json,
        parse_root_key(root_public_key(store)),
    )
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    snapshot = load_snapshot(client.get("/offline/snapshot.json").json, trust_list, now)
    offline = verify(label["url"], trust_list, snapshot, now=now)
    assert offline.colour == "red" and offline.headline == "voided"

"""The signed offline snapshot the service serves: it verifies with ocop_verify against the
published trust list, judges our stamps as the API does, is cached by ETag, is signed again
only when the data changed, and a delta brings an older one to exactly the new one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocop_verify.offline import verify
from ocop_verify.snapshot import apply_delta, load_snapshot
from ocop_verify.trustlist import load_trust_list, parse_root_key
from tests.labels.conftest import P, packed  # noqa: F401 - the fixture
from tests.labels.test_verification import _one_label
from trace_service.audit.models import AuditEvent
from trace_service.signing.service import get_keystore, publish_trust_list, root_public_key


@pytest.fixture
def offline(app, tmp_path, monkeypatch):
    """Snapshots kept apart for this test, and a trust list naming today's keys."""
    monkeypatch.setitem(app.config, "OFFLINE_SNAPSHOT_DIR", str(tmp_path / "offline"))
    store = get_keystore(app)
    publish_trust_list(store)
    return parse_root_key(root_public_key(store))


def _trust_list(client, root):
    return load_trust_list(client.get("/.well-known/ocop-trust-list.json").json, root)


def _snapshot(client):
    response = client.get("/offline/snapshot.json")
    assert response.status_code == 200, response.json
    return response


def test_the_served_snapshot_verifies_and_judges_our_stamp(client, packed, offline):  # noqa: F811
    label = _one_label(client, packed)
    response = _snapshot(client)
    assert response.headers["Cache-Control"].startswith("public")
    document = response.json
    now = datetime.now(UTC)
    trust_list = _trust_list(client, offline)
    snapshot = load_snapshot(document, trust_list, now)
    assert snapshot.stale_after_days == 7
    assert snapshot.expires_at - snapshot.issued_at == timedelta(days=30)
    result = verify(label["url"], trust_list, snapshot, now=now)
    assert result.verdict == "genuine" and result.colour in {"green", "amber"}
    assert result.product_name == packed.certificate.product_name
    assert result.producer_name == "Hợp tác xã Nông nghiệp Dịch vụ Thuận An"
    assert result.certificate_number == packed.certificate.number
    # unchanged data: the same version, and a 304 for a device that holds it
    again = client.get(
        "/offline/snapshot.json", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    assert client.get(f"/offline/snapshot-delta/{document['version']}.json").status_code == 204
    assert client.get("/offline/snapshot-delta/999999.json").status_code == 404


def test_a_revoked_certificate_and_a_recall_show_up_and_a_delta_brings_them(
    client,
    packed,  # noqa: F811
    offline,
    admin,
    db_session,
):
    label = _one_label(client, packed)
    old = _snapshot(client).json
    revoked_on = datetime.now(UTC).date() - timedelta(days=1)
    revocation = client.post(
        f"{P}/certificates/{packed.certificate.id}/revocation",
        headers=admin.headers,
        json={"revoked_on": revoked_on.isoformat(), "decision": "9/QĐ-UBND", "reason": "Vi phạm"},
    )
    assert revocation.status_code == 200, revocation.json
    recall = client.post(
        f"{P}/lots/{packed.harvest}/recall",
        headers=admin.headers,
        json={"recalled_at": "2026-11-20T09:00:00+07:00", "reason": "Dư lượng vượt ngưỡng"},
    )
    assert recall.status_code == 201, recall.json
    new = _snapshot(client).json  # seen at once: the revocation told this process
    assert new["version"] > old["version"]
    cert = new["certificates"][str(packed.certificate.id)]
    assert cert["revoked_on"] == revoked_on.isoformat()
    lot = label["url"].split("/10/")[1].split("/")[0]
    assert any(key.endswith(f"/{lot}") for key in new["recalls"])
    delta = client.get(f"/offline/snapshot-delta/{old['version']}.json")
    assert delta.status_code == 200 and delta.json["from_version"] == old["version"]
    assert apply_delta(old, delta.json) == new
    now = datetime.now(UTC)
    trust_list = _trust_list(client, offline)
    result = verify(label["url"], trust_list, load_snapshot(new, trust_list, now), now=now)
    assert result.verdict == "genuine" and result.colour == "red"
    assert result.certificate_status == "revoked" and result.recalled_since is not None
    signed = db_session.query(AuditEvent).filter_by(tag="verify:snapshot:signed").count()
    assert signed >= 2


def test_the_flask_command_builds_the_snapshot(app, offline, db_session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["offline", "snapshot"])
    assert first.exit_code == 0, first.output
    assert "offline snapshot v1" in first.output
    again = runner.invoke(args=["offline", "snapshot"])
    assert "offline snapshot v1" in again.output  # nothing changed: not signed again

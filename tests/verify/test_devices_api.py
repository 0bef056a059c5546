"""Inspectors' devices: signed in once with the inspector's password, each with its own token
that may only check stamps and record inspections; the office lists and revokes them."""

from __future__ import annotations

import base64

from tests import factories
from tests.conftest import make_account
from trace_service.auth.passwords import hash_password
from trace_service.principal import Role
from trace_service.verify.models import InspectorDevice

P = "/api/v1"
PASSWORD = "một mật khẩu dài đủ 10"
FOUND = {
    "client_id": "9b1f2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
    "checked_at": "2026-12-03T09:15:00+07:00",
    "result": "passed",
}


def _basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def _sign_in(client, username, password=PASSWORD):
    return client.post(
        f"{P}/inspector-devices",
        headers=_basic(username, password),
        json={"name": "Điện thoại đội 3"},
    )


def test_a_device_token_checks_stamps_and_records_inspections_only(client, db_session):
    user = factories.UserFactory(role=Role.INSPECTOR, password_hash=hash_password(PASSWORD))
    answer = _sign_in(client, user.username)
    assert answer.status_code == 201, answer.json
    assert answer.json["name"] == "Điện thoại đội 3" and answer.json["token"]
    device = {"Authorization": f"Bearer {answer.json['token']}"}
    verify = client.post(f"{P}/labels/verify", headers=device, json={"text": "xin chào"})
    assert verify.status_code == 200 and verify.json["verdict"] == "malformed"
    assert client.post(f"{P}/inspections", headers=device, json=FOUND).status_code == 201
    assert len(client.get(f"{P}/inspections", headers=device).json["items"]) == 1
    assert len(client.get(f"{P}/inspector-devices", headers=device).json["items"]) == 1
    for refused in (
        client.get(f"{P}/producers", headers=device),
        client.post(f"{P}/auth/tokens", headers=device, json={"name": "escape"}),
        client.get(f"{P}/auth/me", headers=device),
    ):
        assert refused.status_code in (403, 404), refused.json
        assert refused.status_code == 403 or refused.json["code"] == "not_found"


def test_only_an_inspector_signs_a_device_in_with_the_right_password(client, db_session):
    producer = factories.ProducerFactory()
    seller = factories.UserFactory(
        role=Role.PRODUCER, producer_id=producer.id, password_hash=hash_password(PASSWORD)
    )
    assert _sign_in(client, seller.username).status_code == 403
    inspector = factories.UserFactory(role=Role.INSPECTOR, password_hash=hash_password(PASSWORD))
    assert _sign_in(client, inspector.username, "not the password").status_code == 401
    assert client.post(f"{P}/inspector-devices", json={"name": "x"}).status_code == 401
    assert db_session.query(InspectorDevice).count() == 0


def test_the_office_lists_and_revokes_devices(client, db_session):
    inspector = factories.UserFactory(role=Role.INSPECTOR, password_hash=hash_password(PASSWORD))
    office = make_account(db_session, Role.ADMIN)
    token = _sign_in(client, inspector.username).json["token"]
    device = {"Authorization": f"Bearer {token}"}
    listed = client.get(f"{P}/inspector-devices", headers=office.headers).json["items"]
    assert [d["user_id"] for d in listed] == [inspector.id]
    colleague = make_account(db_session, Role.INSPECTOR)
    assert client.get(f"{P}/inspector-devices", headers=colleague.headers).json["items"] == []
    revoked = client.post(
        f"{P}/inspector-devices/{listed[0]['id']}/revocation", headers=office.headers
    )
    assert revoked.status_code == 200 and revoked.json["revoked_at"] is not None
    assert client.post(f"{P}/inspections", headers=device, json=FOUND).status_code == 401

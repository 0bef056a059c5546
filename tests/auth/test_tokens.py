"""Passwords make tokens; tokens are shown once, stored hashed, expire and can be revoked."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import factories
from trace_service.auth.models import ApiToken
from trace_service.auth.passwords import check_password, hash_password
from trace_service.auth.services import authenticate_token, issue_token
from trace_service.db import utcnow
from trace_service.errors import NotAuthenticated
from trace_service.principal import Role, system_principal

PASSWORD = "cà-phê-Đắk-Mil-2025"


def _basic(username: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.fixture
def user(db_session):
    return factories.UserFactory(
        username="hoa", role=Role.INSPECTOR, password_hash=hash_password(PASSWORD)
    )


def test_a_password_gets_a_token_shown_once_and_stored_only_as_a_hash(client, user, db_session):
    response = client.post(
        "/api/v1/auth/tokens", headers=_basic("hoa", PASSWORD), json={"name": "điện thoại"}
    )
    assert response.status_code == 201, response.json
    token = response.json["token"]
    assert token.startswith("ocop_") and len(token) > 40
    stored = db_session.scalar(select(ApiToken).where(ApiToken.id == response.json["id"]))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.prefix, stored.token_hash)
    assert response.json["prefix"] == token[:11]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["username"] == "hoa"
    listed = client.get("/api/v1/auth/tokens", headers={"Authorization": f"Bearer {token}"})
    assert "token" not in listed.json[0]


@pytest.mark.parametrize("username, password", [("hoa", "wrong-password"), ("nobody", PASSWORD)])
def test_a_wrong_password_or_unknown_user_gets_the_same_401(client, user, username, password):
    response = client.post(
        "/api/v1/auth/tokens", headers=_basic(username, password), json={"name": "x"}
    )
    assert response.status_code == 401
    assert response.json["message_en"] == "Wrong username or password."
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_disabled_account_cannot_log_in_or_use_its_tokens(client, user, db_session):
    issued = issue_token(db_session, system_principal(), user, "x", ttl_days=1)
    user.is_active = False
    db_session.flush()
    assert (
        client.post(
            "/api/v1/auth/tokens", headers=_basic("hoa", PASSWORD), json={"name": "x"}
        ).status_code
        == 401
    )
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 401


def test_a_revoked_token_stops_working_at_once(client, user, db_session):
    issued = issue_token(db_session, system_principal(), user, "x", ttl_days=1)
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert (
        client.delete(f"/api/v1/auth/tokens/{issued.record.id}", headers=headers).status_code == 204
    )
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json["message_en"]


def test_an_expired_token_is_refused(db_session, user):
    issued = issue_token(db_session, system_principal(), user, "x", ttl_days=1)
    with pytest.raises(NotAuthenticated, match="expired"):
        authenticate_token(db_session, issued.token, now=utcnow() + timedelta(days=2))


def test_a_token_with_no_expiry_lasts(db_session, user):
    issued = issue_token(db_session, system_principal(), user, "x", ttl_days=0)
    assert issued.record.expires_at is None
    assert authenticate_token(db_session, issued.token, now=utcnow() + timedelta(days=3650))


def test_last_use_is_noted_without_a_write_per_request(db_session, user):
    issued = issue_token(db_session, system_principal(), user, "x", ttl_days=1)
    now = utcnow()
    authenticate_token(db_session, issued.token, now=now)
    assert issued.record.last_used_at == now
    authenticate_token(db_session, issued.token, now=now + timedelta(minutes=1))
    assert issued.record.last_used_at == now
    later = now + timedelta(hours=1)
    authenticate_token(db_session, issued.token, now=later)
    assert issued.record.last_used_at == later


def test_a_token_can_make_another_token(client, admin):
    response = client.post("/api/v1/auth/tokens", headers=admin.headers, json={"name": "ci"})
    assert response.status_code == 201


def test_password_hashes_are_argon2id_and_check_both_ways():
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert check_password(hashed, PASSWORD)
    assert not check_password(hashed, PASSWORD + "x")
    assert not check_password(None, PASSWORD)
    assert not check_password("not a hash", PASSWORD)


def test_an_admin_creates_a_producer_account_bound_to_its_producer(client, admin):
    producer = factories.ProducerFactory()
    response = client.post(
        "/api/v1/users",
        headers=admin.headers,
        json={
            "username": "htx.ducmanh",
            "role": "producer",
            "producer_id": producer.id,
            "password": "mật-khẩu-đủ-dài",
        },
    )
    assert response.status_code == 201, response.json
    assert response.json["producer_id"] == producer.id
    assert "password" not in response.json


def test_changing_a_producer_account_to_inspector_unbinds_it(client, admin, producer_account):
    response = client.patch(
        f"/api/v1/users/{producer_account.user.id}",
        headers=admin.headers,
        json={"role": "inspector"},
    )
    assert response.status_code == 200, response.json
    assert response.json["producer_id"] is None


def test_an_admin_sets_a_new_password(client, admin, user):
    response = client.patch(
        f"/api/v1/users/{user.id}", headers=admin.headers, json={"password": "một-mật-khẩu-mới"}
    )
    assert response.status_code == 200
    assert (
        client.post(
            "/api/v1/auth/tokens", headers=_basic("hoa", "một-mật-khẩu-mới"), json={"name": "x"}
        ).status_code
        == 201
    )


def test_a_taken_username_is_a_conflict(client, admin, user):
    response = client.post(
        "/api/v1/users", headers=admin.headers, json={"username": "hoa", "role": "inspector"}
    )
    assert response.status_code == 409
    assert response.json["errors"]["json"]["username"]


def test_users_can_be_filtered_by_role(client, admin, inspector):
    response = client.get("/api/v1/users?role=inspector", headers=admin.headers)
    assert {u["role"] for u in response.json["items"]} == {"inspector"}


def test_a_new_password_revokes_the_tokens_made_with_the_old_one(client, admin, user, db_session):
    issued = issue_token(db_session, system_principal(), user, "laptop", ttl_days=30)
    response = client.patch(
        f"/api/v1/users/{user.id}", headers=admin.headers, json={"password": "mật-khẩu-sau-sự-cố"}
    )
    assert response.status_code == 200
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {issued.token}"})
    assert me.status_code == 401


def test_a_token_made_with_a_token_lives_no_longer_than_it(client, db_session, user):
    short = issue_token(db_session, system_principal(), user, "short", ttl_days=2)
    response = client.post(
        "/api/v1/auth/tokens",
        json={"name": "child"},
        headers={"Authorization": f"Bearer {short.token}"},
    )
    assert response.status_code == 201
    assert response.json["expires_at"] == short.record.expires_at.isoformat()
    by_password = client.post(
        "/api/v1/auth/tokens", headers=_basic("hoa", PASSWORD), json={"name": "fresh"}
    )
    assert by_password.json["expires_at"] > short.record.expires_at.isoformat()

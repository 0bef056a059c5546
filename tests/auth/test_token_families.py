"""Issue 10, finding 2: a token made with a stolen token must die with it, and a disabled
account's tokens must stay dead when the account is enabled again.

On the main this issue started from, the first two tests failed: the child still answered
200 after its parent was revoked, and re-enabling the account brought its old token back.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.auth.conftest import PASSWORD, basic, bearer, make_user
from trace_service.audit.models import AuditEvent
from trace_service.auth.models import ApiToken
from trace_service.auth.services import issue_token, revoke_token
from trace_service.errors import NotAuthenticated
from trace_service.principal import system_principal

ME = "/api/v1/auth/me"
TOKENS = "/api/v1/auth/tokens"


@pytest.fixture
def user(db_session):
    return make_user("chi.hoa")


def _mint(client, token: str, name: str) -> dict:
    response = client.post(TOKENS, headers=bearer(token), json={"name": name})
    assert response.status_code == 201, response.json
    return response.json


def _alive(client, token: str) -> bool:
    status = client.get(ME, headers=bearer(token)).status_code
    assert status in (200, 401)
    return status == 200


def _revocations(db_session) -> list[AuditEvent]:
    return list(
        db_session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "auth:token:revoked").order_by(AuditEvent.id)
        )
    )


def test_revoking_a_token_revokes_every_token_made_from_it(client, user, db_session):
    stolen = issue_token(db_session, system_principal(), user, "laptop", ttl_days=30)
    child = _mint(client, stolen.token, "child")
    grandchild = _mint(client, child["token"], "grandchild")
    other = client.post(TOKENS, headers=basic("chi.hoa", PASSWORD), json={"name": "phone"}).json
    assert (child["parent_id"], grandchild["parent_id"]) == (stolen.record.id, child["id"])

    response = client.delete(f"{TOKENS}/{stolen.record.id}", headers=bearer(other["token"]))

    assert response.status_code == 204
    assert not _alive(client, stolen.token)
    assert not _alive(client, child["token"])
    assert not _alive(client, grandchild["token"])
    assert _alive(client, other["token"])  # another family: untouched
    [event] = _revocations(db_session)
    assert event.object_id == str(stolen.record.id)
    assert event.details["reason"] == "revoked"
    assert [t["id"] for t in event.details["tokens"]] == [
        stolen.record.id,
        child["id"],
        grandchild["id"],
    ]
    assert event.details["tokens"][2] == {
        "id": grandchild["id"],
        "prefix": grandchild["prefix"],
        "parent_id": child["id"],
    }


def test_revoking_a_token_leaves_the_ones_above_and_beside_it(client, user, db_session):
    root = issue_token(db_session, system_principal(), user, "laptop", ttl_days=30)
    left = _mint(client, root.token, "left")
    right = _mint(client, root.token, "right")
    below_left = _mint(client, left["token"], "below left")

    assert client.delete(f"{TOKENS}/{left['id']}", headers=bearer(root.token)).status_code == 204

    assert not _alive(client, left["token"])
    assert not _alive(client, below_left["token"])
    assert _alive(client, root.token)
    assert _alive(client, right["token"])
    listed = {t["id"]: t for t in client.get(TOKENS, headers=bearer(root.token)).json}
    assert listed[below_left["id"]]["revoked_at"] is not None
    assert listed[right["id"]]["revoked_at"] is None
    assert listed[right["id"]]["parent_id"] == root.record.id


def test_revoking_an_already_revoked_token_writes_nothing(client, user, db_session):
    issued = issue_token(db_session, system_principal(), user, "x", ttl_days=1)
    actor = system_principal()
    revoke_token(db_session, actor, issued.record.id)
    revoke_token(db_session, actor, issued.record.id)
    assert len(_revocations(db_session)) == 1


def test_disabling_an_account_revokes_its_tokens_for_good(client, admin, user, db_session):
    old = issue_token(db_session, system_principal(), user, "old", ttl_days=30)
    child = _mint(client, old.token, "child")

    for active in (False, True):
        response = client.patch(
            f"/api/v1/users/{user.id}", headers=admin.headers, json={"is_active": active}
        )
        assert response.status_code == 200, response.json

    assert not _alive(client, old.token)
    assert not _alive(client, child["token"])
    [event] = _revocations(db_session)
    assert (event.object_type, event.object_id) == ("user", str(user.id))
    assert event.details["reason"] == "user_disabled"
    assert {t["id"] for t in event.details["tokens"]} == {old.record.id, child["id"]}
    # The account works again, with new tokens only.
    fresh = client.post(TOKENS, headers=basic("chi.hoa", PASSWORD), json={"name": "new"})
    assert fresh.status_code == 201
    assert _alive(client, fresh.json["token"])


def test_enabling_an_account_revokes_tokens_left_from_before_the_rule(
    client, admin, user, db_session
):
    """An account disabled before this rule still had live tokens (refused only while the
    account was disabled); enabling it must not bring them back either."""
    old = issue_token(db_session, system_principal(), user, "old", ttl_days=30)
    user.is_active = False
    db_session.flush()

    response = client.patch(
        f"/api/v1/users/{user.id}", headers=admin.headers, json={"is_active": True}
    )

    assert response.status_code == 200
    assert not _alive(client, old.token)
    assert _revocations(db_session)[-1].details["reason"] == "user_enabled"


def test_a_new_password_revokes_every_token_and_says_why(client, admin, user, db_session):
    old = issue_token(db_session, system_principal(), user, "old", ttl_days=30)
    response = client.patch(
        f"/api/v1/users/{user.id}", headers=admin.headers, json={"password": "mật-khẩu-sau-sự-cố"}
    )
    assert response.status_code == 200
    assert not _alive(client, old.token)
    assert _revocations(db_session)[-1].details["reason"] == "password_changed"


def test_no_token_is_made_with_a_revoked_token_or_for_a_disabled_account(db_session, user):
    """What a request that authenticated just before a revocation meets when it gets the
    user's lock after it."""
    parent = issue_token(db_session, system_principal(), user, "parent", ttl_days=30)
    revoke_token(db_session, system_principal(), parent.record.id)
    with pytest.raises(NotAuthenticated, match="revoked"):
        issue_token(db_session, system_principal(), user, "child", 30, parent=parent.record)
    user.is_active = False
    db_session.flush()
    with pytest.raises(NotAuthenticated, match="disabled"):
        issue_token(db_session, system_principal(), user, "x", ttl_days=30)


def test_a_child_lives_no_longer_than_its_parent(db_session, user):
    parent = issue_token(db_session, system_principal(), user, "short", ttl_days=2)
    child = issue_token(db_session, system_principal(), user, "c", 365, parent=parent.record)
    grandchild = issue_token(db_session, system_principal(), user, "g", 0, parent=child.record)
    assert child.record.expires_at == grandchild.record.expires_at == parent.record.expires_at
    assert grandchild.record.family_id == parent.record.id


def test_the_command_line_gives_a_disabled_account_no_token(app, db_session, user):
    user.is_active = False
    db_session.flush()
    result = app.test_cli_runner().invoke(args=["users", "token", "chi.hoa"])
    assert result.exit_code != 0
    assert "This account is disabled." in result.output
    assert db_session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id)) is None

"""Accounts and personal API tokens."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from sqlalchemy import select

from trace_service.api import ApiBlueprint, ErrorSchema, page_schema, paginate, patch_schema
from trace_service.auth import services, signin
from trace_service.auth.access import ALL_ROLES, current_principal, require_roles
from trace_service.auth.models import ApiToken, User
from trace_service.auth.principal import Role
from trace_service.auth.schemas import (
    IssuedTokenSchema,
    TokenCreateSchema,
    TokenSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from trace_service.db import get_session
from trace_service.errors import NotAuthenticated
from trace_service.ratelimit import client_address

blp = ApiBlueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and API tokens")


@blp.route("/auth/me")
@require_roles(*ALL_ROLES)
@blp.response(200, UserSchema)
def me() -> User:
    """The account making the request."""
    return services.get_user(get_session(), current_principal().user_id)


@blp.route("/auth/tokens", methods=["POST"])
@blp.arguments(TokenCreateSchema)
@blp.response(201, IssuedTokenSchema)
@blp.alt_response(
    429,
    schema=ErrorSchema,
    description="Too many failed sign-ins for this account or address; see Retry-After",
    headers={"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
)
@blp.doc(security=[{"passwordAuth": []}, {"bearerAuth": []}])
def create_token(data: dict[str, Any]) -> dict[str, Any]:
    """Create a personal API token; authenticate with your password (HTTP Basic) or a token.

    The token is in the response once and never again: only its hash is kept. A token made
    with a token is revoked with it. Wrong passwords are throttled: after 10 for an account
    within 15 minutes it answers 429 with Retry-After, the wait doubling with each further
    failure up to an hour.
    """
    principal = current_principal()
    auth = request.authorization
    parent = None
    if principal.is_anonymous and auth is not None and auth.type == "basic":
        # Before the request's session exists: a failure is audited in a unit of work of its
        # own, which on SQLite must not wait for this request's write lock.
        user_id = signin.sign_in_with_password(
            auth.username or "", auth.password or "", client_address()
        )
        session = get_session()
        user = services.get_user(session, user_id)
        principal = services.principal_of(user)
    elif principal.is_anonymous:
        raise NotAuthenticated(
            "Đăng nhập bằng tên và mật khẩu (HTTP Basic) để tạo mã truy cập.",
            "Authenticate with username and password (HTTP Basic) to create a token.",
        )
    else:
        session = get_session()
        user = services.get_user(session, principal.user_id)
        parent = session.get(ApiToken, g.token_id)
    issued = services.issue_token(
        session, principal, user, data["name"], current_app.config["TOKEN_TTL_DAYS"], parent=parent
    )
    record = issued.record
    return {**{name: getattr(record, name) for name in TokenSchema().fields}, "token": issued.token}


@blp.route("/auth/tokens")
@require_roles(*ALL_ROLES)
@blp.response(200, TokenSchema(many=True))
def list_tokens() -> list[ApiToken]:
    """Your tokens (never their secrets)."""
    return services.list_tokens(get_session(), current_principal().user_id)


@blp.route("/auth/tokens/<id:token_id>", methods=["DELETE"])
@require_roles(*ALL_ROLES)
@blp.response(204)
def revoke_token(token_id: int) -> None:
    """Revoke one of your tokens and every token made from it (an admin may revoke anyone's)."""
    services.revoke_token(get_session(), current_principal(), token_id)


@blp.route("/users")
@require_roles(Role.ADMIN)
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, page_schema(UserSchema))
def list_users(args: dict[str, Any]) -> dict[str, Any]:
    """List accounts."""
    stmt = select(User).order_by(User.id)
    if "role" in args:
        stmt = stmt.where(User.role == args["role"])
    if "producer_id" in args:
        stmt = stmt.where(User.producer_id == args["producer_id"])
    return paginate(get_session(), stmt, args)


@blp.route("/users", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(UserSchema)
@blp.response(201, UserSchema)
def create_user(data: dict[str, Any]) -> User:
    """Create an account; a producer account names its producer."""
    return services.create_user(get_session(), current_principal(), data)


@blp.route("/users/<id:user_id>")
@require_roles(Role.ADMIN)
@blp.response(200, UserSchema)
def get_user(user_id: int) -> User:
    """One account."""
    return services.get_user(get_session(), user_id)


@blp.route("/users/<id:user_id>", methods=["PATCH"])
@require_roles(Role.ADMIN)
@blp.arguments(patch_schema(UserUpdateSchema))
@blp.response(200, UserSchema)
def update_user(data: dict[str, Any], user_id: int) -> User:
    """Change an account: name, e-mail, role, producer, active, password."""
    session = get_session()
    return services.update_user(
        session, current_principal(), services.get_user(session, user_id), data
    )

"""Accounts and personal API tokens."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request

from trace_service.api import (
    API_PREFIX,
    ApiBlueprint,
    ErrorSchema,
    page_schema,
    paginate,
    patch_schema,
)
from trace_service.auth import services, signin
from trace_service.auth.models import ApiToken, User
from trace_service.auth.schemas import (
    IssuedTokenSchema,
    TokenCreateSchema,
    TokenSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from trace_service.db import get_session
from trace_service.principal import ALL_ROLES, Role, current_principal, require_roles
from trace_service.ratelimit import client_address

blp = ApiBlueprint("auth", __name__, url_prefix=API_PREFIX, description="Accounts and API tokens")


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
def create_token(data: dict[str, Any]) -> services.IssuedToken:
    """Create a personal API token; authenticate with your password (HTTP Basic) or a token.

    The token is in the response once and never again: only its hash is kept. A token made
    with a token is revoked with it. Wrong passwords are throttled: after 10 for an account
    within 15 minutes it answers 429 with Retry-After, the wait doubling with each further
    failure up to an hour.
    """
    auth = request.authorization
    basic = auth is not None and auth.type == "basic"
    return signin.issue_requested_token(
        current_principal(),
        (auth.username or "", auth.password or "") if auth is not None and basic else None,
        g.get("token_id"),
        client_address(),
        data["name"],
        current_app.config["TOKEN_TTL_DAYS"],
    )


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
    return paginate(get_session(), services.user_query(args), args)


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

"""Who the request is from, and which roles may call a route.

Routes declare their roles with ``@require_roles``; services then apply the scoping rule
(a producer only sees and changes what belongs to its own producer).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g, request

from trace_service.api import API_PREFIX
from trace_service.auth.principal import ANONYMOUS, Principal, Role
from trace_service.auth.services import authenticate_token, principal_of
from trace_service.db import get_session
from trace_service.errors import Forbidden, NotAuthenticated

F = TypeVar("F", bound=Callable[..., Any])


def current_principal() -> Principal:
    return g.get("principal", ANONYMOUS)


def _load_principal() -> None:
    g.principal = ANONYMOUS
    if not request.path.startswith(API_PREFIX):
        return
    header = request.headers.get("Authorization", "")
    if not header:
        return
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        token = authenticate_token(get_session(), credentials.strip())
        g.principal = principal_of(token.user)
        g.token_id = token.id
    elif scheme.lower() != "basic":  # Basic is read only by the token-creating route
        raise NotAuthenticated(
            "Chỉ chấp nhận 'Authorization: Bearer <mã truy cập>'.",
            "Use 'Authorization: Bearer <token>'.",
        )


def require_roles(*roles: Role) -> Callable[[F], F]:
    """Let only these roles call the route: 401 for the anonymous, 403 for other roles."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(r.value for r in allowed))

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal.is_anonymous:
                raise NotAuthenticated(
                    "Cần mã truy cập API (Authorization: Bearer …).",
                    "Authentication required (Authorization: Bearer …).",
                )
            if principal.role not in allowed:
                raise Forbidden(
                    "Vai trò của bạn không được phép thực hiện thao tác này.",
                    f"Your role ({principal.role}) may not do this; allowed: {names}.",
                )
            return view(*args, **kwargs)

        wrapper.__doc__ = f"{(view.__doc__ or '').strip()}\n\nRoles: {names}."
        wrapper.allowed_roles = allowed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


ALL_ROLES = (Role.ADMIN, Role.INSPECTOR, Role.PRODUCER)


def init_access(app: Flask) -> None:
    app.before_request(_load_principal)

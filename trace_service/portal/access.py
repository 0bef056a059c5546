"""Which pages a signed-in account may open, and where each role starts."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import redirect, request, url_for

from trace_service.errors import Forbidden
from trace_service.principal import Principal, Role, current_principal

F = TypeVar("F", bound=Callable[..., Any])


def page_roles(*roles: Role) -> Callable[[F], F]:
    """Only these roles: the anonymous are sent to sign in (and back), others get 403."""
    allowed = frozenset(roles)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal.is_anonymous:
                return redirect(url_for("account.sign_in", next=request.full_path.rstrip("?")))
            if principal.role not in allowed:
                raise Forbidden(
                    "Tài khoản của bạn không mở được trang này.",
                    "Your account may not open this page.",
                )
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def home_url(principal: Principal) -> str:
    if principal.role is Role.PRODUCER:
        return url_for("producer.home")
    if principal.role is Role.ADMIN:
        return url_for("office.home")
    return url_for("account.inspector_home")


def safe_next(target: str | None) -> str | None:
    """A ``next`` page on this site only (a path), never another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target

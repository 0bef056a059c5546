"""Who is acting, and which roles may call a route: the bottom of the layers.

A principal is the authenticated user of a request, a CLI operator or scheduled job, or the
anonymous public. Everything above (the audit log, auth, the domain packages, the pages)
knows an actor only as a ``Principal``; how one is established from a token or a password
is ``auth``'s business (``auth/access.py`` sets it on each request).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar

from flask import g

from trace_service.errors import Forbidden, NotAuthenticated

F = TypeVar("F", bound=Callable[..., Any])


class Role(StrEnum):
    ADMIN = "admin"  # the province OCOP office
    PRODUCER = "producer"  # bound to one producer (chủ thể OCOP)
    INSPECTOR = "inspector"  # reads everything, records inspections


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    name: str
    role: Role | None  # None: anonymous
    producer_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role is None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_producer(self) -> bool:
        return self.role is Role.PRODUCER

    def owns(self, producer_id: int | None) -> bool:
        """Only for ``auth/scoping.py``: everything else asks the scoping layer."""
        return self.is_producer and producer_id is not None and producer_id == self.producer_id


ANONYMOUS = Principal(user_id=None, name="anonymous", role=None)
ALL_ROLES = (Role.ADMIN, Role.INSPECTOR, Role.PRODUCER)


def system_principal(name: str = "system") -> Principal:
    """The actor for CLI commands and scheduled jobs: acts with the province office's rights."""
    return Principal(user_id=None, name=name, role=Role.ADMIN)


def current_principal() -> Principal:
    """The request's principal (set by ``auth.access``); anonymous outside a request's."""
    principal: Principal = g.get("principal", ANONYMOUS)
    return principal


def require_roles(*roles: Role) -> Callable[[F], F]:
    """Let only these roles call the route: 401 for the anonymous, 403 for other roles.
    What a producer may see of what it calls is the scoping layer's (``auth/scoping.py``)."""
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

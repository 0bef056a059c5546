"""Who the request is from: its bearer token, read before every API request.

Routes declare their roles with ``principal.require_roles``; services then apply the scoping
rule (``auth/scoping.py``: a producer only sees and changes what belongs to its own producer).
"""

from __future__ import annotations

from flask import Flask, g, request

from trace_service.api import API_PREFIX
from trace_service.auth.services import authenticate_bearer
from trace_service.db import get_session
from trace_service.errors import NotAuthenticated
from trace_service.principal import ANONYMOUS


def _load_principal() -> None:
    g.principal = ANONYMOUS
    if not request.path.startswith(API_PREFIX):
        return
    header = request.headers.get("Authorization", "")
    if not header:
        return
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        g.principal, g.token_id = authenticate_bearer(get_session(), credentials.strip())
    elif scheme.lower() != "basic":  # Basic is read only by the token-creating route
        raise NotAuthenticated(
            "Chỉ chấp nhận 'Authorization: Bearer <mã truy cập>'.",
            "Use 'Authorization: Bearer <token>'.",
        )


def init_access(app: Flask) -> None:
    app.before_request(_load_principal)

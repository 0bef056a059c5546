"""Sessions and form tokens of the web pages.

- The session cookie is signed with ``OCOP_SECRET_KEY`` (or a key made once in
  ``instance/secret-key``), HttpOnly, SameSite=Lax, and Secure whenever the request came over
  HTTPS (as the socket or, with ``OCOP_TRUSTED_PROXIES``, the proxy says).
- Every form posted to a page carries a CSRF token (Flask-WTF); the API is exempt (it takes
  bearer tokens, which a browser never sends on its own), and so is a public form that
  declares why with ``@csrf_exempt("…")``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect

from trace_service.api import API_PREFIX
from trace_service.errors import error_response

F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_HOURS = 12  # a signed-in page session lasts a working day


class _SessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or bool(app.config.get("SESSION_COOKIE_SECURE"))


def csrf_exempt(reason: str) -> Callable[[F], F]:
    """A public form that needs no CSRF token; ``reason`` says why (no signed-in state a
    forged post could borrow)."""

    def mark(view: F) -> F:
        view.csrf_exempt_reason = reason  # type: ignore[attr-defined]
        return view

    return mark


def _protect() -> None:
    if request.method not in UNSAFE_METHODS or request.path.startswith(API_PREFIX):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "csrf_exempt_reason", None):
        return
    csrf.protect()


def _csrf_refused(_error: CSRFError) -> Response:
    return error_response(
        400,
        "csrf_failed",
        "Biểu mẫu đã hết hạn hoặc không hợp lệ; hãy tải lại trang rồi gửi lại.",
        "The form has expired or is not valid; reload the page and send it again.",
    )


def _secret_key(app: Flask) -> str:
    configured: str = app.config["SECRET_KEY"] or ""
    if configured:
        return configured
    path = Path(app.instance_path) / "secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # made once, by whichever process comes first; never overwritten
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def init_security(app: Flask) -> None:
    app.secret_key = _secret_key(app)
    app.session_interface = _SessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="ocop_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        WTF_CSRF_CHECK_DEFAULT=False,  # _protect decides, below
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
    )
    csrf.init_app(app)
    app.before_request(_protect)
    app.register_error_handler(CSRFError, _csrf_refused)

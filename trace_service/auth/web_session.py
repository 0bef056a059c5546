"""Who a web page's request is from: the account signed in on this browser (the session
cookie), as the API's requests are from their bearer token.

The session holds the account id and a fingerprint of its password hash, so that changing
the password (or disabling the account) ends every session signed in with the old one, on
every browser, with nothing to store or sweep.
"""

from __future__ import annotations

import hashlib

from flask import Flask, g, request, session
from sqlalchemy import select

from trace_service.api import API_PREFIX
from trace_service.auth.models import User
from trace_service.auth.services import principal_of
from trace_service.db import session_scope
from trace_service.principal import Principal

USER_KEY = "uid"
FINGERPRINT_KEY = "pwf"


def _fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:32]


def sign_in_session(user: User) -> None:
    """Bind this browser's session to ``user`` (after the password was checked)."""
    session.clear()  # a new session id for a new sign-in: no fixation
    session[USER_KEY] = user.id
    session[FINGERPRINT_KEY] = _fingerprint(user.password_hash)
    session.permanent = True


def sign_out_session() -> None:
    session.clear()


def session_principal() -> Principal | None:
    """The signed-in account of this browser, if its session is still good."""
    user_id = session.get(USER_KEY)
    if not isinstance(user_id, int):
        return None
    # A session of its own, read only: a page that writes must be free to sign in (the
    # throttle's audit rows) before its own unit of work takes SQLite's write lock.
    with session_scope(writes=False) as db:
        user = db.scalar(select(User).where(User.id == user_id))
        good = (
            user is not None
            and user.is_active
            and session.get(FINGERPRINT_KEY) == _fingerprint(user.password_hash)
        )
        principal = principal_of(user) if good and user is not None else None
    if principal is None:
        session.clear()
    return principal


def _load() -> None:
    if request.path.startswith(API_PREFIX) or request.endpoint in (None, "web.static"):
        return
    principal = session_principal()
    if principal is not None:
        g.principal = principal


def init_web_sessions(app: Flask) -> None:
    app.before_request(_load)

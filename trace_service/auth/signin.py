"""Password sign-ins: throttled per account and per client address, every failure audited.

Every place that checks a password (HTTP Basic on ``POST /api/v1/auth/tokens``, the web
sign-in page) goes through these functions, so one throttle covers them all:

    check_sign_in_allowed(username, client)          # 429 before any Argon2 work
    ... check the password ...
    record_sign_in_failure(username, client, reason=…, user_id=…)   # or
    record_sign_in_success(username)

``sign_in_with_password`` does all of it. The rules (settings ``OCOP_SIGN_IN_*``):

- An account with ``SIGN_IN_MAX_FAILURES`` (10) failures within ``SIGN_IN_WINDOW_SECONDS``
  (15 min) is held for ``SIGN_IN_FIRST_WAIT_SECONDS`` (60 s); every further failure, once a
  wait is over, doubles the wait, up to ``SIGN_IN_MAX_WAIT_SECONDS`` (1 h). A success, or a
  window's length with no failure after the last wait, resets it: a back-off, never a lock.
- A client address with ``SIGN_IN_MAX_FAILURES_PER_CLIENT`` (50) failures within the window
  is refused until the oldest of them leaves the window (any account).
- Unknown usernames are counted like real ones, so a 429 tells nothing about who exists.

Counts live in :mod:`trace_service.ratelimit` (Redis when configured). Failures are written
to the audit log in a unit of work of their own, committed although the request answers
401; call these before the request's own session is opened (on SQLite a request that
writes holds the database's write lock from its first query, and the failure's own unit of
work would wait for it).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from trace_service.audit.services import record_event
from trace_service.audit.tags import Tag
from trace_service.auth import services
from trace_service.auth.models import ApiToken, User
from trace_service.auth.passwords import check_password
from trace_service.db import get_session, session_scope
from trace_service.errors import NotAuthenticated
from trace_service.principal import ANONYMOUS, Principal
from trace_service.ratelimit import (
    Rate,
    RateLimits,
    TooManyRequests,
    client_key,
    rate_limits,
    wait_words,
)

# Enough of a mistyped or hostile username for the audit log, never an unbounded string.
_SHOWN = 100
# The longest username the users table holds (a longer one cannot exist: not looked up).
_USERNAME_MAX = 64


def _shown(text: str) -> str:
    """``text`` for the audit log: bounded, and without NUL or other control characters
    (PostgreSQL's JSONB refuses NUL; a log reader should not meet the others)."""
    return "".join(c if c.isprintable() else "\ufffd" for c in text[:_SHOWN])


@dataclass(frozen=True)
class SignInPolicy:
    max_failures: int
    max_client_failures: int
    window_seconds: int
    first_wait_seconds: int
    max_wait_seconds: int

    @classmethod
    def from_config(cls, config: Any) -> SignInPolicy:
        return cls(
            max_failures=config["SIGN_IN_MAX_FAILURES"],
            max_client_failures=config["SIGN_IN_MAX_FAILURES_PER_CLIENT"],
            window_seconds=config["SIGN_IN_WINDOW_SECONDS"],
            first_wait_seconds=config["SIGN_IN_FIRST_WAIT_SECONDS"],
            max_wait_seconds=config["SIGN_IN_MAX_WAIT_SECONDS"],
        )

    @property
    def account_rate(self) -> Rate:
        return Rate(self.max_failures, self.window_seconds)

    @property
    def client_rate(self) -> Rate:
        return Rate(self.max_client_failures, self.window_seconds)

    def wait(self, strikes: int) -> int:
        """The wait after the ``strikes``-th failure at or over the limit: doubling, capped."""
        return min(self.first_wait_seconds * 2 ** min(strikes - 1, 32), self.max_wait_seconds)


def _account(username: str) -> str:
    # Hashed: the key stays short and the same for "Admin" and "admin " (one account).
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _keys(username: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    account = _account(username)
    return (
        ("sign-in", "failures", account),
        ("sign-in", "strikes", account),
        ("sign-in", "held-until-ms", account),
    )


def _client(address: str) -> tuple[str, ...]:
    return ("sign-in", "client", client_key(address))


def _context() -> tuple[RateLimits, SignInPolicy]:
    return rate_limits(), SignInPolicy.from_config(current_app.config)


def _throttled(seconds: int) -> TooManyRequests:
    vi, en = wait_words(seconds)
    return TooManyRequests(
        f"Đăng nhập sai quá nhiều lần; vui lòng thử lại sau {vi}.",
        f"Too many failed sign-ins; try again in {en}.",
        retry_after=seconds,
    )


def check_sign_in_allowed(username: str, client: str) -> None:
    """Raise 429 (with the wait) if this account or this client address must wait now."""
    limits, policy = _context()
    _failures, _strikes, held_key = _keys(username)
    held_until = limits.get(*held_key) / 1000  # stored in milliseconds: numbers are whole
    now = limits.clock()
    if held_until > now:
        raise _throttled(math.ceil(held_until - now))
    if not limits.test(policy.client_rate, *_client(client)):
        raise _throttled(limits.retry_after(policy.client_rate, *_client(client)))


def record_sign_in_failure(
    username: str, client: str, *, reason: str, user_id: int | None = None
) -> int | None:
    """Count a failed sign-in and audit it (committed on its own); returns the wait it
    imposed on the account, if it did."""
    limits, policy = _context()
    failures_key, strikes_key, held_key = _keys(username)
    limits.hit(policy.client_rate, *_client(client))
    limits.hit(policy.account_rate, *failures_key)
    strikes = limits.get(*strikes_key)
    wait = None
    if strikes or not limits.test(policy.account_rate, *failures_key):
        strikes += 1
        wait = policy.wait(strikes)
        # Strikes are forgotten a window's length after the wait they caused is over.
        limits.put(strikes, wait + policy.window_seconds, *strikes_key)
        limits.put(int((limits.clock() + wait) * 1000), wait + 1, *held_key)
    details: dict[str, Any] = {
        "username": _shown(username),
        "client": _shown(client),
        "reason": reason,
    }
    if wait is not None:
        details["retry_after"] = wait
    with session_scope() as session:
        record_event(session, ANONYMOUS, Tag.SIGN_IN_FAILED, "user", user_id, details)
    return wait


def record_sign_in_success(username: str) -> None:
    """A right password: the account's failures and back-off are forgotten (the client
    address's are not, or one good account would let an address guess others forever)."""
    limits, policy = _context()
    failures_key, strikes_key, held_key = _keys(username)
    limits.clear(policy.account_rate, *failures_key)
    limits.delete(*strikes_key)
    limits.delete(*held_key)


def sign_in_with_password(username: str, password: str, client: str) -> int:
    """The id of the active account with this username and password; 429 while throttled
    (the password is then not checked), 401 otherwise, each failure counted and audited."""
    check_sign_in_allowed(username, client)
    row = None
    if len(username) <= _USERNAME_MAX and "\x00" not in username:  # else no such account
        with session_scope(writes=False) as session:
            row = session.execute(
                select(User.id, User.password_hash, User.is_active).where(User.username == username)
            ).one_or_none()
    ok = check_password(row.password_hash if row else None, password)
    if row is None or not ok or not row.is_active:
        reason = "unknown_user" if row is None else "wrong_password" if not ok else "disabled"
        record_sign_in_failure(
            username, client, reason=reason, user_id=row.id if row is not None else None
        )
        raise NotAuthenticated("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password.")
    record_sign_in_success(username)
    return row.id


def issue_requested_token(
    principal: Principal,
    password: tuple[str, str] | None,
    token_id: int | None,
    client: str,
    name: str,
    ttl_days: int,
) -> services.IssuedToken:
    """A new token for whoever asks for one: an anonymous request signs in with its
    ``password`` (username, password) first, before the request's session is opened (a
    failure is audited in a unit of work of its own, which on SQLite must not wait for this
    request's write lock); a request with a token makes a child of that token."""
    parent = None
    if principal.is_anonymous and password is not None:
        user_id = sign_in_with_password(password[0], password[1], client)
        session = get_session()
        user = services.get_user(session, user_id)
        principal = services.principal_of(user)
    elif principal.is_anonymous or principal.user_id is None:
        raise NotAuthenticated(
            "Đăng nhập bằng tên và mật khẩu (HTTP Basic) để tạo mã truy cập.",
            "Authenticate with username and password (HTTP Basic) to create a token.",
        )
    else:
        session = get_session()
        user = services.get_user(session, principal.user_id)
        parent = session.get(ApiToken, token_id) if token_id is not None else None
    return services.issue_token(session, principal, user, name, ttl_days, parent=parent)

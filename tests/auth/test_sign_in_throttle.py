"""Issue 10, finding 3: password sign-ins are audited and throttled, per account (back-off)
and per client address, counted in Redis when one is configured.

On the main this issue started from, ``test_ten_wrong_passwords_make_even_the_right_one_wait``
failed (the 11th attempt answered 201) and no failed sign-in was in the audit log.
"""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest
import redis
from flask import request
from sqlalchemy import create_engine, func, select

from tests.auth.conftest import PASSWORD, basic, make_user
from tests.databases import fresh_database
from trace_service import create_app
from trace_service.audit.models import AuditEvent
from trace_service.auth import signin
from trace_service.auth.services import create_user
from trace_service.config import ConfigError, load_settings
from trace_service.db import get_db, session_scope
from trace_service.migrate import upgrade
from trace_service.principal import system_principal
from trace_service.ratelimit import RateLimits, client_key, limit, rate_limits

TOKENS = "/api/v1/auth/tokens"
FAILED = "auth:sign_in:failed"


def _sign_in(client, username: str, password: str, address: str = "198.51.100.7", **headers):
    return client.post(
        TOKENS,
        headers={**basic(username, password), **headers},
        json={"name": "thử"},
        environ_base={"REMOTE_ADDR": address},
    )


def _fail(client, username: str, times: int, address: str = "198.51.100.7") -> None:
    for _ in range(times):
        response = _sign_in(client, username, "sai-rồi-nhé", address)
        assert response.status_code == 401, response.json


def _failures(db_session) -> list[AuditEvent]:
    return list(
        db_session.scalars(
            select(AuditEvent).where(AuditEvent.tag == FAILED).order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """Every Argon2 check the sign-in makes (the real check runs)."""
    seen: list[str] = []
    real = signin.check_password

    def counting(stored_hash, password):
        seen.append(password)
        return real(stored_hash, password)

    monkeypatch.setattr(signin, "check_password", counting)
    return seen


def test_ten_wrong_passwords_make_even_the_right_one_wait(client, db_session, password_checks):
    make_user("chi.lan")
    _fail(client, "chi.lan", 10)

    response = _sign_in(client, "chi.lan", PASSWORD)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    assert response.json == {
        "status": 429,
        "code": "too_many_requests",
        "message": "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau 60 giây.",
        "message_en": "Too many failed sign-ins; try again in 60 seconds.",
    }
    assert len(password_checks) == 10  # the throttled attempt spent no Argon2 work


def test_the_wait_doubles_up_to_an_hour_and_a_success_resets_it(
    app, client, db_session, monkeypatch
):
    make_user("chi.lan")
    now = [float(int(time.time()))]  # whole seconds: waits read back exactly
    monkeypatch.setattr(rate_limits(app), "clock", lambda: now[0])
    _fail(client, "chi.lan", 10)
    waits = []
    for _ in range(8):
        response = _sign_in(client, "chi.lan", PASSWORD)
        assert response.status_code == 429
        waits.append(int(response.headers["Retry-After"]))
        now[0] += waits[-1] / 2
        half = _sign_in(client, "chi.lan", PASSWORD)
        assert half.status_code == 429
        assert int(half.headers["Retry-After"]) == waits[-1] / 2
        now[0] += waits[-1] / 2
        _fail(client, "chi.lan", 1)  # the wait is over: one more wrong password
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert "60 phút" in _sign_in(client, "chi.lan", PASSWORD).json["message"]

    now[0] += 3600
    assert _sign_in(client, "chi.lan", PASSWORD).status_code == 201
    _fail(client, "chi.lan", 9)  # counting starts again from nothing
    assert _sign_in(client, "chi.lan", PASSWORD).status_code == 201


def test_failed_sign_ins_are_audited_without_the_password_and_the_chain_verifies(
    client, db_session, admin
):
    user = make_user("chi.lan")
    make_user("anh.ba", is_active=False)
    _fail(client, "chi.lan", 10)
    _fail(client, "khong.co.ai", 1, address="2001:db8::7")
    assert _sign_in(client, "anh.ba", PASSWORD).status_code == 401

    events = _failures(db_session)

    assert [e.details["reason"] for e in events] == [
        *["wrong_password"] * 10,
        "unknown_user",
        "disabled",
    ]
    assert {e.object_id for e in events[:10]} == {str(user.id)}
    assert events[10].object_id is None
    assert events[0].details == {
        "username": "chi.lan",
        "client": "198.51.100.7",
        "reason": "wrong_password",
    }
    assert events[9].details["retry_after"] == 60  # the tenth started the wait
    assert events[10].details["client"] == "2001:db8::7"
    assert all(e.actor == "anonymous" and e.actor_user_id is None for e in events)
    text = json.dumps([e.details for e in events], ensure_ascii=False)
    assert "sai-rồi-nhé" not in text and PASSWORD not in text
    verify = client.get("/api/v1/audit-events/verify", headers=admin.headers)
    assert verify.json["intact"] is True


def test_unknown_usernames_are_throttled_like_real_ones(make_app, db_session):
    """A 429 must not tell who has an account; "CHI.LAN" is the same account as "chi.lan"."""
    client = make_app(SIGN_IN_MAX_FAILURES=2).test_client()
    make_user("chi.lan")
    _fail(client, "khong.co.ai", 2)
    _fail(client, "CHI.LAN", 1)
    _fail(client, "chi.lan", 1)
    assert _sign_in(client, "khong.co.ai", PASSWORD).status_code == 429
    assert _sign_in(client, "chi.lan", PASSWORD).status_code == 429


def test_one_address_may_fail_only_so_often_whatever_the_accounts(make_app, db_session):
    client = make_app(SIGN_IN_MAX_FAILURES_PER_CLIENT=5).test_client()
    for n in range(6):
        make_user(f"nguoi.{n}")
    for n in range(5):
        _fail(client, f"nguoi.{n}", 1, address="203.0.113.5")

    refused = _sign_in(client, "nguoi.5", PASSWORD, address="203.0.113.5")

    assert refused.status_code == 429
    assert 890 <= int(refused.headers["Retry-After"]) <= 900
    assert _sign_in(client, "nguoi.5", PASSWORD, address="203.0.113.6").status_code == 201


def test_failures_are_committed_although_the_request_answers_401(backend, tmp_path):
    """On a database of its own (no test transaction around it): the failure's own unit of
    work is committed, and on SQLite it does not wait for the request's write lock."""
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "TESTING": True, "REDIS_URL": ""})
        try:
            with app.app_context(), session_scope() as session:
                data = {"username": "chi.lan", "role": "inspector", "password": PASSWORD}
                create_user(session, system_principal("test"), data)
            started = time.monotonic()
            response = _sign_in(app.test_client(), "chi.lan", "sai-rồi-nhé")
            assert response.status_code == 401
            assert time.monotonic() - started < 5  # not SQLite's 15 s busy wait
            assert _sign_in(app.test_client(), "chi.lan", PASSWORD).status_code == 201
        finally:
            get_db(app).engine.dispose()
        engine = create_engine(url)
        with engine.connect() as connection:
            count = connection.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.tag == FAILED)
            )
        engine.dispose()
    assert count == 1


def test_two_workers_sharing_redis_share_the_counts(make_app, db_session, redis_url, key_prefix):
    first, second = (make_app(REDIS_URL=redis_url, REDIS_KEY_PREFIX=key_prefix) for _ in range(2))
    assert rate_limits(first).shared and rate_limits(second).shared
    make_user("chi.lan")
    _fail(first.test_client(), "chi.lan", 10)

    response = _sign_in(second.test_client(), "chi.lan", PASSWORD)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    keys = redis.Redis.from_url(redis_url).keys(f"{key_prefix}:*")
    assert keys, "the counts are in Redis, under this test's prefix"


def test_a_redis_that_cannot_be_reached_falls_back_to_per_process_counts(
    make_app, db_session, caplog
):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{port}/0", SIGN_IN_MAX_FAILURES=3)
    client = app.test_client()
    make_user("chi.lan")
    with caplog.at_level(logging.WARNING, logger="trace_service.ratelimit"):
        _fail(client, "chi.lan", 3)
        response = _sign_in(client, "chi.lan", PASSWORD)
    assert response.status_code == 429
    assert not rate_limits(app).shared
    warnings = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(warnings) == 1  # once per interval, not once per request


def _whoami(app):
    @app.get("/_whoami")
    def whoami():
        return {"address": request.remote_addr, "scheme": request.scheme}

    return app


def test_forwarded_headers_are_ignored_unless_proxies_are_trusted(make_app, db_session):
    client = _whoami(make_app(SIGN_IN_MAX_FAILURES_PER_CLIENT=3)).test_client()
    make_user("chi.lan")
    spoofed = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    seen = client.get("/_whoami", headers=spoofed, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert seen.json == {"address": "192.0.2.1", "scheme": "http"}
    for n in range(3):  # a new forged address each time changes nothing
        response = _sign_in(
            client, "chi.lan", "sai", "192.0.2.1", **{"X-Forwarded-For": f"203.0.113.{n}"}
        )
        assert response.status_code == 401
    assert _sign_in(client, "chi.lan", PASSWORD, "192.0.2.1").status_code == 429
    assert {e.details["client"] for e in _failures(db_session)} == {"192.0.2.1"}


def test_a_trusted_proxy_gives_the_client_address_and_scheme(make_app, db_session):
    client = _whoami(make_app(TRUSTED_PROXIES=1, SIGN_IN_MAX_FAILURES_PER_CLIENT=3)).test_client()
    make_user("chi.lan")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    forwarded = {"X-Forwarded-For": "1.2.3.4, 203.0.113.9", "X-Forwarded-Proto": "https"}
    seen = client.get("/_whoami", headers=forwarded, environ_base=proxy)
    assert seen.json == {"address": "203.0.113.9", "scheme": "https"}  # the last hop's view
    for n in range(3):
        _sign_in(client, "chi.lan", "sai", "10.0.0.2", **{"X-Forwarded-For": f"203.0.113.{n}"})
    assert (
        _sign_in(
            client, "chi.lan", PASSWORD, "10.0.0.2", **{"X-Forwarded-For": "203.0.113.50"}
        ).status_code
        == 201
    )
    assert [e.details["client"] for e in _failures(db_session)] == [
        "203.0.113.0",
        "203.0.113.1",
        "203.0.113.2",
    ]


def test_a_view_limited_per_client_answers_429_with_retry_after(make_app, db_session):
    """The decorator later pages (label page, code look-up, forms) use."""
    app = make_app()

    @app.get("/_probe")
    @limit("probe", 3, 60)
    def probe():
        return {"ok": True}

    client = app.test_client()
    for _ in range(3):
        assert client.get("/_probe").status_code == 200
    refused = client.get("/_probe")
    assert refused.status_code == 429
    assert 59 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json["code"] == "too_many_requests"
    assert refused.json["message"] == "Quá nhiều yêu cầu; vui lòng thử lại sau 60 giây."
    other = client.get("/_probe", environ_base={"REMOTE_ADDR": "192.0.2.44"})
    assert other.status_code == 200
    page = client.get("/_probe", headers={"Accept": "text/html"})
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert page.headers["Retry-After"]


def test_the_benchmark_scale_multiplies_every_allowance(make_app, db_session):
    client = make_app(SIGN_IN_MAX_FAILURES=1, RATE_LIMIT_SCALE=3).test_client()
    make_user("chi.lan")
    _fail(client, "chi.lan", 3)
    assert _sign_in(client, "chi.lan", PASSWORD).status_code == 429


def test_stored_numbers_expire_and_can_be_removed():
    limits = RateLimits()
    limits.put(7, 60, "a", "b")
    assert limits.get("a", "b") == 7
    limits.put(9, 60, "a", "b")
    assert limits.get("a", "b") == 9
    limits.delete("a", "b")
    assert limits.get("a", "b") == 0
    assert not limits.shared


@pytest.mark.parametrize(
    "address, key",
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("not an address", "not an address"),
        ("", "unknown"),
    ],
)
def test_clients_are_counted_by_address_and_ipv6_by_its_64(address, key):
    assert client_key(address) == key


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379"])
def test_a_redis_url_that_is_no_redis_url_stops_start_up(monkeypatch, url):
    monkeypatch.setenv("OCOP_REDIS_URL", url)
    with pytest.raises(ConfigError, match="OCOP_REDIS_URL"):
        load_settings()


def test_the_default_limits_are_the_ones_documented(monkeypatch):
    for name in (
        "SIGN_IN_MAX_FAILURES",
        "SIGN_IN_WINDOW_SECONDS",
        "SIGN_IN_FIRST_WAIT_SECONDS",
        "SIGN_IN_MAX_WAIT_SECONDS",
        "SIGN_IN_MAX_FAILURES_PER_CLIENT",
        "TRUSTED_PROXIES",
    ):
        monkeypatch.delenv(f"OCOP_{name}", raising=False)
    settings = load_settings({})
    assert (
        settings["SIGN_IN_MAX_FAILURES"],
        settings["SIGN_IN_WINDOW_SECONDS"],
        settings["SIGN_IN_FIRST_WAIT_SECONDS"],
        settings["SIGN_IN_MAX_WAIT_SECONDS"],
        settings["SIGN_IN_MAX_FAILURES_PER_CLIENT"],
        settings["TRUSTED_PROXIES"],
    ) == (10, 900, 60, 3600, 50, 0)


@pytest.mark.parametrize(
    "username, shown",
    [("chi\x00lan", "chi\ufffdlan"), ("x" * 5000, "x" * 100), ("chi\nlan", "chi\ufffdlan")],
)
def test_a_username_no_account_can_have_is_a_plain_401_and_audited(
    client, db_session, username, shown
):
    """NUL (which PostgreSQL refuses in text), thousands of characters, a new line."""
    response = _sign_in(client, username, PASSWORD)
    assert response.status_code == 401
    [event] = _failures(db_session)
    assert event.details["username"] == shown
    assert event.details["reason"] == "unknown_user"


def test_counting_in_memory_starts_no_thread_per_request(monkeypatch):
    """The memory storage cleans up inline: the library's own started a timer thread from
    nearly every hit, each page view paying for a thread."""
    import threading
    import time

    from trace_service.ratelimit import Rate, RateLimits

    limits = RateLimits("")
    started: list[threading.Thread] = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))
    for _ in range(3):
        time.sleep(0.02)  # past the library's 10 ms timer, which would have ended by now
        assert limits.hit(Rate(3, 60), "client", "page", "192.0.2.1")
    assert started == []
    assert not limits.hit(Rate(3, 60), "client", "page", "192.0.2.1")  # still counted

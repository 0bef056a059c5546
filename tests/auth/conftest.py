"""Helpers for the sign-in and token tests: credentials headers, users with a cheap (but real)
Argon2 hash, and more app instances on the test's database, as more workers would be."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy.orm import Session

from tests import factories
from trace_service import create_app
from trace_service.auth.models import User
from trace_service.db import get_db
from trace_service.principal import Role
from trace_service.ratelimit import rate_limits

REDIS_ENV = "OCOP_TEST_REDIS_URL"
PASSWORD = "mật-khẩu-đủ-dài-2025"
# Real Argon2id, with the smallest cost: a wrong password is still checked for real, in
# milliseconds rather than the ~0.2 s of production parameters.
_cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


def basic(username: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_user(username: str, role: Role = Role.INSPECTOR, **fields: Any) -> User:
    return factories.UserFactory(
        username=username, role=role, password_hash=_cheap.hash(PASSWORD), **fields
    )


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"needs a Redis: set {REDIS_ENV}, e.g. redis://127.0.0.1:6379/0 (.ci/run does)")
    return url


@pytest.fixture
def key_prefix() -> str:
    """A Redis key prefix of this test's own, so parallel runs never share counters."""
    return f"ocop-test-{uuid.uuid4().hex}"


@pytest.fixture
def make_app(app: Flask, db_session: Session) -> Iterator[Callable[..., Flask]]:
    """Another instance of the app (another worker), with settings changed, on the test's
    connection so that what it commits is rolled back with the test."""
    made: list[Flask] = []
    connection = db_session.get_bind()

    def build(**settings: Any) -> Flask:
        names = ("DATABASE_URL", "TESTING", "KEYS_DIR", "KEYS_PASSPHRASE", "LABEL_BUILD")
        instance = create_app({**{n: app.config[n] for n in names}, "REDIS_URL": "", **settings})
        get_db(instance).sessionmaker.configure(
            bind=connection, join_transaction_mode="create_savepoint"
        )
        made.append(instance)
        return instance

    yield build
    for instance in made:
        rate_limits(instance).reset()
        get_db(instance).engine.dispose()

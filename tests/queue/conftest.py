from __future__ import annotations

import os

import pytest

from tests.queue.helpers import MADE
from trace_service.db import get_db

REDIS_ENV = "OCOP_TEST_REDIS_URL"


@pytest.fixture(autouse=True)
def _close_connections():
    """Close the connections of the apps a test made (left to the garbage collector, a
    PostgreSQL one warns inside a later test, and fails it)."""
    yield
    while MADE:
        get_db(MADE.pop()).engine.dispose()


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"needs a Redis: set {REDIS_ENV}, e.g. redis://127.0.0.1:6379/0 (.ci/run does)")
    return url

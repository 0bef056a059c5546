from __future__ import annotations

import os

import pytest

REDIS_ENV = "OCOP_TEST_REDIS_URL"


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"needs a Redis: set {REDIS_ENV}, e.g. redis://127.0.0.1:6379/0 (.ci/run does)")
    return url

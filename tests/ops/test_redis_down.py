"""Redis unreachable (a TCP proxy in front of the test Redis, stopped and started): the
label page and sign-in still answer (rate limits fall back to each process's memory, never
a 500), and counting goes back to the shared Redis once it answers again."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import make_url

from tests.databases import fresh_database
from tests.labels.conftest import P, seed_committed
from tests.ops.conftest import make_app, print_stamps
from tests.ops.tcp_proxy import TcpProxy
from trace_service import ratelimit
from trace_service.db import get_db
from trace_service.migrate import upgrade
from trace_service.ratelimit import rate_limits
from trace_service.signing.service import init_keys

REDIS_ENV = "OCOP_TEST_REDIS_URL"


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"needs {REDIS_ENV}, e.g. redis://127.0.0.1:6379/0")
    return url


def test_redis_down_then_back(
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Try Redis again at the next request after a failure (30 s in production).
    monkeypatch.setattr(ratelimit, "RECHECK_SECONDS", 0.0)
    target = make_url(redis_url.replace("redis://", "redis+x://"))
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 6379).start()
    prefix = f"ocop-test-{uuid.uuid4().hex[:12]}"
    direct = redis.Redis.from_url(redis_url)
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = make_app(
            url,
            tmp_path,
            REDIS_URL=f"redis://127.0.0.1:{proxy.port}/{target.database or 0}",
            REDIS_KEY_PREFIX=prefix,
        )
        try:
            seed = seed_committed(app, bags=100)
            init_keys(app)
            stamps = print_stamps(app, seed)
            client = app.test_client()
            assert client.get(stamps[0]).status_code == 200
            assert rate_limits(app).shared
            assert direct.keys(f"{prefix}*")  # the page's limit is counted in Redis

            proxy.stop()
            for stamp in stamps:
                assert client.get(stamp).status_code == 200
            assert "rate limits are counted per process" in caplog.text
            token = client.post(
                f"{P}/auth/tokens", json={"name": "while redis is down"}, headers=seed.headers
            )
            assert token.status_code == 201, token.json

            proxy.start()
            direct.delete(*direct.keys(f"{prefix}*"))
            assert client.get(stamps[0]).status_code == 200
            assert rate_limits(app).shared
            assert direct.keys(f"{prefix}*")  # shared again, by itself
        finally:
            proxy.stop()
            keys = direct.keys(f"{prefix}*")
            if keys:
                direct.delete(*keys)
            direct.close()
            get_db(app).engine.dispose()

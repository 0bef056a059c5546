"""The database frozen (a TCP proxy between the service and PostgreSQL that holds every byte
without closing anything, as a server stopped by SIGSTOP whose kernel still accepts and
acknowledges; the machine's PostgreSQL is never touched): each request gives up on it after
``OCOP_DATABASE_WAIT_SECONDS`` and answers as when the database is down (API 503 with
Retry-After, /readyz failing, the label page from its URL alone), instead of hanging until
the worker is killed; once the server answers again, so does the service, by itself.
Work outside requests (a job, a CLI command) waits as long as it must."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text
from werkzeug.test import TestResponse

from tests.labels.conftest import P
from tests.ops.conftest import Proxied, proxied
from trace_service.db import session_scope

pytestmark = pytest.mark.postgres_only

WAIT = 2  # OCOP_DATABASE_WAIT_SECONDS for these tests (2 s: libpq's least connect_timeout)
MARGIN = 1.5  # the test client's own work, on a busy machine


@pytest.fixture(scope="module")
def frozen_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    with proxied(tmp_path_factory.mktemp("frozen"), DATABASE_WAIT_SECONDS=WAIT) as setup:
        yield setup


@pytest.fixture
def frozen(frozen_setup: Proxied) -> Iterator[Proxied]:
    """The setup, its database answering at first; never left frozen for the next test."""
    try:
        yield frozen_setup
    finally:
        frozen_setup.proxy.thaw()


def _timed(setup: Proxied, call: Callable[[], TestResponse]) -> tuple[TestResponse, float]:
    """The answer and how long it took; a request that still waits well past the bound has
    the proxy thawed under it (so a service without the bound fails here, never hangs)."""
    rescue = threading.Timer(WAIT + MARGIN + 3, setup.proxy.thaw)
    rescue.start()
    started = time.monotonic()
    try:
        answer = call()
    finally:
        rescue.cancel()
    return answer, time.monotonic() - started


def test_the_api_gives_up_on_a_frozen_database_in_bounded_time_then_answers_again(
    frozen: Proxied,
) -> None:
    client, proxy, seed = frozen.app.test_client(), frozen.proxy, frozen.seed
    assert client.get(f"{P}/products", headers=seed.headers).status_code == 200

    proxy.freeze()

    api, spent = _timed(frozen, lambda: client.get(f"{P}/products", headers=seed.headers))
    assert api.status_code == 503, api.get_data(as_text=True)
    assert spent < WAIT + MARGIN
    assert int(api.headers["Retry-After"]) > 0
    assert api.json["code"] == "unavailable"
    assert "cannot be reached" in api.json["message_en"]
    assert "không kết nối được cơ sở dữ liệu" in api.json["message"]

    body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 1}
    order, spent = _timed(
        frozen, lambda: client.post(f"{P}/print-runs", json=body, headers=seed.headers)
    )
    assert order.status_code == 503
    assert spent < WAIT + MARGIN

    ready, spent = _timed(frozen, lambda: client.get("/readyz"))
    assert ready.status_code == 503
    assert spent < WAIT + MARGIN
    assert ready.json["database"] == "unreachable"
    assert "Retry-After" in ready.headers

    proxy.thaw()  # no restart of anything: the pool reconnects by itself

    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}
    assert client.get(f"{P}/products", headers=seed.headers).status_code == 200


def test_the_label_page_gives_the_signature_verdict_while_the_database_is_frozen(
    frozen: Proxied,
) -> None:
    client, proxy, stamp = frozen.app.test_client(), frozen.proxy, frozen.stamps[1]
    assert client.get(stamp, headers={"Accept": "text/html"}).status_code == 200

    proxy.freeze()

    page, spent = _timed(frozen, lambda: client.get(stamp, headers={"Accept": "text/html"}))
    html = page.get_data(as_text=True)
    assert page.status_code == 503  # as with the database down (test_database_down.py)
    assert spent < WAIT + MARGIN
    assert "Retry-After" in page.headers
    assert 'data-verdict="signed"' in html
    assert "Chữ ký số đúng: tem do hệ thống OCOP ký." in html
    assert "Chưa kiểm tra được lúc này" in html
    assert 'data-unavailable="unreachable"' in html

    proxy.thaw()

    back = client.get(stamp, headers={"Accept": "text/html"})
    assert back.status_code == 200
    assert "Chưa kiểm tra được lúc này" not in back.get_data(as_text=True)


def test_work_outside_requests_waits_as_long_as_it_must(frozen: Proxied) -> None:
    """A job or a CLI command is not bounded: a freeze longer than the bound is waited out."""
    app, proxy = frozen.app, frozen.proxy
    with session_scope(app, writes=False) as session:
        assert session.execute(text("SELECT 1")).scalar() == 1
        proxy.freeze()
        thaw = threading.Timer(WAIT + 1, proxy.thaw)
        thaw.start()
        started = time.monotonic()
        assert session.execute(text("SELECT 2")).scalar() == 2
        assert time.monotonic() - started >= WAIT + 0.5
        thaw.join()

"""The resolver (a stamp's linkset and link types, /.well-known/gs1resolver, /01/{gtin}) and
the typed lookup each have their own limit per client; over it, 429 with Retry-After (a
Vietnamese page for a browser); with Redis, every worker counts in the same place."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.labels.test_scans import _labels
from trace_service import create_app
from trace_service.db import get_db
from trace_service.labels import lookup, resolver
from trace_service.ratelimit import Rate, rate_limits

JSON = {"Accept": "application/json"}


@pytest.fixture
def low_limits(monkeypatch):
    monkeypatch.setattr(resolver, "RESOLVER_RATE", Rate(3, 60))
    monkeypatch.setattr(lookup, "LOOKUP_RATE", Rate(2, 60))


def _linkset(label) -> str:
    parts = urlsplit(label["url"])
    return f"{parts.path}?{parts.query}&linkType=all"


def test_the_resolver_has_one_limit_over_its_linksets_description_and_product_pages(
    client, packed, low_limits
):
    _, (label,) = _labels(client, packed, quantity=1)
    gtin = label["url"].split("/01/")[1].split("/")[0] if "/01/" in label["url"] else None
    assert client.get(_linkset(label)).status_code == 200
    assert client.get("/.well-known/gs1resolver").status_code == 200
    product = f"/01/{gtin}" if gtin else f"/P/{packed.product.id}"
    assert client.get(product, headers={"Accept": "text/html"}).status_code == 200
    for path in (_linkset(label), "/.well-known/gs1resolver", product):
        refused = client.get(path, headers=JSON)
        assert refused.status_code == 429, path
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["Access-Control-Allow-Origin"] == "*"
        assert "Quá nhiều yêu cầu" in refused.json["message"]
    # The stamp's own page and the typed lookup are counted apart.
    parts = urlsplit(label["url"])
    assert client.get(f"{parts.path}?{parts.query}").status_code == 200
    assert client.get("/", query_string={"ma": label["serial"]}).status_code == 303
    other = client.get(_linkset(label), environ_base={"REMOTE_ADDR": "192.0.2.99"})
    assert other.status_code == 200  # per client


def test_the_typed_lookup_over_its_limit_answers_a_vietnamese_page(client, packed, low_limits):
    for _ in range(2):
        assert client.get("/", query_string={"ma": "AAAAA-AAAAA-AAAAA"}).status_code == 200
    page = client.get("/", query_string={"ma": "x"}, headers={"Accept": "text/html"})
    assert page.status_code == 429 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'lang="vi"' in html and "Quá nhiều yêu cầu; vui lòng thử lại sau" in html
    assert "giây" in html and int(page.headers["Retry-After"]) >= 1
    assert client.get("/.well-known/gs1resolver").status_code == 200  # its own limit


def _worker(app: Flask, db_session, **settings) -> Flask:
    names = ("DATABASE_URL", "TESTING", "KEYS_DIR", "KEYS_PASSPHRASE", "LABEL_BUILD")
    instance = create_app({**{n: app.config[n] for n in names}, **settings})
    get_db(instance).sessionmaker.configure(
        bind=db_session.get_bind(), join_transaction_mode="create_savepoint"
    )
    return instance


def test_two_workers_sharing_redis_share_the_resolvers_count(app, db_session, low_limits):
    url = os.environ.get("OCOP_TEST_REDIS_URL")
    if not url:
        pytest.skip("needs a Redis: set OCOP_TEST_REDIS_URL, e.g. redis://127.0.0.1:6379/0")
    prefix = f"ocop-test-{uuid.uuid4().hex}"
    first, second = (_worker(app, db_session, REDIS_URL=url, REDIS_KEY_PREFIX=prefix) for _ in "ab")
    try:
        for _ in range(3):
            assert first.test_client().get("/.well-known/gs1resolver").status_code == 200
        assert second.test_client().get("/.well-known/gs1resolver").status_code == 429
        for _ in range(2):
            assert second.test_client().get("/?ma=AAAAA").status_code == 200
        assert first.test_client().get("/?ma=AAAAA").status_code == 429
    finally:
        for worker in (first, second):
            rate_limits(worker).reset()
            get_db(worker).engine.dispose()

"""A committed PostgreSQL database reached through a TCP proxy the test controls, with an
app, a producer's token and a few printed stamps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import make_url

from tests.databases import fresh_database
from tests.labels.conftest import Committed, P, seed_committed
from tests.ops.tcp_proxy import TcpProxy
from trace_service import create_app
from trace_service.db import get_db
from trace_service.migrate import upgrade
from trace_service.signing.service import init_keys


def make_app(url: str, tmp_path: Path, **config: object) -> Flask:
    return create_app(
        {
            "DATABASE_URL": url,
            "TESTING": True,
            "KEYS_DIR": str(tmp_path / "keys"),
            "KEYS_PASSPHRASE": "a passphrase for this test only, long and random",
            "LABEL_BASE_URL": "https://tem.ocop.example.vn",
            "LABEL_FILES_DIR": str(tmp_path / "files"),
            "LABEL_BUILD": "inline",
            "REDIS_URL": "",
            **config,
        }
    )


def print_stamps(app: Flask, seed: Committed, quantity: int = 3) -> list[str]:
    """Order and build a run; the paths (with ``?S=``) its stamps' QR codes open."""
    client = app.test_client()
    body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": quantity}
    run = client.post(f"{P}/print-runs", json=body, headers=seed.headers)
    assert run.status_code == 202, run.json
    labels = client.get(f"{P}/print-runs/{run.json['id']}/labels", headers=seed.headers)
    paths = []
    for item in labels.json["items"]:
        url = urlsplit(item["url"])
        paths.append(f"{url.path}?{url.query}")
    return paths


@dataclass
class Proxied:
    app: Flask
    proxy: TcpProxy
    seed: Committed
    stamps: list[str]
    direct_url: str  # the database without the proxy, for the test's own checks


@contextmanager
def proxied(tmp_path: Path, **config: object) -> Iterator[Proxied]:
    """A fresh PostgreSQL database behind a proxy, and an app on it with ``config``."""
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        direct = make_url(url)
        proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 5432).start()
        through = direct.set(host="127.0.0.1", port=proxy.port)
        app = make_app(through.render_as_string(hide_password=False), tmp_path, **config)
        try:
            seed = seed_committed(app, bags=100)
            init_keys(app)
            yield Proxied(app, proxy, seed, print_stamps(app, seed), url)
        finally:
            proxy.thaw()
            proxy.stop()
            get_db(app).engine.dispose()


@pytest.fixture
def proxied_postgres(tmp_path: Path) -> Iterator[Proxied]:
    with proxied(tmp_path) as setup:
        yield setup

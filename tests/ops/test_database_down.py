"""The database unreachable (a TCP proxy between the service and PostgreSQL, stopped and
started by the test; the machine's PostgreSQL is never touched): the API answers 503 with
Retry-After and a clear message, /readyz fails, the label page gives the signature verdict
from the URL alone and says the rest is unavailable, never a 500; and everything answers
again by itself once the database is back."""

from __future__ import annotations

import re

import pytest

from tests.labels.conftest import P
from tests.ops.conftest import Proxied

pytestmark = pytest.mark.postgres_only


def _tampered(path: str) -> str:
    """The same stamp with one digit of its signature changed."""
    head, signed = path.split("?S=")
    last = signed[-1]
    return f"{head}?S={signed[:-1]}{'1' if last != '1' else '2'}"


def test_database_down_then_back(proxied_postgres: Proxied) -> None:
    app, proxy, seed, stamps = (
        proxied_postgres.app,
        proxied_postgres.proxy,
        proxied_postgres.seed,
        proxied_postgres.stamps,
    )
    client = app.test_client()
    assert client.get(stamps[0]).status_code == 200

    proxy.stop()

    api = client.get(f"{P}/products", headers=seed.headers)
    assert api.status_code == 503
    assert int(api.headers["Retry-After"]) > 0
    assert api.json["code"] == "unavailable"
    assert "cannot be reached" in api.json["message_en"]
    assert "không kết nối được cơ sở dữ liệu" in api.json["message"]
    order = client.post(
        f"{P}/print-runs",
        json={"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 1},
        headers=seed.headers,
    )
    assert order.status_code == 503

    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["database"] == "unreachable"
    assert "Retry-After" in ready.headers
    assert client.get("/healthz").status_code == 200

    page = client.get(stamps[1], headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert page.status_code == 503
    assert "Retry-After" in page.headers
    assert 'data-verdict="signed"' in html
    assert "Chữ ký số đúng: tem do hệ thống OCOP ký." in html
    assert "Chưa kiểm tra được lúc này" in html
    assert 'data-unavailable="unreachable"' in html
    lot = re.search(r"/10/([^/]+)/21/", stamps[1])
    assert lot and lot.group(1) in html  # the signed claims are shown

    forged = client.get(_tampered(stamps[1]), headers={"Accept": "text/html"})
    assert forged.status_code == 503
    forged_html = forged.get_data(as_text=True)
    assert 'data-verdict="invalid_signature"' in forged_html
    assert "(đã ký)" not in forged_html  # a bad signature's claims are not shown as signed
    # Not a label at all: answered as ever, the database was not needed.
    garbage = client.get("/01/08935012345678/10/X/21/NOTASERIAL", headers={"Accept": "text/html"})
    assert garbage.status_code == 404

    proxy.start()  # no restart of the app: the pool reconnects by itself

    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}
    assert client.get(f"{P}/products", headers=seed.headers).status_code == 200
    back = client.get(stamps[1], headers={"Accept": "text/html"})
    assert back.status_code == 200
    assert "Chưa kiểm tra được lúc này" not in back.get_data(as_text=True)

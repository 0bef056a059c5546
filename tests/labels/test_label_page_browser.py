"""A consumer's phone: the stamp's QR, decoded by an independent reader, opened in a real
browser (headless Chromium at a phone's size), with no internet."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.browser import chromium, served_app
from tests.decode import read_qr_codes
from tests.labels.conftest import P, seed_committed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("label-page")) as (app, base):
        yield app, base


def _scanned_url(app) -> str:
    """Order one stamp, then read its QR the way a phone camera does: from the image."""
    seed = seed_committed(app, bags=40)
    client = app.test_client()
    run = client.post(
        f"{P}/print-runs",
        headers=seed.headers,
        json={"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 1},
    ).json
    label = client.get(f"{P}/print-runs/{run['id']}/labels", headers=seed.headers).json
    png = client.get(label["items"][0]["qr_png"], headers=seed.headers).data
    (decoded,) = read_qr_codes(Image.open(io.BytesIO(png)))
    return decoded.text


def test_scanning_a_stamp_opens_a_readable_vietnamese_page_on_a_phone(served):
    app, base = served
    scanned = _scanned_url(app)
    assert scanned.startswith(base.upper())  # upper case: the QR's alphanumeric mode
    outside: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 360, "height": 740}, locale="vi-VN")

        def only_this_server(route):
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_this_server)
        response = page.goto(scanned)
        assert response is not None and response.status == 200
        verdict = page.locator("[role=status]").inner_text()
        heading = page.locator("h2.product").inner_text()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
        stars = page.locator(".stars").inner_text()
        page.close()
    assert outside == []
    assert "Tem chính hãng" in verdict
    assert heading.startswith("Cà phê bột Thử")
    assert stars.count("★") >= 3
    assert overflow is False  # nothing wider than a phone's screen

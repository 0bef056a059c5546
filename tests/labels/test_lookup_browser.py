"""A shopper without a camera, in a real browser at a phone's size: types the stamp's code at
the front door, and reports a code that is not found."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser import (
    chromium,
    keep_to_this_server,
    screenshot,
    serious_accessibility_problems,
    served_app,
)
from tests.labels.conftest import P, seed_committed
from trace_service.labels import serials

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("front-door"), HOTLINE="0263 3822 000") as (app, base):
        yield app, base


@pytest.fixture(scope="module")
def issued_url(served) -> str:
    app, _base = served
    seed = seed_committed(app, bags=40)
    client = app.test_client()
    run = client.post(
        f"{P}/print-runs",
        headers=seed.headers,
        json={"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 1},
    ).json
    label = client.get(f"{P}/print-runs/{run['id']}/labels", headers=seed.headers).json
    return label["items"][0]["url"]


def _phone(browser, width: int, height: int):
    page = browser.new_page(viewport={"width": width, "height": height}, locale="vi-VN")
    outside, errors = keep_to_this_server(page)
    return page, outside, errors


@pytest.mark.parametrize("size", [(360, 640), (390, 844)])
def test_typing_the_code_on_a_phone_opens_the_stamps_page(served, issued_url, size):
    _app, base = served
    serial = urlsplit(issued_url).path.rsplit("/", 1)[1]
    with chromium() as browser:
        page, outside, errors = _phone(browser, *size)
        page.goto(f"{base}/")
        assert page.locator("h1").inner_text() == "Kiểm tra tem OCOP"
        assert serious_accessibility_problems(page) == []
        screenshot(page, f"front-door-{size[0]}x{size[1]}")
        page.fill("#ma", serials.grouped(serial).lower().replace("-", " "))
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert urlsplit(page.url).path.endswith(f"/21/{serial}")
        assert "src=typed" in page.url
        assert serials.grouped(serial) in page.content()
        assert outside == [] and errors == []


@pytest.mark.parametrize("size", [(360, 640), (390, 844)])
def test_an_unknown_code_leads_to_a_report_the_office_receives(served, size):
    _app, base = served
    with chromium() as browser:
        page, outside, errors = _phone(browser, *size)
        page.goto(f"{base}/")
        page.fill("#ma", serials.grouped(serials.new_serial()))
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "Không tìm thấy tem có mã này" in page.content()
        assert page.locator("a[href='tel:02633822000']").count() == 1
        assert serious_accessibility_problems(page) == []
        screenshot(page, f"front-door-unknown-{size[0]}x{size[1]}")
        page.click("#report-problem-fake + label, label[for=report-problem-fake]")
        page.click("#bao-cao button[type=submit]")
        page.wait_for_load_state()
        assert "Hãy cho biết nơi mua" in page.content()  # refused beside the field
        assert page.locator("#report-problem-fake").is_checked()  # the choice is kept
        assert serious_accessibility_problems(page) == []
        screenshot(page, f"report-refused-{size[0]}x{size[1]}")
        page.fill("#report-place", "Chợ Đà Lạt, sạp 12")
        page.click("#bao-cao button[type=submit]")
        page.wait_for_load_state()
        assert "Đã nhận báo cáo" in page.locator("h1").inner_text()
        assert outside == [] and errors == []


def test_a_short_code_and_a_typo_each_say_what_to_fix_on_a_phone(served, issued_url):
    _app, base = served
    serial = urlsplit(issued_url).path.rsplit("/", 1)[1]
    typo = serial[:3] + next(ch for ch in serials.ALPHABET if ch != serial[3]) + serial[4:]
    answers = {
        serial[:10]: "Mã còn thiếu ký tự",
        typo: "Mã chưa đúng: có một ký tự bị gõ nhầm",
    }
    with chromium() as browser:
        page, outside, errors = _phone(browser, 360, 640)
        for typed, heading in answers.items():
            page.goto(f"{base}/")
            page.fill("#ma", typed)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("#answer-title").inner_text() == heading
            assert page.input_value("#ma") == typed  # what was typed stays, to correct
            assert page.locator("#bao-cao").count() == 0  # a typo is no reason to report
            assert serious_accessibility_problems(page) == []
            screenshot(page, f"front-door-{'short' if len(typed) < 15 else 'typo'}-360x640")
        assert outside == [] and errors == []


def test_the_product_and_lot_pages_a_gs1_link_opens_read_well_on_a_phone(served, issued_url):
    _app, base = served
    _, _, gtin, _, lot, _, _serial = urlsplit(issued_url).path.split("/")
    with chromium() as browser:
        page, outside, errors = _phone(browser, 360, 640)
        for path, name in ((f"/01/{gtin}", "product"), (f"/01/{gtin}/10/{lot}", "lot")):
            response = page.goto(f"{base}{path}")
            assert response is not None and response.status == 200
            assert serious_accessibility_problems(page) == []
            screenshot(page, f"gs1-{name}-page-360x640")
        assert "Thu hoạch" in page.content()
        assert outside == [] and errors == []

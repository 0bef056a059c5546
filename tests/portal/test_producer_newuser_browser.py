"""A producer's photo and voiding pages on a phone (390 × 844) in a real browser: the photo
uploaded and shown; a spoiled stamp voided by the code printed on it, after a confirm step
that lists it. No serious accessibility problem, no sideways scroll, buttons ≥ 44 px high."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from tests.browser import chromium
from tests.portal.test_producer_browser import PHONE, check, fill_packing, served, sign_in
from trace_service.db import session_scope
from trace_service.labels.models import Label, PrintRun
from trace_service.labels.serials import grouped

pytestmark = pytest.mark.browser
__all__ = ["served"]  # the live server, shared with the producer's other browser tests


@contextmanager
def chromium_page(base: str, names: dict) -> Iterator[Any]:
    """A signed-in producer's page on a phone."""
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE, locale="vi-VN")
        sign_in(page, base, names["user"])
        yield page


def fits_a_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    heights = page.locator("main button, main a.button").evaluate_all(
        "els => els.filter(e => e.offsetParent).map(e => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 44, heights


def test_a_producer_uploads_the_products_photo_on_a_phone(served, tmp_path):
    _app, base, names = served
    photo = tmp_path / "anh.jpg"
    Image.new("RGB", (1200, 900), (40, 130, 70)).save(photo, "JPEG")
    with chromium_page(base, names) as page:
        page.get_by_role("link", name=f"Ảnh sản phẩm {names['product']}").click()
        page.wait_for_load_state()
        check(page, "producer-photo-empty")
        page.get_by_label("Tải ảnh lên").set_input_files(str(photo))
        page.get_by_role("button", name="Lưu ảnh").click()
        page.wait_for_load_state()
        assert page.get_by_text("Đã lưu ảnh sản phẩm.").is_visible()
        image = page.locator("figure.product-photo img")
        assert image.evaluate("img => img.complete && img.naturalWidth") == 160
        check(page, "producer-photo")
        fits_a_phone(page)


def test_a_spoiled_stamp_is_voided_by_its_printed_code_on_a_phone(served):
    app, base, names = served
    with chromium_page(base, names) as page:
        page.get_by_role("link", name=f"Đặt in tem {names['product']}").click()
        page.locator("details").first.evaluate("details => { details.open = true; }")
        fill_packing(page, "25", units="20")
        page.wait_for_load_state()
        page.get_by_label("Số tem").fill("20")
        page.get_by_role("button", name="Đặt in tem").click()
        page.wait_for_url("**/chu-the/dot-in/*", wait_until="load")
        with app.app_context(), session_scope(app, writes=False) as session:
            run_id = session.scalar(select(PrintRun.id).order_by(PrintRun.id.desc()).limit(1))
            serial = session.scalar(
                select(Label.serial).where(Label.run_id == run_id, Label.seq == 5)
            )
        assert serial
        page.goto(f"{base}/chu-the/dot-in/{run_id}/huy-tem")
        typed = f"{serial[:5]} {serial[5:10]} {serial[10:]}".lower()
        page.get_by_label("Mã hoặc số tem cần hủy").fill(typed)
        page.get_by_label("Lý do").fill("kẹt giấy")
        page.get_by_role("button", name="Xem các tem sẽ hủy").click()
        page.wait_for_load_state()
        assert grouped(serial) in page.locator("#preview-codes").inner_text()
        check(page, "producer-void-confirm")
        fits_a_phone(page)
        page.get_by_role("button", name="Hủy vĩnh viễn 1 tem").click()
        page.wait_for_load_state()
        assert "Đã hủy 1 tem" in page.locator("#voided").inner_text()
        assert grouped(serial) in page.locator("#voided-codes").inner_text()
        check(page, "producer-voided")

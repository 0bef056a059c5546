"""A producer on a phone (390 × 844) in a real browser: records a packing and orders 100
stamps in at most 5 screens from home, downloads the PDF, and its QR codes decode to the
run's label URLs. Also: a refusal beside its field, 404 on another producer's pages, a
form without its CSRF token refused, no serious accessibility problem, screenshots."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from tests import factories
from tests.browser import (
    chromium,
    live_server,
    screenshot,
    scrolls_sideways,
    serious_accessibility_problems,
    small_tap_targets,
)
from tests.databases import fresh_database
from tests.decode import read_qr_codes
from tests.portal.conftest import BROWSER, PASSWORD, csrf_of, make_certified
from tests.portal.conftest import sign_in as sign_in_client
from tests.portal.test_producer_stamps import order_page, packing
from trace_service import create_app
from trace_service.clock import today_vn
from trace_service.db import get_db, session_scope, utcnow
from trace_service.labels import build
from trace_service.labels.models import Label, LabelState, PrintRun
from trace_service.labels.schemas import label_url
from trace_service.migrate import upgrade
from trace_service.signing.service import init_keys

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 640}  # the floor (PAGES.md)
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("producer-portal")
    with fresh_database("sqlite", tmp) as url:
        upgrade(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "test secret key, long enough",
                "KEYS_DIR": str(tmp / "keys"),
                "KEYS_PASSPHRASE": "a passphrase for this test only, long and random",
                "LABEL_FILES_DIR": str(tmp / "files"),
                "LABEL_BUILD": "inline",
            }
        )
        init_keys(app)
        with app.app_context(), session_scope(app) as session:
            factories.bind(session)
            ours = make_certified(session)
            theirs = make_certified(session, "Hợp tác xã Khác")
            names = {
                "user": ours.user.username,
                "product": ours.product.name_vi,
                "product_id": ours.product.id,
                "other_product": theirs.product.id,
                "harvest_lot": ours.harvest_lot.id,
            }
        with live_server(app) as base:
            app.config["LABEL_BASE_URL"] = base  # http is allowed for 127.0.0.1 only
            yield app, base, names
        get_db(app).engine.dispose()


def check(page, name: str) -> None:
    """Every screen: no serious accessibility problem; a screenshot at phone size."""
    assert serious_accessibility_problems(page) == [], name
    screenshot(page, f"portal-{name}-390x844")


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/chu-the/", wait_until="load")


def fill_packing(page, amount: str, units: str = "100") -> None:
    page.get_by_label("Lô nguyên liệu", exact=True).select_option(index=1)
    page.get_by_label("Lượng lấy từ lô này").fill(amount)
    page.get_by_label("Khối lượng thành phẩm (kg)").fill("25")
    page.get_by_label("Số gói, chai… đã đóng").fill(units)
    page.get_by_label("Ngày đóng gói").fill(today_vn().isoformat())
    page.get_by_role("button", name="Ghi nhận đóng gói").click()


def qr_texts(pdf: Path) -> set[str]:
    subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", pdf, pdf.with_suffix("")], check=True)
    found: set[str] = set()
    for png in sorted(pdf.parent.glob(f"{pdf.stem}-*.png")):
        found |= {code.text for code in read_qr_codes(np.asarray(Image.open(png)))}
    return found


def run_urls(app) -> set[str]:
    with app.app_context(), session_scope(app, writes=False) as session:
        run = session.scalars(select(PrintRun).order_by(PrintRun.id.desc())).first()
        assert run is not None and run.quantity == 100
        labels = session.scalars(select(Label).where(Label.run_id == run.id))
        return {label_url(label) for label in labels}


def test_a_producer_packs_and_orders_100_stamps_in_five_screens(served, tmp_path):
    app, base, names = served
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE, locale="vi-VN", accept_downloads=True)
        page = context.new_page()
        elsewhere: list[str] = []
        page.on("request", lambda r: r.url.startswith(base) or elsewhere.append(r.url))
        errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        sign_in(page, base, names["user"])
        screens: list[str] = [page.url]  # screen 1: the home page
        page.on("load", lambda: screens.append(page.url))
        check(page, "producer-home")
        page.get_by_role("link", name=f"Đặt in tem {names['product']}").click()
        page.wait_for_load_state()
        check(page, "producer-order-empty")
        fill_packing(page, "25")
        page.wait_for_load_state()
        assert page.get_by_label("Số tem").is_visible()
        page.get_by_label("Số tem").fill("100")
        # Die-cut labels, on a sheet whose first label was used before. (The number is
        # typed before the radio is chosen: check()'s full-page screenshot taken while a
        # number field has the focus left the next click without effect in headless
        # Chromium; typed last, with no screenshot between, the order goes through too.)
        page.get_by_label("In từ vị trí số").fill("2")
        page.get_by_role("radio", name=re.compile("21 nhãn 63,5 × 38,1 mm")).check()
        check(page, "producer-order")
        with page.expect_navigation():
            page.get_by_role("button", name="Đặt in tem").click()
        assert "/chu-the/dot-in/" in page.url
        check(page, "producer-run")
        with page.expect_download() as download:
            page.get_by_role("link", name="Tải PDF tờ A4").click()
        pdf = tmp_path / "tem.pdf"
        download.value.save_as(pdf)
        assert len(screens) <= 5, screens
        assert elsewhere == [] and errors == []
        context.close()
    assert qr_texts(pdf) == run_urls(app)


def order_in_background(
    browser, base: str, names: dict, scripts: bool, page=None
) -> tuple[str | None, list]:
    """Order 5,000 stamps with a background build; wait on the run's page for the PDF link.
    Returns whether the page first showed the build unfinished, and the page loads after."""
    page = page or browser.new_page(viewport=PHONE, locale="vi-VN", java_script_enabled=scripts)
    sign_in(page, base, names["user"])
    page.get_by_role("link", name=f"Đặt in tem {names['product']}").click()
    page.locator("details").first.evaluate("details => { details.open = true; }")
    fill_packing(page, "25", units="5000")
    page.get_by_label("Số tem").fill("5000")
    page.get_by_role("button", name="Đặt in tem").click()
    page.wait_for_url("**/chu-the/dot-in/*", wait_until="load")
    started = page.locator("#run-progress").get_attribute("data-done")
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    try:
        page.get_by_role("link", name="Tải PDF tờ A4").first.wait_for(timeout=120_000)
    except PlaywrightTimeout:  # say what the page showed (a failed build, progress stuck)
        shown = page.locator("#run-progress").inner_text()
        raise AssertionError(f"no PDF link after 120 s; the page shows: {shown!r}") from None
    return started, loads


@pytest.mark.parametrize("scripts", [True, False], ids=["script", "no-script"])
def test_the_run_page_follows_a_background_build(served, scripts):
    app, base, names = served
    app.config["LABEL_BUILD"] = "background"
    try:
        with chromium() as browser:
            started, loads = order_in_background(browser, base, names, scripts)
    finally:
        app.config["LABEL_BUILD"] = "inline"
    assert started == "0", "the build finished before the page showed it: nothing was followed"
    if scripts:
        assert loads == []  # the script swapped the progress in, no page load
    else:
        assert loads  # without scripts the page refreshed itself until the files were ready


def test_the_run_page_keeps_following_after_a_poll_without_its_progress(served, monkeypatch):
    # A phone's poll can come back as something else (a proxy's page, a sign-in page): the
    # page polls again rather than stopping at the progress it showed last. The run comes in
    # parts (a file per 2,000 here): its files grouped by printer, each part's stamps and
    # size said, the ZPL parts folded behind a 44 px opener (review user17).
    monkeypatch.setattr(build, "SHEET_PART_LABELS", 2000)
    app, base, names = served
    app.config["LABEL_BUILD"] = "background"
    answered: list[str] = []

    def first_poll_elsewhere(route):
        if route.request.resource_type == "fetch" and not answered:
            answered.append(route.request.url)
            route.fulfill(status=200, content_type="text/html", body="<p>Cổng mạng</p>")
        else:
            route.continue_()

    try:
        with chromium() as browser:
            page = browser.new_page(viewport=PHONE, locale="vi-VN")
            page.route(re.compile(r".*/chu-the/dot-in/\d+$"), first_poll_elsewhere)
            started, loads = order_in_background(browser, base, names, True, page=page)
            files = page.locator("#run-progress").inner_text()
            assert "Máy in văn phòng, giấy decal A4" in files and "Máy in nhãn nhiệt" in files
            assert "tem số 4.001–5.000 · 56 tờ A4" in files and "\xa0MB" in files
            page.get_by_text("Tải ZPL từng phần").click()
            assert page.get_by_role("link", name="ZPL 300 dpi · phần 3").is_visible()
            assert small_tap_targets(page) == []
            assert not scrolls_sideways(page)
            check(page, "producer-run-in-parts")
    finally:
        app.config["LABEL_BUILD"] = "inline"
    assert started == "0" and answered and loads == []


def test_a_refused_packing_shows_its_message_beside_the_field(served):
    _app, base, names = served
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE, locale="vi-VN")
        sign_in(page, base, names["user"])
        page.goto(f"{base}/chu-the/dong-goi")
        check(page, "producer-packing")
        fill_packing(page, "9000")
        page.wait_for_load_state()
        # Focus starts at the error summary (review user1, F11), not on the page's body.
        page.locator(".error-summary:focus").wait_for(timeout=5000)
        message = page.locator("#packing-input_quantity-error")
        assert "chỉ còn" in message.inner_text()
        described = page.get_by_label("Lượng lấy từ lô này").get_attribute("aria-describedby")
        assert "packing-input_quantity-error" in (described or "")
        # The summary at the top names the field by its label and leads to it.
        link = page.locator(".error-summary a", has_text="Lượng lấy từ lô này: ")
        assert "chỉ còn" in link.inner_text()
        link.click()
        assert page.evaluate("() => document.activeElement.id") == "packing-input_quantity"
        check(page, "producer-packing-refused")


def test_another_producers_pages_are_404_and_a_form_without_csrf_is_refused(served):
    _app, base, names = served
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE, locale="vi-VN")
        sign_in(page, base, names["user"])
        theirs = f"{base}/chu-the/san-pham/{names['other_product']}/dat-in-tem"
        answer = page.goto(theirs)
        assert answer is not None and answer.status == 404
        forged = page.request.post(
            f"{base}/chu-the/dong-goi",
            form={"packing-quantity": "1", "packing-submit": "1"},
            headers={"Accept": "text/html"},
        )
        assert forged.status == 400


def flagged_run(app, names: dict) -> int:
    """A ready run of 20 stamps ordered through the portal's forms, one stamp flagged as
    possibly copied: the home page's, the runs' and the scans page's tables have rows."""
    client = app.test_client()
    assert sign_in_client(client, names["user"]).status_code == 302
    ours = SimpleNamespace(
        product=SimpleNamespace(id=names["product_id"]),
        harvest_lot=SimpleNamespace(id=names["harvest_lot"]),
    )
    html = order_page(client, names["product_id"])
    packed = packing(client, ours, html, **{"packing-code": "", "packing-unit_count": "20"})
    assert packed.status_code == 302
    html = order_page(client, names["product_id"])
    lot = re.search(r'name="order-lot" id="order-lot-1" value="(\d+)"', html)
    key = re.search(r'name="order-key" type="hidden" value="([0-9a-f]+)"', html)
    assert lot and key
    fields = {"order-lot": lot.group(1), "order-quantity": "20", "order-key": key.group(1)}
    url = f"/chu-the/san-pham/{names['product_id']}/dat-in-tem"
    data = {"csrf_token": csrf_of(html), **fields, "order-repeat": "y", "order-submit": "1"}
    assert client.post(url, data=data, headers=BROWSER).status_code == 302
    with app.app_context(), session_scope(app) as session:
        run_id = session.scalar(select(PrintRun.id).order_by(PrintRun.id.desc()).limit(1))
        label_id = session.scalar(select(Label.id).where(Label.run_id == run_id).limit(1))
        session.add(
            LabelState(label_id=label_id, scan_count=60, flagged_at=utcnow(), flag_reason="scans")
        )
    return run_id


@pytest.mark.parametrize("size", [SMALL_PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_producer_page_is_accessible_at_phone_and_desktop_size(served, size):
    """No serious accessibility problem; at 360 px no sideways scroll and tap targets of
    44 px (review user15: the flagged stamps' table, the runs' PDF and ZPL links)."""
    app, base, names = served
    run_id = flagged_run(app, names)
    with chromium() as browser:
        page = browser.new_page(viewport=size, locale="vi-VN")
        sign_in(page, base, names["user"])
        for name, path in (
            ("home", "/chu-the/"),
            ("runs", "/chu-the/dot-in/"),
            ("packing", "/chu-the/dong-goi"),
            ("lots", "/chu-the/lo/"),
            ("lot-chain", f"/chu-the/lo/{names['harvest_lot']}"),
            ("harvest", "/chu-the/thu-hoach"),
            ("process", "/chu-the/che-bien"),
            ("calibration", "/chu-the/in-tem/can-chinh"),
            ("scans", "/chu-the/quet-tem"),
            ("reports", "/chu-the/bao-cao/"),
            ("run", f"/chu-the/dot-in/{run_id}"),
            ("void", f"/chu-the/dot-in/{run_id}/huy-tem"),
        ):
            answer = page.goto(f"{base}{path}")
            assert answer is not None and answer.status == 200, name
            assert serious_accessibility_problems(page) == [], name
            assert not scrolls_sideways(page), name
            if size is SMALL_PHONE:
                assert small_tap_targets(page) == [], name
            screenshot(page, f"portal-producer-{name}-{size['width']}x{size['height']}")

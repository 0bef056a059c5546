"""The inspectors' page sends its waiting records without a reload or an "online" event (weak
data and captive portals fire none): on "Gửi ngay", when the page is shown again, and on a
timer that backs off; each record is stored once. A save says so where the form was, and
the stamp's code reads as printed (a new user's review)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.browser import chromium, live_server
from tests.databases import fresh_database
from tests.verify.test_offline_page_browser import INSPECTOR, PAGE, PASSWORD, _app, _open, _stamps
from trace_service.db import get_db, session_scope
from trace_service.migrate import upgrade
from trace_service.verify.models import FieldInspection, InspectorDevice

pytestmark = pytest.mark.browser
INSPECTIONS = "**/api/v1/inspections"


def _stored(app: Any) -> int:
    with app.app_context(), session_scope(app) as session:
        return int(session.scalar(select(func.count()).select_from(FieldInspection)) or 0)


def _save(page: Any, stamp: str) -> None:
    """Check a stamp and save a record of it."""
    page.fill("#scanned", stamp)
    page.get_by_role("button", name="Kiểm tra tem").click()
    page.wait_for_selector("#record", state="visible")
    page.get_by_role("radio", name="Đạt", exact=True).check()
    page.get_by_role("button", name="Lưu biên bản").click()


def _cut_off(page: Any) -> None:
    page.route(INSPECTIONS, lambda route: route.abort("internetdisconnected"))


def test_waiting_records_go_on_the_button_on_return_and_on_a_timer(tmp_path):
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = _app(tmp_path, url)
        stamps = _stamps(app)
        with live_server(app) as base, chromium() as browser:
            context = browser.new_context(
                viewport={"width": 360, "height": 640}, locale="vi-VN", service_workers="block"
            )
            page = context.new_page()
            page.clock.install()
            page.clock.pause_at(
                datetime.now(UTC) + timedelta(seconds=2)
            )  # the retry timer fires only when told
            _open(page, f"{base}{PAGE}")
            _before_sign_in(page, app)
            _saved_offline_sent_on_the_button(page, app, stamps.genuine)
            # shown again (the phone unlocked, the tab brought back)
            _cut_off(page)
            _save(page, stamps.genuine)
            page.wait_for_selector("#app[data-queued='1']")
            page.unroute(INSPECTIONS)
            page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
            page.wait_for_selector("#app[data-queued='0']")
            assert _stored(app) == 2
            _timer_backs_off_then_sends(page, app, stamps.genuine)
            # saved with the network there: the message says it went
            _save(page, stamps.genuine)
            page.wait_for_selector("#app[data-queued='0']")
            assert page.inner_text("#record-saved") == "Đã gửi biên bản."
            assert _stored(app) == 4
            context.close()
        get_db(app).engine.dispose()


def _before_sign_in(page: Any, app: Any) -> None:
    status = page.inner_text("#queue-status")
    assert "Chưa có biên bản nào chờ gửi" in status and "Đã gửi mọi" not in status
    page.fill("#username", INSPECTOR)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập thiết bị").click()
    page.wait_for_selector("#device-signout", state="visible")
    with app.app_context(), session_scope(app) as session:
        name = session.scalars(select(InspectorDevice.name)).one()
    assert re.fullmatch(r"Trang kiểm tra viên, \d\d/\d\d/20\d\d", name), name


def _saved_offline_sent_on_the_button(page: Any, app: Any, stamp: str) -> None:
    _cut_off(page)
    _save(page, stamp)
    page.wait_for_selector("#app[data-queued='1']")
    saved = page.locator("#record-saved")
    assert saved.inner_text() == "Đã lưu biên bản; sẽ gửi khi có mạng."
    assert saved.get_attribute("role") == "status"
    assert page.evaluate("document.activeElement.id") == "record-saved"
    assert saved.is_visible() and page.locator("#record").is_hidden()
    code = page.locator("#result dt:text-is('Mã tem') + dd").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}", code), code
    send_now = page.get_by_role("button", name="Gửi ngay")
    assert send_now.is_visible()
    send_now.click()  # still cut off: says so, and keeps the record
    # A selector, not a JavaScript predicate: the page's CSP forbids eval, which Playwright
    # needs to poll a predicate given as text (it passed only when already true).
    page.wait_for_selector("#queue-status:has-text('Chưa gửi được')")
    assert _stored(app) == 0
    page.unroute(INSPECTIONS)
    send_now.click()
    page.wait_for_selector("#app[data-queued='0']")
    assert send_now.is_hidden() and _stored(app) == 1
    # not "will be sent" beside "every record has been sent"
    assert saved.inner_text() == "Đã gửi biên bản."


def _timer_backs_off_then_sends(page: Any, app: Any, stamp: str) -> None:
    """No event at all: the timer tries again, waiting twice as long after each failure."""
    _cut_off(page)
    _save(page, stamp)
    page.wait_for_selector("#app[data-retry-ms='5000']")
    page.clock.run_for(5000)
    page.wait_for_selector("#app[data-retry-ms='10000']")
    assert page.get_attribute("#app", "data-queued") == "1"
    page.unroute(INSPECTIONS)
    page.clock.run_for(10000)
    page.wait_for_selector("#app[data-queued='0']")
    assert _stored(app) == 3

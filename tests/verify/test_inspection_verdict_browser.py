"""An inspector checks a voided stamp on the field page, in a real browser: the record keeps
the words the screen showed ("Tem đã hủy", not the signature's "genuine"), the service's own
verdict beside it, and the office reads "Tem đã hủy"; the details for inspectors are in words,
in the page's language; a record with no result says so beside "Kết quả" (a new user's
review)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests import factories
from tests.browser import chromium, live_server
from tests.databases import fresh_database
from tests.verify.test_offline_page_browser import INSPECTOR, PAGE, PASSWORD, _app, _open, _stamps
from trace_service.auth.passwords import hash_password
from trace_service.db import get_db, session_scope, utcnow
from trace_service.labels.models import Label
from trace_service.labels.voids import VoidOrder, void_stamps
from trace_service.migrate import upgrade
from trace_service.principal import Role, system_principal
from trace_service.verify.models import FieldInspection

pytestmark = pytest.mark.browser
OFFICE = "vanphong.kiemtra"


def _void(app: Any, url: str) -> None:
    """Void the stamp of ``url`` and make an office account."""
    serial = url.split("?")[0].rsplit("/", 1)[1]
    with app.app_context(), session_scope(app) as session:
        label = session.scalars(select(Label).where(Label.serial == serial)).one()
        order = VoidOrder(sequences=[label.seq], ranges=[], reason="Tem thất lạc")
        void_stamps(session, system_principal("test"), label.run_id, order, utcnow())
        factories.bind(session)
        factories.UserFactory(
            username=OFFICE, role=Role.ADMIN, password_hash=hash_password(PASSWORD)
        )


def _check(page: Any, stamp: str, button: str = "Kiểm tra tem") -> str:
    page.fill("#scanned", stamp)
    page.get_by_role("button", name=button).click()
    page.wait_for_selector("#record", state="visible")
    page.locator("#result summary").click()  # "Chi tiết cho kiểm tra viên"
    return page.inner_text("#result")


def test_a_voided_stamp_is_recorded_and_read_as_voided(tmp_path):
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = _app(tmp_path, url)
        stamps = _stamps(app)
        _void(app, stamps.genuine)
        with live_server(app) as base, chromium() as browser:
            page = browser.new_page(viewport={"width": 360, "height": 640}, locale="vi-VN")
            _open(page, f"{base}{PAGE}")
            page.fill("#username", INSPECTOR)
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Đăng nhập thiết bị").click()
            page.wait_for_selector("#device-signout", state="visible")
            shown = _check(page, stamps.genuine)
            assert "Tem đã hủy" in shown
            assert "Chữ ký hợp lệ, do hệ thống OCOP cấp" in shown and "Đang dùng" in shown
            assert "genuine" not in shown and "active" not in shown
            _no_result_said_beside_the_field(page)
            page.get_by_role("radio", name="Không đạt").check()
            page.select_option("#proposal", "recall")
            page.fill("#place", "Chợ Gia Nghĩa")
            page.get_by_role("button", name="Lưu biên bản").click()
            page.wait_for_selector("#app[data-queued='0']")
            with app.app_context(), session_scope(app) as session:
                stored = session.scalars(select(FieldInspection)).one()
                assert (stored.verdict, stored.service_verdict) == ("voided", "voided")
            _open(page, f"{base}{PAGE}?lang=en")
            shown = _check(page, stamps.genuine, "Check the stamp")
            assert "Stamp voided" in shown and "In use" in shown
            assert "Valid signature, issued by the OCOP service" in shown
            _office_reads_voided(page, base, stored.id)
        get_db(app).engine.dispose()


def _no_result_said_beside_the_field(page: Any) -> None:
    page.get_by_role("button", name="Lưu biên bản").click()
    message = page.locator("#record-form fieldset #result-message")
    assert message.is_visible() and message.inner_text() == "Hãy chọn kết quả."
    assert page.evaluate("document.activeElement.name") == "result"
    assert "Hãy chọn" not in page.inner_text("#queue-status")


def _office_reads_voided(page: Any, base: str, inspection_id: int) -> None:
    page.goto(f"{base}/dang-nhap?lang=vi")
    page.get_by_label("Tên đăng nhập").fill(OFFICE)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/van-phong/", wait_until="load")
    page.goto(f"{base}/van-phong/kiem-tra/")
    card = page.locator(f"#bien-ban-{inspection_id}").inner_text()
    assert "Tem, theo máy kiểm tra\nTem đã hủy" in card, card
    assert "Tem chính hãng" not in card and "theo hệ thống" not in card  # the two agree

"""The sign-in page in a real browser at phone size: usable, accessible, nothing from
another host."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser import chromium, live_server, screenshot, serious_accessibility_problems
from tests.databases import fresh_database
from tests.portal.conftest import PASSWORD
from trace_service import create_app
from trace_service.auth.passwords import hash_password
from trace_service.db import get_db, session_scope
from trace_service.migrate import upgrade
from trace_service.principal import Role

pytestmark = pytest.mark.browser


def test_a_producer_signs_in_on_a_phone_and_signs_out(tmp_path):
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test secret key, long enough"})
        with app.app_context(), session_scope(app) as session:
            factories.bind(session)
            producer = factories.ProducerFactory()
            user = factories.UserFactory(
                role=Role.PRODUCER, producer_id=producer.id, password_hash=hash_password(PASSWORD)
            )
            username = user.username
        with live_server(app) as base, chromium() as browser:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN")
            elsewhere: list[str] = []
            page.on("request", lambda r: r.url.startswith(base) or elsewhere.append(r.url))
            errors: list[str] = []
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.goto(f"{base}/chu-the/")
            assert page.url.startswith(f"{base}/dang-nhap")
            assert serious_accessibility_problems(page) == []
            page.get_by_label("Tên đăng nhập").fill(username)
            page.get_by_label("Mật khẩu").fill("not the password")
            page.get_by_role("button", name="Đăng nhập").click()
            assert page.locator("#password-error").is_visible()
            screenshot(page, "portal-sign-in-refused-390x844")
            assert serious_accessibility_problems(page) == []
            page.get_by_label("Mật khẩu").fill(PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()
            assert page.url == f"{base}/chu-the/"
            screenshot(page, "portal-producer-home-390x844")
            page.get_by_role("button", name="Đăng xuất").click()
            assert "/dang-nhap" in page.url
            assert elsewhere == [] and errors == []
        get_db(app).engine.dispose()

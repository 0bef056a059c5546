"""An officer in a real browser finds what expires next month in Đắk Mil in one click, at
phone and desktop sizes, with no serious accessibility problem."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser import chromium, live_server, screenshot, serious_accessibility_problems
from tests.databases import fresh_database
from tests.portal.conftest import PASSWORD
from tests.portal.test_office_board import certificate_expiring_in
from trace_service import create_app
from trace_service.auth.passwords import hash_password
from trace_service.certificates.expiry import sweep
from trace_service.clock import today_vn
from trace_service.db import get_db, session_scope, utcnow
from trace_service.migrate import upgrade
from trace_service.principal import Role, system_principal
from trace_service.registry.units import UNITS, seed_units

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("office-portal")
    with fresh_database("sqlite", tmp) as url:
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test secret key, long enough"})
        with app.app_context(), session_scope(app) as session:
            factories.bind(session)
            units = seed_units(session, system_principal("test"))
            near = certificate_expiring_in(20, units["ld.duclap"], "HTX Đức Lập")
            cujut = next(u["key"] for u in UNITS if u.get("parent") == "dn.cujut")
            certificate_expiring_in(25, units[cujut], "HTX Cư Jút")
            sweep(session, system_principal("test"), today_vn(), now=utcnow())
            user = factories.UserFactory(role=Role.ADMIN, password_hash=hash_password(PASSWORD))
            names = {"user": user.username, "near": near.number}
        with live_server(app) as base:
            yield base, names
        get_db(app).engine.dispose()


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["phone", "desktop"])
def test_an_officer_finds_what_expires_next_month_in_dak_mil_in_one_click(served, size):
    base, names = served
    width, height = size
    with chromium() as browser:
        page = browser.new_page(viewport={"width": width, "height": height}, locale="vi-VN")
        elsewhere: list[str] = []
        page.on("request", lambda r: r.url.startswith(base) or elsewhere.append(r.url))
        page.goto(f"{base}/dang-nhap")
        page.get_by_label("Tên đăng nhập").fill(names["user"])
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(f"{base}/van-phong/", wait_until="load")
        assert serious_accessibility_problems(page) == []
        screenshot(page, f"portal-office-board-{width}x{height}")
        page.get_by_role("link", name="Đắk Mil", exact=True).click()  # the one click
        page.wait_for_load_state()
        table = page.locator("table").inner_text()
        assert names["near"] in table and "HTX Cư Jút" not in table
        assert "Huyện Đắk Mil" in page.locator("main").inner_text()
        assert serious_accessibility_problems(page) == []
        screenshot(page, f"portal-office-board-dak-mil-{width}x{height}")
        for name in ("chu-the", "san-pham"):
            page.goto(f"{base}/van-phong/{name}/")
            assert serious_accessibility_problems(page) == [], name
            screenshot(page, f"portal-office-{name}-{width}x{height}")
        assert elsewhere == []

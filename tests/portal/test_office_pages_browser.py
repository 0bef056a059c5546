"""The office's pages in a real browser at phone (390 × 844) and desktop (1280 × 800) sizes:
the header stays one line on a phone; the plan board's charts, the month filter, the
registry, reports, flagged stamps and the import page have no serious accessibility problem
and ask no other host; an officer records an evaluation that yields a certificate, revokes
it, and the stamp's page turns red. Screenshots are kept as test artifacts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

import trace_service
from tests import factories
from tests.browser import (
    chromium,
    keep_to_this_server,
    screenshot,
    serious_accessibility_problems,
    served_app,
)
from tests.conftest import make_account
from tests.labels.conftest import pack
from tests.portal.conftest import PASSWORD
from tests.portal.test_office_board import certificate_expiring_in
from trace_service.auth.passwords import hash_password
from trace_service.clock import today_vn
from trace_service.db import session_scope
from trace_service.labels.models import Label
from trace_service.labels.schemas import label_url
from trace_service.portal.office.charts import Series, bar_chart
from trace_service.principal import Role, system_principal
from trace_service.registry.units import seed_units
from trace_service.reports.models import ConsumerReport, Problem

pytestmark = pytest.mark.browser
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("office-pages")
    with served_app(tmp) as (app, base):
        with app.app_context(), session_scope(app) as session:
            factories.bind(session)
            units = seed_units(session, system_principal("test"))
            first_next = (today_vn().replace(day=1) + timedelta(days=32)).replace(day=1)
            certificate_expiring_in(
                (first_next - today_vn()).days + 5, units["ld.duclap"], "HTX Đức Lập"
            )
            producer = factories.ProducerFactory(name="HTX Thuận An", commune=units["ld.duclap"])
            product = factories.ProductFactory(producer=producer, name_vi="Cà phê bột Thuận An")
            area = factories.AreaFactory(producer=producer)
            account = make_account(session, Role.PRODUCER, producer.id)
            session.add(
                ConsumerReport(
                    code="DN-TEST",
                    verdict="genuine",
                    problem=Problem.QUALITY,
                    details="Gói cà phê bị ẩm",
                    place="Chợ Đắk Mil",
                )
            )
            officer = factories.UserFactory(role=Role.ADMIN, password_hash=hash_password(PASSWORD))
            names = {"user": officer.username, "product": product.id, "ld": units["ld"].id}
            headers = account.headers
            ids = (product.id, area.id)
        yield app, base, names, headers, ids


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:  # one browser for the module: its tests share it
        yield launched


def _sign_in(page, base, username):
    page.goto(f"{base}/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/van-phong/", wait_until="load")


def _check(page, name: str, size: str) -> None:
    assert serious_accessibility_problems(page) == [], name
    screenshot(page, f"portal-office-{name}-{SIZES[size]['width']}x{SIZES[size]['height']}")


@pytest.mark.parametrize("size", list(SIZES))
def test_the_office_pages_at_phone_and_desktop_size(served, browser, size):
    _, base, names, _, _ = served
    page = browser.new_page(viewport=SIZES[size], locale="vi-VN")
    outside, errors = keep_to_this_server(page)
    _sign_in(page, base, names["user"])
    header = page.locator("header.top").bounding_box()
    assert header is not None and header["height"] < 70  # one line, phone or desktop
    if size == "phone":
        page.get_by_text("Trình đơn").click()  # the folded menu opens
        menu = page.locator(".nav-menu").bounding_box()
        assert menu is not None and menu["x"] >= 0  # whole on screen (it ran off the left)
        assert menu["x"] + menu["width"] <= SIZES[size]["width"]
        page.get_by_role("link", name="Kế hoạch").click()
    else:
        page.get_by_role("link", name="Kế hoạch").click()
    page.wait_for_url(f"{base}/van-phong/ke-hoach")
    assert page.locator("svg.chart[role=img]").count() == 4
    _check(page, "plan", size)
    page.goto(f"{base}/van-phong/")
    page.get_by_role("link", name="Đắk Mil (1)").click()  # next month in Đắk Mil: one click
    page.wait_for_load_state()
    assert "thang=sau" in page.url and "HTX Đức Lập" in page.locator("table").inner_text()
    _check(page, "board-next-month-dak-mil", size)
    for path, name in (
        (f"/van-phong/san-pham/{names['product']}", "product"),
        (f"/van-phong/san-pham/{names['product']}/danh-gia", "evaluation-form"),
        ("/van-phong/bao-cao/", "reports"),
        ("/van-phong/bao-cao/1", "report"),
        ("/van-phong/tem-nghi-sao-chep/", "flagged"),
        ("/van-phong/nhap/", "import"),
    ):
        page.goto(f"{base}{path}")
        _check(page, name, size)
    assert outside == [] and errors == []


def test_an_officer_certifies_then_revokes_and_the_stamp_turns_red(served, browser):
    app, base, names, headers, (product_id, area_id) = served
    page = browser.new_page(viewport=SIZES["desktop"], locale="vi-VN")
    outside, _ = keep_to_this_server(page)
    _sign_in(page, base, names["user"])
    page.goto(f"{base}/van-phong/san-pham/{product_id}")
    page.get_by_role("link", name="Ghi kết quả đánh giá (đánh giá lại)").click()
    page.get_by_label("Ngày hội đồng đánh giá").fill(today_vn().isoformat())
    page.get_by_label("Hội đồng", exact=True).select_option("province")
    page.get_by_label("Đơn vị của hội đồng").select_option(str(names["ld"]))
    page.get_by_label("Điểm phần A").fill("30")
    page.get_by_label("Điểm phần B").fill("15")
    page.get_by_label("Điểm phần C").fill("30")  # 31 is refused below: C is at most 35
    page.get_by_label("Đạt", exact=True).check()
    page.get_by_label("Số biên bản của hội đồng").fill("Biên bản 3/BB-HĐ")
    page.get_by_role("button", name="Ghi kết quả đánh giá").click()
    page.wait_for_load_state()
    assert "75 điểm, 4 sao" in page.locator("main").inner_text()
    _check(page, "certificate-form", "desktop")
    page.get_by_label("Số giấy chứng nhận").fill("0999/GCN-OCOP")
    page.get_by_label("Số quyết định công nhận").fill("999/QĐ-UBND")
    page.get_by_label("Ngày quyết định").fill(today_vn().isoformat())
    page.get_by_label("Ngày cấp", exact=True).fill(today_vn().isoformat())
    page.get_by_role("button", name="Cấp giấy chứng nhận").click()
    page.wait_for_load_state()
    assert "Đã cấp giấy chứng nhận 0999/GCN-OCOP" in page.locator("main").inner_text()
    # The producer packs and prints through the API; the stamp's page is green.
    client = app.test_client()
    product = type("P", (), {"id": product_id})
    area = type("A", (), {"id": area_id})
    account = type("Acc", (), {"headers": headers})
    _, bags = pack(client, account, product, area, bags=10, code="TA-1", harvest_code="H-TA")
    run = client.post(
        "/api/v1/print-runs",
        headers=headers,
        json={"product_id": product_id, "lot_id": bags, "quantity": 1},
    )
    assert run.status_code in (201, 202), run.json
    with app.app_context(), session_scope(app, writes=False) as session:
        url = label_url(session.scalars(select(Label)).one())
    stamp = f"{base}{urlsplit(url).path}?{urlsplit(url).query}"
    page.goto(stamp)
    assert page.locator(".verdict.v-green").count() == 1
    page.goto(f"{base}/van-phong/san-pham/{product_id}")
    page.get_by_role("link", name="Thu hồi 0999/GCN-OCOP").click()
    page.get_by_label("Ngày thu hồi").fill(today_vn().isoformat())
    page.get_by_label("Số quyết định thu hồi").fill("12/QĐ-UBND")
    page.get_by_label("Lý do").fill("Sản phẩm không đạt chất lượng khi kiểm tra lại")
    _check(page, "revoke-form", "desktop")
    page.get_by_role("button", name="Tiếp tục: kiểm tra trước khi thu hồi").click()
    page.wait_for_load_state()
    assert "Kiểm tra trước khi thu hồi" in page.locator("main").inner_text()
    _check(page, "revoke-review", "desktop")
    page.get_by_role("button", name="Thu hồi giấy chứng nhận 0999/GCN-OCOP").click()
    page.wait_for_load_state()
    assert "Đã bị thu hồi" in page.locator("main").inner_text()
    page.goto(stamp)
    assert page.locator(".verdict.v-red").count() == 1
    screenshot(page, "portal-office-revoked-stamp-1280x800")
    assert outside == []


# The smallest text of the plan board's charts as drawn on screen, in CSS pixels: each
# text's font size times the scale its SVG is drawn at.
SMALLEST_CHART_TEXT = """() => Math.min(...[...document.querySelectorAll('svg.chart text')].map(
  (text) => parseFloat(getComputedStyle(text).fontSize) * text.ownerSVGElement.getScreenCTM().a))"""


@pytest.mark.parametrize("size", list(SIZES))
def test_is_the_chart_text_at_least_12_px_on_a_phone(served, browser, size):
    _, base, names, _, _ = served
    page = browser.new_page(viewport=SIZES[size], locale="vi-VN")
    _sign_in(page, base, names["user"])
    page.goto(f"{base}/van-phong/ke-hoach?nam_bieu_do=2025")
    assert page.locator("#theo-thang").inner_text() == "Theo tháng, 2025"
    assert page.evaluate(SMALLEST_CHART_TEXT) >= 12
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= SIZES[size]["width"]  # the page itself never scrolls sideways
    screenshot(page, f"portal-office-plan-charts-{SIZES[size]['width']}x{SIZES[size]['height']}")


# Each text of each chart whose box passes its SVG's box (review finding 4: the longest bars'
# values were cut off by a frame narrower than the chart).
CLIPPED_TEXTS = """() => [...document.querySelectorAll('svg.chart')].flatMap((svg) => {
  const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll('text')].filter((text) => {
    const r = text.getBoundingClientRect();
    return r.left < box.left - 0.5 || r.right > box.right + 0.5
      || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5;
  }).map((text) => text.textContent);
})"""


def _long_charts() -> str:
    """Charts whose values and names are as long as the board's get: a district far ahead
    of the others, a four-digit figure, a long town name, targets near the longest bar."""
    names = ["Thành phố Gia Nghĩa", "Huyện Đắk Song", "Huyện Đắk R'Lấp", "Huyện Krông Nô"]
    wide = bar_chart(
        "a",
        "Sản phẩm OCOP còn hiệu lực theo hạng sao, từng huyện của tỉnh Lâm Đồng",
        "d",
        names,
        [
            Series("3★", "bar", [9, 1, 0, 2]),
            Series("4★", "bar2", [1, 9, 3, 0]),
            Series("5★", "bar3", [0, 2, 9, 1]),
        ],
    )
    targets = bar_chart(
        "b", "Chứng nhận", "d", names, [Series("Đã", "bar", [9, 4, 2, 12])], targets=[4, 9, 12, 3]
    )
    scans = bar_chart(
        "c",
        "Lượt quét",
        "d",
        ["Tuần từ 01/12", "Tuần từ 08/12"],
        [Series("Lượt quét", "bar3", [12345, 80])],
    )
    return wide + targets + scans


def test_is_no_chart_text_cut_off_on_a_phone(browser):
    page = browser.new_page(viewport=SIZES["phone"], locale="vi-VN")
    css = (Path(trace_service.__file__).parent / "web/static/ocop.css").read_text()
    # The chart's frame on the portal's page at 390 px: 358 px wide (the review measured it).
    body = f'<div style="width:358px;margin:0 16px">{_long_charts()}</div>'
    page.set_content(f"<style>{css}</style><style>body{{margin:0}}</style>{body}")
    assert page.locator("svg.chart").first.bounding_box()["width"] <= 358
    assert page.evaluate(CLIPPED_TEXTS) == []
    assert page.evaluate(SMALLEST_CHART_TEXT) >= 12
    names = page.locator("svg.chart text.target-name").all_text_contents()
    assert names == ["Chỉ tiêu: 4", "Chỉ tiêu: 9", "Chỉ tiêu: 12", "Chỉ tiêu: 3"]
    screenshot(page, "portal-office-long-charts-390x844")

"""Smaller form issues of review user1 (F11): a choice, a day or a file asks to be chosen;
a list page past the last leads back to the last one."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

from tests import factories
from tests.portal.conftest import BROWSER, add_lot, csrf_of, sign_in
from tests.portal.test_producer_lots import harvest
from tests.portal.test_producer_stamps import order, order_page, packing
from trace_service.trace.units import Unit


def _errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'id="([\w-]+)-error">([^<]+)<', unescape(html)))


def test_a_missing_choice_or_date_asks_to_choose(client, certified):
    sign_in(client, certified.user.username)
    page = client.get("/chu-the/thu-hoach", headers=BROWSER).get_data(as_text=True)
    html = client.post("/chu-the/thu-hoach", data={"csrf_token": csrf_of(page)}, headers=BROWSER)
    errors = _errors(html.get_data(as_text=True))
    assert errors["area"] == "Hãy chọn một vùng nguyên liệu."
    assert errors["harvest_start"] == "Hãy chọn một ngày."
    assert errors["material"] == "Hãy điền mục này."  # text is typed, not chosen
    page = client.get("/chu-the/dong-goi", headers=BROWSER).get_data(as_text=True)
    html = client.post("/chu-the/dong-goi", data={"csrf_token": csrf_of(page)}, headers=BROWSER)
    errors = _errors(html.get_data(as_text=True))
    assert errors["packing-input_lot"] == "Hãy chọn một lô nguyên liệu."
    assert errors["packing-packed_on"] == "Hãy chọn một ngày."


def test_a_missing_file_asks_for_the_lists_file(client, office_user):
    sign_in(client, office_user.username)
    page = client.get("/van-phong/nhap/", headers=BROWSER).get_data(as_text=True)
    html = client.post("/van-phong/nhap/", data={"csrf_token": csrf_of(page)}, headers=BROWSER)
    assert _errors(html.get_data(as_text=True))["file"] == "Hãy chọn tệp danh sách."


def test_a_page_past_the_last_leads_to_the_last(client, office_user, db_session):
    producer = factories.ProducerFactory()
    for n in range(1, 61):
        factories.ProductFactory(producer=producer, name_vi=f"Trà hoa vàng số {n:02d}")
    sign_in(client, office_user.username)
    past = client.get("/van-phong/san-pham/?q=tra+hoa&trang=99", headers=BROWSER)
    assert past.status_code == 302
    assert past.headers["Location"] == "/van-phong/san-pham/?trang=2&q=tra+hoa"  # filters kept
    html = unescape(client.get(past.headers["Location"], headers=BROWSER).get_data(True))
    assert "Trang 2 / 2" in html and html.count("Trà hoa vàng số") == 10
    assert client.get("/van-phong/chu-the/?trang=99", headers=BROWSER).status_code == 302


def test_lot_amounts_and_names_read_as_elsewhere(client, certified):
    sign_in(client, certified.user.username)
    made = harvest(client, certified.area.id, quantity="1.250", code="TH-1250")
    assert made.status_code == 302
    html = unescape(client.get("/chu-the/dong-goi", headers=BROWSER).get_data(as_text=True))
    assert "TH-1250 · Cà phê quả tươi · còn 1.250 kg" in html  # not "1250 kg"
    assert packing(client, certified, order_page(client, certified.product.id)).status_code == 302
    lots = unescape(client.get("/chu-the/lo/", headers=BROWSER).get_data(as_text=True))
    line = re.search(r"Lô DM2612-RB1</a>(.*?)</li>", lots, re.S)
    assert line and line.group(1).count(certified.product.name_vi) == 1  # the name once


def test_the_packing_form_names_units_in_the_pages_language(client, certified, db_session):
    """Review user15: "còn 40 bag" on English pages; numbers keep Vietnamese separators on
    every page (PAGES.md), units are the page's words."""
    add_lot(
        db_session,
        certified,
        code="BAO-40",
        material="Cà phê nhân bao 60 kg",
        quantity=Decimal(1200),
        unit=Unit.BAG,
    )
    sign_in(client, certified.user.username)
    for lang, words in (("vi", "còn 1.200 bao"), ("en", "1.200 bags left")):
        page = client.get(f"/chu-the/dong-goi?lang={lang}", headers=BROWSER)
        assert f"BAO-40 · Cà phê nhân bao 60 kg · {words}" in unescape(page.get_data(True))


def test_the_order_page_says_plainly_no_lot_is_left_to_stamp(client, certified):
    sign_in(client, certified.user.username)
    html = order_page(client, certified.product.id)
    assert "Chưa có lô đóng gói nào còn gói chưa dán tem." in html


def test_the_order_page_says_when_every_packed_lot_has_its_stamps(client, certified):
    """Every packed lot stamped is not "no packed lot yet": the producer is told to pack a
    new lot, or to harvest one first when nothing is left to pack from."""
    sign_in(client, certified.user.username)
    used_up = "Mọi lô đã đóng gói của sản phẩm này đều đã đặt đủ tem."
    assert packing(client, certified, order_page(client, certified.product.id)).status_code == 302
    assert order(client, order_page(client, certified.product.id), "100").status_code == 302
    html = unescape(order_page(client, certified.product.id))
    assert used_up in html and "Muốn in thêm: ghi nhận đóng gói một lô mới" in html
    assert "chưa có lô đã đóng gói" not in html and "còn gói chưa dán tem" not in html
    rest = {"packing-input_quantity": "475", "packing-code": "DM2612-RB2"}  # the lot's rest
    assert (
        packing(client, certified, order_page(client, certified.product.id), **rest).status_code
        == 302
    )
    assert order(client, order_page(client, certified.product.id), "100").status_code == 302
    html = unescape(order_page(client, certified.product.id))
    assert used_up in html and "Muốn in thêm: ghi nhận thu hoạch một lô mới" in html

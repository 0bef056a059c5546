"""A form's error summary names each field by its visible label and links to it
(href="#the-field's-id", an id on the page), as PAGES.md's form rules ask: the sign-in
form, the order form (its radio groups link to their first choice), the calibration form
and the office's evaluation form."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import trace_service.portal
from tests.portal.conftest import BROWSER, csrf_of, sign_in
from tests.portal.test_producer_printing import packed_order_page, place_order


def summary_of(html: str) -> list[tuple[str, str]]:
    """The summary's links: (target id, text), each checked to lead to an element."""
    box = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert box, "no error summary"
    links = [(t, unescape(x)) for t, x in re.findall(r'<a href="#([^"]+)">([^<]+)</a>', box[0])]
    for target, _ in links:
        assert f'id="{target}"' in html, f"the summary links to #{target}, not on the page"
    return links


def test_does_the_sign_in_summary_name_its_fields(client):
    page = client.get("/dang-nhap", headers=BROWSER).get_data(as_text=True)
    answer = client.post(
        "/dang-nhap", data={"csrf_token": csrf_of(page), "username": "", "password": ""}
    )
    assert summary_of(answer.get_data(as_text=True)) == [
        ("username", "Tên đăng nhập: Hãy điền mục này."),
        ("password", "Mật khẩu: Hãy điền mục này."),
    ]


def test_does_the_order_summary_name_its_fields_and_link_to_them(client, certified):
    html = packed_order_page(client, certified)
    refused = place_order(client, certified, html, **{"order-lot": "", "order-quantity": ""})
    links = dict(summary_of(refused.get_data(as_text=True)))
    assert links["order-lot-1"] == "Lô hàng đã đóng gói: Hãy chọn một lô hàng."
    assert links["order-quantity"] == "Số tem: Hãy điền mục này."
    # The service's refusals too, beside the field it names.
    refused = place_order(client, certified, html, **{"order-stock": "x"})
    links = dict(summary_of(refused.get_data(as_text=True)))
    assert links["order-stock-1"].startswith("Loại giấy in tem: Không có loại giấy in")
    refused = place_order(client, certified, html, **{"order-start_position": "99"})
    links = dict(summary_of(refused.get_data(as_text=True)))
    assert links["order-start_position"].startswith("In từ vị trí số: Tờ ")


def test_does_the_calibration_summary_name_its_fields(client, certified):
    sign_in(client, certified.user.username)
    page = client.get("/chu-the/in-tem/can-chinh", headers=BROWSER).get_data(as_text=True)
    data = {"csrf_token": csrf_of(page), "offset-offset_x": "12", "offset-offset_y": "abc"}
    html = client.post("/chu-the/in-tem/can-chinh", data=data, headers=BROWSER).get_data(True)
    links = dict(summary_of(html))
    assert links["offset-offset_y"].startswith("Dời dọc y (mm): Hãy nhập số mm")


def test_does_the_evaluation_summary_name_its_radio_group(client, office_user, certified):
    sign_in(client, office_user.username)
    url = f"/van-phong/san-pham/{certified.product.id}/danh-gia"
    page = client.get(url, headers=BROWSER).get_data(as_text=True)
    html = client.post(url, data={"csrf_token": csrf_of(page)}, headers=BROWSER).get_data(True)
    links = dict(summary_of(html))
    assert links["mandatory_met-yes"].startswith("Đạt các tiêu chí bắt buộc?: ")
    assert links["evaluated_on"].startswith("Ngày hội đồng đánh giá: ")
    assert all(": " in text for text in links.values())  # every field named


def test_is_every_summary_drawn_around_its_form():
    """Drawn before its form, a summary could not know the fields' labels: every summary
    of a form with fields is a call block around it (the photo's "remove" form has none)."""
    root = Path(trace_service.portal.__file__).parent / "templates"
    for template in root.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for name in re.findall(r"\{\{ error_summary\((\w+)\) \}\}", text):
            assert name == "remove", f"{template.name}: error_summary({name}) before its form"

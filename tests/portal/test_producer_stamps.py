"""A producer orders stamps through the portal's pages, with the API's services and scoping:
packing recorded on the spot, an order, the run's files through the session."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.decode import read_qr_codes
from tests.portal.conftest import BROWSER, csrf_of, make_certified, sign_in
from trace_service.clock import today_vn
from trace_service.labels import build
from trace_service.labels.models import Label, PrintRun
from trace_service.labels.render.zpl import thermal_layout
from trace_service.portal.stamp_preview import SPECIMEN_TEXT


def order_page(client, product_id: int) -> str:
    page = client.get(f"/chu-the/san-pham/{product_id}/dat-in-tem", headers=BROWSER)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def packing(client, certified, html: str, **changes: str):
    data = {
        "csrf_token": csrf_of(html),
        "packing-product": str(certified.product.id),
        "packing-input_lot": str(certified.harvest_lot.id),
        "packing-input_quantity": "25",
        "packing-input_lot_2": "",
        "packing-input_quantity_2": "",
        "packing-quantity": "25",
        "packing-unit_count": "100",
        "packing-packed_on": today_vn().isoformat(),
        "packing-code": "DM2612-RB1",
        "packing-submit": "1",
        **changes,
    }
    url = f"/chu-the/san-pham/{certified.product.id}/dat-in-tem"
    return client.post(url, data=data, headers=BROWSER)


def order(client, html: str, quantity: str = "100", **extra: str):
    lot = re.search(r'name="order-lot" id="order-lot-1" value="(\d+)"', html)
    key = re.search(r'name="order-key" type="hidden" value="([0-9a-f]+)"', html)
    assert lot and key
    data = {
        "csrf_token": csrf_of(html),
        "order-lot": lot.group(1),
        "order-quantity": quantity,
        "order-key": key.group(1),
        "order-submit": "1",
        **extra,
    }
    action = re.search(r'<form method="post" novalidate>', html)
    assert action  # posts to the page itself
    url = re.search(r'<img src="(/chu-the/san-pham/\d+/)mau-tem.png', html)
    assert url
    return client.post(f"{url.group(1)}dat-in-tem", data=data, headers=BROWSER)


def download(client, url: str) -> bytes:
    answer = client.get(url, headers=BROWSER)
    try:
        assert answer.status_code == 200
        return answer.data
    finally:
        answer.close()


def test_does_the_home_show_each_product_with_its_certificate(client, certified):
    sign_in(client, certified.user.username)
    html = client.get("/chu-the/", headers=BROWSER).get_data(as_text=True)
    assert "Cà phê bột Robusta Đắk Mil – rang mộc" in html
    assert certified.certificate.number in html and "Còn hiệu lực" in html
    left = (certified.certificate.valid_until - today_vn()).days
    assert f"còn {left:,} ngày".replace(",", ".") in html
    assert f"/chu-the/san-pham/{certified.product.id}/dat-in-tem" in html
    assert '"id"' not in html and "Bearer" not in html
    assert '<a class="brand" href="/chu-the/">' in html  # the brand leads home, not to sign-in


def test_does_a_producer_pack_then_order_100_stamps_and_download_the_pdf(client, certified):
    sign_in(client, certified.user.username)
    html = order_page(client, certified.product.id)
    assert "Chưa có lô đóng gói nào" in html  # nothing to stamp yet: the packing form is open
    packed = packing(client, certified, html)
    assert packed.status_code == 302
    html = order_page(client, certified.product.id)
    assert "DM2612-RB1" in html and "còn 100 đơn vị" in html
    ordered = order(client, html)
    assert ordered.status_code == 302 and "/chu-the/dot-in/" in ordered.headers["Location"]
    run_page = client.get(ordered.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Sẵn sàng" in run_page and 'data-done="1"' in run_page
    pdf_url = re.search(r'href="(/chu-the/dot-in/\d+/tem-ocop\.pdf)"', run_page)
    assert pdf_url
    assert download(client, pdf_url.group(1)).startswith(b"%PDF")
    zpl = re.search(r'href="(/chu-the/dot-in/\d+/tem-ocop-203dpi\.zpl)"', run_page)
    assert zpl and download(client, zpl.group(1)).startswith(b"~DG")
    home = client.get("/chu-the/", headers=BROWSER).get_data(as_text=True)
    assert pdf_url.group(1) in home  # the latest runs' files are a click away from home
    # Sent twice (a double click): the same run, not a second one.

    again = order(client, html)
    assert again.headers["Location"] == ordered.headers["Location"]


def test_is_a_refused_packing_explained_beside_its_field(client, certified):
    sign_in(client, certified.user.username)
    html = order_page(client, certified.product.id)
    refused = packing(client, certified, html, **{"packing-input_quantity": "9000"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert 'id="packing-input_quantity-error"' in page and "chỉ còn 500 kg" in page
    assert 'value="DM2612-RB1"' in page  # nothing typed is lost


def test_is_an_order_over_the_lots_units_refused_beside_the_quantity(client, certified):
    sign_in(client, certified.user.username)
    packing(client, certified, order_page(client, certified.product.id))
    refused = order(client, order_page(client, certified.product.id), quantity="101")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert 'id="order-quantity-error"' in page and "chỉ đặt thêm tối đa 100 tem" in page


@pytest.mark.parametrize(
    "typed", ["1.5", "1_0", "1,5", "1.0.0", "10.00", "0.100", "\u0661\u0660", "-1.5"]
)
def test_is_a_quantity_that_is_not_a_whole_number_refused_not_misread(
    client, certified, db_session, typed
):
    """Review attack16 F2: "1.5" ordered 15 stamps (the dot dropped as a thousands
    separator), "1_0" ordered 10 (Python's int())."""
    sign_in(client, certified.user.username)
    packing(client, certified, order_page(client, certified.product.id))
    refused = order(client, order_page(client, certified.product.id), quantity=typed)
    page = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 200
    assert "Hãy nhập một số nguyên, ví dụ 100 hoặc 2.000." in page
    assert 'id="order-quantity-error"' in page
    assert db_session.scalar(select(func.count()).select_from(PrintRun)) == 0


def test_a_number_of_thousands_of_digits_is_too_large_not_pythons_error(client, certified):
    """Review attack16b: 5,000 digits answered with int()'s own English message."""
    sign_in(client, certified.user.username)
    packing(client, certified, order_page(client, certified.product.id))
    refused = order(client, order_page(client, certified.product.id), quantity="9" * 5000)
    page = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 200 and "Số này quá lớn." in page
    assert "set_int_max_str_digits" not in page and 'id="order-quantity-error"' in page
    sixteen = order(client, order_page(client, certified.product.id), quantity="9" * 15)
    assert "Mỗi đợt in có từ 1 đến 100.000 tem." in unescape(sixteen.get_data(as_text=True))


@pytest.mark.parametrize(("typed", "stamps"), [("100", 100), ("2.000", 2000), ("1 000", 1000)])
def test_is_a_quantity_grouped_by_thousands_read_whole(
    client, certified, db_session, typed, stamps
):
    sign_in(client, certified.user.username)
    units = {"packing-unit_count": "2000"}
    packing(client, certified, order_page(client, certified.product.id), **units)
    ordered = order(client, order_page(client, certified.product.id), quantity=typed)
    assert ordered.status_code == 302
    assert db_session.scalars(select(PrintRun.quantity)).all() == [stamps]


def test_a_producer_orders_scratch_codes_from_the_form(client, certified, db_session):
    """Review user16: scratch codes could be ordered only through the API or the CLI."""
    sign_in(client, certified.user.username)
    packing(client, certified, order_page(client, certified.product.id))
    html = order_page(client, certified.product.id)
    assert 'name="order-scratch"' in html and "18 tem 60 × 42 mm" in unescape(html)
    refused = order(client, html, "10", **{"order-scratch": "y", "order-stock": "avery_l7120"})
    said = unescape(refused.get_data(True))
    assert refused.status_code == 200 and "không có chỗ cho mã cào; hãy chọn: Giấy A4" in said
    assert "Decal A4 cắt sẵn 21 nhãn" in said[said.index("không có chỗ cho mã cào") :]
    assert db_session.scalar(select(func.count()).select_from(PrintRun)) == 0
    ordered = order(
        client, order_page(client, certified.product.id), "10", **{"order-scratch": "y"}
    )
    assert ordered.status_code == 302
    run = db_session.scalars(select(PrintRun)).one()
    hashes = db_session.scalars(select(Label.scratch_hash).where(Label.run_id == run.id)).all()
    assert run.scratch and len(hashes) == 10 and all(hashes)
    page = unescape(client.get(ordered.headers["Location"], headers=BROWSER).get_data(True))
    assert f"Đợt in tem số {run.id}" in page and "mỗi tem có mã cào" in page
    runs = unescape(client.get("/chu-the/dot-in/", headers=BROWSER).get_data(True))
    assert f"Số {run.id} · " in runs and "10 · tờ 18 tem · có mã cào" in runs
    # Each download link names its run for a screen reader (two runs of one lot and day).
    assert f'<span class="visually-hidden"> đợt in số {run.id}, lô ' in runs


def test_does_a_producer_get_404_on_another_producers_pages(client, certified, db_session):
    other = make_certified(db_session, "Hợp tác xã Khác")
    sign_in(client, certified.user.username)
    packing(client, certified, order_page(client, certified.product.id))
    ordered = order(client, order_page(client, certified.product.id), quantity="3")
    run_url = ordered.headers["Location"]
    for page in ("dat-in-tem", "mau-tem.png"):
        url = f"/chu-the/san-pham/{other.product.id}/{page}"
        assert client.get(url, headers=BROWSER).status_code == 404
    theirs = other.user.username
    other_client = client.application.test_client()
    sign_in(other_client, theirs)
    assert other_client.get(run_url, headers=BROWSER).status_code == 404
    assert other_client.get(f"{run_url}/tem-ocop.pdf", headers=BROWSER).status_code == 404


def test_is_an_order_posted_without_its_csrf_token_refused(client, certified):
    sign_in(client, certified.user.username)
    html = order_page(client, certified.product.id)
    forged = packing(client, certified, html, csrf_token="")
    assert forged.status_code == 400


def test_is_the_stamp_preview_an_image(client, certified):
    sign_in(client, certified.user.username)
    png = client.get(f"/chu-the/san-pham/{certified.product.id}/mau-tem.png", headers=BROWSER)
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")


def test_is_a_stamp_preview_size_other_than_1_or_2_refused_with_a_message(client, certified):
    """Only the srcset's x=1 and x=2 mean something (absent is 2×); anything else is a 400
    on the portal's error page, never a 2× image or a 500."""
    sign_in(client, certified.user.username)
    url = f"/chu-the/san-pham/{certified.product.id}/mau-tem.png"
    sizes = {}
    for x in (None, "1", "2"):
        png = client.get(url, query_string={} if x is None else {"x": x}, headers=BROWSER)
        assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
        sizes[x] = Image.open(io.BytesIO(png.data)).size
    assert sizes[None] == sizes["2"] == (2 * sizes["1"][0], 2 * sizes["1"][1])
    for x in ("0", "-1", "3", "1000", "a", "1.0", " 1", "\x00", "\uff11", "", "9" * 2000):
        refused = client.get(url, query_string={"x": x}, headers=BROWSER)
        assert refused.status_code == 400, x
        assert refused.mimetype == "text/html" and "Mẫu tem chỉ có cỡ x=1 hoặc x=2." in (
            refused.get_data(as_text=True)
        )


def test_is_the_stamp_preview_drawn_at_whole_multiples_of_its_size_on_the_page(client, certified):
    """Crisp on every screen: the page's <img> offers 1× and 2× pictures of exactly twice
    and once its CSS size (a 300-dpi drawing shown at 295 px was reduced by 2.003 and blurred
    at devicePixelRatio 1); at 1× the QR code is still pure black and white, and decodes."""
    sign_in(client, certified.user.username)
    html = order_page(client, certified.product.id)
    img = re.search(r'<img src="([^"]+)"\s+srcset="([^"]+)"\s+width="(\d+)" height="(\d+)"', html)
    assert img, "no stamp preview with a srcset"
    size = int(img[3]), int(img[4])
    offered = dict(reversed(pair.rsplit(" ", 1)) for pair in img[2].split(", "))
    assert set(offered) == {"1x", "2x"} and img[1] == offered["1x"]
    qr = thermal_layout(300).qr_area
    for density, url in offered.items():
        scale = int(density[0])
        png = Image.open(io.BytesIO(client.get(url, headers=BROWSER).data))
        assert png.size == (size[0] * scale, size[1] * scale)
        assert [code.text for code in read_qr_codes(png)] == [SPECIMEN_TEXT]
        if scale == 1:
            box = np.array(png)[qr.y // 2 : (qr.y + qr.h) // 2, qr.x // 2 : (qr.x + qr.w) // 2]
            assert set(np.unique(box)) <= {0, 255}


def test_is_a_product_without_a_certificate_in_force_refused_with_its_reason(
    client, certified, db_session
):
    certified.certificate.valid_until = today_vn() - timedelta(days=1)
    db_session.flush()
    sign_in(client, certified.user.username)
    home = client.get("/chu-the/", headers=BROWSER).get_data(as_text=True)
    assert "đã hết hiệu lực" in home and "/dat-in-tem" not in home
    html = order_page(client, certified.product.id)
    assert "cần đánh giá, công nhận lại" in html and 'name="order-quantity"' not in html
    png = client.get(f"/chu-the/san-pham/{certified.product.id}/mau-tem.png", headers=BROWSER)
    assert png.status_code == 404


def test_is_a_date_that_is_not_one_refused_in_words(client, certified):
    sign_in(client, certified.user.username)
    refused = packing(
        client,
        certified,
        order_page(client, certified.product.id),
        **{"packing-packed_on": "31/02/2026"},
    )
    html = refused.get_data(as_text=True)
    assert 'id="packing-packed_on-error"' in html and "Hãy chọn một ngày." in html
    assert 'href="#packing-packed_on"' in html  # the summary links to the field itself


def test_is_the_same_form_sent_with_another_quantity_another_order(client, certified):
    sign_in(client, certified.user.username)
    packing(client, certified, order_page(client, certified.product.id))
    html = order_page(client, certified.product.id)
    first = order(client, html, quantity="10")
    second = order(client, html, quantity="20")  # the back button, then another number
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] != second.headers["Location"]


def test_is_another_producers_lot_refused_as_an_input_beside_its_field(
    client, certified, db_session
):
    other = make_certified(db_session, "Hợp tác xã Khác")
    sign_in(client, certified.user.username)
    html = order_page(client, certified.product.id)
    refused = packing(client, certified, html, **{"packing-input_lot": str(other.harvest_lot.id)})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and 'id="packing-input_lot-error"' in page
    assert "Không có lô hàng này của bạn." in page and other.harvest_lot.code not in page


def test_does_a_run_in_parts_offer_its_zpl_part_by_part(client, certified, monkeypatch):
    # A file per 10,000 stamps (here 40): the run page offers the whole ZPL and, folded, each
    # part's, for sending a printer a roll at a time.
    monkeypatch.setattr(build, "SHEET_PART_LABELS", 40)
    sign_in(client, certified.user.username)
    html = order_page(client, certified.product.id)
    assert packing(client, certified, html).status_code == 302
    ordered = order(client, order_page(client, certified.product.id))
    run_page = client.get(ordered.headers["Location"], headers=BROWSER).get_data(as_text=True)
    whole = re.search(r'href="(/chu-the/dot-in/\d+/tem-ocop-300dpi\.zpl)"', run_page)
    parts = re.findall(r'href="(/chu-the/dot-in/\d+/tem-ocop-300dpi\.zpl\?phan=\d)"', run_page)
    assert whole and len(parts) == 3
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", run_page)).split())
    assert "Tải ZPL từng phần" in text and "ZPL 300 dpi · phần 3 tem số 81–100 ·" in text
    assert "Tải PDF tờ A4 · phần 2 tem số 41–80 · 3 tờ A4 ·" in text and " KB" in text
    files = [download(client, url) for url in parts]
    assert [f.count(b"^XZ") for f in files] == [40, 40, 20]
    assert all(f.startswith(b"~DG") for f in files)  # each prints alone: graphic first
    assert download(client, whole.group(1)) == b"".join(files)
    # Only a part that is there: any other text is no file (it was the whole run, or part 1).
    for asked in ("abc", "0", "-1", "1e3", "4", "01x", "１"):
        for kind in ("tem-ocop-300dpi.zpl", "tem-ocop.pdf"):
            url = whole.group(1).replace("tem-ocop-300dpi.zpl", kind) + f"?phan={asked}"
            answer = client.get(url, headers=BROWSER)
            assert answer.status_code == 404, (url, answer.status_code)
            answer.close()
    # Voiding by number: each part starts on its own first sheet, and the page says where.
    void_page = client.get(whole.group(1).rsplit("/", 1)[0] + "/huy-tem", headers=BROWSER)
    said = " ".join(unescape(re.sub(r"<[^>]+>", " ", void_page.get_data(as_text=True))).split())
    assert "phần 2 từ tem số 41, phần 3 từ tem số 81" in said
    assert "tem thứ 3 trên tờ đầu của phần 2 là tem số 43" in said

"""Printing on real stock from the producer's pages: the stock and start position on the
order form, the sample sheets, the calibration page and its offset, voiding spoiled stamps,
and the scans by week with the flagged stamps (their own only)."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import insert, select

from tests.decode import read_qr_codes
from tests.portal.conftest import BROWSER, csrf_of, make_certified, sign_in
from tests.portal.test_producer_stamps import download, order_page, packing
from trace_service.audit.models import AuditEvent
from trace_service.db import utcnow
from trace_service.labels.models import Label, LabelState, PrintRun, label_scans
from trace_service.labels.voids import VoidTag
from trace_service.portal.stamp_preview import SPECIMEN_TEXT


def qr_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "file.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", "-png", "-f", "1", "-l", "1", str(path),
         str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    page = np.array(Image.open(next(tmp_path.glob("page*.png"))).convert("L"))
    return [code.text for code in read_qr_codes(Image.fromarray(page))]


def place_order(client, certified, html: str, **fields: str):
    lot = re.search(r'name="order-lot" id="order-lot-1" value="(\d+)"', html)
    key = re.search(r'name="order-key" type="hidden" value="([0-9a-f]+)"', html)
    assert lot and key
    data = {
        "csrf_token": csrf_of(html),
        "order-lot": lot.group(1),
        "order-quantity": "100",
        "order-key": key.group(1),
        "order-submit": "1",
        **fields,
    }
    url = f"/chu-the/san-pham/{certified.product.id}/dat-in-tem"
    return client.post(url, data=data, headers=BROWSER)


def packed_order_page(client, certified) -> str:
    sign_in(client, certified.user.username)
    assert packing(client, certified, order_page(client, certified.product.id)).status_code == 302
    return order_page(client, certified.product.id)


def test_the_order_form_offers_each_stock_and_prints_on_the_one_chosen(client, certified, tmp_path):
    html = packed_order_page(client, certified)
    assert 'value="a4_sheet" checked' in html  # today's layout unless another is chosen
    for name in ("avery_l7160", "avery_l7120"):
        assert 'name="order-stock" id="order-stock-' in html and f'value="{name}"' in html
        assert f"/chu-the/san-pham/{certified.product.id}/to-mau/{name}.pdf" in html
    assert "Decal A4 cắt sẵn 21 nhãn 63,5 × 38,1 mm" in html
    assert 'id="order-start_position"' in html

    ordered = place_order(
        client, certified, html, **{"order-stock": "avery_l7160", "order-start_position": "3"}
    )
    assert ordered.status_code == 302, ordered.get_data(as_text=True)
    run_page = client.get(ordered.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Decal A4 cắt sẵn 21 nhãn" in run_page and "từ vị trí số 3" in run_page
    pdf_url = re.search(r'href="(/chu-the/dot-in/\d+/tem-ocop\.pdf)"', run_page)
    assert pdf_url
    found = qr_texts(download(client, pdf_url.group(1)), tmp_path)
    assert len(found) == 19  # positions 3 to 21 of the first sheet


def test_a_start_position_off_the_sheet_is_refused_beside_its_field(client, certified, db_session):
    html = packed_order_page(client, certified)
    refused = place_order(
        client, certified, html, **{"order-stock": "avery_l7120", "order-start_position": "36"}
    )
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    error = re.search(r'id="order-start_position-error">([^<]+)<', page)
    assert error and "vị trí 1 đến 35" in error.group(1)
    assert db_session.scalar(select(PrintRun.id)) is None


def test_a_sample_sheet_fills_every_position_with_a_specimen_code(client, certified, tmp_path):
    sign_in(client, certified.user.username)
    url = f"/chu-the/san-pham/{certified.product.id}/to-mau/avery_l7120.pdf"
    found = qr_texts(download(client, url), tmp_path)
    assert found == [SPECIMEN_TEXT] * 35
    missing = client.get(f"/chu-the/san-pham/{certified.product.id}/to-mau/nope.pdf")
    assert missing.status_code == 404


def test_the_calibration_page_keeps_the_offset_and_prints_with_it(client, certified, tmp_path):
    sign_in(client, certified.user.username)
    html = client.get("/chu-the/in-tem/can-chinh", headers=BROWSER).get_data(as_text=True)
    for name in ("a4_sheet", "avery_l7160", "avery_l7120"):
        assert f"/chu-the/in-tem/can-chinh/{name}.pdf" in html
    data = {"csrf_token": csrf_of(html), "offset-offset_x": "1,5", "offset-offset_y": "-0,5"}
    saved = client.post("/chu-the/in-tem/can-chinh", data=data, headers=BROWSER)
    assert saved.status_code == 302
    html = client.get(saved.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Đã lưu độ lệch" in html and "x 1,5 mm, y -0,5 mm" in html
    pdf = tmp_path / "calibration.pdf"
    pdf.write_bytes(download(client, "/chu-the/in-tem/can-chinh/avery_l7160.pdf"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "x +1,5 mm, y −0,5 mm" in " ".join(text.split())

    data = {"csrf_token": csrf_of(html), "offset-offset_x": "12", "offset-offset_y": "abc"}
    refused = client.post("/chu-the/in-tem/can-chinh", data=data, headers=BROWSER)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert re.search(r'id="offset-offset_y-error">Hãy nhập số mm', page)
    data["offset-offset_y"] = "0"
    refused = client.post("/chu-the/in-tem/can-chinh", data=data, headers=BROWSER)
    assert re.search(r'id="offset-offset_x-error">Độ lệch tối đa ±10 mm', refused.get_data(True))


def test_spoiled_stamps_are_voided_by_number_and_range_with_a_reason(client, certified, db_session):
    html = packed_order_page(client, certified)
    run_url = place_order(client, certified, html).headers["Location"]
    run_page = client.get(run_url, headers=BROWSER).get_data(as_text=True)
    void_url = re.search(r'href="(/chu-the/dot-in/\d+/huy-tem)"', run_page)
    assert void_url
    form = client.get(void_url.group(1), headers=BROWSER).get_data(as_text=True)
    post = {"csrf_token": csrf_of(form), "void-reason": "kẹt giấy ở tờ 1"}
    bad = client.post(
        void_url.group(1), data={**post, "void-sequences": "ba, bốn"}, headers=BROWSER
    )
    assert re.search(r'id="void-sequences-error">Không đọc được “ba”', bad.get_data(True))
    far = client.post(void_url.group(1), data={**post, "void-sequences": "150"}, headers=BROWSER)
    assert re.search(r'id="void-sequences-error">[^<]*không có tem số 150', far.get_data(True))
    wide = {**post, "void-sequences": "10000-12000"}
    wide = client.post(void_url.group(1), data=wide, headers=BROWSER).get_data(True)
    assert 'id="void-sequences-error">Khoảng 10.000–12.000 không nằm trong 1–100 ' in wide
    # Numbers as the pages print them ("10.000") read as one number (review user17b).
    printed = {**post, "void-sequences": "10.000-12.000"}
    printed = client.post(void_url.group(1), data=printed, headers=BROWSER).get_data(True)
    assert 'id="void-sequences-error">Khoảng 10.000–12.000 không nằm trong 1–100 ' in printed
    assert "không có tem số 1.500" in client.post(
        void_url.group(1), data={**post, "void-sequences": "1.500"}, headers=BROWSER
    ).get_data(True)

    confirmed = {**post, "void-sequences": "3, 10 - 12", "void-confirmed": "1"}
    done = client.post(void_url.group(1), data=confirmed, headers=BROWSER)
    assert "Đã hủy 4 tem" in done.get_data(as_text=True)
    voided = db_session.scalars(
        select(Label.seq)
        .join(LabelState, LabelState.label_id == Label.id)
        .where(LabelState.voided_at.is_not(None))
        .order_by(Label.seq)
    ).all()
    assert voided == [3, 10, 11, 12]

    stranger = make_certified(db_session, "Hộ kinh doanh Khác")
    theirs = client.application.test_client()
    sign_in(theirs, stranger.user.username)
    assert theirs.get(void_url.group(1), headers=BROWSER).status_code == 404


def test_stamps_voided_before_are_neither_offered_nor_counted(client, certified, db_session):
    """Stamps void already are left out of the list to confirm and its count, named apart
    as skipped; a list of nothing else is refused beside the field, not confirmed."""
    html = packed_order_page(client, certified)
    run_page = client.get(place_order(client, certified, html).headers["Location"], headers=BROWSER)
    url = re.search(r'href="(/chu-the/dot-in/\d+/huy-tem)"', run_page.get_data(True))
    assert url
    page = client.get(url.group(1), headers=BROWSER).get_data(as_text=True)
    post = {"csrf_token": csrf_of(page), "void-reason": "kẹt giấy ở tờ 1"}
    first = client.post(
        url.group(1), data={**post, "void-sequences": "10-12", "void-confirmed": "1"}
    )
    assert "Đã hủy 3 tem." in first.get_data(as_text=True)

    preview = client.post(url.group(1), data={**post, "void-sequences": "3, 10 - 15"})
    html = preview.get_data(as_text=True)
    assert "Kiểm tra trước khi hủy: 4 tem" in html and "Hủy vĩnh viễn 4 tem" in html
    assert re.findall(r"tem số (\d+)</span>", html) == ["3", "13", "14", "15"]
    assert re.search(r'id="preview-skipped">Bỏ qua 3 tem đã hủy trước đó \(tem số 10–12\)', html)

    done = client.post(
        url.group(1), data={**post, "void-sequences": "3, 10 - 15", "void-confirmed": "1"}
    ).get_data(as_text=True)
    assert "Đã hủy 4 tem." in done and 'id="voided-skipped">Bỏ qua 3 tem' in done
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.tag == VoidTag.STAMPS_VOIDED).order_by(AuditEvent.id)
    ).all()[-1]
    assert (event.details["sequences"], event.details["ranges"]) == ([3], [[13, 15]])
    assert event.details["already_voided"] == 0

    again = client.post(
        url.group(1), data={**post, "void-sequences": "10-15, 3", "void-confirmed": "1"}
    )
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "Đã hủy" not in html
    assert re.search(
        r'id="void-sequences-error">Các tem này đã hủy trước đó \(tem số 3, 10–15\); '
        "không còn tem nào để hủy",
        html,
    )


def test_scans_by_week_and_flagged_stamps_are_the_producers_own(client, certified, db_session):
    html = packed_order_page(client, certified)
    place_order(client, certified, html)
    labels = db_session.scalars(select(Label).order_by(Label.seq).limit(2)).all()
    now = utcnow()
    rows = [
        {"label_id": labels[0].id, "scanned_at": now - timedelta(days=d), "client_hash": "c" * 32,
         "device": "phone", "source": "scan"}
        for d in (0, 0, 0, 21)
    ]  # fmt: skip
    db_session.execute(insert(label_scans), rows)
    db_session.add(
        LabelState(label_id=labels[1].id, scan_count=60, flagged_at=now, flag_reason="scans")
    )
    db_session.flush()
    page = client.get("/chu-the/quet-tem", headers=BROWSER).get_data(as_text=True)
    weeks = re.findall(r"<tr><td>(\d\d/\d\d/\d{4})</td><td>([\d.]+)</td></tr>", page)
    assert len(weeks) == 12
    assert weeks[0][1] == "3" and sum(int(n) for _, n in weeks) == 4  # newest week first
    grouped = f"{labels[1].serial[:5]}-{labels[1].serial[5:10]}-{labels[1].serial[10:]}"
    assert grouped in page and "quét quá nhiều lần" in page

    other = make_certified(db_session, "Hộ kinh doanh Khác")
    theirs = client.application.test_client()
    sign_in(theirs, other.user.username)
    page = theirs.get("/chu-the/quet-tem", headers=BROWSER).get_data(as_text=True)
    weeks = re.findall(r"<tr><td>(\d\d/\d\d/\d{4})</td><td>([\d.]+)</td></tr>", page)
    assert sum(int(n) for _, n in weeks) == 0 and grouped not in page


def first_word_x(pdf: bytes, tmp_path: Path, name: str) -> float:
    """Where the first stamp's product name ("Cà …") starts on the first page, in points
    from the left (a word the same in every run: codes differ in width from run to run)."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    bbox = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = re.search(r'<word xMin="([0-9.]+)"[^>]*>Cà</word>', bbox)
    assert found
    return float(found.group(1))


def test_does_an_offset_saved_while_ordering_show_on_the_runs_page(
    client, certified, db_session, tmp_path
):
    sign_in(client, certified.user.username)
    page = order_page(client, certified.product.id)
    assert packing(client, certified, page, **{"packing-unit_count": "200"}).status_code == 302
    html = order_page(client, certified.product.id)
    before = place_order(client, certified, html, **{"order-quantity": "10"})
    plain = client.get(before.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert re.search(r'id="run-offset">x 0,0 mm, y 0,0 mm · không dời', plain)

    html = order_page(client, certified.product.id)
    link = f"/chu-the/in-tem/can-chinh?san_pham={certified.product.id}"
    assert f'href="{link}"' in html  # from the order form, the calibration leads back
    calibration = client.get(link, headers=BROWSER).get_data(as_text=True)
    assert "Quay lại đặt in tem" in calibration
    data = {"csrf_token": csrf_of(calibration), "offset-offset_x": "2", "offset-offset_y": "-1"}
    saved = client.post(link, data=data, headers=BROWSER)
    assert saved.status_code == 302 and "/dat-in-tem" in saved.headers["Location"]
    html = client.get(saved.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Đã lưu độ lệch máy in: x 2,0 mm, y -1,0 mm" in html
    # A second run for the lot minutes later is meant here: the box says so (the twin guard).
    after = place_order(client, certified, html, **{"order-quantity": "10", "order-repeat": "y"})
    assert after.status_code == 302
    run_page = client.get(after.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert re.search(r'id="run-offset">x 2,0 mm, y -1,0 mm · tệp in đã dời tem', run_page)

    # The run's file is drawn with it: its stamps sit 2 mm (5.67 pt) further right.
    pdfs = [
        download(client, re.search(r'href="(/chu-the/dot-in/\d+/tem-ocop\.pdf)"', p).group(1))
        for p in (plain, run_page)
    ]
    moved = first_word_x(pdfs[1], tmp_path, "after") - first_word_x(pdfs[0], tmp_path, "before")
    assert abs(moved - 2 * 72 / 25.4) < 0.05
    stranger = make_certified(db_session, "Hộ kinh doanh Khác")
    assert (
        client.get(f"/chu-the/in-tem/can-chinh?san_pham={stranger.product.id}").status_code == 404
    )

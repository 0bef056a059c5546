"""Imports and exports from the office's pages: a certificate list is checked row by row
(nothing written), then imported on confirmation; a file with a bad row cannot be confirmed;
exports are XLSX with formula-like text made safe, the certificate sheet importable again."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from tests import factories
from tests.certificates.test_importer import HEADERS, csv_file, row, xlsx_file
from tests.portal.conftest import BROWSER, csrf_of, sign_in
from trace_service.certificates.models import Certificate
from trace_service.clock import today_vn
from trace_service.principal import system_principal
from trace_service.registry.units import seed_units

PAGE = "/van-phong/nhap/"


@pytest.fixture
def coffee(db_session):
    seed_units(db_session, system_principal("test"))
    producer = factories.ProducerFactory(
        name='=HYPERLINK("http://x")', phone="+84 261 3544 123"
    )  # formula-like text
    return factories.ProductFactory(
        producer=producer, name_vi="Cà phê bột Đắk Đam", gtin="8935012345677"
    )


def _check(client, content: bytes, name: str):
    page = client.get(PAGE, headers=BROWSER).get_data(as_text=True)
    return client.post(
        PAGE,
        data={"csrf_token": csrf_of(page), "file": (io.BytesIO(content), name)},
        headers=BROWSER,
        content_type="multipart/form-data",
    )


def _count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Certificate))


def test_is_a_list_checked_row_by_row_then_imported_on_confirmation(
    client, office_user, coffee, db_session
):
    sign_in(client, office_user.username)
    checked = _check(client, xlsx_file([HEADERS, row(coffee, "1/GCN")]), "danh-sach.xlsx")
    html = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "1 dòng đều đúng" in html and "1/GCN" in html
    assert _count(db_session) == 0  # the check wrote nothing
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    confirmed = client.post(
        "/van-phong/nhap/xac-nhan",
        data={"csrf_token": csrf_of(html), "token": token, "filename": "danh-sach.xlsx"},
        headers=BROWSER,
    )
    assert confirmed.status_code == 302
    assert _count(db_session) == 1
    done = client.get(confirmed.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Đã nhập 1 giấy chứng nhận" in done
    again = client.post(  # the staged file went with the import: no second import
        "/van-phong/nhap/xac-nhan",
        data={"csrf_token": csrf_of(html), "token": token, "filename": "danh-sach.xlsx"},
        headers=BROWSER,
    )
    assert "Hãy gửi lại tệp" in again.get_data(as_text=True) and _count(db_session) == 1


def test_is_a_file_with_a_bad_row_reported_and_not_confirmable(
    client, office_user, coffee, db_session
):
    sign_in(client, office_user.username)
    rows = [HEADERS, row(coffee, "1/GCN"), row(coffee, "2/GCN", issued="31/02/2024")]
    html = _check(client, csv_file(rows), "ds.csv").get_data(as_text=True)
    assert "1 / 2 dòng có lỗi" in html and 'name="token"' not in html
    assert re.search(r'<td data-label="Dòng">3</td>', html)
    assert _count(db_session) == 0


def test_is_an_unreadable_file_refused_beside_the_field(client, office_user, coffee):
    sign_in(client, office_user.username)
    html = _check(client, b"\x00\x01 not a sheet", "ds.pdf").get_data(as_text=True)
    assert 'id="file-error"' in html
    other = _check(client, b"", "")
    assert 'id="file-error"' in other.get_data(as_text=True)


def test_is_a_staged_file_bound_to_its_officer(client, office_user, coffee, db_session):
    sign_in(client, office_user.username)
    html = _check(client, csv_file([HEADERS, row(coffee, "1/GCN")]), "a.csv").get_data(True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    other = factories.UserFactory(role=office_user.role, password_hash=office_user.password_hash)
    client.post("/dang-xuat", data={"csrf_token": csrf_of(html)}, headers=BROWSER)
    sign_in(client, other.username)
    page = client.get(PAGE, headers=BROWSER).get_data(as_text=True)
    answer = client.post(
        "/van-phong/nhap/xac-nhan",
        data={"csrf_token": csrf_of(page), "token": token, "filename": "a.csv"},
        headers=BROWSER,
    )
    assert "Hãy gửi lại tệp" in answer.get_data(as_text=True) and _count(db_session) == 0


def row_of(sheet, name: str) -> int:
    return next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 2).value == name)


def _sheet(answer) -> list[tuple]:
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(answer.data), read_only=True)
    return list(book.worksheets[0].iter_rows(values_only=True))


def test_are_exports_xlsx_with_text_kept_as_text(client, office_user, coffee, db_session):
    factories.CertificateFactory(
        product=coffee, number="9/GCN-OCOP", issue_date=today_vn() - timedelta(days=100)
    )
    sign_in(client, office_user.username)
    producers = _sheet(client.get("/van-phong/xuat/chu-the.xlsx", headers=BROWSER))
    assert producers[0][0] == "Mã số thuế"
    # Text cells, never formulas, and shown as they were: no apostrophe before "+84".
    [row] = [r for r in producers[1:] if r[1] == '=HYPERLINK("http://x")']
    assert row[6] == "+84 261 3544 123"
    answer = client.get("/van-phong/xuat/chu-the.xlsx", headers=BROWSER)
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).worksheets[0]
    kinds = {cell.value: cell.data_type for cell in sheet[row_of(sheet, row[1])]}
    assert kinds[row[1]] == "s" and kinds[row[6]] == "s"
    products = _sheet(client.get("/van-phong/xuat/san-pham.xlsx?nhom=herbal", headers=BROWSER))
    assert products[1:] == []  # the list's filter is kept: coffee is not herbal
    certificates = _sheet(client.get("/van-phong/xuat/giay-chung-nhan.xlsx", headers=BROWSER))
    assert certificates[0][:9] == tuple(HEADERS[1:])
    assert certificates[1][0] == "9/GCN-OCOP" and certificates[1][10] == "Còn hiệu lực"


def test_may_a_producer_not_import_or_export(client, producer_user):
    sign_in(client, producer_user.username)
    for path in (PAGE, "/van-phong/xuat/giay-chung-nhan.xlsx", "/van-phong/xuat/chu-the.xlsx"):
        assert client.get(path, headers=BROWSER).status_code == 403, path


def test_is_an_exported_list_sent_back_recognised_row_by_row(
    client, office_user, coffee, db_session
):
    # A new user exported the certificates, added a row and sent the file back: every
    # existing row was refused as "already exists", and so the new one could not go in.
    sign_in(client, office_user.username)
    html = _check(client, xlsx_file([HEADERS, row(coffee, "1/GCN")]), "a.xlsx").get_data(True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    client.post(
        "/van-phong/nhap/xac-nhan",
        data={"csrf_token": csrf_of(html), "token": token, "filename": "a.xlsx"},
        headers=BROWSER,
    )
    assert _count(db_session) == 1
    exported = client.get("/van-phong/xuat/giay-chung-nhan.xlsx", headers=BROWSER).data
    sent_back = _check(client, exported, "xuat.xlsx").get_data(as_text=True)
    assert "Mọi dòng đã có trong hệ thống" in sent_back and 'name="token"' not in sent_back

    sheet = openpyxl.load_workbook(io.BytesIO(exported)).worksheets[0]
    later = {"Ngày quyết định": "18/03/2026", "Cơ quan cấp": "UBND tỉnh Lâm Đồng"}
    sheet.append(row(coffee, "2/GCN", issued="20/03/2026", **later)[1:])
    changed = io.BytesIO()
    sheet.parent.save(changed)
    checked = _check(client, changed.getvalue(), "them.xlsx").get_data(as_text=True)
    assert "2 dòng đều đúng" in checked and "1 dòng đã có trong hệ thống" in checked
    assert "Xác nhận nhập 1 giấy chứng nhận" in checked
    token = re.search(r'name="token" value="([^"]+)"', checked).group(1)
    client.post(
        "/van-phong/nhap/xac-nhan",
        data={"csrf_token": csrf_of(checked), "token": token, "filename": "them.xlsx"},
        headers=BROWSER,
    )
    assert _count(db_session) == 2

    # the same number with another star is no copy of the recorded one: refused by name
    sheet.cell(2, 8).value = "4"
    other = io.BytesIO()
    sheet.parent.save(other)
    refused = _check(client, other.getvalue(), "sua.xlsx").get_data(as_text=True)
    assert "Số GCN 1/GCN đã có trong hệ thống" in refused

"""The office's expiry board: what expires in 30/60/90 days, Đắk Mil in one click (a
commune formed in 2025 counts in the district its predecessors belonged to), who was
notified and when, and every written notice in one PDF."""

from __future__ import annotations

import io
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests import factories
from tests.portal.conftest import BROWSER, csrf_of, sign_in
from trace_service.certificates.expiry import sweep
from trace_service.clock import today_vn
from trace_service.db import utcnow
from trace_service.portal.office import letters
from trace_service.principal import system_principal
from trace_service.registry.units import UNITS, seed_units


def certificate_expiring_in(days: int, commune, name: str):
    producer = factories.ProducerFactory(name=name, commune=commune, email=None)
    product = factories.ProductFactory(producer=producer, name_vi=f"Sản phẩm của {name}")
    return factories.CertificateFactory(
        product=product,
        issue_date=today_vn() - timedelta(days=3 * 365 - days),
        valid_until=today_vn() + timedelta(days=days),
    )


@pytest.fixture
def board(db_session):
    units = seed_units(db_session, system_principal("test"))
    cujut_commune = next(u["key"] for u in UNITS if u.get("parent") == "dn.cujut")
    near = certificate_expiring_in(20, units["ld.duclap"], "HTX Đức Lập")
    later = certificate_expiring_in(45, units[cujut_commune], "HTX Cư Jút")
    far = certificate_expiring_in(80, units["ld.duclap"], "HTX Đắk Mil Xa")
    sweep(db_session, system_principal("test"), today_vn(), now=utcnow())
    return units, near, later, far


def test_does_the_board_show_what_expires_in_30_days_with_its_notice(client, office_user, board):
    _, near, later, far = board
    sign_in(client, office_user.username)
    html = client.get("/van-phong/", headers=BROWSER).get_data(as_text=True)
    assert near.number in html and later.number not in html and far.number not in html
    assert "còn 20 ngày" in html
    assert "Mốc 30 ngày" in html and "chủ thể chưa có địa chỉ" in html
    wider = client.get("/van-phong/?trong=90", headers=BROWSER).get_data(as_text=True)
    assert all(cert.number in wider for cert in (near, later, far))


def test_does_one_click_show_dak_mil_with_its_2025_communes(client, office_user, board):
    _, near, later, far = board
    sign_in(client, office_user.username)
    html = client.get("/van-phong/?trong=90", headers=BROWSER).get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Đắk Mil</a>', html)
    assert link, "no Đắk Mil filter on the board"
    dak_mil = client.get(link.group(1).replace("&amp;", "&"), headers=BROWSER)
    page = dak_mil.get_data(as_text=True)
    assert near.number in page and far.number in page and later.number not in page
    assert "Huyện Đắk Mil" in page


def test_are_the_written_notices_printed_in_one_pdf(client, office_user, board):
    _, near, _, _ = board
    sign_in(client, office_user.username)
    html = client.get("/van-phong/?trong=90", headers=BROWSER).get_data(as_text=True)
    assert "In thư thông báo 30 ngày" in html
    answer = client.get("/van-phong/thu-thong-bao.pdf?trong=90", headers=BROWSER)
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.data))
    assert len(reader.pages) == 1  # only the 20-day certificate has crossed 30 days
    assert near.number in reader.pages[0].extract_text()


def test_does_a_letter_address_a_merged_commune_as_it_is_today(client, office_user, db_session):
    """Review finding 3: a letter dated today read "Huyện Krông Nô, Tỉnh Đắk Nông"."""
    units = seed_units(db_session, system_principal("test"))
    cert = certificate_expiring_in(20, units["dn.daksong.dakhoa"], "HTX Đắk Hòa")
    cert.product.producer.address = "Thôn 3, Xã Đắk Hòa, Huyện Đắk Song, Tỉnh Đắk Nông"
    sweep(db_session, system_principal("test"), today_vn(), now=utcnow())
    sign_in(client, office_user.username)
    answer = client.get("/van-phong/thu-thong-bao.pdf?trong=30", headers=BROWSER)
    text = " ".join(PdfReader(io.BytesIO(answer.data)).pages[0].extract_text().split())
    assert "Địa chỉ: Thôn 3, Xã Đắk Song, Tỉnh Lâm Đồng" in text
    assert "Đắk Nông" not in text and "Huyện" not in text


def test_is_a_board_without_letters_a_404_not_an_empty_pdf(client, office_user, db_session):
    sign_in(client, office_user.username)
    answer = client.get("/van-phong/thu-thong-bao.pdf", headers=BROWSER)
    assert answer.status_code == 404 and "Chưa có thư thông báo" in answer.get_data(True)


def test_does_a_producer_get_403_on_the_board(client, producer_user):
    sign_in(client, producer_user.username)
    assert client.get("/van-phong/", headers=BROWSER).status_code == 403


def test_does_the_board_narrow_a_district_to_one_of_its_communes(client, office_user, board):
    units, near, later, far = board
    sign_in(client, office_user.username)
    base = f"/van-phong/?trong=90&huyen={units['dn.dakmil'].id}"
    page = client.get(base, headers=BROWSER).get_data(as_text=True)
    assert "Xã Đức Lập" in page and "Xã Đắk Mil" in page  # communes formed in 2025 offered
    duc_lap = client.get(f"{base}&xa={units['ld.duclap'].id}", headers=BROWSER).get_data(True)
    assert near.number in duc_lap and far.number in duc_lap and later.number not in duc_lap
    other = client.get(f"{base}&xa={units['ld.dakmil'].id}", headers=BROWSER).get_data(True)
    assert near.number not in other and "Không có giấy chứng nhận nào" in other
    # A commune of another district is not one of Đắk Mil's: the whole district is shown.
    cujut = next(u["key"] for u in UNITS if u.get("parent") == "dn.cujut")
    stray = client.get(f"{base}&xa={units[cujut].id}", headers=BROWSER).get_data(True)
    assert near.number in stray and later.number not in stray


def test_does_next_month_show_only_what_expires_in_the_next_calendar_month(
    client, office_user, db_session
):
    units = seed_units(db_session, system_principal("test"))
    today = today_vn()
    first_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    next_month = certificate_expiring_in((first_next - today).days + 9, units["ld.duclap"], "A")
    this_month = certificate_expiring_in(0, units["ld.duclap"], "B")  # its last day is today
    cujut = next(u["key"] for u in UNITS if u.get("parent") == "dn.cujut")
    elsewhere = certificate_expiring_in((first_next - today).days + 2, units[cujut], "C")
    sign_in(client, office_user.username)
    html = client.get("/van-phong/?trong=90", headers=BROWSER).get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Tháng sau</a>', html)
    assert link, "no next-month filter on the board"
    page = client.get(link.group(1).replace("&amp;", "&"), headers=BROWSER).get_data(True)
    assert next_month.number in page and elsewhere.number in page
    assert this_month.number not in page and "tháng sau" in page
    # The district's link keeps the month: what expires next month in Đắk Mil, one click.
    dak_mil = re.search(r'<a href="([^"]+)">Đắk Mil</a>', page)
    assert dak_mil and "thang=sau" in dak_mil.group(1)
    narrowed = client.get(dak_mil.group(1).replace("&amp;", "&"), headers=BROWSER).get_data(True)
    assert next_month.number in narrowed and elsewhere.number not in narrowed
    # And from the board as it opens, one click: next month's expiries by district.
    landing = client.get("/van-phong/", headers=BROWSER).get_data(as_text=True)
    shortcut = re.search(r'<a href="([^"]+)">Đắk Mil \(1\)</a>', landing)
    assert shortcut and "thang=sau" in shortcut.group(1)
    one_click = client.get(shortcut.group(1).replace("&amp;", "&"), headers=BROWSER)
    html = one_click.get_data(as_text=True)
    assert next_month.number in html and elsewhere.number not in html and "tháng sau" in html
    now = client.get("/van-phong/?thang=nay", headers=BROWSER).get_data(True)
    assert this_month.number in now and next_month.number not in now


def test_are_many_letters_drawn_with_progress_then_downloaded(
    client, office_user, db_session, monkeypatch
):
    units = seed_units(db_session, system_principal("test"))
    for name in ("HTX Một", "HTX Hai"):
        certificate_expiring_in(10, units["ld.duclap"], name)
    sweep(db_session, system_principal("test"), today_vn(), now=utcnow())
    monkeypatch.setattr(letters, "INLINE_LETTERS", 1)  # two letters are "many" here
    sign_in(client, office_user.username)
    html = client.get("/van-phong/", headers=BROWSER).get_data(as_text=True)
    assert "In 2 thư thông báo 30 ngày" in html
    started = client.post(
        "/van-phong/thu-thong-bao/?trong=30", data={"csrf_token": csrf_of(html)}, headers=BROWSER
    )
    assert started.status_code == 303
    job = client.get(started.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "2 thư trong một tệp PDF" in job  # drawn inline in tests (OCOP_LABEL_BUILD)
    link = re.search(r'href="(/van-phong/thu-thong-bao/[^"]+\.pdf)"', job).group(1)
    pdf = client.get(link, headers=BROWSER)
    assert pdf.mimetype == "application/pdf" and len(PdfReader(io.BytesIO(pdf.data)).pages) == 2
    # The old link redirects to the same progress, and the job is its officer's only.
    assert client.get("/van-phong/thu-thong-bao.pdf", headers=BROWSER).status_code == 303
    other = factories.UserFactory(role=office_user.role, password_hash=office_user.password_hash)
    client.post("/dang-xuat", data={"csrf_token": csrf_of(job)}, headers=BROWSER)
    sign_in(client, other.username)
    assert client.get(link, headers=BROWSER).status_code == 404
    # Kept under the instance folder, not a fixed name in the shared /tmp.
    assert any((Path(client.application.instance_path) / "portal" / "letters").iterdir())


def test_are_letters_refused_plainly_while_others_are_drawn(
    client, office_user, db_session, monkeypatch
):
    units = seed_units(db_session, system_principal("test"))
    certificate_expiring_in(10, units["ld.duclap"], "HTX Một")
    sweep(db_session, system_principal("test"), today_vn(), now=utcnow())
    busy = threading.BoundedSemaphore(letters.MAX_DRAWING)
    for _ in range(letters.MAX_DRAWING):
        busy.acquire()  # every turn taken by letters still being drawn
    monkeypatch.setattr(letters, "_drawing", busy)
    sign_in(client, office_user.username)
    html = client.get("/van-phong/", headers=BROWSER).get_data(as_text=True)
    refused = client.post(
        "/van-phong/thu-thong-bao/?trong=30", data={"csrf_token": csrf_of(html)}, headers=BROWSER
    )
    assert refused.status_code == 503
    assert "Đang tạo tệp thư khác" in refused.get_data(as_text=True)
    busy.release()  # one finished: the next is drawn
    started = client.post(
        "/van-phong/thu-thong-bao/?trong=30", data={"csrf_token": csrf_of(html)}, headers=BROWSER
    )
    assert started.status_code == 303

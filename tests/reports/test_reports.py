"""A shopper reports a stamp or product to the province office; the office lists and closes
reports; a producer reads those about its own products."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import escape

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests import factories
from tests.conftest import make_account
from tests.labels.conftest import P
from tests.portal.test_error_summary import summary_of
from trace_service.audit.models import AuditEvent
from trace_service.clock import today_vn
from trace_service.labels import serials
from trace_service.principal import Role
from trace_service.reports import services as report_services
from trace_service.reports.models import ConsumerReport


def _jpeg() -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "SHOPPER-PHONE-METADATA"  # ImageDescription
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "JPEG", exif=exif, comment=b"GPS 11.9N")
    return out.getvalue()


def _label(client, packed):
    run = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": 1},
    ).json
    listed = client.get(f"{P}/print-runs/{run['id']}/labels", headers=packed.account.headers)
    return listed.json["items"][0]


def _send(client, **fields):
    body = {"code": "", "verdict": "not_confirmed", "problem": "fake", "place": "Chợ Đà Lạt"}
    body |= fields
    return client.post("/bao-cao", data=body, content_type="multipart/form-data")


def test_an_unknown_code_answer_carries_the_report_form_and_the_hotline(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE", "0263 3822 000")
    code = serials.grouped(serials.new_serial())
    html = client.get("/", query_string={"ma": code}).get_data(as_text=True)
    assert 'action="/bao-cao"' in html and 'enctype="multipart/form-data"' in html
    assert f'name="code" value="{code}"' in html
    assert 'name="verdict" value="unknown_code"' in html
    assert 'href="tel:02633822000"' in html


def test_no_hotline_is_shown_when_none_is_configured(client):
    html = client.get("/bao-cao?code=X").get_data(as_text=True)
    assert "tel:" not in html and 'name="problem"' in html


def test_a_report_about_a_genuine_code_reaches_the_office_with_its_photo(client, packed, admin):
    label = _label(client, packed)
    sent = _send(
        client,
        code=label["code"],
        verdict="possibly_copied",
        details="Tem mờ, <b>giấy</b> khác",
        contact="0912 345 678",
        photo=(io.BytesIO(_jpeg()), "tem.jpg"),
    )
    assert sent.status_code == 303
    thanks = client.get(sent.headers["Location"])
    assert thanks.status_code == 200 and "Đã nhận báo cáo" in thanks.get_data(as_text=True)
    listed = client.get(f"{P}/reports?status=open", headers=admin.headers).json
    report = listed["items"][0]
    assert report["code"] == label["code"] and report["verdict"] == "possibly_copied"
    assert report["product_id"] == packed.product.id and report["problem"] == "fake"
    assert report["contact"] == "0912 345 678" and report["has_photo"] is True
    assert report["details"] == "Tem mờ, <b>giấy</b> khác"  # kept as typed; pages escape it
    photo = client.get(f"{P}/reports/{report['id']}/photo", headers=admin.headers)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    # Drawn again by the service: the picture without a byte of the file that was sent.
    assert photo.data != _jpeg() and b"SHOPPER-PHONE" not in photo.data
    assert b"GPS 11.9N" not in photo.data
    drawn = Image.open(io.BytesIO(photo.data))
    assert drawn.size == (40, 30) and not drawn.getexif()


def test_the_producer_reads_reports_about_its_own_products_only(client, packed, db_session):
    label = _label(client, packed)
    assert _send(client, code=label["serial"].lower(), contact="me@example.vn").status_code == 303
    assert _send(client, code="NOT-A-CODE").status_code == 303  # about no known product
    own = client.get(f"{P}/reports", headers=packed.account.headers).json["items"]
    assert [r["code"] for r in own] == [label["code"]]
    assert own[0]["contact"] is None  # the shopper's contact is for the office
    other = make_account(db_session, Role.PRODUCER, factories.ProducerFactory().id)
    assert client.get(f"{P}/reports", headers=other.headers).json["items"] == []
    one = f"{P}/reports/{own[0]['id']}"
    assert client.get(one, headers=other.headers).status_code == 404
    assert client.get(f"{one}/photo", headers=packed.account.headers).status_code == 403
    closing = client.post(f"{one}/close", headers=packed.account.headers, json={"note": "x"})
    assert closing.status_code == 403


def test_the_office_closes_a_report_once_with_a_note_and_it_is_audited(client, admin, db_session):
    assert _send(client, code="ABC").status_code == 303
    report = client.get(f"{P}/reports", headers=admin.headers).json["items"][0]
    path = f"{P}/reports/{report['id']}/close"
    closed = client.post(path, headers=admin.headers, json={"note": "Đã kiểm tra cửa hàng."})
    assert closed.status_code == 200, closed.json
    assert closed.json["status"] == "closed" and closed.json["close_note"]
    assert closed.json["closed_by"] == admin.user.id
    again = client.post(path, headers=admin.headers, json={"note": "lần hai"})
    assert again.status_code == 409
    assert client.post(path, headers=admin.headers, json={}).status_code == 422
    tags = db_session.scalars(
        select(AuditEvent.tag).where(
            AuditEvent.object_type == "consumer_report",
            AuditEvent.object_id == str(report["id"]),
        )
    ).all()
    assert sorted(tags) == [
        "reports:consumer_report:closed",
        "reports:consumer_report:submitted",
    ]
    assert client.get(f"{P}/reports?status=open", headers=admin.headers).json["items"] == []
    assert len(client.get(f"{P}/reports?status=closed", headers=admin.headers).json["items"]) == 1


def test_the_office_filters_reports_by_product_and_day(client, packed, admin):
    label = _label(client, packed)
    assert _send(client, code=label["code"]).status_code == 303
    assert _send(client, code="ZZZ").status_code == 303
    base = f"{P}/reports"
    by_product = client.get(f"{base}?product_id={packed.product.id}", headers=admin.headers)
    assert [r["code"] for r in by_product.json["items"]] == [label["code"]]
    today = today_vn()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert client.get(f"{base}?since={tomorrow}", headers=admin.headers).json["total"] == 0
    on_today = client.get(f"{base}?since={today}&until={today}", headers=admin.headers)
    assert on_today.json["total"] == 2


def test_a_refused_report_says_what_to_fix_beside_each_field_and_keeps_what_was_typed(client):
    refused = _send(client, code="ABC", problem="", place="", contact="0912 000 111")
    assert refused.status_code == 200 and "Location" not in refused.headers
    html = refused.get_data(as_text=True)
    assert "Hãy chọn điều chưa đúng." in html and "Hãy cho biết nơi mua" in html
    assert 'href="#report-problem-fake"' in html and 'value="0912 000 111"' in html
    other = _send(client, problem="other", place="Chợ")
    assert "Hãy mô tả điều chưa đúng." in other.get_data(as_text=True)


def test_a_refused_report_opens_with_the_portals_summary_linking_to_each_field(client):
    """As the portal's forms: a summary above the fields, in the form's order, each line
    named by its field's label and linked to it (a radio group to its first choice); each
    field's message is part of its description; the group of choices has a legend."""
    refused = _send(client, problem="", place="", contact="0" * 201)
    html = refused.get_data(as_text=True)
    assert summary_of(html) == [
        ("report-problem-fake", "Điều gì chưa đúng?: Hãy chọn điều chưa đúng."),
        ("report-place", "Nơi mua: Hãy cho biết nơi mua (tên cửa hàng, chợ hoặc trang bán hàng)."),
        ("report-contact", "Số điện thoại hoặc email: Tối đa 200 ký tự."),
    ]
    assert html.index('class="error-summary"') < html.index('<form method="post"')
    assert 'aria-describedby="report-place-hint report-place-error" aria-invalid="true"' in html
    assert 'aria-describedby="report-problem-hint report-problem-error"' in html
    assert 'aria-describedby="report-details-hint"' in html  # no error, no error's id
    fieldsets = re.findall(r"<fieldset[^>]*>\s*(<\w+)", html)
    assert fieldsets and set(fieldsets) == {"<legend"}
    english = client.post(
        "/bao-cao?lang=en",
        data={"code": "", "verdict": "not_confirmed", "problem": "fake", "place": ""},
        content_type="multipart/form-data",
    )
    assert summary_of(english.get_data(as_text=True)) == [
        (
            "report-place",
            "Where you bought it: Say where you bought it (shop, market or online store).",
        )
    ]


def test_a_refused_report_names_every_field_too_long_each_with_its_own_limit(client, monkeypatch):
    """Place and contact both too long: both are in the summary, in one pass; the contact
    is held to MAX_CONTACT (made shorter here so that the place's limit cannot pass for it)."""
    monkeypatch.setattr(report_services, "MAX_CONTACT", 120)
    refused = _send(client, place="C" * 201, contact="0" * 121)
    assert summary_of(refused.get_data(as_text=True)) == [
        ("report-place", "Nơi mua: Tối đa 200 ký tự."),
        ("report-contact", "Số điện thoại hoặc email: Tối đa 120 ký tự."),
    ]
    assert _send(client, contact="0" * 120).status_code == 303


def test_the_report_forms_labels_say_which_answers_are_required(client):
    """ "Điều gì chưa đúng?" is required; the details are required only for "Điều khác",
    and are not called optional."""
    html = client.get("/bao-cao?code=X").get_data(as_text=True)
    legend = re.search(r'<legend[^>]*id="report-problem">(.*?)</legend>', html, re.S)
    assert legend and re.sub(r"<[^>]+>", "", legend[1]) == "Điều gì chưa đúng? (bắt buộc)"
    details = re.search(r'<label for="report-details">([^<]*)</label>', html)
    assert details and details[1] == "Mô tả thêm (bắt buộc khi chọn “Điều khác”)"
    assert "Điều khác" in html  # the choice the label names
    english = client.get("/bao-cao?code=X&lang=en").get_data(as_text=True)
    details = re.search(r'<label for="report-details">([^<]*)</label>', english)
    assert details and details[1] == "More detail (needed when you choose “Something else”)"
    assert "Something else</label>" in english and "(optional)" not in details[1]


def test_the_report_page_shows_a_code_as_scanned_grouped_and_not_as_a_verified_stamp(client):
    """After a refused report from a tampered label URL, /bao-cao shows the code grouped
    5-5-5 as printed and says it is the code as scanned or typed, not a verified stamp."""
    refused = _send(client, code="1JKVQAXQBPWJEA2", place="").get_data(as_text=True)
    assert (
        "Mã đã quét hoặc nhập (chưa xác nhận là tem thật): "
        '<span class="code">1JKVQ-AXQBP-WJEA2</span>'
    ) in refused
    assert 'name="code" value="1JKVQAXQBPWJEA2"' in refused  # the report keeps it as sent
    for sent in ("ABC", "1JKVQ-AXQBP-WJEA2", "1JKVQAXQBPWJEA<"):
        html = client.get("/bao-cao", query_string={"code": sent}).get_data(as_text=True)
        assert '<span class="code">' + escape(sent) + "</span>" in html
    english = client.get("/bao-cao?code=1JKVQAXQBPWJEA2&lang=en").get_data(as_text=True)
    assert "Code as scanned or typed (not a verified stamp): " in english
    assert "1JKVQ-AXQBP-WJEA2" in english


def test_a_page_that_is_not_refused_shows_no_summary(client):
    html = client.get("/bao-cao?code=X").get_data(as_text=True)
    assert 'class="error-summary"' not in html and "aria-invalid" not in html


@pytest.mark.parametrize(
    "photo, message",
    [
        (b"%PDF-1.4 not a photo", "Chỉ nhận ảnh JPEG, PNG hoặc WebP"),
        (b"<svg onload=alert(1)>", "Chỉ nhận ảnh JPEG, PNG hoặc WebP"),
        (b"\xff\xd8\xff" + b"0" * 2048, "Ảnh tối đa"),
        (b"\xff\xd8\xff\xe0<html><script>alert(1)</script>", "chứa nội dung khác"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 100, "Không đọc được ảnh"),
    ],
)
def test_a_photo_is_known_by_its_bytes_and_its_size(client, app, monkeypatch, photo, message):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 1024)
    refused = _send(client, photo=(io.BytesIO(photo), "tem.jpg"))
    assert "Location" not in refused.headers and message in refused.get_data(as_text=True)


def test_one_client_cannot_flood_the_office(client):
    for _ in range(10):
        assert _send(client).status_code == 303
    refused = _send(client)
    assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_reports_need_a_signed_in_reader(client):
    assert client.get(f"{P}/reports").status_code == 401


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
def test_another_site_cannot_post_a_report(client, db_session, origin):
    # The reviewer's finding 7: any site could make its visitors file reports.
    response = client.post(
        "/bao-cao",
        data={"code": "", "verdict": "not_confirmed", "problem": "fake", "place": "Chợ"},
        content_type="multipart/form-data",
        headers={"Origin": origin},
    )
    assert response.status_code == 403
    assert db_session.scalar(select(func.count()).select_from(ConsumerReport)) == 0

"""The one verdict of a label page for the cases a browser test does not open: a signature
copied from another stamp, a forged stamp, a replaced certificate, an expiring one."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from tests.labels.conftest import P
from trace_service.clock import today_vn
from trace_service.labels.serials import grouped
from trace_service.reports.models import ConsumerReport


def _stamps(client, packed, quantity=2):
    run = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": quantity},
    ).json
    items = client.get(f"{P}/print-runs/{run['id']}/labels", headers=packed.account.headers)
    return items.json["items"]


def _page(client, url):
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def test_a_signature_copied_from_another_stamp_could_not_be_confirmed(client, packed, db_session):
    first, second = _stamps(client, packed)
    copied = f"{first['url'].split('?S=')[0]}?S={second['url'].split('?S=')[1]}"
    page = _page(client, copied)
    html = page.get_data(as_text=True)
    assert page.status_code == 404
    assert "Không xác nhận được tem này" in html and 'class="verdict v-red"' in html
    assert "Cà phê bột" not in html and "v-green" not in html
    assert html.count('id="bao-cao"') == 1  # the report form, once
    # It records the code as scanned and the verdict's key with the report.
    serial = urlsplit(first["url"]).path.rsplit("/", 1)[1]
    assert f'name="code" value="{serial}"' in html
    assert 'name="verdict" value="not_confirmed"' in html
    sent = client.post(
        "/bao-cao",
        data={
            "code": serial,
            "verdict": "not_confirmed",
            "problem": "fake",
            "details": "Tem dán lệch, in mờ",
            "place": "Chợ Gia Nghĩa",
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)[:300]
    report = db_session.scalars(select(ConsumerReport)).one()
    assert (report.code, report.verdict) == (grouped(serial), "not_confirmed")


def test_an_expiring_certificate_stays_green_and_says_until_when(client, packed, db_session):
    label = _stamps(client, packed)[0]
    packed.certificate.valid_until = today_vn() + timedelta(days=30)
    db_session.flush()
    html = _page(client, label["url"]).get_data(as_text=True)
    assert "Chứng nhận OCOP sắp hết hạn" in html and 'class="verdict v-green"' in html
    assert f"Hết hạn ngày {packed.certificate.valid_until:%d/%m/%Y}" in html


def test_a_replaced_certificate_is_red_since_the_day_it_was_replaced(client, packed, db_session):
    label = _stamps(client, packed)[0]
    packed.certificate.superseded_on = today_vn() - timedelta(days=5)
    db_session.flush()
    html = _page(client, label["url"]).get_data(as_text=True)
    assert "Chứng nhận OCOP đã được thay thế" in html and 'class="verdict v-red"' in html
    assert f"Từ ngày {packed.certificate.superseded_on:%d/%m/%Y}" in html
    assert "v-green" not in html


def test_the_verification_tells_what_happened_to_the_stamp(client, packed, db_session, inspector):
    label = _stamps(client, packed)[0]
    _page(client, label["url"])
    _page(client, label["url"])
    client.post(
        f"{P}/print-runs/{label['run_id']}/voids",
        headers=packed.account.headers,
        json={"sequences": [label["seq"]], "reason": "Thất lạc"},
    )
    answer = client.post(
        f"{P}/labels/verify", headers=inspector.headers, json={"url": label["url"]}
    )
    assert answer.status_code == 200, answer.json
    result = answer.json
    assert result["verdict"] == "genuine"  # the signature and record hold: the API says so
    assert result["label"]["state"] == "voided" and result["label"]["since"] is not None
    assert result["label"]["scans"] == 2

"""Consumer reports and flagged stamps for the office: a report is read and closed with a
note (audited, escaped); the flagged stamps are listed; a producer may open neither."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.labels.conftest import packed  # noqa: F401 - a fixture: a packed lot for stamps
from tests.portal.conftest import BROWSER, csrf_of, sign_in
from trace_service.audit.models import AuditEvent
from trace_service.errors import Conflict
from trace_service.labels import scans
from trace_service.labels.models import Label, LabelState
from trace_service.reports.models import ConsumerReport, Problem, ReportStatus
from trace_service.reports.tags import ReportTag


@pytest.fixture
def report(db_session):
    found = ConsumerReport(
        code="<b>DN-ABC</b>",
        verdict="genuine",
        problem=Problem.QUALITY,
        details="Cà phê bị ẩm <script>alert(1)</script>",
        place="Chợ Đắk Mil",
        contact="0905 123 456",
    )
    db_session.add(found)
    db_session.flush()
    return found


def test_is_a_report_read_and_closed_with_a_note(client, office_user, report, db_session):
    sign_in(client, office_user.username)
    listing = client.get("/van-phong/bao-cao/", headers=BROWSER).get_data(as_text=True)
    assert f"/van-phong/bao-cao/{report.id}" in listing and "Chất lượng sản phẩm" in listing
    assert "<script>alert(1)</script>" not in listing and "&lt;b&gt;DN-ABC" in listing
    path = f"/van-phong/bao-cao/{report.id}"
    page = client.get(path, headers=BROWSER).get_data(as_text=True)
    assert "0905 123 456" in page and "Chợ Đắk Mil" in page
    empty = client.post(path, data={"csrf_token": csrf_of(page), "note": " "}, headers=BROWSER)
    assert 'id="note-error"' in empty.get_data(as_text=True)
    closed = client.post(
        path,
        data={"csrf_token": csrf_of(page), "note": "Đã làm việc với HTX, thu hồi lô ẩm."},
        headers=BROWSER,
    )
    assert closed.status_code == 302
    db_session.expire_all()
    assert db_session.get(ConsumerReport, report.id).status is ReportStatus.CLOSED
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.tag == ReportTag.CLOSED))
    done = client.get(closed.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert f"Đã đóng báo cáo số {report.id}" in done and "Không có báo cáo nào" in done
    shown = client.get(f"{path}", headers=BROWSER).get_data(as_text=True)
    assert "thu hồi lô ẩm" in shown and "Đóng báo cáo</button>" not in shown
    again = client.post(path, data={"csrf_token": csrf_of(page), "note": "x"}, headers=BROWSER)
    assert again.status_code == 200  # closed already: the page, no second close


def test_are_flagged_stamps_listed(client, office_user, packed, db_session):  # noqa: F811
    run = client.post(
        "/api/v1/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": 2},
    ).json
    first, second = db_session.scalars(select(Label).where(Label.run_id == run["id"])).all()
    flagged_at = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    db_session.add(
        LabelState(label_id=first.id, scan_count=57, flagged_at=flagged_at, flag_reason="scans")
    )
    db_session.add(LabelState(label_id=second.id, scan_count=2))
    db_session.flush()
    sign_in(client, office_user.username)
    html = client.get("/van-phong/tem-nghi-sao-chep/", headers=BROWSER).get_data(as_text=True)
    assert first.serial in html and second.serial not in html
    assert "10:00 20/11/2026" in html and "mở quá nhiều lần" in html
    assert packed.product.name_vi in html
    assert ('/bo-danh-dau"' in html) is hasattr(scans, "clear_flag")


def test_may_a_producer_open_neither(client, producer_user, report):
    sign_in(client, producer_user.username)
    for path in (
        "/van-phong/bao-cao/",
        f"/van-phong/bao-cao/{report.id}",
        "/van-phong/tem-nghi-sao-chep/",
    ):
        assert client.get(path, headers=BROWSER).status_code == 403, path


def test_is_a_flag_cleared_through_the_labels_service_when_it_offers_it(
    client,
    office_user,
    packed,  # noqa: F811
    db_session,
    monkeypatch,
):
    run = client.post(
        "/api/v1/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": 1},
    ).json
    label = db_session.scalars(select(Label).where(Label.run_id == run["id"])).one()
    db_session.add(LabelState(label_id=label.id, flagged_at=datetime.now(UTC), flag_reason="scans"))
    db_session.flush()
    calls = []

    def clear_flag(session, actor, serial, reason, now):  # the shape of issue 12's service
        if len(reason) < 3:
            raise Conflict("Lý do quá ngắn.", "Too short.")
        calls.append((actor.user_id, serial, reason))
        session.get(LabelState, label.id).flagged_at = None

    monkeypatch.setattr(scans, "clear_flag", clear_flag, raising=False)
    sign_in(client, office_user.username)
    html = client.get("/van-phong/tem-nghi-sao-chep/", headers=BROWSER).get_data(as_text=True)
    path = f"/van-phong/tem-nghi-sao-chep/{label.serial}/bo-danh-dau"
    assert f'action="{path}"' in html
    short = client.post(path, data={"csrf_token": csrf_of(html), "reason": "x"}, headers=BROWSER)
    assert f'id="reason-{label.serial}-error">Lý do quá ngắn.' in short.get_data(as_text=True)
    done = client.post(
        path,
        data={"csrf_token": csrf_of(html), "reason": "Cửa hàng cho khách quét thử"},
        headers=BROWSER,
    )
    assert done.status_code == 302
    assert calls == [(office_user.id, label.serial, "Cửa hàng cho khách quét thử")]
    after = client.get(done.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert f"Đã bỏ đánh dấu tem {label.serial}" in after and "Không có tem nào" in after


@pytest.mark.parametrize(
    ("verdict", "vietnamese", "english"),
    [
        ("unknown_code", "Không tìm thấy tem có mã này", "No stamp has this code"),
        ("voided", "Tem đã hủy", "Stamp voided"),
        ("revoked", "Chứng nhận OCOP đã bị thu hồi", "The OCOP certificate was revoked"),
        ("unknown", "Không rõ", "Not known"),
    ],
)
def test_does_a_report_name_the_verdict_in_words(
    client, office_user, report, db_session, verdict, vietnamese, english
):
    """The page said "unknown_code", not words (a new user's review)."""
    report.verdict = verdict
    db_session.flush()
    sign_in(client, office_user.username)
    path = f"/van-phong/bao-cao/{report.id}"
    page = client.get(path, headers=BROWSER).get_data(as_text=True)
    assert f"Trang tem đã báo</dt><dd>{vietnamese}</dd>" in page
    english_page = client.get(f"{path}?lang=en", headers=BROWSER).get_data(as_text=True)
    assert f"The stamp&#39;s page said</dt><dd>{english}</dd>" in english_page
    assert verdict not in page.split("Trang tem đã báo")[1].split("</dd>")[0]

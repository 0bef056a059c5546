"""A producer reads what shoppers reported about its own stamps and products: never
another producer's, nor a report whose code matched no stamp; never the shopper's contact;
the office's closing note when closed; linked from the home; read only."""

from __future__ import annotations

from tests.portal.conftest import BROWSER, make_certified, sign_in
from trace_service.db import utcnow
from trace_service.reports.models import ConsumerReport, Problem, ReportStatus


def _report(session, product, details: str, **extra) -> ConsumerReport:
    report = ConsumerReport(
        code="Y79H9-FHHNA-Q813T",
        product_id=product.id if product else None,
        producer_id=product.producer_id if product else None,
        verdict="genuine",
        problem=Problem.QUALITY,
        details=details,
        place="Chợ Gia Nghĩa",
        contact="0912 345 678",
        **extra,
    )
    session.add(report)
    session.flush()
    return report


def test_does_a_producer_read_reports_on_its_own_products_only(client, certified, db_session):
    stranger = make_certified(db_session, "Hộ kinh doanh Khác")
    _report(db_session, certified.product, "Gói cà phê bị ẩm, vón cục")
    _report(
        db_session,
        certified.product,
        "Tem bong ra",
        status=ReportStatus.CLOSED,
        closed_at=utcnow(),
        close_note="Đã kiểm tra lô, đổi keo dán tem",
    )
    _report(db_session, stranger.product, "Mật ong bị lên men")
    _report(db_session, None, "Mã không khớp tem nào")
    sign_in(client, certified.user.username)
    home = client.get("/chu-the/", headers=BROWSER).get_data(as_text=True)
    assert 'href="/chu-the/bao-cao/"' in home and "Phản ánh của người tiêu dùng" in home

    answer = client.get("/chu-the/bao-cao/", headers=BROWSER)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Gói cà phê bị ẩm, vón cục" in html and "Tem bong ra" in html
    assert "Mật ong bị lên men" not in html and "Mã không khớp tem nào" not in html
    assert "<strong>2</strong> phản ánh" in html
    assert "Chất lượng sản phẩm có vấn đề" in html and certified.product.name_vi in html
    assert "Đã kiểm tra lô, đổi keo dán tem" in html and "Chợ Gia Nghĩa" in html
    assert "0912 345 678" not in html  # the shopper's contact is for the office only
    assert "<form" not in html.split("<main", 1)[1]  # read only: nothing to change
    closed = client.get("/chu-the/bao-cao/?tinh-trang=closed", headers=BROWSER).get_data(True)
    assert "Tem bong ra" in closed and "Gói cà phê bị ẩm" not in closed

    other = client.application.test_client()
    sign_in(other, stranger.user.username)
    theirs = other.get("/chu-the/bao-cao/", headers=BROWSER).get_data(as_text=True)
    assert "Mật ong bị lên men" in theirs and "Gói cà phê bị ẩm" not in theirs


def test_may_only_a_producer_open_the_reports_page(client, certified, office_user):
    anonymous = client.get("/chu-the/bao-cao/", headers=BROWSER)
    assert anonymous.status_code == 302 and "/dang-nhap" in anonymous.headers["Location"]
    office = client.application.test_client()
    sign_in(office, office_user.username)
    assert office.get("/chu-the/bao-cao/", headers=BROWSER).status_code == 403
    sign_in(client, certified.user.username)
    assert client.post("/chu-the/bao-cao/", headers=BROWSER).status_code in (400, 405)

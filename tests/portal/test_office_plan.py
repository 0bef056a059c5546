"""The office's plan board: the 2025 targets against actual figures by district, and the
charts drawn as SVG by the server, each with its title, description and table."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from tests import factories
from tests.labels.conftest import packed  # noqa: F401 - a fixture: a packed lot for stamps
from tests.portal.conftest import BROWSER, sign_in
from trace_service.clock import today_vn
from trace_service.labels.models import Label, label_scans
from trace_service.portal.office.charts import Series, bar_chart
from trace_service.principal import system_principal
from trace_service.registry.units import seed_units


def _certified_in(commune, issued: date, star: int = 4):
    producer = factories.ProducerFactory(commune=commune)
    product = factories.ProductFactory(producer=producer)
    evaluation = factories.EvaluationFactory(product=product, star=star)
    return factories.CertificateFactory(product=product, evaluation=evaluation, issue_date=issued)


def test_does_the_plan_board_show_targets_and_district_figures(client, office_user, db_session):
    units = seed_units(db_session, system_principal("test"))
    for day in (date(2025, 3, 10), date(2025, 3, 20), date(2025, 8, 1)):
        _certified_in(units["ld.duclap"], day)  # a 2025 commune: counts in Đắk Mil
    sign_in(client, office_user.username)
    answer = client.get("/van-phong/ke-hoach?nam_bieu_do=2025", headers=BROWSER)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "Kế hoạch 93/KH-UBND" in html and "Sản phẩm dự thi OCOP 3 sao" in html
    row = re.search(r"<strong>Huyện Đắk Mil</strong></td>(.*?)</tr>", html, re.S)
    assert row, "no Đắk Mil row"
    cells = re.findall(r'<td data-label="[^"]*">([^<]*)', row.group(1))
    assert cells[0].strip() == "3" and cells[1] == "4"  # certified in 2025, target 4
    assert cells[3] == "3"  # three 4★ certificates in force today
    assert html.count('<svg class="chart"') == 4
    assert '<title id="chart-months-t">' in html
    months = re.search(r"<td>03/2025</td><td>(\d+)</td>", html)
    assert months and months.group(1) == "2"


def test_does_the_monthly_chart_cover_the_year_chosen(client, office_user, db_session):
    units = seed_units(db_session, system_principal("test"))
    this_year = today_vn().year
    _certified_in(units["dn.dakmil"], date(2021, 5, 4))
    _certified_in(units["ld.duclap"], date(this_year, 2, 3))
    sign_in(client, office_user.username)
    html = client.get("/van-phong/ke-hoach", headers=BROWSER).get_data(as_text=True)
    # This year by default, whatever the plan's year.
    assert "Theo tháng</h2>" not in html and f"Theo tháng, {this_year}</h2>" in html
    assert re.search(rf"<td>02/{this_year}</td><td>1</td>", html)
    years = re.findall(r'nam_bieu_do=(\d+)#theo-thang"', html)
    assert years == [str(y) for y in range(2021, this_year + 4)]  # to the last expiry
    assert f'nam_bieu_do={this_year}#theo-thang" aria-current="page"' in html

    html = client.get("/van-phong/ke-hoach?nam_bieu_do=2021", headers=BROWSER).get_data(True)
    assert (
        "<td>05/2021</td><td>1</td>" in html
        and "Giấy chứng nhận cấp và hết hạn theo tháng, 2021" in html
    )
    html = client.get("/van-phong/ke-hoach?nam_bieu_do=2024", headers=BROWSER).get_data(True)
    assert re.search(r"<td>05/2024</td><td>0</td><td>1</td>", html)  # 2021's, 36 months on
    for asked in ("1999", "99999999999999999999", "２０２１", "-2021"):
        answer = client.get(f"/van-phong/ke-hoach?nam_bieu_do={asked}", headers=BROWSER)
        assert answer.status_code == 200 and f"Theo tháng, {this_year}</h2>" in answer.get_data(
            True
        )


def test_are_scans_counted_by_week(client, office_user, packed, db_session):  # noqa: F811
    run = client.post(
        "/api/v1/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": 1},
    ).json
    label_id = db_session.scalar(select(Label.id).where(Label.run_id == run["id"]))
    now = datetime.now(UTC)
    for age in (0, 0, 0, 8 * 7):  # three this week, one long before the 12 weeks shown
        db_session.execute(
            insert(label_scans).values(
                label_id=label_id,
                scanned_at=now - timedelta(days=age),
                client_hash="0" * 32,
                device="phone",
                source="scan",
            )
        )
    sign_in(client, office_user.username)
    html = client.get("/van-phong/ke-hoach", headers=BROWSER).get_data(as_text=True)
    monday = today_vn() - timedelta(days=today_vn().weekday())
    this_week = re.search(rf"<td>{monday:%d/%m/%Y}</td><td>(\d+)</td>", html)
    assert this_week and this_week.group(1) == "3"
    earlier = monday - timedelta(weeks=8)
    assert re.search(rf"<td>{earlier:%d/%m/%Y}</td><td>1</td>", html)


def test_does_a_chart_escape_its_texts():
    svg = bar_chart("c", "<b>", "a & b", ["<script>x</script>"], [Series("s", "bar", [2])])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    assert 'role="img"' in svg and 'aria-labelledby="c-t c-d"' in svg


def test_may_a_producer_not_open_the_plan_board(client, producer_user):
    sign_in(client, producer_user.username)
    assert client.get("/van-phong/ke-hoach", headers=BROWSER).status_code == 403

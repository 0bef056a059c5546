"""Units after the 2025 merger on the office's pages: a producer recorded in a commune of
Đắk Nông is shown in the Lâm Đồng unit that holds it today (the old commune, district and
province as a dated note only), beside a certificate Lâm Đồng issued; a certificate of an
abolished district keeps its printed authority, with who holds its powers today."""

from __future__ import annotations

import re
from datetime import date

from tests import factories
from tests.portal.conftest import BROWSER, sign_in
from trace_service.certificates.rules import CouncilLevel
from trace_service.principal import system_principal
from trace_service.registry.units import place_on, seed_units


def _certificate(product, level, unit, issued: date, points: int):
    evaluation = factories.EvaluationFactory(
        product=product, council_level=level, council_unit=unit, evaluated_on=issued,
        score_a=points, score_b=15, score_c=30,
    )  # fmt: skip
    return factories.CertificateFactory(product=product, evaluation=evaluation, issue_date=issued)


def test_is_a_unit_named_as_it_was_on_the_day(db_session):
    units = seed_units(db_session, system_principal("test"))
    old = units["dn.dakmil.ducmanh"]
    assert place_on(old, date(2025, 6, 30)) == "Xã Đức Mạnh, Huyện Đắk Mil, Tỉnh Đắk Nông"
    assert place_on(old, date(2025, 7, 1)) == "Xã Đức Lập, Tỉnh Lâm Đồng"
    assert place_on(units["dn.dakmil"], date(2026, 1, 1)) == "Tỉnh Lâm Đồng"


def test_does_the_product_page_show_todays_unit_beside_lam_dong(client, office_user, db_session):
    units = seed_units(db_session, system_principal("test"))
    producer = factories.ProducerFactory(
        name="HTX Cà phê Đức Mạnh", commune=units["dn.dakmil.ducmanh"]
    )
    product = factories.ProductFactory(producer=producer, name_vi="Cà phê bột Đức Mạnh")
    _certificate(product, CouncilLevel.DISTRICT, units["dn.dakmil"], date(2024, 5, 6), 10)
    _certificate(product, CouncilLevel.PROVINCE, units["ld"], date(2025, 8, 15), 30)
    sign_in(client, office_user.username)
    html = client.get(f"/van-phong/san-pham/{product.id}", headers=BROWSER).get_data(True)
    header = re.search(r"<p>HTX Cà phê Đức Mạnh · (.*?)</p>", html, re.S)
    assert header, "no producer line"
    now, _, note = header.group(1).partition("<span")
    assert now.strip() == "Xã Đức Lập, Tỉnh Lâm Đồng"  # no abolished unit as today's
    assert "đến 30/06/2025: Xã Đức Mạnh, Huyện Đắk Mil, Tỉnh Đắk Nông" in note
    assert "UBND tỉnh Lâm Đồng</span>" in html  # the 2025 certificate, as issued
    assert "UBND huyện Đắk Mil (nay là UBND tỉnh Lâm Đồng)" in html  # the 2024 one

    listed = client.get("/van-phong/chu-the/?q=duc+manh", headers=BROWSER).get_data(True)
    cell = re.search(r"data-label=\"Địa bàn\">(.*?)</td>", listed, re.S)
    assert cell and cell.group(1).startswith("Xã Đức Lập, Tỉnh Lâm Đồng <span")

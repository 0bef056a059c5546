"""A harvest recorded from the ordering path leads back to that product's order page, with
the new lot chosen for the packing; a lot's page shows the next step (review user1, F6).
The way back is built from the producer's own product id, never from an address."""

from __future__ import annotations

import re

from tests import factories
from tests.portal.conftest import BROWSER, make_certified, sign_in
from tests.portal.test_producer_lots import harvest, post_form
from trace_service.trace.models import Lot


def test_a_harvest_from_the_order_page_leads_back_to_it(client, certified, db_session):
    sign_in(client, certified.user.username)
    url = f"/chu-the/thu-hoach?san-pham={certified.product.id}"
    page = client.get(url, headers=BROWSER).get_data(as_text=True)
    assert "quay lại đặt in tem cho" in page and certified.product.name_vi in page
    fields = {
        "area": str(certified.area.id),
        "harvest_start": "2026-10-01",
        "harvest_end": "2026-10-20",
        "material": "Cà phê quả tươi",
        "quantity": "1.000",
        "unit": "kg",
        "code": "TH-MOI-1",
    }
    made = post_form(client, url, fields)
    lot = db_session.query(Lot).filter_by(code="TH-MOI-1").one()
    back = f"/chu-the/san-pham/{certified.product.id}/dat-in-tem?thu_hoach={lot.id}"
    assert made.status_code == 302 and made.headers["Location"] == back
    html = client.get(back, headers=BROWSER).get_data(as_text=True)
    assert "Đã ghi nhận thu hoạch lô TH-MOI-1" in html
    chosen = re.search(r'<option selected value="(\d+)">TH-MOI-1', html)
    assert chosen and chosen.group(1) == str(lot.id)  # the packing takes it, already chosen


def test_no_way_back_to_another_producers_product_or_an_address(client, certified, db_session):
    other = make_certified(db_session, name="Hợp tác xã Khác")
    sign_in(client, certified.user.username)
    for carried in (str(other.product.id), "https://example.com/", "//example.com", "0"):
        made = harvest_to(client, certified, carried)
        assert made.status_code == 302, carried
        assert made.headers["Location"].startswith("/chu-the/lo/"), carried


def harvest_to(client, certified, carried: str):
    fields = {
        "area": str(certified.area.id),
        "harvest_start": "2026-10-01",
        "harvest_end": "2026-10-20",
        "material": "Cà phê quả tươi",
        "quantity": "10",
        "unit": "kg",
    }
    return post_form(client, f"/chu-the/thu-hoach?san-pham={carried}", fields)


def test_a_lots_page_offers_the_next_step(client, certified, db_session):
    area = factories.AreaFactory(producer=certified.product.producer)
    sign_in(client, certified.user.username)
    made = harvest(client, area.id)
    page = client.get(made.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert 'href="/chu-the/dong-goi">Ghi nhận đóng gói</a>' in page

"""Lots and events from the portal's forms: harvest, a processing step, packing; a refused
rule beside its field; a lot's whole chain on one page; another producer's lot is 404."""

from __future__ import annotations

import re
from decimal import Decimal

from tests import factories
from tests.portal.conftest import BROWSER, add_lot, csrf_of, make_certified, sign_in
from tests.portal.test_producer_stamps import order_page, packing
from trace_service.clock import today_vn
from trace_service.trace.units import Unit


def post_form(client, url: str, fields: dict[str, str]):
    page = client.get(url, headers=BROWSER).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_of(page), **fields}, headers=BROWSER)


def harvest(client, area_id: int, **changes: str):
    fields = {
        "area": str(area_id),
        "harvest_start": "2026-10-01",
        "harvest_end": "2026-10-20",
        "material": "Cà phê quả tươi",
        "quantity": "1.000",
        "unit": "kg",
        "code": "",
        **changes,
    }
    return post_form(client, "/chu-the/thu-hoach", fields)


def test_does_a_harvest_recorded_by_form_open_its_lots_chain(client, certified, db_session):
    area = factories.AreaFactory(producer=certified.product.producer, name="Vườn Đắk Sắk 2")
    sign_in(client, certified.user.username)
    made = harvest(client, area.id)
    assert made.status_code == 302 and "/chu-the/lo/" in made.headers["Location"]
    chain = client.get(made.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Vườn Đắk Sắk 2" in chain and "Thu hoạch" in chain and "1.000 kg" in chain


def test_is_a_harvest_ending_before_it_starts_refused_beside_the_end(client, certified):
    sign_in(client, certified.user.username)
    refused = harvest(client, certified.area.id, harvest_end="2026-09-01")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and 'id="harvest_end-error"' in html
    assert "Ngày kết thúc thu hoạch trước ngày bắt đầu." in html
    assert 'value="Cà phê quả tươi"' in html  # nothing typed is lost


def test_is_a_yield_no_process_gives_refused_beside_the_amount_made(client, certified):
    sign_in(client, certified.user.username)
    fields = {
        "step": "roasting",
        "input_lot": str(certified.harvest_lot.id),
        "input_quantity": "100",
        "input_lot_2": "",
        "input_quantity_2": "",
        "done_on": today_vn().isoformat(),
        "material": "Cà phê rang",
        "quantity": "95",
        "unit": "kg",
        "code": "RANG-1",
    }
    refused = post_form(client, "/chu-the/che-bien", fields)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and 'id="quantity-error"' in html and "90 kg" in html
    made = post_form(client, "/chu-the/che-bien", {**fields, "quantity": "85"})
    assert made.status_code == 302
    chain = client.get(made.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Rang" in chain and certified.harvest_lot.code in chain


def test_does_a_packed_lots_page_show_its_whole_chain_and_print_runs(client, certified):
    sign_in(client, certified.user.username)
    assert packing(client, certified, order_page(client, certified.product.id)).status_code == 302
    lots = client.get("/chu-the/lo/", headers=BROWSER).get_data(as_text=True)
    assert "DM2612-RB1" in lots
    link = re.search(r'href="(/chu-the/lo/\d+)">Lô DM2612-RB1', lots)
    assert link
    chain = client.get(link.group(1), headers=BROWSER).get_data(as_text=True)
    assert "Đóng gói" in chain and "Thu hoạch" in chain and certified.harvest_lot.code in chain
    assert "Vườn cà phê Thuận An 1" in chain and "Tiếp tục đặt in tem" in chain


def test_is_another_producers_lot_404(client, certified, db_session):
    other = make_certified(db_session, "Hợp tác xã Khác")
    sign_in(client, certified.user.username)
    assert client.get(f"/chu-the/lo/{other.harvest_lot.id}", headers=BROWSER).status_code == 404


def test_is_a_lot_of_pieces_counted_once_and_named_in_the_pages_language(
    client, certified, db_session
):
    """Review user15, finding 8: "4.402 piece" on the English list, and "4.402 đơn vị ·
    4.402 đơn vị" on the lot's page (a lot of pieces holds as many units as its quantity)."""
    lot = add_lot(
        db_session,
        certified,
        code="B-4402",
        product_id=certified.product.id,
        material="Cà phê bột 250 g",
        quantity=Decimal(4402),
        unit=Unit.PIECE,
    )
    sign_in(client, certified.user.username)
    english = client.get("/chu-the/lo/?lang=en", headers=BROWSER).get_data(as_text=True)
    assert "4.402 units" in english and "piece" not in english
    page = client.get(f"/chu-the/lo/{lot.id}?lang=vi", headers=BROWSER).get_data(as_text=True)
    assert page.count("4.402 đơn vị") == 1 and "4.402 đơn vị · đã đặt 0 tem" in page
    page = client.get(f"/chu-the/lo/{lot.id}?lang=en", headers=BROWSER).get_data(as_text=True)
    assert page.count("4.402 units") == 1 and "piece" not in page

"""The producer's forms report every field's problem in one pass, the form's format errors
with the service's rules, and keep what was typed (review user1, findings 2 and 5)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.portal.conftest import BROWSER, csrf_of, sign_in
from tests.portal.test_producer_printing import packed_order_page, place_order
from tests.portal.test_producer_stamps import order_page, packing
from trace_service.clock import today_vn
from trace_service.labels.models import PrintRun
from trace_service.trace.models import Lot


def _lots(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Lot))


def test_a_unit_count_of_0_or_less_is_explained_beside_the_field(client, certified, db_session):
    sign_in(client, certified.user.username)
    before = _lots(db_session)
    for units in ("0", "-5"):
        html = order_page(client, certified.product.id)
        refused = packing(client, certified, html, **{"packing-unit_count": units})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 200  # not the bare 409 of the database's CHECK
        assert 'id="packing-unit_count-error"' in page
        assert "Số gói, chai… đã đóng: phải từ 1 trở lên." in page
        assert 'href="#packing-unit_count"' in page  # in the summary, linked to the field
        assert "đã đóng: Số gói" not in page  # the label is not said twice
        assert 'value="DM2612-RB1"' in page and f'value="{units}"' in page  # kept as typed
    assert _lots(db_session) == before


def test_every_problem_of_the_packing_form_shows_in_one_pass(client, certified, db_session):
    sign_in(client, certified.user.username)
    html = order_page(client, certified.product.id)
    later = (today_vn() + timedelta(days=30)).isoformat()
    refused = packing(
        client,
        certified,
        html,
        **{
            "packing-unit_count": "0",
            "packing-input_quantity": "2000",
            "packing-quantity": "abc",
            "packing-packed_on": later,
        },
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    for name in ("unit_count", "input_quantity", "quantity", "packed_on"):
        assert f'id="packing-{name}-error"' in page, name
        assert f'href="#packing-{name}"' in page, name
    assert "chỉ còn 500 kg" in page and "phải từ 1 trở lên" in page
    assert "Hãy nhập một số" in page and "Ngày này chưa đến." in page
    assert db_session.scalar(select(Lot).where(Lot.code == "DM2612-RB1")) is None


def test_the_packing_page_reports_all_at_once_too(client, certified):
    sign_in(client, certified.user.username)
    html = client.get("/chu-the/dong-goi", headers=BROWSER).get_data(as_text=True)
    data = {
        "csrf_token": csrf_of(html),
        "packing-product": str(certified.product.id),
        "packing-input_lot": str(certified.harvest_lot.id),
        "packing-input_quantity": "25",
        "packing-quantity": "x",
        "packing-unit_count": "0",
        "packing-packed_on": today_vn().isoformat(),
    }
    refused = client.post("/chu-the/dong-goi", data=data, headers=BROWSER)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert 'id="packing-unit_count-error"' in page and 'id="packing-quantity-error"' in page


def _errors(page: str) -> dict[str, str]:
    return dict(re.findall(r'id="order-(\w+)-error">([^<]+)<', page))


def test_an_order_reports_the_quantity_and_the_position_at_once(client, certified, db_session):
    html = packed_order_page(client, certified)
    cases = [
        ({"order-quantity": "0", "order-start_position": "0"}, "từ 1 đến", "1 đến 18"),
        ({"order-quantity": "101", "order-start_position": "99"}, "tối đa 100 tem", "1 đến 18"),
        ({"order-quantity": "abc", "order-start_position": "0"}, "số nguyên", "1 đến 18"),
    ]
    for fields, quantity, position in cases:
        refused = place_order(client, certified, html, **fields)
        assert refused.status_code == 200, fields
        errors = _errors(refused.get_data(as_text=True))
        assert quantity in errors.get("quantity", ""), (fields, errors)
        assert position in errors.get("start_position", ""), (fields, errors)
    assert db_session.scalar(select(PrintRun.id)) is None


def test_a_start_position_of_0_is_refused_not_read_as_1(client, certified, db_session):
    html = packed_order_page(client, certified)
    refused = place_order(client, certified, html, **{"order-start_position": "0"})
    assert refused.status_code == 200
    assert "1 đến 18" in _errors(refused.get_data(as_text=True))["start_position"]
    assert db_session.scalar(select(PrintRun.id)) is None


def test_the_calibration_reports_both_offsets_at_once(client, certified, db_session):
    sign_in(client, certified.user.username)
    html = client.get("/chu-the/in-tem/can-chinh", headers=BROWSER).get_data(as_text=True)
    data = {"csrf_token": csrf_of(html), "offset-offset_x": "15", "offset-offset_y": "abc"}
    refused = client.post("/chu-the/in-tem/can-chinh", data=data, headers=BROWSER)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert re.search(r'id="offset-offset_y-error">Hãy nhập số mm', page)
    assert re.search(r'id="offset-offset_x-error">Độ lệch tối đa ±10 mm', page)
    data["offset-offset_y"] = "11"  # both readable, both too far: both said
    page = client.post("/chu-the/in-tem/can-chinh", data=data, headers=BROWSER).get_data(True)
    assert page.count("Độ lệch tối đa ±10 mm") >= 2 and 'href="#offset-offset_y"' in page

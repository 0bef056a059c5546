"""Review user15, finding 2: the packing form and the lot pages say what is left of each
input lot ("còn X kg"), never offer packing from a lot used up (the form only said "chỉ còn
0 kg" once sent), and find what is left of a whole list in one query."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import event

from tests.portal.conftest import BROWSER, sign_in
from tests.portal.test_producer_lots import harvest
from tests.portal.test_producer_stamps import order_page, packing
from trace_service.db import get_db


def _page(client, url: str) -> str:
    page = client.get(url, headers=BROWSER)
    assert page.status_code == 200
    return unescape(page.get_data(as_text=True))


def _input_choices(html: str) -> str:
    """The input lots the packing form offers ("" when none: the form sends to a harvest)."""
    found = re.search(r'<select[^>]*name="packing-input_lot".*?</select>', html, re.S)
    return found.group(0) if found else ""


def test_does_a_producer_see_what_is_left_of_a_lot_and_no_packing_once_used_up(client, certified):
    sign_in(client, certified.user.username)
    lot, url = certified.harvest_lot, f"/chu-the/lo/{certified.harvest_lot.id}"
    html = order_page(client, certified.product.id)
    taken = {"packing-input_quantity": "125"}
    assert packing(client, certified, html, **taken).status_code == 302
    choices = _input_choices(_page(client, f"/chu-the/san-pham/{certified.product.id}/dat-in-tem"))
    assert f"{lot.code} · Cà phê nhân · còn 375 kg" in choices and "500" not in choices
    assert f"{lot.code}</a> · Cà phê nhân\n    · 500 kg · còn 375 kg" in _page(
        client, "/chu-the/lo/"
    )
    page = _page(client, url)
    assert "500 kg · còn 375 kg" in page and 'href="/chu-the/dong-goi"' in page
    rest = {"packing-input_quantity": "375", "packing-code": "DM2612-RB2"}
    assert packing(client, certified, html, **rest).status_code == 302
    for form in (f"/chu-the/san-pham/{certified.product.id}/dat-in-tem", "/chu-the/dong-goi"):
        html = _page(client, form)
        assert f'value="{lot.id}"' not in _input_choices(html), form
        assert "Chưa có lô nguyên liệu còn hàng" in html
    assert "500 kg · đã dùng hết" in _page(client, "/chu-the/lo/")
    page = _page(client, url)
    assert "500 kg · đã dùng hết" in page and 'href="/chu-the/dong-goi"' not in page


def test_is_what_is_left_of_many_lots_found_in_one_query(client, certified, app):
    sign_in(client, certified.user.username)
    sent: list[str] = []

    def statements_for(url: str) -> int:
        sent.clear()
        _page(client, url)
        return sum("event_lots" in statement for statement in sent)

    def record(*args) -> None:
        sent.append(args[2])

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        one = {url: statements_for(url) for url in ("/chu-the/lo/", "/chu-the/dong-goi")}
        for n in range(4):
            assert harvest(client, certified.area.id, code=f"TH-LEFT-{n}").status_code == 302
        many = {url: statements_for(url) for url in one}
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert _page(client, "/chu-the/dong-goi").count("· còn 1.000 kg") == 8  # both selects
    assert many == one, (one, many)

"""The label page names where the producer is today (review finding 3): a commune merged
away on 1 Jul 2025 reads as the commune and province that took its place, with the address
as recorded only as a dated note; the English page gives the product's English name."""

from __future__ import annotations

from tests.labels.test_page_dates import _label_path
from trace_service.principal import system_principal
from trace_service.registry.units import seed_units

RECORDED = "Thôn 3, Xã Đắk Hòa, Huyện Đắk Song, Tỉnh Đắk Nông"


def _merged(packed, db_session) -> None:
    units = seed_units(db_session, system_principal("test"))
    packed.producer.commune = units["dn.daksong.dakhoa"]
    packed.producer.address = RECORDED
    packed.area.commune = units["dn.daksong.dakhoa"]
    db_session.flush()


def test_does_the_stamp_page_give_todays_address_with_the_old_one_as_a_note(
    client, packed, db_session
):
    _merged(packed, db_session)
    path = _label_path(client, packed)
    for query, note in (("", "địa chỉ đến 30/06/2025"), ("&lang=en", "address until 30/06/2025")):
        html = client.get(path + query).get_data(as_text=True)
        card = html[html.index("Thôn 3") - 200 :]
        assert card.index("Thôn 3, Xã Đắk Song, Tỉnh Lâm Đồng") < card.index(RECORDED)
        assert f"({note}: {RECORDED})" in html
        assert "Xã Đắk Song, 1,50 ha" in html  # the harvest's area, in today's commune


def test_does_the_product_page_give_todays_address(client, packed, db_session):
    _merged(packed, db_session)
    page = client.get(f"/01/{packed.product.gtin14}", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert "Thôn 3, Xã Đắk Song, Tỉnh Lâm Đồng" in html
    assert f"(địa chỉ đến 30/06/2025: {RECORDED})" in html


def test_does_the_english_stamp_page_give_the_english_product_name(client, packed, db_session):
    packed.product.name_en = "Đắk Mil Robusta ground coffee, natural roast"
    db_session.flush()
    path = _label_path(client, packed)
    english = client.get(path + "&lang=en").get_data(as_text=True)
    assert (
        '<h2 class="product" lang="en">Đắk Mil Robusta ground coffee, natural roast</h2>' in english
    )
    assert packed.product.name_vi in english  # the certified name, as the pack says it
    vietnamese = client.get(path + "&lang=vi").get_data(as_text=True)
    assert "Đắk Mil Robusta ground coffee" not in vietnamese


def test_does_the_lots_public_page_name_the_areas_commune_as_the_stamp_page_does(
    client, packed, db_session
):
    """Review user15, finding 4: the lot page named the commune merged away (Xã Đắk Hòa)
    where the stamp's page named the one that took its place (Xã Đắk Song)."""
    _merged(packed, db_session)
    stamp = client.get(_label_path(client, packed)).get_data(as_text=True)
    assert "Vườn cà phê Thuận An 1, Xã Đắk Song, 1,50 ha" in stamp
    lot = client.get(f"/01/{packed.product.gtin14}/10/DM2601-RB1", headers={"Accept": "text/html"})
    html = lot.get_data(as_text=True)
    assert lot.status_code == 200 and "Vườn cà phê Thuận An 1, Xã Đắk Song · 1,50 ha" in html
    assert "Xã Đắk Hòa" not in html

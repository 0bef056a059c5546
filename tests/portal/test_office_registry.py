"""The registry lists of the office: search without accents, filter by district (2025
communes included) and by product group; a producer may not open them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from tests.portal.conftest import BROWSER, sign_in
from trace_service.principal import system_principal
from trace_service.registry.enums import ProductGroup
from trace_service.registry.models import Product
from trace_service.registry.units import UNITS, seed_units


@pytest.fixture
def registry(db_session):
    units = seed_units(db_session, system_principal("test"))
    cujut = next(u["key"] for u in UNITS if u.get("parent") == "dn.cujut")
    dak_mil = factories.ProducerFactory(
        name="Hợp tác xã Cà phê Đức Lập", commune=units["ld.duclap"]
    )
    cu_jut = factories.ProducerFactory(name="Hộ kinh doanh Mật ong Cư Jút", commune=units[cujut])
    factories.ProductFactory(producer=dak_mil, name_vi="Cà phê rang xay Đức Lập")
    factories.ProductFactory(
        producer=cu_jut, name_vi="Mật ong hoa cà phê", product_group=ProductGroup.HERBAL
    )
    return units


def test_is_a_producer_found_without_accents_and_by_district(client, office_user, registry):
    sign_in(client, office_user.username)
    found = client.get("/van-phong/chu-the/?q=duc+lap", headers=BROWSER).get_data(as_text=True)
    assert "Hợp tác xã Cà phê Đức Lập" in found and "Mật ong Cư Jút" not in found
    district = registry["dn.dakmil"].id
    in_dak_mil = client.get(f"/van-phong/chu-the/?huyen={district}", headers=BROWSER)
    html = in_dak_mil.get_data(as_text=True)
    assert "Hợp tác xã Cà phê Đức Lập" in html and "Mật ong Cư Jút" not in html


def test_are_products_filtered_by_group(client, office_user, registry):
    sign_in(client, office_user.username)
    html = client.get("/van-phong/san-pham/?nhom=herbal", headers=BROWSER).get_data(as_text=True)
    assert "Mật ong hoa cà phê" in html and "Cà phê rang xay Đức Lập" not in html
    assert "Thảo dược" in html


def test_is_an_unknown_filter_ignored_not_a_500(client, office_user, registry):
    sign_in(client, office_user.username)
    answer = client.get("/van-phong/san-pham/?nhom=x&huyen=abc&trang=-3", headers=BROWSER)
    assert answer.status_code == 200
    # Numbers past a database integer, and digits of other scripts, are no page or id either.
    for query in (
        "huyen=99999999999999999999999",
        "trang=99999999999999999999999",
        "trang=%D9%A3",
        "huyen=9223372036854775808",
    ):
        for path in ("/van-phong/san-pham/", "/van-phong/chu-the/", "/van-phong/"):
            answer = client.get(f"{path}?{query}", headers=BROWSER)
            assert answer.status_code == 200, (path, query)


def test_may_a_producer_not_open_the_registry(client, producer_user):
    sign_in(client, producer_user.username)
    assert client.get("/van-phong/chu-the/", headers=BROWSER).status_code == 403


def test_does_every_office_page_answer_in_english_too(client, office_user, registry, db_session):
    product = db_session.scalars(select(Product)).first()
    sign_in(client, office_user.username)
    pages = (
        "/van-phong/",
        "/van-phong/?thang=sau",
        "/van-phong/ke-hoach",
        "/van-phong/chu-the/",
        "/van-phong/san-pham/",
        f"/van-phong/san-pham/{product.id}",
        f"/van-phong/san-pham/{product.id}/danh-gia",
        "/van-phong/bao-cao/",
        "/van-phong/tem-nghi-sao-chep/",
        "/van-phong/nhap/",
    )
    for path in pages:
        sep = "&" if "?" in path else "?"
        answer = client.get(f"{path}{sep}lang=en", headers=BROWSER)
        assert answer.status_code == 200, path
        html = answer.get_data(as_text=True)
        assert '<html lang="en">' in html and 'aria-current="page"' in html, path

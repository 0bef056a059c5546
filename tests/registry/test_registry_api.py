"""The registry as its users meet it: creating, finding, changing and removing records."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from tests import factories
from trace_service.registry.enums import ProducerKind, ProductGroup

P = "/api/v1"


@pytest.fixture
def commune(db_session):
    return factories.CommuneFactory(name="Xã Đức Mạnh")


def test_an_admin_registers_a_cooperative_and_reads_it_back(client, admin, commune):
    body = {
        "kind": "cooperative",
        "name": "Hợp tác xã Nông nghiệp Dịch vụ Công Bằng Thuận An",
        "registration_code": "6400427031",
        "address": "Thôn Thuận Sơn",
        "commune_id": commune.id,
        "representative": "Nguyễn Văn Hùng",
        "phone": "0261.3741.234",
        "email": "htx.congbang@example.vn",
    }
    created = client.post(f"{P}/producers", headers=admin.headers, json=body)
    assert created.status_code == 201, created.json
    assert created.json["phone"] == "02613741234"
    assert created.json["commune"] == {
        "id": commune.id,
        "code": commune.code,
        "name": "Xã Đức Mạnh",
    }
    fetched = client.get(f"{P}/producers/{created.json['id']}", headers=admin.headers)
    assert fetched.json == created.json


def test_names_typed_with_decomposed_diacritics_are_stored_composed(client, admin):
    decomposed = unicodedata.normalize("NFD", "Cà phê bột Đắk Đam")
    producer = factories.ProducerFactory()
    response = client.post(
        f"{P}/products",
        headers=admin.headers,
        json={"producer_id": producer.id, "name_vi": f"  {decomposed} ", "product_group": "food"},
    )
    assert response.json["name_vi"] == "Cà phê bột Đắk Đam"


@pytest.mark.parametrize("query", ["ca phe", "CÀ PHÊ", "Cà phê", "dak mil", "Đắk Mil"])
def test_search_finds_names_with_or_without_diacritics(client, inspector, query):
    wanted = factories.ProductFactory(name_vi="Cà phê bột nguyên chất Đắk Mil")
    factories.ProductFactory(name_vi="Hạt tiêu đen Chư Sê", name_en="Black pepper")
    response = client.get(f"{P}/products", headers=inspector.headers, query_string={"q": query})
    assert [p["id"] for p in response.json["items"]] == [wanted.id]


def test_search_treats_like_wildcards_as_text(client, inspector):
    factories.ProductFactory(name_vi="Mật ong 100% nguyên chất")
    factories.ProductFactory(name_vi="Mật ong rừng 1000 ml")
    response = client.get(f"{P}/products", headers=inspector.headers, query_string={"q": "100%"})
    assert response.json["total"] == 1


def test_lists_are_paged_with_totals(client, inspector):
    producer = factories.ProducerFactory()
    made = [factories.ProductFactory(producer=producer) for _ in range(5)]
    first = client.get(
        f"{P}/products?producer_id={producer.id}&page_size=2", headers=inspector.headers
    ).json
    last = client.get(
        f"{P}/products?producer_id={producer.id}&page_size=2&page=3", headers=inspector.headers
    ).json
    assert (first["total"], first["pages"], first["page"]) == (5, 3, 1)
    assert [p["id"] for p in first["items"]] == [made[0].id, made[1].id]
    assert [p["id"] for p in last["items"]] == [made[4].id]


def test_products_filter_by_group_gtin_listing_and_district(client, inspector):
    district = factories.DistrictFactory()
    producer = factories.ProducerFactory(commune=factories.CommuneFactory(parent=district))
    honey = factories.ProductFactory(
        producer=producer, product_group=ProductGroup.FOOD, gtin=None, gtin14=None
    )
    tea = factories.ProductFactory(producer=producer, product_group=ProductGroup.BEVERAGES)
    factories.ProductFactory(product_group=ProductGroup.BEVERAGES)  # another district

    def ids(**query):
        response = client.get(
            f"{P}/products",
            headers=inspector.headers,
            query_string={"district_id": district.id, **query},
        )
        assert response.status_code == 200, response.json
        return [p["id"] for p in response.json["items"]]

    assert ids() == [honey.id, tea.id]
    assert ids(product_group="beverages") == [tea.id]
    assert ids(has_gtin="false") == [honey.id]
    assert ids(has_gtin="true") == [tea.id]
    assert ids(has_listing="true") == []
    assert ids(has_listing="false") == [honey.id, tea.id]


def _undated(listings: list[dict]) -> list[dict]:
    """The listings without their date, which these were given none of."""
    assert all(listing["listed_on"] is None for listing in listings)
    return [{k: v for k, v in listing.items() if k != "listed_on"} for listing in listings]


def test_listings_are_replaced_as_a_whole_and_filterable(client, admin):
    product = factories.ProductFactory()
    listings = [
        {"platform": "shopee", "url": "https://shopee.vn/ca-phe-dak-mil-i.1.2"},
        {"platform": "postmart", "url": "https://postmart.vn/ca-phe-bot"},
    ]
    response = client.patch(
        f"{P}/products/{product.id}", headers=admin.headers, json={"listings": listings}
    )
    assert _undated(response.json["listings"]) == listings
    response = client.patch(
        f"{P}/products/{product.id}", headers=admin.headers, json={"listings": listings[1:]}
    )
    assert _undated(response.json["listings"]) == listings[1:]
    listed = client.get(f"{P}/products?has_listing=true", headers=admin.headers).json
    assert product.id in [p["id"] for p in listed["items"]]


def test_a_gtin_is_kept_as_entered_and_unique_in_its_14_digit_form(client, admin):
    producer = factories.ProducerFactory()
    first = client.post(
        f"{P}/products",
        headers=admin.headers,
        json={
            "producer_id": producer.id,
            "name_vi": "Bơ sáp",
            "product_group": "food",
            "gtin": "8934563138165",
        },
    )
    assert first.status_code == 201, first.json
    assert first.json["gtin"] == "8934563138165"
    again = client.post(
        f"{P}/products",
        headers=admin.headers,
        json={
            "producer_id": producer.id,
            "name_vi": "Bơ booth",
            "product_group": "food",
            "gtin": "08934563138165",
        },
    )
    assert again.status_code == 409


def test_a_product_keeps_its_own_gtin_when_patched(client, admin):
    product = factories.ProductFactory()
    response = client.patch(
        f"{P}/products/{product.id}",
        headers=admin.headers,
        json={"gtin": product.gtin, "shelf_life_days": 540},
    )
    assert response.status_code == 200, response.json


def test_an_area_with_a_polygon_round_trips_exactly(client, admin, commune):
    producer = factories.ProducerFactory()
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [
                [107.612345, 12.441234],
                [107.622345, 12.441234],
                [107.622345, 12.451234],
                [107.612345, 12.451234],
                [107.612345, 12.441234],
            ]
        ],
    }
    response = client.post(
        f"{P}/areas",
        headers=admin.headers,
        json={
            "producer_id": producer.id,
            "name": "Vùng cà phê HTX Công Bằng",
            "commune_id": commune.id,
            "area_ha": 118.5,
            "crops": ["coffee", "pepper"],
            "geometry": polygon,
            "certifications": [
                {"scheme": "4c", "reference": "4C-VN-0042", "valid_until": "2027-03-31"}
            ],
        },
    )
    assert response.status_code == 201, response.json
    fetched = client.get(f"{P}/areas/{response.json['id']}", headers=admin.headers).json
    assert fetched["geometry"] == polygon
    assert fetched["area_ha"] == 118.5
    assert fetched["certifications"][0]["valid_until"] == "2027-03-31"


def test_areas_filter_by_crop_and_certification(client, inspector):
    pepper = factories.AreaFactory(
        crops=["pepper"],
        certifications=[{"scheme": "vietgap", "reference": None, "valid_until": None}],
    )
    factories.AreaFactory(crops=["coffee"])

    def ids(**query):
        response = client.get(f"{P}/areas", headers=inspector.headers, query_string=query)
        return [a["id"] for a in response.json["items"]]

    assert ids(crop="pepper") == [pepper.id]
    assert ids(certification="vietgap") == [pepper.id]


def test_a_producer_updates_its_own_contacts(client, producer_account):
    producer_id = producer_account.user.producer_id
    response = client.patch(
        f"{P}/producers/{producer_id}",
        headers=producer_account.headers,
        json={"representative": "Lê Thị Mai", "phone": "+84 905 111 222"},
    )
    assert response.status_code == 200, response.json
    assert response.json["phone"] == "+84905111222"


def test_a_producer_with_products_cannot_be_deleted(client, admin):
    product = factories.ProductFactory()
    response = client.delete(f"{P}/producers/{product.producer_id}", headers=admin.headers)
    assert response.status_code == 409
    assert (
        client.get(f"{P}/producers/{product.producer_id}", headers=admin.headers).status_code == 200
    )


def test_producers_filter_by_kind_and_district(client, inspector):
    district = factories.DistrictFactory()
    coop = factories.ProducerFactory(
        kind=ProducerKind.COOPERATIVE, commune=factories.CommuneFactory(parent=district)
    )
    firm = factories.ProducerFactory(
        kind=ProducerKind.ENTERPRISE, commune=factories.CommuneFactory(parent=district)
    )
    response = client.get(
        f"{P}/producers",
        headers=inspector.headers,
        query_string={"district_id": district.id, "kind": "enterprise"},
    )
    assert [p["id"] for p in response.json["items"]] == [firm.id]
    response = client.get(
        f"{P}/producers", headers=inspector.headers, query_string={"district_id": district.id}
    )
    assert [p["id"] for p in response.json["items"]] == [coop.id, firm.id]


def test_units_keep_their_history_and_name_their_successor(client, admin):
    province = factories.ProvinceFactory(name="Tỉnh Đắk Nông", valid_to=date(2025, 6, 30))
    new_province = factories.ProvinceFactory(name="Tỉnh Lâm Đồng", valid_from=date(2025, 7, 1))
    old = factories.CommuneFactory(
        name="Xã Đức Mạnh",
        valid_to=date(2025, 6, 30),
        parent=factories.DistrictFactory(parent=province),
    )
    new = factories.CommuneFactory(
        name="Xã Đắk Mil", valid_from=date(2025, 7, 1), parent=new_province
    )
    response = client.patch(
        f"{P}/admin-units/{old.id}", headers=admin.headers, json={"successor_id": new.id}
    )
    assert response.json["successor"]["name"] == "Xã Đắk Mil"

    def ids(day, q):
        response = client.get(
            f"{P}/admin-units",
            headers=admin.headers,
            query_string={"level": "commune", "valid_on": day, "q": q, "page_size": 100},
        )
        return [u["id"] for u in response.json["items"]]

    assert ids("2025-06-30", "duc manh") == [old.id]
    assert ids("2025-07-01", "duc manh") == []
    assert new.id in ids("2025-07-01", "dak mil")
    assert new.id not in ids("2025-06-30", "dak mil")


def test_an_abolished_commune_is_refused_for_new_producers_with_its_successor(client, admin):
    new = factories.CommuneFactory(name="Xã Đắk Mil", valid_from=date(2025, 7, 1))
    old = factories.CommuneFactory(name="Xã Đức Mạnh", valid_to=date(2025, 6, 30), successor=new)
    response = client.post(
        f"{P}/producers",
        headers=admin.headers,
        json={
            "kind": "enterprise",
            "name": "Công ty TNHH Cà phê Ông Bảy",
            "registration_code": "6400111222",
            "address": "Tổ 5",
            "commune_id": old.id,
            "representative": "Ông Bảy",
        },
    )
    assert response.status_code == 422
    message = response.json["errors"]["json"]["commune_id"][0]
    assert "Xã Đức Mạnh" in message and str(new.id) in message


@pytest.mark.parametrize("level, parent", [("district", None), ("province", "district")])
def test_a_unit_must_sit_under_the_right_level(client, admin, level, parent):
    parent_id = factories.DistrictFactory().id if parent else None
    response = client.post(
        f"{P}/admin-units",
        headers=admin.headers,
        json={
            "name": "Đơn vị lạ",
            "level": level,
            "parent_id": parent_id,
            "valid_from": "2025-07-01",
        },
    )
    assert response.status_code == 422
    assert "parent_id" in response.json["errors"]["json"]


def test_areas_filter_by_a_vietnamese_crop_name(client, inspector):
    robusta = factories.AreaFactory(crops=["cà phê vối", "sầu riêng"])
    factories.AreaFactory(crops=["hồ tiêu"])
    response = client.get(
        f"{P}/areas", headers=inspector.headers, query_string={"crop": "cà phê vối"}
    )
    assert [a["id"] for a in response.json["items"]] == [robusta.id]


@pytest.mark.parametrize("crop", ["cà phê", "ca phe", "CÀ PHÊ VỐI", "ca phe voi"])
def test_the_crop_filter_finds_crops_with_or_without_diacritics(client, inspector, crop):
    robusta = factories.AreaFactory(crops=["Cà phê vối", "sầu riêng"])
    factories.AreaFactory(crops=["hồ tiêu"], name="Vườn cà phê cũ")
    response = client.get(f"{P}/areas", headers=inspector.headers, query_string={"crop": crop})
    assert [a["id"] for a in response.json["items"]] == [robusta.id]


def test_line_breaks_belong_in_descriptions_not_in_names(client, admin):
    producer = factories.ProducerFactory()
    body = {
        "producer_id": producer.id,
        "product_group": "food",
        "name_vi": "Cà phê\nbột",
        "description": "Dòng 1\nDòng 2",
    }
    refused = client.post(f"{P}/products", headers=admin.headers, json=body)
    assert refused.status_code == 422
    assert refused.json["errors"]["json"]["name_vi"] == [
        "Contains line breaks or control characters."
    ]
    accepted = client.post(
        f"{P}/products", headers=admin.headers, json={**body, "name_vi": "Cà phê bột"}
    )
    assert accepted.status_code == 201
    assert accepted.json["description"] == "Dòng 1\nDòng 2"

"""English pages say their words in English (review finding 7): the product-group filter,
the harvest form's units, the import help's figures."""

from __future__ import annotations

from tests.portal.conftest import BROWSER, sign_in


def test_is_the_product_group_filter_english_on_an_english_page(client, office_user):
    sign_in(client, office_user.username)
    english = client.get("/van-phong/san-pham/?lang=en", headers=BROWSER).get_data(True)
    assert '<option value="beverages">Beverages</option>' in english
    assert "Đồ uống" not in english and "Thực phẩm" not in english
    vietnamese = client.get("/van-phong/san-pham/?lang=vi", headers=BROWSER).get_data(True)
    assert '<option value="beverages">Đồ uống</option>' in vietnamese


def test_does_the_english_import_help_write_thousands_with_a_comma(client, office_user):
    sign_in(client, office_user.username)
    english = client.get("/van-phong/nhap/?lang=en", headers=BROWSER).get_data(True)
    assert "At most 5,000 rows" in english and "5.000" not in english
    vietnamese = client.get("/van-phong/nhap/?lang=vi", headers=BROWSER).get_data(True)
    assert "Tối đa 5.000 dòng" in vietnamese


def test_are_the_harvest_units_in_the_page_language(client, producer_user):
    sign_in(client, producer_user.username)
    english = client.get("/chu-the/thu-hoach?lang=en", headers=BROWSER).get_data(True)
    assert '<option value="t">tonnes</option>' in english and "tấn" not in english
    vietnamese = client.get("/chu-the/thu-hoach?lang=vi", headers=BROWSER).get_data(True)
    assert '<option value="t">tấn</option>' in vietnamese

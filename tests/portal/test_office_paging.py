"""The office's product list in pages: the total, where this page is, page links around it
with the first and last, "Trang trước" and "Trang sau", every link keeping the filters."""

from __future__ import annotations

import re
from html import unescape

from tests import factories
from tests.portal.conftest import BROWSER, sign_in
from trace_service.registry.enums import ProductGroup


def test_are_products_listed_in_pages_that_keep_the_filters(client, office_user, db_session):
    producer = factories.ProducerFactory()
    for n in range(1, 131):
        factories.ProductFactory(producer=producer, name_vi=f"Mật ong rừng số {n:03d}",
                                 product_group=ProductGroup.FOOD)  # fmt: skip
    factories.ProductFactory(producer=producer, product_group=ProductGroup.HERBAL)
    sign_in(client, office_user.username)
    first = client.get("/van-phong/san-pham/?nhom=food&q=mat+ong", headers=BROWSER)
    html = unescape(first.get_data(as_text=True))
    assert "130 sản phẩm" in html and "Trang 1 / 3" in html
    assert html.count("Mật ong rừng số") == 50
    links = re.findall(r'href="(/van-phong/san-pham/\?[^"]+)"', html)
    paged = [link for link in links if "trang=" in link]
    assert paged and all("nhom=food" in link and "q=mat+ong" in link for link in paged)
    assert re.search(r'<a href="[^"]*trang=2[^"]*" rel="next">Trang sau', html)
    assert "Trang trước" not in html

    second = client.get(re.search(r'href="([^"]*trang=2[^"]*)" rel="next"', html).group(1))
    html = unescape(second.get_data(as_text=True))
    assert "Trang 2 / 3" in html and 'aria-current="page">2<' in html
    assert re.search(r'rel="prev">Trang trước', html) and re.search(r'rel="next">Trang sau', html)
    names = re.findall(r"Mật ong rừng số (\d+)", html)
    assert len(names) == 50 and len(set(names)) == 50

    last = client.get("/van-phong/san-pham/?nhom=food&q=mat+ong&trang=3", headers=BROWSER)
    html = unescape(last.get_data(as_text=True))
    assert "Trang 3 / 3" in html and html.count("Mật ong rừng số") == 30
    assert "Trang sau" not in html


def test_do_many_pages_get_a_few_links_not_one_each(client, office_user, db_session):
    producer = factories.ProducerFactory()
    for _ in range(12 * 50):
        factories.ProductFactory(producer=producer)
    sign_in(client, office_user.username)
    html = client.get("/van-phong/san-pham/?trang=6", headers=BROWSER).get_data(as_text=True)
    assert "600 sản phẩm" in html and "Trang 6 / 12" in html
    numbers = re.findall(r'trang=(\d+)">(\d+)</a>', html.replace(' aria-current="page"', ""))
    assert [int(n) for _, n in numbers] == [1, 4, 5, 6, 7, 8, 12]

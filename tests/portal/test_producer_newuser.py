"""A new producer's first steps (new-user review, findings 6-8): the packing form says to
record a harvest first when there is no raw-material lot; spoiled stamps voided by their
printed codes with a confirm step; the product's photo uploaded from the portal."""

from __future__ import annotations

from datetime import timedelta

from tests import factories
from tests.portal.conftest import BROWSER, PASSWORD, sign_in
from trace_service.auth.passwords import hash_password
from trace_service.clock import today_vn
from trace_service.principal import Role


def new_producer(db_session):
    """A certified product and nothing else: no area, no harvest."""
    producer = factories.ProducerFactory(name="Hộ kinh doanh Mới")
    user = factories.UserFactory(
        role=Role.PRODUCER, producer_id=producer.id, password_hash=hash_password(PASSWORD)
    )
    product = factories.ProductFactory(producer=producer, name_vi="Mật ong hoa cà phê")
    factories.CertificateFactory(product=product, issue_date=today_vn() - timedelta(days=10))
    return user, product


def test_without_an_input_lot_the_packing_form_sends_to_the_harvest_form(client, db_session):
    user, product = new_producer(db_session)
    sign_in(client, user.username)
    for url in (f"/chu-the/san-pham/{product.id}/dat-in-tem", "/chu-the/dong-goi"):
        html = client.get(url, headers=BROWSER).get_data(as_text=True)
        assert "Chưa có lô nguyên liệu: hãy ghi nhận thu hoạch trước" in html
        assert 'href="/chu-the/thu-hoach"' in html
        assert "packing-submit" not in html  # no dead form


def test_with_an_input_lot_the_packing_form_is_shown(client, certified):
    sign_in(client, certified.user.username)
    html = client.get("/chu-the/dong-goi", headers=BROWSER).get_data(as_text=True)
    assert "packing-submit" in html and "Chưa có lô nguyên liệu" not in html

"""Numbers no one would type on purpose get an answer beside the field or a 404, never a
500 (an attacker's review): ids past a database integer, scores of 1e30, an offset of
1e999999999; and a council's decimal average typed in a form is kept as typed (2,2 is 2.2,
not 22)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.portal.conftest import BROWSER, csrf_of, make_certified, sign_in
from tests.portal.test_office_certify import _evaluation, _post
from tests.portal.test_office_certify import product as product
from trace_service.certificates.models import Evaluation

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    "path",
    [
        f"/van-phong/san-pham/{HUGE}",
        f"/van-phong/san-pham/{HUGE}/danh-gia",
        f"/van-phong/danh-gia/{HUGE}/cap-giay",
        f"/van-phong/giay-chung-nhan/{HUGE}/thu-hoi",
        f"/van-phong/bao-cao/{HUGE}",
        f"/van-phong/bao-cao/{HUGE}/anh",
    ],
)
def test_an_office_page_of_an_id_past_any_row_is_not_found(client, office_user, path):
    sign_in(client, office_user.username)
    assert client.get(path, headers=BROWSER).status_code == 404


def test_a_decimal_average_is_kept_as_typed_and_a_huge_one_refused(
    client, office_user, product, db_session
):
    found, units = product
    sign_in(client, office_user.username)
    path = f"/van-phong/san-pham/{found.id}/danh-gia"
    huge = _post(client, path, _evaluation(units, score_a="1e30"))
    assert huge.status_code == 200  # the form again, with the message beside the field
    assert "40" in huge.get_data(as_text=True)
    recorded = _post(client, path, _evaluation(units, score_a="32,5", score_b="20,2"))
    assert recorded.status_code == 302, recorded.get_data(as_text=True)
    evaluation = db_session.scalars(
        select(Evaluation).where(Evaluation.product_id == found.id)
    ).one()
    assert (float(evaluation.score_a), float(evaluation.score_b)) == (32.5, 20.2)


def test_an_offset_past_any_number_is_refused_beside_the_field(client, db_session):
    certified = make_certified(db_session)
    sign_in(client, certified.user.username)
    path = "/chu-the/in-tem/can-chinh"
    page = client.get(path, headers=BROWSER).get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), "offset-offset_x": "1e999999999", "offset-offset_y": "0"}
    response = client.post(path, data=form, headers=BROWSER)
    assert response.status_code in (200, 422)
    assert "10 mm" in response.get_data(as_text=True)


def test_a_lot_id_past_any_row_is_no_choice(client, db_session):
    certified = make_certified(db_session)
    sign_in(client, certified.user.username)
    path = f"/chu-the/san-pham/{certified.product.id}/dat-in-tem"
    page = client.get(path, headers=BROWSER).get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), "order-submit": "1", "order-lot": HUGE}
    response = client.post(path, data={**form, "order-quantity": "1"}, headers=BROWSER)
    assert response.status_code in (200, 422)

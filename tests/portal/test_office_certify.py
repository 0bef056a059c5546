"""The office records an evaluation, issues its certificate, re-evaluates and revokes from
its pages, through the certificates services: a refused rule is shown beside its field,
every change is audited, and a form posted without its CSRF token is refused."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests import factories
from tests.portal.conftest import BROWSER, csrf_of, sign_in
from trace_service.audit.models import AuditEvent
from trace_service.audit.tags import Tag
from trace_service.certificates.models import Certificate
from trace_service.certificates.services import may_label
from trace_service.clock import today_vn
from trace_service.principal import system_principal
from trace_service.registry.units import seed_units


@pytest.fixture
def product(db_session):
    units = seed_units(db_session, system_principal("test"))
    producer = factories.ProducerFactory(name="HTX Cà phê Đức Lập", commune=units["ld.duclap"])
    found = factories.ProductFactory(producer=producer, name_vi="Cà phê bột Đức Lập")
    return found, units


def _evaluation(units, **changes):
    form = {
        "evaluated_on": "2025-09-15",
        "council_level": "province",
        "council_unit": str(units["ld"].id),
        "score_a": "35",
        "score_b": "20",
        "score_c": "25",
        "mandatory_met": "yes",
        "reference": "Biên bản 7/BB-HĐ",
        "notes": "",
    }
    return {**form, **changes}


def _post(client, path, form):
    page = client.get(path, headers=BROWSER).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_of(page), **form}, headers=BROWSER)


def test_does_an_evaluation_yield_a_certificate_and_a_revocation_stop_it(
    client, office_user, product, db_session
):
    found, units = product
    sign_in(client, office_user.username)
    recorded = _post(client, f"/van-phong/san-pham/{found.id}/danh-gia", _evaluation(units))
    assert recorded.status_code == 302, recorded.get_data(as_text=True)
    issue_path = recorded.headers["Location"]
    assert "/cap-giay" in issue_path
    issue_page = client.get(issue_path, headers=BROWSER).get_data(as_text=True)
    assert "80 điểm, 4 sao" in issue_page and "36 tháng" in issue_page
    issued = _post(
        client,
        issue_path,
        {
            "number": "0777/GCN-OCOP",
            "decision_number": "777/QĐ-UBND",
            "decision_date": "2025-09-30",
            "issue_date": "2025-09-30",
            "issuing_authority": "",
        },
    )
    assert issued.status_code == 302
    cert = db_session.scalars(select(Certificate).where(Certificate.product_id == found.id)).one()
    assert cert.star == 4 and may_label(db_session, found.id, today_vn()).allowed
    html = client.get(issued.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Đã cấp giấy chứng nhận 0777/GCN-OCOP" in html and "Còn hiệu lực" in html
    revoke_path = f"/van-phong/giay-chung-nhan/{cert.id}/thu-hoi"
    assert revoke_path in html
    refused = _post(
        client, revoke_path, {"revoked_on": "2025-01-01", "decision": "9/QĐ", "reason": "Lỗi"}
    )
    assert refused.status_code == 200
    assert re.search(
        r'id="revoked_on-error">Không thể thu hồi trước ngày cấp', refused.get_data(True)
    )
    typed = {"revoked_on": today_vn().isoformat(), "decision": "9/QĐ-UBND", "reason": "Gian lận"}
    review = _post(client, revoke_path, typed)  # first the review step: nothing revoked yet
    assert review.status_code == 200 and "Kiểm tra trước khi thu hồi" in review.get_data(True)
    assert may_label(db_session, found.id, today_vn()).allowed
    revoked = _post(client, revoke_path, {**typed, "confirmed": "1"})
    assert revoked.status_code == 302
    db_session.expire_all()
    assert not may_label(db_session, found.id, today_vn()).allowed
    page = client.get(revoked.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Đã thu hồi giấy chứng nhận 0777/GCN-OCOP" in page and "Đã bị thu hồi" in page
    tags = set(db_session.scalars(select(AuditEvent.tag)))
    assert {Tag.EVALUATION_RECORDED, Tag.CERTIFICATE_ISSUED, Tag.CERTIFICATE_REVOKED} <= tags


def test_is_a_refused_rule_shown_beside_its_field(client, office_user, product):
    found, units = product
    sign_in(client, office_user.username)
    path = f"/van-phong/san-pham/{found.id}/danh-gia"
    # The districts were abolished on 1 Jul 2025: no district council rated after that.
    district = _evaluation(units, council_level="district", council_unit=str(units["dn.dakmil"].id))
    html = _post(client, path, district).get_data(as_text=True)
    assert 'id="council_unit-error">Huyện Đắk Mil không còn tồn tại vào ngày 15/09/2025' in html
    too_many = _post(client, path, _evaluation(units, score_b="26")).get_data(as_text=True)
    assert 'id="score_b-error"' in too_many
    unsure = _post(client, path, _evaluation(units, mandatory_met="")).get_data(as_text=True)
    assert 'id="mandatory-error"' in unsure and 'value="Biên bản 7/BB-HĐ"' in unsure


def test_does_a_re_evaluation_supersede_the_standing_certificate(
    client, office_user, product, db_session
):
    found, units = product
    old = factories.CertificateFactory(product=found, issue_date=date(2024, 1, 10))
    sign_in(client, office_user.username)
    recorded = _post(
        client,
        f"/van-phong/san-pham/{found.id}/danh-gia",
        _evaluation(units, score_a="35", score_b="22", score_c="28"),
    )
    issue_path = recorded.headers["Location"]
    page = client.get(issue_path, headers=BROWSER).get_data(as_text=True)
    assert f"{old.number}" in page and "sẽ được thay thế" in page
    form = {
        "number": "0888/GCN-OCOP",
        "decision_number": "888/QĐ-UBND",
        "decision_date": "2025-10-01",
        "issue_date": "2025-10-01",
    }
    assert _post(client, issue_path, form).status_code == 302
    db_session.expire_all()
    assert old.superseded_by_id is not None


def test_are_the_forms_refused_without_their_csrf_token(client, office_user, product):
    found, units = product
    sign_in(client, office_user.username)
    path = f"/van-phong/san-pham/{found.id}/danh-gia"
    answer = client.post(path, data=_evaluation(units), headers=BROWSER)
    assert answer.status_code == 400


def test_may_a_producer_not_record_an_evaluation(client, producer_user, product):
    found, _ = product
    sign_in(client, producer_user.username)
    path = f"/van-phong/san-pham/{found.id}/danh-gia"
    assert client.get(path, headers=BROWSER).status_code == 403
    assert client.get(f"/van-phong/san-pham/{found.id}", headers=BROWSER).status_code == 403

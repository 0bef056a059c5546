"""Revoking a certificate from the office's pages goes through a review step, as voiding a
stamp does (review user1, F10): the first press shows what will be revoked and changes
nothing; "Sửa lại" gives the form back as typed; a refused rule is said before the step."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests import factories
from tests.portal.conftest import BROWSER, csrf_of, sign_in
from trace_service.audit.models import AuditEvent
from trace_service.audit.tags import Tag
from trace_service.certificates.services import may_label
from trace_service.clock import today_vn


def _post(client, path, fields):
    page = client.get(path, headers=BROWSER).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_of(page), **fields}, headers=BROWSER)


def _revocations(db_session) -> list:
    tag = Tag.CERTIFICATE_REVOKED
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.tag == tag)))


def test_a_revocation_is_reviewed_before_it_is_made(client, office_user, db_session):
    cert = factories.CertificateFactory(issue_date=today_vn() - timedelta(days=200))
    path = f"/van-phong/giay-chung-nhan/{cert.id}/thu-hoi"
    sign_in(client, office_user.username)
    typed = {"revoked_on": today_vn().isoformat(), "decision": "12/QĐ-UBND", "reason": "Gian lận"}
    review = _post(client, path, typed)
    page = review.get_data(as_text=True)
    assert review.status_code == 200 and "Kiểm tra trước khi thu hồi" in page
    assert "12/QĐ-UBND" in page and "Gian lận" in page and cert.number in page
    assert may_label(db_session, cert.product_id, today_vn()).allowed
    assert _revocations(db_session) == []

    back = _post(client, path, {**typed, "edit": "1"}).get_data(as_text=True)
    assert "Kiểm tra trước khi thu hồi" not in back and 'value="12/QĐ-UBND"' in back

    done = _post(client, path, {**typed, "confirmed": "1"})
    assert done.status_code == 302
    db_session.expire_all()
    assert not may_label(db_session, cert.product_id, today_vn()).allowed
    assert len(_revocations(db_session)) == 1


def test_a_refused_revocation_is_said_before_the_review(client, office_user, db_session):
    cert = factories.CertificateFactory()
    path = f"/van-phong/giay-chung-nhan/{cert.id}/thu-hoi"
    sign_in(client, office_user.username)
    early = {"revoked_on": "2000-01-01", "decision": "1/QĐ", "reason": "Lỗi"}
    page = _post(client, path, early).get_data(as_text=True)
    assert "Kiểm tra trước khi thu hồi" not in page
    assert re.search(r'id="revoked_on-error">Không thể thu hồi trước ngày cấp', page)

"""Accepting an inspection's proposal from the office's page goes through a review step, as
revoking a certificate from its own page does: the first press shows the lot (or the
certificate) it acts on and changes nothing; "Sửa lại" gives the form back as typed; only
the second press recalls. A refusal of the service is said before the step; rejecting a
proposal stays one step."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests import factories
from tests.portal.conftest import BROWSER, csrf_of, sign_in
from trace_service.certificates.models import Certificate
from trace_service.clock import today_vn, vn_date
from trace_service.db import utcnow
from trace_service.principal import Role
from trace_service.trace.models import Recall
from trace_service.verify.models import Decision, FieldInspection, InspectionResult, Proposal

PAGE = "/van-phong/kiem-tra/"


def _proposal(db_session, certified, proposal: Proposal, **more) -> FieldInspection:
    found = FieldInspection(
        client_id=f"review-{proposal.value}-{more.get('lot_id')}",
        inspector_id=factories.UserFactory(role=Role.INSPECTOR).id,
        product_id=certified.product.id,
        checked_at=utcnow(),
        place="Chợ Gia Nghĩa",
        result=InspectionResult.FAILED,
        proposal=proposal,
        **more,
    )
    db_session.add(found)
    db_session.flush()
    return found


def _typed(client, found: FieldInspection, action: str = "accept") -> dict[str, str]:
    page = client.get(PAGE, headers=BROWSER).get_data(as_text=True)
    return {
        "csrf_token": csrf_of(page),
        "action": action,
        f"d{found.id}-reason": "Tem giả bày bán tại chợ Gia Nghĩa",
        f"d{found.id}-decision_number": "15/QĐ-VPĐP",
    }


def _recalls(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Recall))


def test_accepting_a_recall_is_reviewed_before_it_is_made(
    client, office_user, certified, db_session
):
    lot = certified.harvest_lot
    found = _proposal(db_session, certified, Proposal.RECALL, lot_id=lot.id)
    path = f"/van-phong/kiem-tra/{found.id}/quyet-dinh"
    sign_in(client, office_user.username)
    typed = _typed(client, found)
    review = client.post(path, data=typed, headers=BROWSER)
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "Kiểm tra trước khi thu hồi lô hàng" in html
    assert lot.code in html and "15/QĐ-VPĐP" in html and "Tem giả bày bán" in html
    assert f"Thu hồi lô hàng {lot.code}</button>" in html
    db_session.expire_all()
    assert _recalls(db_session) == 0
    assert db_session.get(FieldInspection, found.id).decision is None

    back = client.post(path, data={**typed, f"d{found.id}-edit": "1"}, headers=BROWSER)
    again = back.get_data(as_text=True)
    assert "Kiểm tra trước khi thu hồi" not in again and 'value="15/QĐ-VPĐP"' in again
    assert _recalls(db_session) == 0

    assert f'name="d{found.id}-lot_id" value="{lot.id}"' in html  # what the step showed
    confirm = {**typed, f"d{found.id}-confirmed": "1"}
    unnamed = client.post(path, data=confirm, headers=BROWSER)  # a page from before the step
    assert "Kiểm tra trước khi thu hồi lô hàng" in unnamed.get_data(True)
    assert _recalls(db_session) == 0

    done = client.post(path, data={**confirm, f"d{found.id}-lot_id": lot.id}, headers=BROWSER)
    assert done.status_code == 302
    db_session.expire_all()
    recall = db_session.scalars(select(Recall)).one()
    assert (recall.lot_id, recall.decision) == (lot.id, "15/QĐ-VPĐP")
    assert db_session.get(FieldInspection, found.id).decision is Decision.ACCEPTED


def test_a_refused_acceptance_is_said_before_the_review(client, office_user, certified, db_session):
    found = _proposal(db_session, certified, Proposal.RECALL)  # no lot to recall
    path = f"/van-phong/kiem-tra/{found.id}/quyet-dinh"
    sign_in(client, office_user.username)
    page = client.post(path, data=_typed(client, found), headers=BROWSER).get_data(True)
    assert "Kiểm tra trước khi thu hồi" not in page
    assert f'id="d{found.id}-reason-error">Biên bản không chỉ ra lô hàng nào' in page


def test_accepting_a_revocation_is_reviewed_and_rejecting_is_one_step(
    client, office_user, certified, db_session
):
    revocation = _proposal(db_session, certified, Proposal.REVOCATION)
    sign_in(client, office_user.username)
    path = f"/van-phong/kiem-tra/{revocation.id}/quyet-dinh"
    html = client.post(path, data=_typed(client, revocation), headers=BROWSER).get_data(True)
    assert "Kiểm tra trước khi thu hồi giấy chứng nhận" in html
    assert f"Thu hồi giấy chứng nhận {certified.certificate.number}</button>" in html
    db_session.expire_all()
    assert db_session.get(type(certified.certificate), certified.certificate.id).revoked_on is None

    rejected = client.post(path, data=_typed(client, revocation, "reject"), headers=BROWSER)
    assert rejected.status_code == 302
    db_session.expire_all()
    assert db_session.get(FieldInspection, revocation.id).decision is Decision.REJECTED


def _confirm(found: FieldInspection, typed: dict[str, str], **target: int) -> dict[str, str]:
    named = {f"d{found.id}-{key}": str(value) for key, value in target.items()}
    return {**typed, f"d{found.id}-confirmed": "1", **named}


def test_a_certificate_issued_between_review_and_confirm_is_not_revoked(
    client, office_user, certified, db_session
):
    reviewed = certified.certificate
    found = _proposal(db_session, certified, Proposal.REVOCATION)  # no stamp: the one in force
    path = f"/van-phong/kiem-tra/{found.id}/quyet-dinh"
    sign_in(client, office_user.username)
    typed = _typed(client, found)
    html = client.post(path, data=typed, headers=BROWSER).get_data(True)
    assert f'name="d{found.id}-certificate_id" value="{reviewed.id}"' in html
    # a colleague issues the product a new certificate while the review is open
    renewed = factories.CertificateFactory(
        product=certified.product, issue_date=today_vn() - timedelta(days=1)
    )
    db_session.flush()

    stale = client.post(
        path, data=_confirm(found, typed, certificate_id=reviewed.id), headers=BROWSER
    )
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert f"Giấy chứng nhận mà đề xuất này sẽ thu hồi đã đổi (nay là {renewed.number})" in page
    assert f"Thu hồi giấy chứng nhận {renewed.number}</button>" in page  # the review, as it is now
    db_session.expire_all()
    for cert in (reviewed, renewed):
        assert db_session.get(Certificate, cert.id).revoked_on is None
    assert db_session.get(FieldInspection, found.id).decision is None


def test_a_recall_confirmed_for_another_lot_recalls_nothing(
    client, office_user, certified, db_session
):
    lot = certified.harvest_lot
    found = _proposal(db_session, certified, Proposal.RECALL, lot_id=lot.id)
    path = f"/van-phong/kiem-tra/{found.id}/quyet-dinh"
    sign_in(client, office_user.username)
    typed = _typed(client, found)
    other = client.post(path, data=_confirm(found, typed, lot_id=lot.id + 1000), headers=BROWSER)
    assert other.status_code == 409
    assert f"Lô hàng mà đề xuất này sẽ thu hồi đã đổi (nay là {lot.code})" in other.get_data(True)
    db_session.expire_all()
    assert _recalls(db_session) == 0
    assert db_session.get(FieldInspection, found.id).decision is None


def test_an_acceptance_is_confirmed_and_a_second_confirm_is_told_it_was_decided(
    client, office_user, certified, db_session
):
    lot = certified.harvest_lot
    found = _proposal(db_session, certified, Proposal.RECALL, lot_id=lot.id)
    path = f"/van-phong/kiem-tra/{found.id}/quyet-dinh"
    sign_in(client, office_user.username)
    confirm = _confirm(found, _typed(client, found), lot_id=lot.id)
    done = client.post(path, data=confirm, headers=BROWSER, follow_redirects=True)
    page = done.get_data(as_text=True)
    notice = f"Đã thu hồi lô {lot.code} theo quyết định số 15/QĐ-VPĐP."
    assert f'role="status" id="quyet-dinh-vua-xong" tabindex="-1">{notice}</div>' in page
    assert "<strong>Số quyết định:</strong> 15/QĐ-VPĐP" in page  # on the decided record
    assert notice not in client.get(PAGE, headers=BROWSER).get_data(True)  # said once

    again = client.post(path, data=confirm, headers=BROWSER)  # a second tab, or a resend
    day = vn_date(today_vn())
    assert again.status_code == 409
    assert f"Đề xuất này đã được quyết định ngày {day}." in again.get_data(True)
    assert _recalls(db_session) == 1

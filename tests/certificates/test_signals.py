"""Issues, supersessions and revocations are announced (``certificate_changed``) once flushed,
so the layers above can react without the certificates layer knowing them."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook

from tests import factories
from trace_service.certificates import importer, services
from trace_service.certificates.signals import CertificateChange, certificate_changed
from trace_service.errors import DomainError
from trace_service.principal import system_principal

OFFICE = system_principal("test")
TODAY = date(2025, 3, 1)


@pytest.fixture
def heard(db_session):
    """What ``certificate_changed`` said, as (change, certificate id, product id, sender)."""
    said: list[tuple] = []

    def receiver(sender, *, change, certificate):
        assert certificate.id is not None  # flushed before it is announced
        said.append((change, certificate.id, certificate.product_id, sender))

    with certificate_changed.connected_to(receiver):
        yield said


def _issue(db_session, evaluation, number="GCN-1", day=date(2024, 9, 20)):
    data = {
        "evaluation_id": evaluation.id,
        "number": number,
        "decision_number": "1/QĐ-UBND",
        "decision_date": day,
        "issue_date": day,
    }
    return services.issue_certificate(db_session, OFFICE, data, TODAY)


def test_is_a_new_certificate_announced_with_the_one_it_supersedes(db_session, heard):
    old = factories.CertificateFactory(issue_date=date(2021, 10, 1))
    # Decision 148/QĐ-TTg: a 3★ certificate of 2024 is a district's.
    evaluation = factories.EvaluationFactory(
        product=old.product,
        evaluated_on=date(2024, 9, 1),
        council_level="district",
        council_unit=factories.DistrictFactory(),
    )

    old_when_new_heard = []

    def receiver(sender, *, change, certificate):
        if change is CertificateChange.ISSUED:
            old_when_new_heard.append(old.superseded_by_id == certificate.id)

    with certificate_changed.connected_to(receiver):
        new = _issue(db_session, evaluation)

    assert old_when_new_heard == [True]  # announced once the product stands as it now does
    assert heard == [
        (CertificateChange.ISSUED, new.id, old.product_id, db_session),
        (CertificateChange.SUPERSEDED, old.id, old.product_id, db_session),
    ]


def test_is_a_revocation_announced_and_a_refused_one_not(db_session, heard):
    cert = factories.CertificateFactory(issue_date=date(2023, 1, 10))
    body = {"revoked_on": date(2025, 2, 1), "decision": "9/QĐ-UBND", "reason": "Vi phạm"}

    services.revoke_certificate(db_session, OFFICE, cert, body, TODAY)
    with pytest.raises(DomainError):
        services.revoke_certificate(db_session, OFFICE, cert, body, TODAY)

    assert heard == [(CertificateChange.REVOKED, cert.id, cert.product_id, db_session)]


def test_is_nothing_announced_when_an_issue_is_refused(db_session, heard):
    evaluation = factories.EvaluationFactory(score_a=10)  # 2★: no certificate
    with pytest.raises(DomainError):
        _issue(db_session, evaluation)
    assert heard == []


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_does_an_import_announce_each_certificate_and_each_it_supersedes(db_session, heard, units):
    product = factories.ProductFactory()
    old = factories.CertificateFactory(product=product, issue_date=date(2021, 6, 1))
    header = ["Số GCN", "Số QĐ", "Ngày QĐ", "Cơ quan cấp", "MST", "Tên sản phẩm", "GTIN"]
    header += ["Số sao", "Ngày cấp"]
    row = ["N-1", "1/QĐ", date(2024, 5, 2), "UBND tỉnh Đắk Nông", None, None, product.gtin]
    row += [4, date(2024, 5, 2)]
    content = _xlsx([header, row])

    dry = importer.import_certificates(db_session, OFFICE, "ds.xlsx", content, dry_run=True)
    assert dry.ok and heard == []
    report = importer.import_certificates(db_session, OFFICE, "ds.xlsx", content, dry_run=False)

    assert report.imported == 1
    (issued_change, new_id, _, _), superseded = heard
    assert issued_change is CertificateChange.ISSUED
    assert superseded == (CertificateChange.SUPERSEDED, old.id, product.id, db_session)
    assert old.superseded_by_id == new_id

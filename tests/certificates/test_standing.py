"""One definition of a certificate's standing on a day: every place that asks agrees with it.

Before issue 11 five pieces of code each said what "in force" meant (``rules.status_on``,
``services.status_filter``, ``services.standing_filter``, ``may_label``'s own test and the
``expiring_within_days`` filter), and only ``may_label`` knew that a certificate issued after
the day asked about is not in force. Now ``rules.STANDING`` is the rule and ``standing.py``
reads it both ways. Here a generated set of certificate chains (issued, superseded, revoked,
at every boundary) is asked about on many days, and the status in Python is compared with
each SQL filter, the list API's filters, the counts of the reports, the expiry sweep, and the
label verdict.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from tests import factories
from trace_service.certificates import reports, rules, services, standing
from trace_service.certificates.expiry import EXPIRED_NOTICE_GRACE_DAYS, NOTIFIED, THRESHOLDS, sweep
from trace_service.certificates.models import Certificate, ExpiryNotice
from trace_service.certificates.rules import IN_FORCE, STATUS_TEXT, Status, status_on
from trace_service.certificates.standing import AsOf
from trace_service.db import utcnow
from trace_service.principal import system_principal

WINDOW = 90
OFFICE = system_principal("test")


def _chains(rng: random.Random, products: list) -> list[Certificate]:
    """Chains of one to three certificates per product, as issue and revoke make them, with
    a few odd ones (revoked after being superseded, issued after the days asked about)."""
    certs = []
    for product in products:
        issued = date(2021, 1, 1) + timedelta(days=rng.randint(0, 1500))
        chain = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            cert = factories.CertificateFactory(
                product=product, issue_date=issued, valid_until=rules.valid_until(issued)
            )
            if rng.random() < 0.25:
                cert.revoked_on = issued + timedelta(days=rng.randint(0, 1300))
                cert.revocation_decision, cert.revocation_reason = "1/QĐ-UBND", "Thử"
            chain.append(cert)
            issued += timedelta(days=rng.randint(150, 1300))
        for older, newer in pairwise(chain):
            if older.revoked_on is None or rng.random() < 0.3:
                older.superseded_by, older.superseded_on = newer, newer.issue_date
        certs.extend(chain)
    return certs


@pytest.fixture
def certificates(db_session) -> list[Certificate]:
    commune = factories.CommuneFactory()
    products = [
        factories.ProductFactory(producer=factories.ProducerFactory(commune=commune))
        for _ in range(30)
    ]
    certs = _chains(random.Random(11), products)  # noqa: S311 -- reproducible test data
    db_session.flush()
    return certs


def _days(certs: list[Certificate]) -> list[date]:
    """Days on every boundary of some certificate's standing, and a few more."""
    rng = random.Random(5)  # noqa: S311 -- reproducible test data
    days = {date(2020, 6, 1), date(2024, 2, 29), date(2026, 1, 1), date(2031, 1, 1)}
    for cert in rng.sample(certs, 8):
        last = cert.valid_until
        days |= {cert.issue_date, cert.issue_date - timedelta(days=1), last, last + timedelta(1)}
        days |= {last - timedelta(days=WINDOW), last - timedelta(days=WINDOW + 1)}
        days |= {d for d in (cert.revoked_on, cert.superseded_on) if d is not None}
    return sorted(days)


def _ids(session, condition) -> set[int]:
    return set(session.scalars(select(Certificate.id).where(condition)))


def _listed(session, args: dict, as_of: AsOf) -> set[int]:
    stmt = services.certificate_query(OFFICE, args, as_of)
    return {cert.id for cert in session.scalars(stmt)}


def _expected_verdict(certs: list[Certificate], day: date) -> tuple[str, int | None]:
    newest_first = sorted(certs, key=lambda c: (c.issue_date, c.id), reverse=True)
    for cert in newest_first:
        if standing.status_of(cert, day, WINDOW) in IN_FORCE:
            return "certified", cert.id
    latest = newest_first[0]
    code = {Status.REVOKED: "revoked", Status.PENDING: "not_yet_valid"}.get(
        standing.status_of(latest, day, WINDOW), "expired"
    )
    return code, latest.id


def test_does_every_place_that_asks_agree_with_the_one_rule_on_every_day(db_session, certificates):
    seen: Counter[Status] = Counter()
    by_product: dict[int, list[Certificate]] = {}
    for cert in certificates:
        by_product.setdefault(cert.product_id, []).append(cert)
    for day in _days(certificates):
        as_of = AsOf(day, WINDOW)
        status = {cert.id: standing.status_of(cert, day, WINDOW) for cert in certificates}
        seen.update(status.values())
        with_status = {s: {i for i, st in status.items() if st is s} for s in Status}
        in_force = {i for i, st in status.items() if st in IN_FORCE}

        # The status in SQL: each filter, the CASE the counts use, and the list API's filter.
        for s in Status:
            assert _ids(db_session, standing.status_clause(s, day, WINDOW)) == with_status[s]
            assert _listed(db_session, {"status": [s]}, as_of) == with_status[s], (day, s)
        case = dict(
            db_session.execute(select(Certificate.id, standing.status_case(day, WINDOW))).all()
        )
        assert case == {i: s.value for i, s in status.items()}
        for group in ({Status.EXPIRED, Status.SUPERSEDED}, set(Status), NOTIFIED):
            expected = {i for i, st in status.items() if st in group}
            assert _ids(db_session, standing.statuses_clause(group, day, WINDOW)) == expected

        # In force: Python, SQL, the expiry filter of the list API.
        assert {c.id for c in certificates if standing.in_force(c, day)} == in_force
        assert _ids(db_session, standing.in_force_clause(day)) == in_force
        for within in (0, 30, WINDOW, 400):
            horizon = day + timedelta(days=within)
            expected = {c.id for c in certificates if c.id in in_force and c.valid_until <= horizon}
            assert _listed(db_session, {"expiring_within_days": within}, as_of) == expected

        # The reports count the same.
        stats = reports.certificate_stats(db_session, as_of)
        assert stats["by_status"] == {s.value: len(with_status[s]) for s in Status}
        stars = Counter(c.star for c in certificates if c.id in in_force)
        assert stats["standing_by_star"] == {str(s): stars[s] for s in (3, 4, 5)}
        certified = {c.product_id for c in certificates if c.id in in_force}
        assert reports.plan_report(db_session, 2025, day)["certified_products"] == len(certified)

        # The label verdict: the newest certificate in force, or why the newest is not.
        for product_id, certs in by_product.items():
            verdict = services.may_label(db_session, product_id, day)
            code, cert_id = _expected_verdict(certs, day)
            assert (verdict.code, verdict.certificate and verdict.certificate.id) == (
                code,
                cert_id,
            ), (day, product_id)
            assert verdict.allowed is (code == "certified")
    assert set(seen) == set(Status), seen  # every status, pending included, was asked about


def test_does_the_expiry_sweep_write_notices_for_exactly_the_certificates_that_stand(
    db_session, certificates
):
    for day in _days(certificates)[::3]:
        savepoint = db_session.begin_nested()
        now = utcnow()
        sweep(db_session, OFFICE, day, now=now)
        noticed = set(
            db_session.scalars(
                select(ExpiryNotice.certificate_id).where(ExpiryNotice.created_at == now)
            )
        )
        ahead, behind = max(THRESHOLDS), EXPIRED_NOTICE_GRACE_DAYS
        assert noticed == {
            c.id
            for c in certificates
            if standing.status_of(c, day, WINDOW) in NOTIFIED
            and day - timedelta(days=behind) <= c.valid_until <= day + timedelta(days=ahead)
        }
        savepoint.rollback()
    assert db_session.scalar(select(func.count()).select_from(ExpiryNotice)) == 0


@pytest.mark.parametrize("day", [date(2024, 3, 14), date(2024, 3, 15), date(2027, 3, 16)])
def test_is_a_certificate_issued_after_the_day_asked_about_pending_and_not_in_force(day):
    status = status_on(
        day,
        issue_date=date(2024, 3, 15) if day < date(2025, 1, 1) else date(2027, 3, 17),
        valid_until=date(2027, 3, 15) if day < date(2025, 1, 1) else date(2030, 3, 17),
        revoked_on=None,
        superseded_on=None,
        expiring_window_days=WINDOW,
    )
    pending = day in (date(2024, 3, 14), date(2027, 3, 16))
    assert (status is Status.PENDING) is pending
    assert (status in IN_FORCE) is not pending


def test_does_the_table_give_every_status_its_row_and_its_words_in_both_languages():
    order = [status for status, _ in rules.STANDING]
    assert sorted(order) == sorted(Status) and len(order) == len(set(order))
    assert rules.STANDING[-1][1] is None  # the last row is "otherwise"
    assert all(test is not None for _, test in rules.STANDING[:-1])
    assert set(STATUS_TEXT) == set(Status)
    assert all(vi and en and vi != en for vi, en in STATUS_TEXT.values())


def test_do_the_label_page_and_the_verifier_use_the_one_rule_and_its_words():
    import ocop_verify.verdict as composition
    from trace_service.labels import page_facts, resolver, verdict, verify_response

    # The rule: the stamp's page and the verify API judge by the one standing rule (the API
    # applies it to the plain columns it reads).
    assert page_facts.status_of is standing.status_of
    assert verify_response.status_on is standing.status_on
    # The words: the product page shows the table's; the stamp's page says what the offline
    # verifier says, through the one composition they share.
    assert resolver.STATUS_TEXT is STATUS_TEXT
    assert verdict.sum_up is composition.sum_up

"""The expiry sweep writes one notice per certificate per threshold, exactly once: twice in a
row, two at the same time, or again after a sweep was killed half-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tests import factories
from tests.databases import fresh_database
from trace_service.certificates.expiry import sweep
from trace_service.certificates.models import Certificate, ExpiryNotice, NoticeDelivery
from trace_service.certificates.rules import valid_until
from trace_service.db import make_engine, utcnow
from trace_service.migrate import upgrade
from trace_service.principal import system_principal
from trace_service.registry.enums import ProducerKind, ProductGroup, UnitLevel
from trace_service.registry.models import AdministrativeUnit, Producer, Product

TODAY = date(2026, 11, 28)
ACTOR = system_principal("test")
ROOT = Path(__file__).resolve().parents[2]


def _cert_expiring_in(days: int, **kwargs):
    """A certificate whose last valid day is ``days`` after TODAY."""
    last_day = TODAY + timedelta(days=days)
    issue = last_day.replace(year=last_day.year - 3)
    return factories.CertificateFactory(issue_date=issue, valid_until=last_day, **kwargs)


def _notices(session: Session) -> dict[int, list[int]]:
    rows = session.execute(select(ExpiryNotice.certificate_id, ExpiryNotice.threshold_days))
    found: dict[int, list[int]] = {}
    for cert_id, threshold in rows:
        found.setdefault(cert_id, []).append(threshold)
    return found


@pytest.mark.parametrize(
    "days_left, threshold",
    [
        (120, None),
        (91, None),
        (90, 90),
        (61, 90),
        (60, 60),
        (31, 60),
        (30, 30),
        (1, 30),
        (0, 30),
        (-1, 0),
        (-30, 0),
        (-31, None),
    ],
)
def test_each_certificate_gets_the_tightest_threshold_it_has_crossed(
    db_session, days_left, threshold
):
    cert = _cert_expiring_in(days_left)
    sweep(db_session, ACTOR, TODAY, now=utcnow())
    assert _notices(db_session).get(cert.id) == ([threshold] if threshold is not None else None)


def test_a_certificate_gets_each_notice_as_the_days_pass(db_session):
    cert = _cert_expiring_in(95)
    for offset in range(0, 100):
        sweep(db_session, ACTOR, TODAY + timedelta(days=offset), now=utcnow())
    assert sorted(_notices(db_session)[cert.id]) == [0, 30, 60, 90]


def test_sweeping_twice_writes_nothing_new(db_session):
    certs = [_cert_expiring_in(d) for d in (10, 45, 80)]
    first = sweep(db_session, ACTOR, TODAY, webhook_url="http://127.0.0.1:9/hook", now=utcnow())
    second = sweep(db_session, ACTOR, TODAY, webhook_url="http://127.0.0.1:9/hook", now=utcnow())
    assert (first.notices, first.deliveries) == (3, 6)
    assert (second.notices, second.deliveries) == (0, 0)
    assert set(_notices(db_session)) == {c.id for c in certs}


def test_revoked_and_superseded_certificates_get_no_notice(db_session):
    revoked = _cert_expiring_in(
        20,
        revoked_on=TODAY - timedelta(days=5),
        revocation_decision="1/QĐ",
        revocation_reason="Vi phạm",
    )
    newer = _cert_expiring_in(900)
    old = _cert_expiring_in(
        20, product=newer.product, superseded_by=newer, superseded_on=TODAY - timedelta(days=10)
    )
    sweep(db_session, ACTOR, TODAY, now=utcnow())
    assert revoked.id not in _notices(db_session)
    assert old.id not in _notices(db_session)


def test_a_producer_without_email_is_listed_as_undeliverable(db_session):
    producer = factories.ProducerFactory(email=None)
    cert = _cert_expiring_in(25, product=factories.ProductFactory(producer=producer))
    sweep(db_session, ACTOR, TODAY, now=utcnow())
    delivery = db_session.scalar(
        select(NoticeDelivery).join(ExpiryNotice).where(ExpiryNotice.certificate_id == cert.id)
    )
    assert (delivery.channel, delivery.status, delivery.recipient) == (
        "email",
        "undeliverable",
        None,
    )


# -- real concurrency and real crashes: committed data in a database of the test's own -------

N_CERTS = 300


def _populate(url: str) -> set[int]:
    """Committed certificates that all cross a threshold on TODAY."""
    engine = make_engine(url)
    with engine.begin() as connection:
        unit = connection.execute(
            insert(AdministrativeUnit).returning(AdministrativeUnit.id),
            {
                "name": "Xã Thử",
                "level": UnitLevel.COMMUNE,
                "valid_from": date(2004, 1, 1),
                "search_key": "xa thu",
            },
        ).scalar_one()
        producer = connection.execute(
            insert(Producer).returning(Producer.id),
            {
                "kind": ProducerKind.COOPERATIVE,
                "name": "HTX Thử",
                "registration_code": "6400000001",
                "address": "Thôn 1",
                "commune_id": unit,
                "representative": "Y Thử",
                "email": "htx@example.vn",
                "search_key": "htx thu",
                "created_at": utcnow(),
                "updated_at": utcnow(),
            },
        ).scalar_one()
        product = connection.execute(
            insert(Product).returning(Product.id),
            {
                "producer_id": producer,
                "name_vi": "Cà phê",
                "product_group": ProductGroup.FOOD,
                "images": [],
                "standards": [],
                "search_key": "ca phe",
                "created_at": utcnow(),
                "updated_at": utcnow(),
            },
        ).scalar_one()
        rows = []
        for n in range(N_CERTS):
            last_day = TODAY + timedelta(days=n % 120 - 29)
            issue = last_day.replace(year=last_day.year - 3, day=min(last_day.day, 28))
            rows.append(
                {
                    "number": f"C-{n}",
                    "decision_number": f"{n}/QĐ",
                    "decision_date": issue,
                    "issuing_authority": "UBND tỉnh Đắk Nông",
                    "product_id": product,
                    "product_name": "Cà phê",
                    "star": 3,
                    "issue_date": issue,
                    "valid_until": valid_until(issue),
                    "created_at": utcnow(),
                }
            )
        connection.execute(insert(Certificate), rows)
        ids = set(
            connection.scalars(
                select(Certificate.id).where(
                    Certificate.valid_until <= TODAY + timedelta(days=90),
                    Certificate.valid_until >= TODAY - timedelta(days=30),
                )
            )
        )
    engine.dispose()
    return ids


def _count(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as connection:
        notices = connection.scalar(select(func.count()).select_from(ExpiryNotice))
        duplicates = connection.scalar(
            select(func.count()).select_from(
                select(ExpiryNotice.certificate_id)
                .group_by(ExpiryNotice.certificate_id, ExpiryNotice.threshold_days)
                .having(func.count() > 1)
                .subquery()
            )
        )
    engine.dispose()
    return notices, duplicates


def test_two_sweeps_at_the_same_time_write_each_notice_once(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        expected = _populate(url)
        engine = make_engine(url)
        barrier = threading.Barrier(2)
        reports, errors = [], []

        def run() -> None:
            try:
                with Session(engine) as session:
                    barrier.wait(timeout=10)
                    reports.append(sweep(session, ACTOR, TODAY, now=utcnow()))
                    session.commit()
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        engine.dispose()
        assert errors == []
        assert sorted(r.notices for r in reports) == [0, len(expected)]
        assert _count(url) == (len(expected), 0)


SLOW_SWEEP = textwrap.dedent("""
    import sys, time
    from datetime import date
    from sqlalchemy.orm import Session
    import trace_service.models  # every mapper, as the app has them
    from trace_service.principal import system_principal
    from trace_service.certificates.expiry import sweep
    from trace_service.db import make_engine, utcnow
    engine = make_engine(sys.argv[1])
    with Session(engine) as session:
        report = sweep(session, system_principal("doomed"), date(2026, 11, 28), now=utcnow())
        print(report.notices, flush=True)
        time.sleep(60)  # killed here, before the commit
        session.commit()
""")


def test_a_sweep_killed_half_way_leaves_nothing_and_the_next_one_writes_everything_once(
    backend, tmp_path
):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        expected = _populate(url)
        doomed = subprocess.Popen(
            [sys.executable, "-c", SLOW_SWEEP, url],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            assert int(doomed.stdout.readline()) == len(expected)  # written, not committed
            doomed.send_signal(signal.SIGKILL)
        finally:
            doomed.wait(timeout=30)
            doomed.stdout.close()
        assert _count(url) == (0, 0)
        engine = make_engine(url)
        for expected_new in (len(expected), 0):
            with Session(engine) as session:
                assert sweep(session, ACTOR, TODAY, now=utcnow()).notices == expected_new
                session.commit()
        engine.dispose()
        assert _count(url) == (len(expected), 0)

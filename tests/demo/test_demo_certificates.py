"""The demo's OCOP evaluations and certificates: histories that obey the rules of Decisions
148/2023 and 1489/2025, arranged around the day the demo is loaded."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trace_service.audit.models import AuditEvent
from trace_service.audit.services import verify_chain
from trace_service.audit.tags import Tag
from trace_service.certificates import rules, services
from trace_service.certificates.models import Certificate, Evaluation
from trace_service.certificates.rules import CouncilLevel, Status
from trace_service.demo.loader import load_demo
from trace_service.registry.enums import UnitLevel
from trace_service.registry.models import AdministrativeUnit, Producer, Product

TODAY = date(2026, 11, 28)
LATER = date(2027, 3, 1)
WINDOW = 90
MERGER = date(2025, 7, 1)
NUMBER = re.compile(r"^(DNO|LDG)-(\d{4})-\d{4}$")
DECISION = re.compile(r"^[1-9]\d{0,4}/QĐ-UBND$")


def _certificates(session: Session) -> list[Certificate]:
    return list(session.scalars(select(Certificate).order_by(Certificate.id)))


def _by_status(certs: list[Certificate], day: date) -> dict[Status, list[Certificate]]:
    grouped: dict[Status, list[Certificate]] = {s: [] for s in Status}
    for cert in certs:
        grouped[services.status_of(cert, day, WINDOW)].append(cert)
    return grouped


def _districts(session: Session, producer: Producer) -> set[str]:
    """Names of the pre-merger districts the producer's commune was (or came from)."""
    commune = producer.commune
    olds = session.scalars(
        select(AdministrativeUnit).where(AdministrativeUnit.successor_id == commune.id)
    )
    return {u.parent.name for u in [commune, *olds] if u.parent is not None}


def _snapshot(session: Session) -> dict[str, Any]:
    """What a load produced, by values rather than ids (ids differ between loads)."""
    products = session.scalars(select(Product).order_by(Product.id))
    return {
        "producers": [
            (p.name, p.registration_code, p.address)
            for p in session.scalars(select(Producer).order_by(Producer.id))
        ],
        "products": [(p.name_vi, p.gtin, p.created_at.date()) for p in products],
        "certificates": [
            (
                c.number,
                c.decision_number,
                c.product.name_vi,
                c.star,
                c.issue_date,
                c.issuing_authority,
                c.revoked_on,
                c.superseded_on,
            )
            for c in _certificates(session)
        ],
    }


def test_on_the_day_it_is_loaded_the_certificates_have_every_status(db_session):
    report = load_demo(db_session, today=TODAY)
    certs = _certificates(db_session)
    by_status = _by_status(certs, TODAY)
    counts = {s: len(c) for s, c in by_status.items()}
    assert 5 <= counts[Status.EXPIRING] <= 10, counts
    assert 10 <= counts[Status.EXPIRED] <= 15, counts
    assert counts[Status.REVOKED] == 1, counts
    assert counts[Status.SUPERSEDED] >= 1, counts
    assert counts[Status.VALID] > len(certs) / 2, counts
    assert 80 <= len({c.product_id for c in certs}) <= 90
    assert report.certificates == len(certs)
    assert report.evaluations == db_session.scalar(select(func.count()).select_from(Evaluation))
    # Expiring and expired certificates are the product's standing one: nothing replaced them.
    for cert in by_status[Status.EXPIRING] + by_status[Status.EXPIRED]:
        assert cert.superseded_by_id is None and cert.revoked_on is None
        assert not [c for c in certs if c.product_id == cert.product_id and c.id > cert.id]
    for cert in by_status[Status.EXPIRING]:
        assert 0 <= (cert.valid_until - TODAY).days <= WINDOW


def test_every_certificate_obeys_the_rules_of_its_day(db_session):
    load_demo(db_session, today=TODAY)
    certs = _certificates(db_session)
    for cert in certs:
        ev = cert.evaluation
        assert ev is not None and ev.product_id == cert.product_id
        assert ev.score_a <= rules.MAX_A and ev.score_b <= rules.MAX_B and ev.score_c <= rules.MAX_C
        assert ev.total == ev.score_a + ev.score_b + ev.score_c
        assert cert.star == ev.star == rules.star_for(ev.total, ev.mandatory_met)
        assert cert.star >= rules.CERTIFIED_MIN_STAR
        assert cert.star in rules.stars_council_may_certify(ev.council_level, ev.evaluated_on)
        assert date(2021, 1, 1) <= ev.evaluated_on <= cert.decision_date <= cert.issue_date
        assert cert.issue_date <= date(2025, 12, 31)
        assert (cert.issue_date - ev.evaluated_on).days <= 31
        assert cert.issue_date.weekday() < 5 and ev.evaluated_on.weekday() < 5
        # Đắk Nông counts the 36 months from the decision ("kể từ ngày Quyết định được ký").
        assert cert.valid_until == rules.valid_until(cert.decision_date)
        assert ev.evaluated_on >= cert.product.created_at.date()
        unit = ev.council_unit
        assert unit is not None and cert.issuing_unit_id == unit.id
        assert unit.is_valid_on(ev.evaluated_on) and unit.is_valid_on(cert.issue_date)
        if ev.council_level is CouncilLevel.DISTRICT:
            assert unit.level is UnitLevel.DISTRICT
            assert cert.issuing_authority in {
                f"UBND huyện {unit.name[6:]}",
                "UBND thành phố Gia Nghĩa",
            }
            assert unit.name in _districts(db_session, cert.product.producer)
        else:
            assert ev.council_level is CouncilLevel.PROVINCE and unit.level is UnitLevel.PROVINCE
            assert cert.issuing_authority == (
                "UBND tỉnh Đắk Nông" if cert.issue_date < MERGER else "UBND tỉnh Lâm Đồng"
            )
        match = NUMBER.match(cert.number)
        assert match and int(match[2]) == cert.issue_date.year
        assert match[1] == ("DNO" if cert.issue_date < MERGER else "LDG")
        assert DECISION.match(cert.decision_number)
    assert len({c.number for c in certs}) == len(certs)
    stars = Counter(c.star for c in certs)
    assert set(stars) == {3, 4}
    assert 0.85 <= stars[3] / len(certs) <= 0.95, stars
    # The province's first 4★ is a coffee of a Đắk Mil producer (as "Cà phê bột Đắk Đam" was).
    first4 = min((c for c in certs if c.star == 4), key=lambda c: (c.issue_date, c.id))
    assert first4.product.name_vi.startswith("Cà phê")
    assert "Huyện Đắk Mil" in _districts(db_session, first4.product.producer)
    assert first4.issuing_authority == "UBND tỉnh Đắk Nông"


def test_some_products_were_rated_without_earning_a_certificate(db_session):
    load_demo(db_session, today=TODAY)
    certified = set(db_session.scalars(select(Certificate.evaluation_id)))
    rest = [e for e in db_session.scalars(select(Evaluation)) if e.id not in certified]
    assert sorted(e.star or 0 for e in rest) == [0, 2, 2, 2]
    failed = next(e for e in rest if e.star is None)
    assert not failed.mandatory_met and failed.total >= 50 and "bắt buộc" in (failed.notes or "")
    for ev in rest:
        assert ev.star == rules.star_for(ev.total, ev.mandatory_met)
        assert ev.notes and ev.evaluated_on <= date(2025, 12, 31)


def test_re_evaluations_supersede_the_old_certificate_36_months_on(db_session):
    load_demo(db_session, today=TODAY)
    superseded = [c for c in _certificates(db_session) if c.superseded_by_id is not None]
    assert superseded
    for old in superseded:
        new = old.superseded_by
        assert new is not None and new.product_id == old.product_id
        assert new.issue_date > old.issue_date and old.superseded_on == new.issue_date
        assert new.evaluation is not None and new.evaluation.evaluated_on > old.issue_date
        assert (
            old.valid_until - timedelta(days=75)
            <= new.issue_date
            <= old.valid_until + (timedelta(days=31))
        )
        assert date(2021, 1, 1) <= old.issue_date <= date(2022, 12, 31)
        assert services.status_of(new, TODAY, WINDOW) is Status.VALID
    events = Counter(db_session.scalars(select(AuditEvent.tag)))
    assert events[Tag.CERTIFICATE_SUPERSEDED] == len(superseded)
    assert events[Tag.CERTIFICATE_ISSUED] == len(_certificates(db_session))
    assert events[Tag.CERTIFICATE_REVOKED] == 1
    assert verify_chain(db_session).intact


def test_labels_follow_the_certificates(db_session):
    load_demo(db_session, today=TODAY)
    by_status = _by_status(_certificates(db_session), TODAY)
    valid = by_status[Status.VALID][0]
    verdict = services.may_label(db_session, valid.product_id, TODAY)
    assert verdict.allowed and verdict.certificate is valid and verdict.star == valid.star
    (revoked,) = by_status[Status.REVOKED]
    assert revoked.revocation_decision and DECISION.match(revoked.revocation_decision)
    assert "truy xuất nguồn gốc" in (revoked.revocation_reason or "")
    assert revoked.revoked_on is not None
    assert revoked.issue_date + timedelta(days=60) <= revoked.revoked_on <= TODAY
    verdict = services.may_label(db_session, revoked.product_id, TODAY)
    assert not verdict.allowed and verdict.code == "revoked"
    expired = by_status[Status.EXPIRED][0]
    verdict = services.may_label(db_session, expired.product_id, TODAY)
    assert not verdict.allowed and verdict.code == "expired"
    expiring = by_status[Status.EXPIRING][0]
    assert services.may_label(db_session, expiring.product_id, TODAY).allowed


def test_another_day_keeps_the_registry_and_still_has_certificates_expiring(db_session):
    savepoint = db_session.begin_nested()
    load_demo(db_session, today=TODAY)
    first = _snapshot(db_session)
    savepoint.rollback()
    savepoint = db_session.begin_nested()
    load_demo(db_session, today=TODAY)
    again = _snapshot(db_session)
    savepoint.rollback()
    assert again == first  # deterministic for (seed, today)

    load_demo(db_session, today=LATER)
    later = _snapshot(db_session)
    assert later["producers"] == first["producers"] and later["products"] == first["products"]
    counts = Counter(services.status_of(c, LATER, WINDOW) for c in _certificates(db_session))
    assert 5 <= counts[Status.EXPIRING] <= 10, counts
    assert counts[Status.REVOKED] == 1 and counts[Status.SUPERSEDED] >= 1, counts
    assert counts[Status.EXPIRED] >= 10 and counts[Status.VALID] > 40, counts


def test_the_2025_plan_board_reads_the_demos_dossiers_and_dated_listings(db_session):
    """Kế hoạch 93/KH-UBND: the board counts registered candidates, submitted dossiers and
    listings by their dates; the demo records each year's first round as a dossier for the
    star its council certified that day, registered before it sat."""
    from trace_service.certificates.models import Dossier
    from trace_service.certificates.reports import plan_report
    from trace_service.registry.models import Listing

    load_demo(db_session, today=TODAY)
    dossiers = list(db_session.scalars(select(Dossier)))
    assert dossiers and all(
        d.registered_on <= (d.submitted_on or d.registered_on) and d.registered_on.year == d.year
        for d in dossiers
    )
    assert None not in set(db_session.scalars(select(Listing.listed_on)))
    targets = {t["key"]: t for t in plan_report(db_session, 2025, TODAY)["targets"]}
    entered = sum(1 for d in dossiers if d.year == 2025 and d.target_star == 3)
    assert targets["entered_3_star"]["actual"] == entered > 0
    assert all(t["counted"] and t["counted_en"] for t in targets.values())

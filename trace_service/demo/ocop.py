"""Record the demo's OCOP history (``ocop_plan``) through the certificate services, in the
order it happened, so that superseding, the council rules and the audit events are those of
real use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.certificates.models import Certificate, Dossier, Evaluation
from trace_service.certificates.rules import entered_for
from trace_service.certificates.services import (
    issue_certificate,
    record_evaluation,
    revoke_certificate,
)
from trace_service.demo.ocop_plan import Round, authority, plan_rounds
from trace_service.principal import Principal
from trace_service.registry.models import AdministrativeUnit, Product

Progress = Callable[[str, int, int], None]
EVALUATE, ISSUE, REVOKE = 0, 1, 2  # what happens first on a day


def record_ocop(
    session: Session,
    actor: Principal,
    units: dict[str, AdministrativeUnit],
    products: dict[str, Product],
    today: date,
    progress: Progress | None,
) -> tuple[int, int]:
    """Evaluations, certificates and revocations; returns (evaluations, certificates)."""
    rounds = plan_rounds(today)
    timeline: list[tuple[date, int, int]] = []
    for index, r in enumerate(rounds):
        timeline.append((r.evaluated_on, EVALUATE, index))
        if r.issue_date is not None:
            timeline.append((r.issue_date, ISSUE, index))
        if r.revoked_on is not None:
            timeline.append((r.revoked_on, REVOKE, index))
    timeline.sort()
    evaluations: dict[int, Evaluation] = {}
    certificates: dict[int, Certificate] = {}
    for step, (_, what, index) in enumerate(timeline, start=1):
        r = rounds[index]
        if what == EVALUATE:
            evaluations[index] = _evaluate(session, actor, units, products[r.product], r, today)
        elif what == ISSUE:
            certificates[index] = _issue(session, actor, units, evaluations[index], r, today)
        else:
            _revoke(session, actor, certificates[index], r, today)
        if what == EVALUATE:
            _dossier(session, evaluations[index], r)
        if progress and (step % 20 == 0 or step == len(timeline)):
            progress("certificates", step, len(timeline))
    return len(evaluations), len(certificates)


def _dossier(session: Session, evaluation: Evaluation, r: Round) -> None:
    """The round's dossier, as the plan board counts it: registered a month before the
    council sat and submitted ten days before, for the star its council rated (the points'
    band among the stars that council certified; a 5★ dossier is a central one). A
    product's first round of a year is its dossier for that year."""
    year = r.evaluated_on.year
    taken = session.scalar(
        select(Dossier.id).where(Dossier.product_id == evaluation.product_id, Dossier.year == year)
    )
    star = entered_for(evaluation.council_level, r.evaluated_on, evaluation.total)
    if taken is not None or star is None:
        return
    registered = max(r.evaluated_on - timedelta(days=30), date(year, 1, 1))
    session.add(
        Dossier(
            product_id=evaluation.product_id,
            year=year,
            target_star=star,
            registered_on=registered,
            submitted_on=max(r.evaluated_on - timedelta(days=10), registered),
            reference=f"HS-{year}-{evaluation.id:04d}",
        )
    )
    session.flush()


def _evaluate(
    session: Session,
    actor: Principal,
    units: dict[str, AdministrativeUnit],
    product: Product,
    r: Round,
    today: date,
) -> Evaluation:
    a, b, c = r.scores
    data = {
        "council_level": r.council.level,
        "council_unit_id": units[r.unit("unit")].id,
        "evaluated_on": r.evaluated_on,
        "score_a": a,
        "score_b": b,
        "score_c": c,
        "mandatory_met": r.mandatory_met,
        "reference": r.reference,
        "notes": r.notes,
    }
    return record_evaluation(session, actor, product, data, today)


def _issue(
    session: Session,
    actor: Principal,
    units: dict[str, AdministrativeUnit],
    evaluation: Evaluation,
    r: Round,
    today: date,
) -> Certificate:
    issuer = r.unit("issuer")
    data = {
        "evaluation_id": evaluation.id,
        "number": r.number,
        "decision_number": r.decision_number,
        "decision_date": r.decision_date,
        "issue_date": r.issue_date,
        "issuing_unit_id": units[issuer].id,
        "issuing_authority": authority(issuer),
    }
    return issue_certificate(session, actor, data, today)


def _revoke(
    session: Session, actor: Principal, certificate: Certificate, r: Round, today: date
) -> None:
    data = {
        "revoked_on": r.revoked_on,
        "decision": r.revocation_decision,
        "reason": r.revocation_reason,
    }
    revoke_certificate(session, actor, certificate, data, today)

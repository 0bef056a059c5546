"""Evaluations, certificates and their lifecycle: issue, supersede, revoke, and the one
question labels ask: may this product be labelled today, and if not, why.

A certificate's status on a day is ``standing.py``'s (from ``rules.STANDING``); the checks a
new certificate passes are ``checks.py``'s, shared with the importer; what a producer may see
is ``auth.scoping``'s. Issues, supersessions and revocations are announced with
``signals.certificate_changed`` once flushed and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from trace_service.audit.services import record_event
from trace_service.audit.tags import Tag
from trace_service.auth.scoping import get_owned, scoped
from trace_service.certificates import checks
from trace_service.certificates.models import Certificate, Dossier, Evaluation, ExpiryNotice
from trace_service.certificates.notices import LETTER_THRESHOLD_DAYS, Office, letter_pdf
from trace_service.certificates.rules import (
    CERTIFIED_STARS,
    COUNCIL_LEVEL_VI,
    MAX_STAR,
    CouncilLevel,
    Status,
    central_authority_on,
    met_through,
    star_of_council,
)
from trace_service.certificates.signals import CertificateChange, announce
from trace_service.certificates.standing import (
    AsOf,
    in_force,
    in_force_clause,
    open_clause,
    status_of,
    statuses_clause,
)
from trace_service.certificates.validity import certificate_valid_until
from trace_service.clock import vn_date
from trace_service.errors import Conflict, NotFound, field_error
from trace_service.principal import Principal
from trace_service.registry import services as registry
from trace_service.registry.enums import UnitLevel
from trace_service.registry.models import AdministrativeUnit, Producer, Product
from trace_service.registry.services import communes_of_district

# A total and its parts, each a council's average rounded to 0.1 on its own, differ by 0.1 at
# most.
TOTAL_SLACK = Decimal("0.1")

_COUNCIL_UNIT_LEVEL = {
    CouncilLevel.DISTRICT: UnitLevel.DISTRICT,
    CouncilLevel.PROVINCE: UnitLevel.PROVINCE,
    CouncilLevel.CENTRAL: None,
}


# -- evaluations ------------------------------------------------------------------------------


def _no_evaluation() -> NotFound:
    return NotFound("Không tìm thấy kết quả đánh giá.", "No evaluation has this id.")


def _check_council(session: Session, level: CouncilLevel, unit_id: int | None, day: date) -> None:
    wanted = _COUNCIL_UNIT_LEVEL[level]
    if wanted is None:
        if unit_id is not None:
            raise field_error(
                "council_unit_id",
                vi="Hội đồng trung ương không thuộc đơn vị hành chính địa phương.",
                en="The central council belongs to no local unit.",
            )
        return
    unit = session.get(AdministrativeUnit, unit_id) if unit_id is not None else None
    if unit is None or unit.level is not wanted:
        raise field_error(
            "council_unit_id",
            vi=f"{COUNCIL_LEVEL_VI[level]} cần ghi đơn vị hành chính "
            f"{'cấp huyện' if wanted is UnitLevel.DISTRICT else 'cấp tỉnh'} của mình.",
            en=f"A {level} council needs the {wanted} it belongs to.",
        )
    problem = checks.authority_existed("council_unit_id", unit, day)
    if problem is not None:
        raise problem.error()


@dataclass(frozen=True)
class _Scores:
    total: Decimal
    met_through: int
    star: int | None


def _checked_scores(data: dict[str, Any], today: date) -> _Scores:
    """The average total, how far up the stars the mandatory criteria are met, and the star
    they earn, once the parts add up and the day is not ahead."""
    a, b, c = data["score_a"], data["score_b"], data["score_c"]
    parts = a + b + c
    total = data.get("total", parts)
    # Each average is rounded on its own, so the parts may miss the total by 0.1.
    if abs(total - parts) > TOTAL_SLACK:
        raise field_error(
            "total",
            vi=f"Tổng điểm các phần là {parts}, không khớp với {total}.",
            en=f"The parts add up to {parts}, not {total} (within {TOTAL_SLACK}).",
        )
    if data["evaluated_on"] > today:
        raise field_error(
            "evaluated_on",
            vi="Ngày đánh giá không được ở tương lai.",
            en="An evaluation cannot be in the future.",
        )
    problem = checks.scores_within(data["evaluated_on"], a, b, c)
    if problem is not None:
        raise problem.error()
    if "mandatory_unmet_stars" in data:
        through = met_through(data["mandatory_unmet_stars"])
    else:  # the older shape: one flag for every star
        through = MAX_STAR if data["mandatory_met"] else 0
    return _Scores(total, through, star_of_council(total, through))


def record_evaluation(
    session: Session, actor: Principal, product: Product, data: dict[str, Any], today: date
) -> Evaluation:
    scores = _checked_scores(data, today)
    total, star = scores.total, scores.star
    day: date = data["evaluated_on"]
    level = CouncilLevel(data["council_level"])
    _check_council(session, level, data.get("council_unit_id"), day)
    if star in CERTIFIED_STARS:
        who = (COUNCIL_LEVEL_VI[level], f"A {level} council")
        problem = checks.council_may_certify(level, star, day, *who)
        if problem is not None:
            raise problem.error()
    evaluation = Evaluation(
        product_id=product.id,
        council_level=level,
        council_unit_id=data.get("council_unit_id"),
        evaluated_on=day,
        score_a=data["score_a"],
        score_b=data["score_b"],
        score_c=data["score_c"],
        total=total,
        mandatory_met_through=scores.met_through,
        star=star,
        reference=data["reference"],
        notes=data.get("notes"),
    )
    session.add(evaluation)
    session.flush()
    record_event(
        session,
        actor,
        Tag.EVALUATION_RECORDED,
        "evaluation",
        evaluation.id,
        {
            "product_id": product.id,
            "council_level": level,
            "total": total,
            "mandatory_met_through": scores.met_through,
            "star": star,
            "evaluated_on": day,
            "reference": evaluation.reference,
        },
    )
    return evaluation


def get_evaluation(session: Session, actor: Principal, evaluation_id: int) -> Evaluation:
    """One evaluation; another producer's answers as if it did not exist."""
    return get_owned(session, actor, Evaluation, evaluation_id, _no_evaluation)


def evaluation_query(actor: Principal, args: dict[str, Any]) -> Select[Any]:
    """The evaluations ``actor`` may see, oldest first (``?product_id=``)."""
    stmt = scoped(select(Evaluation), actor, Evaluation)
    if "product_id" in args:
        stmt = stmt.where(Evaluation.product_id == args["product_id"])
    return stmt.order_by(Evaluation.id)


# -- dossiers ---------------------------------------------------------------------------------


def _check_dossier_dates(data: dict[str, Any], today: date) -> None:
    registered, submitted = data["registered_on"], data.get("submitted_on")
    if registered.year != data["year"]:
        raise field_error(
            "registered_on",
            vi=f"Hồ sơ của đợt đánh giá năm {data['year']} được đăng ký trong năm đó.",
            en=f"A dossier of the {data['year']} round is registered in {data['year']}.",
        )
    for field, day in (("registered_on", registered), ("submitted_on", submitted)):
        if day is not None and day > today:
            raise field_error(
                field,
                vi=f"Ngày {vn_date(day)} ở tương lai.",
                en=f"{day.isoformat()} is in the future.",
            )
    if submitted is not None and submitted < registered:
        raise field_error(
            "submitted_on",
            vi=f"Ngày nộp {vn_date(submitted)} trước ngày đăng ký {vn_date(registered)}.",
            en=f"Submitted {submitted.isoformat()}, before it was registered "
            f"{registered.isoformat()}.",
        )


def record_dossier(
    session: Session, actor: Principal, product: Product, data: dict[str, Any], today: date
) -> Dossier:
    """A product's dossier for a year's round; one per product and year."""
    _check_dossier_dates(data, today)
    taken = session.scalar(
        select(Dossier.id).where(Dossier.product_id == product.id, Dossier.year == data["year"])
    )
    if taken is not None:
        raise Conflict(
            f"Sản phẩm đã có hồ sơ OCOP năm {data['year']}.",
            f"The product already has its {data['year']} dossier (id {taken}).",
            errors={"json": {"year": ["Already registered for this year."]}},
        )
    dossier = Dossier(
        product_id=product.id,
        year=data["year"],
        target_star=data["target_star"],
        registered_on=data["registered_on"],
        submitted_on=data.get("submitted_on"),
        reference=data.get("reference"),
    )
    session.add(dossier)
    session.flush()
    record_event(
        session,
        actor,
        Tag.DOSSIER_RECORDED,
        "dossier",
        dossier.id,
        {k: getattr(dossier, k) for k in ("product_id", "year", "target_star", "registered_on")}
        | {"submitted_on": dossier.submitted_on},
    )
    return dossier


def dossier_query(actor: Principal, args: dict[str, Any]) -> Select[Any]:
    """The dossiers ``actor`` may see (``?year=``, ``?product_id=``), oldest first."""
    stmt = scoped(select(Dossier), actor, Dossier)
    for key, column in (("year", Dossier.year), ("product_id", Dossier.product_id)):
        if key in args:
            stmt = stmt.where(column == args[key])
    return stmt.order_by(Dossier.id)


# -- certificates -----------------------------------------------------------------------------


def _no_certificate() -> NotFound:
    return NotFound("Không tìm thấy giấy chứng nhận.", "No certificate has this id.")


def get_certificate(session: Session, actor: Principal, cert_id: int) -> Certificate:
    """One certificate; another producer's answers as if it did not exist."""
    return get_owned(session, actor, Certificate, cert_id, _no_certificate)


def _open_certificate(session: Session, product_id: int) -> Certificate | None:
    """The product's newest open certificate (neither revoked nor superseded): the one a
    new certificate supersedes."""
    return session.scalar(
        select(Certificate)
        .where(Certificate.product_id == product_id, open_clause())
        .order_by(Certificate.issue_date.desc(), Certificate.id.desc())
        .limit(1)
    )


def _default_authority(evaluation: Evaluation, day: date) -> str:
    if evaluation.council_level is CouncilLevel.CENTRAL:
        return central_authority_on(day).name
    unit = evaluation.council_unit
    return f"UBND {unit.name[0].lower()}{unit.name[1:]}" if unit else "UBND tỉnh"


def _check_issuing_unit(session: Session, unit_id: int, day: date) -> None:
    unit = session.get(AdministrativeUnit, unit_id)
    if unit is None or unit.level not in (UnitLevel.DISTRICT, UnitLevel.PROVINCE):
        raise field_error(
            "issuing_unit_id",
            vi="Không có huyện hoặc tỉnh với mã này.",
            en="No district or province has this id.",
        )
    problem = checks.authority_existed("issuing_unit_id", unit, day)
    if problem is not None:
        raise problem.error()


_UNIT_COUNCIL_LEVEL = {
    UnitLevel.DISTRICT: CouncilLevel.DISTRICT,
    UnitLevel.PROVINCE: CouncilLevel.PROVINCE,
}


def _check_issuer(
    session: Session, evaluation: Evaluation, unit_id: int | None, data: dict[str, Any]
) -> None:
    """The importer's rules for the issuer, on the decision's day: its level could certify
    the star (``checks.council_may_certify``) and a ministry is the one of that day."""
    decided: date = data["decision_date"]
    unit = session.get(AdministrativeUnit, unit_id) if unit_id is not None else None
    if unit is not None:
        level = _UNIT_COUNCIL_LEVEL[unit.level]
        printed = data.get("issuing_authority") or f"UBND {unit.name[0].lower()}{unit.name[1:]}"
    elif evaluation.council_level is CouncilLevel.CENTRAL:
        level = CouncilLevel.CENTRAL
        printed = data.get("issuing_authority") or central_authority_on(decided).name
    else:
        return
    # Worded as the importer words it, so one rule reads the same from both.
    who = (f"«{printed}»", f"'{printed}' ({level} level)")
    problems = [checks.council_may_certify(level, evaluation.star or 0, decided, *who)]
    if level is CouncilLevel.CENTRAL and data.get("issuing_authority"):
        problems.append(checks.central_authority(data["issuing_authority"], decided))
    for problem in problems:
        if problem is not None:
            raise problem.error("issuing_unit_id" if unit is not None else None)


def _check_issue(
    session: Session, evaluation: Evaluation, data: dict[str, Any], today: date
) -> None:
    """``checks``' rules for a certificate of ``evaluation``, the first broken one raised."""
    star, issued = evaluation.star, data["issue_date"]
    shown = ("không đạt", "not certified") if star is None else (f"{star} sao", f"{star}★")
    taken = set(
        session.scalars(select(Certificate.number).where(Certificate.number == data["number"]))
    )
    for problem, field in (
        (
            checks.certified_star(
                star, f"kết quả đánh giá: {shown[0]}", f"this evaluation is {shown[1]}"
            ),
            "evaluation_id",
        ),
        (checks.not_in_future("issue_date", issued, today), None),
        (checks.issued_after_evaluation(issued, evaluation.evaluated_on), None),
        (checks.decision_in_order(data["decision_date"], issued, evaluation.evaluated_on), None),
        (checks.number_free(data["number"], taken), None),
    ):
        if problem is not None:
            raise problem.error(field)
    if session.scalar(select(Certificate.id).where(Certificate.evaluation_id == evaluation.id)):
        raise Conflict(
            "Kết quả đánh giá này đã có giấy chứng nhận.",
            "This evaluation already has its certificate.",
            errors={"json": {"evaluation_id": ["Already certified."]}},
        )


def _supersede(
    session: Session, actor: Principal, previous: Certificate, cert: Certificate
) -> None:
    previous.superseded_by_id, previous.superseded_on = cert.id, cert.issue_date
    session.flush()
    record_event(
        session,
        actor,
        Tag.CERTIFICATE_SUPERSEDED,
        "certificate",
        previous.id,
        {"superseded_by": cert.id, "superseded_on": cert.issue_date},
    )


def issue_certificate(
    session: Session, actor: Principal, data: dict[str, Any], today: date
) -> Certificate:
    """Issue the certificate of a 3★+ evaluation; it supersedes the product's open one."""
    evaluation = get_evaluation(session, actor, data["evaluation_id"])
    _check_issue(session, evaluation, data, today)
    issue_date: date = data["issue_date"]
    issuing_unit_id = data.get("issuing_unit_id", evaluation.council_unit_id)
    if issuing_unit_id is not None:
        for day in (data["decision_date"], issue_date):
            _check_issuing_unit(session, issuing_unit_id, day)
    _check_issuer(session, evaluation, issuing_unit_id, data)
    # Two issues for one product at once must not both supersede the same certificate.
    session.get(Product, evaluation.product_id, with_for_update=True)
    previous = _open_certificate(session, evaluation.product_id)
    problem = checks.newer_certificate(previous, issue_date)
    if problem is not None:
        raise problem.error()
    cert = Certificate(
        number=data["number"],
        decision_number=data["decision_number"],
        decision_date=data["decision_date"],
        issuing_unit_id=issuing_unit_id,
        issuing_authority=data.get("issuing_authority")
        or _default_authority(evaluation, issue_date),
        product_id=evaluation.product_id,
        product_name=evaluation.product.name_vi,
        evaluation_id=evaluation.id,
        star=evaluation.star,
        issue_date=issue_date,
        valid_until=certificate_valid_until(
            session.get(AdministrativeUnit, issuing_unit_id) if issuing_unit_id else None,
            issue_date,
            data["decision_date"],
        ),
    )
    session.add(cert)
    session.flush()
    record_event(
        session,
        actor,
        Tag.CERTIFICATE_ISSUED,
        "certificate",
        cert.id,
        {
            "number": cert.number,
            "product_id": cert.product_id,
            "star": cert.star,
            "issue_date": issue_date,
            "valid_until": cert.valid_until,
            "issuing_authority": cert.issuing_authority,
        },
    )
    if previous is not None:
        _supersede(session, actor, previous, cert)
    # Announced once both are written, so a receiver sees the product as it now stands.
    announce(session, CertificateChange.ISSUED, cert)
    if previous is not None:
        announce(session, CertificateChange.SUPERSEDED, previous)
    return cert


def check_revocation(cert: Certificate, data: dict[str, Any], today: date) -> None:
    """What a revocation is refused for, checked before it is made (and by a page before
    its review step, so the step shows only what can be done)."""
    if cert.revoked_on is not None:
        raise Conflict(
            f"Giấy chứng nhận đã bị thu hồi ngày {vn_date(cert.revoked_on)}.",
            f"Already revoked on {cert.revoked_on.isoformat()} ({cert.revocation_decision}).",
        )
    problem = checks.not_in_future("revoked_on", data["revoked_on"], today)
    if problem is not None:
        raise problem.error()
    if data["revoked_on"] < cert.issue_date:
        raise field_error(
            "revoked_on",
            vi="Không thể thu hồi trước ngày cấp.",
            en="Cannot revoke before the certificate was issued.",
        )


def revoke_certificate(
    session: Session, actor: Principal, cert: Certificate, data: dict[str, Any], today: date
) -> Certificate:
    check_revocation(cert, data, today)
    cert.revoked_on = data["revoked_on"]
    cert.revocation_decision = data["decision"]
    cert.revocation_reason = data["reason"]
    session.flush()
    record_event(
        session,
        actor,
        Tag.CERTIFICATE_REVOKED,
        "certificate",
        cert.id,
        {
            "revoked_on": cert.revoked_on,
            "decision": cert.revocation_decision,
            "reason": cert.revocation_reason,
        },
    )
    announce(session, CertificateChange.REVOKED, cert)
    return cert


def certificate_query(actor: Principal, args: dict[str, Any], as_of: AsOf) -> Select[Any]:
    """The certificates ``actor`` may see, filtered by ``args`` as of ``as_of``'s day.

    ``status``: their status that day is one of these; ``expiring_within_days``: in force
    that day with a last valid day this close, soonest first.
    """
    stmt = (
        scoped(select(Certificate), actor, Certificate)
        .join(Certificate.product)
        .join(Product.producer)
        .options(
            selectinload(Certificate.product).selectinload(Product.producer),
            selectinload(Certificate.notices).selectinload(ExpiryNotice.deliveries),
        )
    )
    if "status" in args:
        stmt = stmt.where(statuses_clause(args["status"], as_of.day, as_of.window_days))
    if "expiring_within_days" in args:
        horizon = date.fromordinal(as_of.day.toordinal() + args["expiring_within_days"])
        stmt = stmt.where(in_force_clause(as_of.day), Certificate.valid_until <= horizon)
    if "district_id" in args:
        district = args["district_id"]
        stmt = stmt.where(
            or_(
                Producer.commune_id.in_(communes_of_district(district)),
                Certificate.issuing_unit_id == district,
            )
        )
    for key, column in (
        ("product_id", Certificate.product_id),
        ("producer_id", Product.producer_id),
        ("product_group", Product.product_group),
        ("star", Certificate.star),
    ):
        if key in args:
            stmt = stmt.where(column == args[key])
    order = Certificate.valid_until if "expiring_within_days" in args else Certificate.id
    return stmt.order_by(order, Certificate.id)


# -- labels -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelVerdict:
    """Whether a product may carry the OCOP star label on a day, and why not if it may not."""

    allowed: bool
    code: str  # "certified", "no_certificate", "expired", "revoked", "not_yet_valid"
    message: str
    message_en: str
    certificate: Certificate | None = None

    @property
    def star(self) -> int | None:
        return self.certificate.star if self.allowed and self.certificate else None


def _refused(latest: Certificate, status: Status) -> LabelVerdict:
    """Why the product's newest certificate gives no label: its status on the day asked."""
    revoked_on = latest.revoked_on
    if status is Status.REVOKED and revoked_on is not None:
        return LabelVerdict(
            False,
            "revoked",
            f"Giấy chứng nhận số {latest.number} đã bị thu hồi ngày {vn_date(revoked_on)} "
            f"({latest.revocation_decision}): {latest.revocation_reason}",
            f"Certificate {latest.number} was revoked on {revoked_on.isoformat()} "
            f"({latest.revocation_decision}): {latest.revocation_reason}",
            latest,
        )
    if status is Status.PENDING:
        return LabelVerdict(
            False,
            "not_yet_valid",
            f"Giấy chứng nhận có hiệu lực từ {vn_date(latest.issue_date)}.",
            f"The certificate is valid from {latest.issue_date.isoformat()}.",
            latest,
        )
    return LabelVerdict(
        False,
        "expired",
        f"Giấy chứng nhận số {latest.number} đã hết hiệu lực từ sau ngày "
        f"{vn_date(latest.valid_until)}; cần đánh giá, công nhận lại.",
        f"Certificate {latest.number} expired after {latest.valid_until.isoformat()}; "
        "the product must be re-evaluated.",
        latest,
    )


def may_label(session: Session, product_id: int, day: date) -> LabelVerdict:
    """The one answer labels rely on: is a certificate of this product in force on ``day``
    (the newest one that is), and if none is, why not."""
    certs = list(
        session.scalars(
            select(Certificate)
            .where(Certificate.product_id == product_id)
            .order_by(Certificate.issue_date.desc(), Certificate.id.desc())
        )
    )
    cert = next((c for c in certs if in_force(c, day)), None)
    if cert is not None:
        return LabelVerdict(
            True,
            "certified",
            f"Sản phẩm OCOP {cert.star} sao.",
            f"OCOP {cert.star}-star product.",
            cert,
        )
    if not certs:
        return LabelVerdict(
            False,
            "no_certificate",
            "Sản phẩm chưa có giấy chứng nhận OCOP.",
            "The product has no OCOP certificate.",
        )
    return _refused(certs[0], status_of(certs[0], day, 0))


def label_status(session: Session, actor: Principal, product_id: int, day: date) -> LabelVerdict:
    """``may_label`` for a product ``actor`` may see (another producer's is 404)."""
    registry.get_product(session, actor, product_id)
    return may_label(session, product_id, day)


# -- expiry letters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    filename: str
    pdf: bytes


def _no_letter() -> NotFound:
    return NotFound("Không có thư thông báo này.", "No 30-day letter has this id.")


def expiry_letter(session: Session, actor: Principal, notice_id: int, office: Office) -> Letter:
    """The written 30-day notice of a certificate ``actor`` may see, as a PDF letter."""
    notice = get_owned(session, actor, ExpiryNotice, notice_id, _no_letter)
    if notice.threshold_days != LETTER_THRESHOLD_DAYS:
        raise _no_letter()
    return Letter(f"thong-bao-{notice.id}.pdf", letter_pdf(notice, office))

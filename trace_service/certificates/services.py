"""Evaluations, certificates and their lifecycle: issue, supersede, revoke, and the one
question labels ask: may this product be labelled today, and if not, why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from trace_service.audit.services import record_event
from trace_service.audit.tags import Tag
from trace_service.auth.principal import Principal
from trace_service.certificates.models import Certificate, Evaluation, ExpiryNotice
from trace_service.certificates.rules import (
    CERTIFIED_MIN_STAR,
    COUNCIL_LEVEL_VI,
    RULE_CHANGE_1489,
    CouncilLevel,
    Status,
    star_for,
    stars_council_may_certify,
    status_on,
    valid_until,
)
from trace_service.clock import vn_date
from trace_service.errors import Conflict, InvalidInput, NotFound, field_error
from trace_service.registry.enums import UnitLevel
from trace_service.registry.models import AdministrativeUnit, Producer, Product
from trace_service.registry.services import communes_of_district

_COUNCIL_UNIT_LEVEL = {
    CouncilLevel.DISTRICT: UnitLevel.DISTRICT,
    CouncilLevel.PROVINCE: UnitLevel.PROVINCE,
    CouncilLevel.CENTRAL: None,
}


# -- evaluations ------------------------------------------------------------------------------


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
    if not unit.is_valid_on(day):
        raise field_error(
            "council_unit_id",
            vi=f"{unit.name} không còn tồn tại vào ngày {vn_date(day)}.",
            en=f"{unit.name} did not exist on {day.isoformat()}.",
        )


def record_evaluation(
    session: Session, actor: Principal, product: Product, data: dict[str, Any], today: date
) -> Evaluation:
    a, b, c = data["score_a"], data["score_b"], data["score_c"]
    total = data.get("total", a + b + c)
    if total != a + b + c:
        raise field_error(
            "total",
            vi=f"Tổng điểm các phần là {a + b + c}, không phải {total}.",
            en=f"The parts add up to {a + b + c}, not {total}.",
        )
    day: date = data["evaluated_on"]
    if day > today:
        raise field_error(
            "evaluated_on",
            vi="Ngày đánh giá không được ở tương lai.",
            en="An evaluation cannot be in the future.",
        )
    level = CouncilLevel(data["council_level"])
    _check_council(session, level, data.get("council_unit_id"), day)
    star = star_for(total, data["mandatory_met"])
    if star is not None and star >= CERTIFIED_MIN_STAR:
        allowed = stars_council_may_certify(level, day)
        if star not in allowed:
            before_1489 = day < RULE_CHANGE_1489
            rule = (
                "before 06/07/2025: district 3★, province 4★, central 5★"
                if before_1489
                else "from 06/07/2025 (Decision 1489): province 3★ and 4★, central 5★"
            )
            rule_vi = (
                "trước 06/07/2025: cấp huyện 3 sao, cấp tỉnh 4 sao, trung ương 5 sao"
                if before_1489
                else "từ 06/07/2025 (Quyết định 1489/QĐ-TTg): cấp tỉnh 3 và 4 sao, trung ương 5 sao"
            )
            can = ", ".join(f"{s}★" for s in sorted(allowed)) or "nothing"
            raise InvalidInput(
                f"{COUNCIL_LEVEL_VI[level]} không được công nhận {star} sao vào ngày "
                f"{vn_date(day)} ({rule_vi}).",
                f"A {level} council could not certify {star}★ on {day.isoformat()} "
                f"(it could certify {can}; {rule}).",
                errors={"json": {"council_level": [f"May not certify {star}★ on this date."]}},
            )
    evaluation = Evaluation(
        product_id=product.id,
        council_level=level,
        council_unit_id=data.get("council_unit_id"),
        evaluated_on=day,
        score_a=a,
        score_b=b,
        score_c=c,
        total=total,
        mandatory_met=data["mandatory_met"],
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
            "star": star,
            "evaluated_on": day,
            "reference": evaluation.reference,
        },
    )
    return evaluation


def get_evaluation(session: Session, evaluation_id: int) -> Evaluation:
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise NotFound("Không tìm thấy kết quả đánh giá.", "No evaluation has this id.")
    return evaluation


# -- certificates -----------------------------------------------------------------------------


def status_of(cert: Certificate, day: date, window_days: int) -> Status:
    return status_on(
        day,
        valid_until=cert.valid_until,
        revoked_on=cert.revoked_on,
        superseded_on=cert.superseded_on,
        expiring_window_days=window_days,
    )


def _latest_standing(session: Session, product_id: int) -> Certificate | None:
    """The product's newest certificate that is neither revoked nor superseded."""
    return session.scalar(
        select(Certificate)
        .where(
            Certificate.product_id == product_id,
            Certificate.revoked_on.is_(None),
            Certificate.superseded_by_id.is_(None),
        )
        .order_by(Certificate.issue_date.desc(), Certificate.id.desc())
        .limit(1)
    )


def _default_authority(evaluation: Evaluation) -> str:
    if evaluation.council_level is CouncilLevel.CENTRAL:
        return "Bộ Nông nghiệp và Môi trường"
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
    if not unit.is_valid_on(day):
        raise field_error(
            "issuing_unit_id",
            vi=f"{unit.name} không còn tồn tại vào ngày {vn_date(day)}.",
            en=f"{unit.name} did not exist on {day.isoformat()}.",
        )


def issue_certificate(
    session: Session, actor: Principal, data: dict[str, Any], today: date
) -> Certificate:
    """Issue the certificate of a 3★+ evaluation; it supersedes the product's standing one."""
    evaluation = get_evaluation(session, data["evaluation_id"])
    if evaluation.star is None or evaluation.star < CERTIFIED_MIN_STAR:
        shown = "not certified" if evaluation.star is None else f"{evaluation.star}★"
        raise InvalidInput(
            "Chỉ sản phẩm đạt từ 3 sao trở lên mới được cấp giấy chứng nhận.",
            f"Only 3★ and above produce a certificate; this evaluation is {shown}.",
            errors={"json": {"evaluation_id": ["Below 3★: no certificate."]}},
        )
    issue_date: date = data["issue_date"]
    if issue_date > today:
        raise field_error(
            "issue_date",
            vi="Ngày cấp không được ở tương lai.",
            en="A certificate cannot be issued in the future.",
        )
    if issue_date < evaluation.evaluated_on:
        raise field_error(
            "issue_date",
            vi=f"Ngày cấp {vn_date(issue_date)} trước ngày đánh giá "
            f"{vn_date(evaluation.evaluated_on)}.",
            en=f"Issued {issue_date.isoformat()}, before its evaluation on "
            f"{evaluation.evaluated_on.isoformat()}.",
        )
    if data["decision_date"] < evaluation.evaluated_on or data["decision_date"] > issue_date:
        raise field_error(
            "decision_date",
            vi="Ngày quyết định phải sau ngày đánh giá và không sau ngày cấp.",
            en="The decision falls between evaluation and issue.",
        )
    if session.scalar(select(Certificate.id).where(Certificate.number == data["number"])):
        raise Conflict(
            "Số giấy chứng nhận đã tồn tại.",
            "This certificate number exists.",
            errors={"json": {"number": ["Already used."]}},
        )
    if session.scalar(select(Certificate.id).where(Certificate.evaluation_id == evaluation.id)):
        raise Conflict(
            "Kết quả đánh giá này đã có giấy chứng nhận.",
            "This evaluation already has its certificate.",
            errors={"json": {"evaluation_id": ["Already certified."]}},
        )
    issuing_unit_id = data.get("issuing_unit_id", evaluation.council_unit_id)
    if issuing_unit_id is not None:
        _check_issuing_unit(session, issuing_unit_id, issue_date)
    # Two issues for one product at once must not both supersede the same certificate.
    session.get(Product, evaluation.product_id, with_for_update=True)
    previous = _latest_standing(session, evaluation.product_id)
    if previous is not None and previous.issue_date > issue_date:
        raise field_error(
            "issue_date",
            vi="Sản phẩm đã có giấy chứng nhận mới hơn.",
            en="The product has a newer certificate already.",
        )
    cert = Certificate(
        number=data["number"],
        decision_number=data["decision_number"],
        decision_date=data["decision_date"],
        issuing_unit_id=issuing_unit_id,
        issuing_authority=data.get("issuing_authority") or _default_authority(evaluation),
        product_id=evaluation.product_id,
        product_name=evaluation.product.name_vi,
        evaluation_id=evaluation.id,
        star=evaluation.star,
        issue_date=issue_date,
        valid_until=valid_until(issue_date),
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
        previous.superseded_by_id, previous.superseded_on = cert.id, issue_date
        session.flush()
        record_event(
            session,
            actor,
            Tag.CERTIFICATE_SUPERSEDED,
            "certificate",
            previous.id,
            {"superseded_by": cert.id, "superseded_on": issue_date},
        )
    return cert


def revoke_certificate(
    session: Session, actor: Principal, cert: Certificate, data: dict[str, Any], today: date
) -> Certificate:
    if cert.revoked_on is not None:
        raise Conflict(
            f"Giấy chứng nhận đã bị thu hồi ngày {vn_date(cert.revoked_on)}.",
            f"Already revoked on {cert.revoked_on.isoformat()} ({cert.revocation_decision}).",
        )
    if data["revoked_on"] > today:
        raise field_error(
            "revoked_on",
            vi="Ngày thu hồi không được ở tương lai.",
            en="A revocation cannot be dated in the future.",
        )
    if data["revoked_on"] < cert.issue_date:
        raise field_error(
            "revoked_on",
            vi="Không thể thu hồi trước ngày cấp.",
            en="Cannot revoke before the certificate was issued.",
        )
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
    return cert


def get_certificate(session: Session, actor: Principal, cert_id: int) -> Certificate:
    cert = session.get(Certificate, cert_id)
    if cert is None or (actor.is_producer and not actor.owns(cert.product.producer_id)):
        raise NotFound("Không tìm thấy giấy chứng nhận.", "No certificate has this id.")
    return cert


def standing_filter(today: date) -> Any:
    """SQL: the certificate is in force on ``today`` (valid or expiring)."""
    return and_(
        or_(Certificate.revoked_on.is_(None), Certificate.revoked_on > today),
        or_(Certificate.superseded_on.is_(None), Certificate.superseded_on > today),
        Certificate.valid_until >= today,
    )


def status_filter(status: Status, today: date, window_days: int) -> Any:
    """SQL condition equivalent to ``status_of(...) == status`` on ``today``."""
    revoked = and_(Certificate.revoked_on.is_not(None), Certificate.revoked_on <= today)
    superseded = and_(Certificate.superseded_on.is_not(None), Certificate.superseded_on <= today)
    standing = and_(~revoked, ~superseded)
    horizon = date.fromordinal(today.toordinal() + window_days)
    return {
        Status.REVOKED: revoked,
        Status.SUPERSEDED: and_(~revoked, superseded),
        Status.EXPIRED: and_(standing, Certificate.valid_until < today),
        Status.EXPIRING: and_(
            standing, Certificate.valid_until >= today, Certificate.valid_until <= horizon
        ),
        Status.VALID: and_(standing, Certificate.valid_until > horizon),
    }[status]


def certificate_query(
    actor: Principal, args: dict[str, Any], today: date, window_days: int
) -> Select[Any]:
    stmt = (
        select(Certificate)
        .join(Certificate.product)
        .join(Product.producer)
        .join(Producer.commune)
        .options(
            selectinload(Certificate.product).selectinload(Product.producer),
            selectinload(Certificate.notices).selectinload(ExpiryNotice.deliveries),
        )
    )
    if actor.is_producer:
        stmt = stmt.where(Product.producer_id == actor.producer_id)
    if "status" in args:
        stmt = stmt.where(or_(*(status_filter(s, today, window_days) for s in args["status"])))
    if "expiring_within_days" in args:
        horizon = date.fromordinal(today.toordinal() + args["expiring_within_days"])
        stmt = stmt.where(
            Certificate.revoked_on.is_(None),
            Certificate.superseded_on.is_(None),
            Certificate.valid_until >= today,
            Certificate.valid_until <= horizon,
        )
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


def may_label(session: Session, product_id: int, day: date) -> LabelVerdict:
    """The one answer labels rely on: is there a certificate in force for this product today?"""
    certs = list(
        session.scalars(
            select(Certificate)
            .where(Certificate.product_id == product_id)
            .order_by(Certificate.issue_date.desc(), Certificate.id.desc())
        )
    )
    for cert in certs:
        in_force = (
            cert.issue_date <= day <= cert.valid_until
            and (cert.revoked_on is None or cert.revoked_on > day)
            and (cert.superseded_on is None or cert.superseded_on > day)
        )
        if in_force:
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
    latest = certs[0]
    if latest.revoked_on is not None and latest.revoked_on <= day:
        return LabelVerdict(
            False,
            "revoked",
            f"Giấy chứng nhận số {latest.number} đã bị thu hồi ngày {vn_date(latest.revoked_on)} "
            f"({latest.revocation_decision}): {latest.revocation_reason}",
            f"Certificate {latest.number} was revoked on {latest.revoked_on.isoformat()} "
            f"({latest.revocation_decision}): {latest.revocation_reason}",
            latest,
        )
    if latest.issue_date > day:
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

"""Evaluations and certificates from the office's pages: a product's page lists its ratings
and certificates; short forms record a council's rating, issue the certificate of a 3★+
rating (a re-evaluation's certificate supersedes the standing one) and revoke one. Each
form explains the rule beside its field, and a refused rule comes back in the services'
words beside the field it concerns. Everything goes through the API's schemas and services
(``record_evaluation``, ``issue_certificate``, ``revoke_certificate``), audited there."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from trace_service.certificates import services
from trace_service.certificates.models import Evaluation
from trace_service.certificates.rules import (
    CERTIFIED_STARS,
    COUNCIL_LEVEL_VI,
    PERIODS,
    STAR_BANDS,
    VALIDITY_MONTHS,
    CouncilLevel,
    period_on,
)
from trace_service.certificates.schemas import (
    CertificateSchema,
    EvaluationSchema,
    RevocationSchema,
)
from trace_service.certificates.standing import AsOf
from trace_service.clock import today_vn
from trace_service.db import get_session
from trace_service.errors import DomainError
from trace_service.portal.access import page_roles
from trace_service.portal.forms import show_refusal
from trace_service.portal.office.blueprint import office
from trace_service.portal.office.forms import (
    CertificateForm,
    EvaluationForm,
    RevocationForm,
    through_schema,
)
from trace_service.principal import Role, current_principal
from trace_service.registry.enums import UnitLevel
from trace_service.registry.models import AdministrativeUnit
from trace_service.registry.services import get_product
from trace_service.text import sort_key
from trace_service.web.formatting import points
from trace_service.web.i18n import t

Page = str | Response
COUNCIL_LEVEL_EN = {
    CouncilLevel.DISTRICT: "District council",
    CouncilLevel.PROVINCE: "Province council",
    CouncilLevel.CENTRAL: "Central council",
}
EVALUATION_FIELDS = {"council_unit_id": "council_unit", "total": "score_a"}
CERTIFICATE_FIELDS = {"evaluation_id": "number", "issuing_unit_id": "issuing_authority"}


def _as_of() -> AsOf:
    return AsOf(today_vn(), current_app.config["EXPIRY_WINDOW_DAYS"])


def council_units(session: Session) -> list[AdministrativeUnit]:
    """The province and district units a council may belong to (closed ones too: a rating
    of 2023 was a district council's)."""
    units = session.scalars(
        select(AdministrativeUnit).where(
            AdministrativeUnit.level.in_([UnitLevel.PROVINCE, UnitLevel.DISTRICT])
        )
    )
    return sorted(units, key=lambda u: (u.level is UnitLevel.DISTRICT, sort_key(u.name)))


def rules_text() -> dict[str, Any]:
    """The rules the forms explain beside their fields, read from ``rules.py``'s tables."""
    today = period_on(today_vn())
    bands = []
    for index, (star, floor) in enumerate(STAR_BANDS):
        top = STAR_BANDS[index - 1][1] - 1 if index else 100
        bands.append(f"{star}★ {floor}–{top}")
    return {
        "period": today,
        "periods": PERIODS,
        "bands": ", ".join(reversed(bands)),
        "certified_min": min(CERTIFIED_STARS),
        "validity_months": VALIDITY_MONTHS,
    }


@office.route("/san-pham/<id:product_id>")
@page_roles(Role.ADMIN)
def product(product_id: int) -> str:
    session, actor, as_of = get_session(), current_principal(), _as_of()
    found = get_product(session, actor, product_id)
    evaluations = list(
        session.scalars(
            services.evaluation_query(actor, {"product_id": found.id})
            .order_by(None)
            .order_by(Evaluation.evaluated_on.desc(), Evaluation.id.desc())
        )
    )
    certs = [
        as_of.show(c)
        for c in session.scalars(services.certificate_query(actor, {"product_id": found.id}, as_of))
    ]
    certs.sort(key=lambda c: (c.issue_date, c.id), reverse=True)
    certified = {c.evaluation_id for c in certs}
    return render_template(
        "portal/office/product.html",
        product=found,
        evaluations=evaluations,
        certificates=certs,
        certified=certified,
        certified_stars=CERTIFIED_STARS,
        verdict=services.may_label(session, found.id, as_of.day),
        levels=_levels(),
    )


def _levels() -> dict[str, str]:
    return {
        level.value: t(COUNCIL_LEVEL_VI[level], COUNCIL_LEVEL_EN[level]) for level in CouncilLevel
    }


def _evaluation_form(session: Session) -> EvaluationForm:
    form = EvaluationForm()
    form.council_level.choices = [("", t("Chọn…", "Choose…")), *_levels().items()]
    form.council_unit.choices = [
        (None, t("Không (hội đồng trung ương)", "None (central council)"))
    ] + [(unit.id, unit.name) for unit in council_units(session)]
    return form


@office.route("/san-pham/<id:product_id>/danh-gia", methods=["GET", "POST"])
@page_roles(Role.ADMIN)
def record_evaluation(product_id: int) -> Page:
    session, actor = get_session(), current_principal()
    found = get_product(session, actor, product_id)
    form = _evaluation_form(session)
    if form.validate_on_submit():
        payload = {
            "product_id": found.id,
            "council_level": form.council_level.data,
            "council_unit_id": form.council_unit.data,
            "evaluated_on": form.evaluated_on.data.isoformat(),
            "score_a": form.score_a.data,
            "score_b": form.score_b.data,
            "score_c": form.score_c.data,
            "mandatory_met": form.mandatory_met.data == "yes",
            "reference": form.reference.data,
            "notes": form.notes.data or None,
        }
        try:
            data = through_schema(EvaluationSchema(), payload)
            evaluation = services.record_evaluation(session, actor, found, data, today_vn())
        except DomainError as error:
            show_refusal(form, error, names=EVALUATION_FIELDS)
        else:
            star = evaluation.star
            flash(
                t(
                    f"Đã ghi kết quả đánh giá: {points(evaluation.total)} điểm, "
                    + (f"{star} sao." if star else "không đạt hạng sao."),
                    f"Evaluation recorded: {points(evaluation.total)} points, "
                    + (f"{star}★." if star else "no star."),
                )
            )
            if star in CERTIFIED_STARS:
                return redirect(url_for("office.issue_certificate", evaluation_id=evaluation.id))
            return redirect(url_for("office.product", product_id=found.id))
    return render_template(
        "portal/office/evaluation.html", form=form, product=found, rules=rules_text()
    )


@office.route("/danh-gia/<id:evaluation_id>/cap-giay", methods=["GET", "POST"])
@page_roles(Role.ADMIN)
def issue_certificate(evaluation_id: int) -> Page:
    session, actor, as_of = get_session(), current_principal(), _as_of()
    evaluation = services.get_evaluation(session, actor, evaluation_id)
    form = CertificateForm()
    if form.validate_on_submit():
        payload = {
            "evaluation_id": evaluation.id,
            "number": form.number.data,
            "decision_number": form.decision_number.data,
            "decision_date": form.decision_date.data.isoformat(),
            "issue_date": form.issue_date.data.isoformat(),
        }
        if form.issuing_authority.data:
            payload["issuing_authority"] = form.issuing_authority.data
        try:
            data = through_schema(CertificateSchema(), payload)
            cert = services.issue_certificate(session, actor, data, as_of.day)
        except DomainError as error:
            show_refusal(form, error, names=CERTIFICATE_FIELDS)
        else:
            flash(
                t(
                    f"Đã cấp giấy chứng nhận {cert.number}, "
                    f"hiệu lực đến {cert.valid_until:%d/%m/%Y}.",
                    f"Certificate {cert.number} issued, valid until {cert.valid_until:%d/%m/%Y}.",
                )
            )
            return redirect(url_for("office.product", product_id=evaluation.product_id))
    standing = services.may_label(session, evaluation.product_id, as_of.day)
    return render_template(
        "portal/office/certificate.html",
        form=form,
        evaluation=evaluation,
        standing=standing,
        rules=rules_text(),
        levels=_levels(),
    )


@office.route("/giay-chung-nhan/<id:certificate_id>/thu-hoi", methods=["GET", "POST"])
@page_roles(Role.ADMIN)
def revoke_certificate(certificate_id: int) -> Page:
    session, actor, as_of = get_session(), current_principal(), _as_of()
    cert = services.get_certificate(session, actor, certificate_id)
    form = RevocationForm()
    review = False
    if form.validate_on_submit() and not form.edit.data:
        payload = {
            "revoked_on": form.revoked_on.data.isoformat(),
            "decision": form.decision.data,
            "reason": form.reason.data,
        }
        confirmed = form.confirmed.data == "1"
        try:
            data = through_schema(RevocationSchema(), payload)
            # First the review step ("Kiểm tra trước khi thu hồi"): revocation is final.
            services.check_revocation(cert, data, as_of.day)
            if confirmed:
                services.revoke_certificate(session, actor, cert, data, as_of.day)
        except DomainError as error:
            show_refusal(form, error, fallback="decision")
        else:
            if confirmed:
                flash(
                    t(
                        f"Đã thu hồi giấy chứng nhận {cert.number}: tem của sản phẩm báo đỏ "
                        "từ nay.",
                        f"Certificate {cert.number} revoked: its product's stamps now show red.",
                    )
                )
                return redirect(url_for("office.product", product_id=cert.product_id))
            review = True
    return render_template(
        "portal/office/revoke.html",
        form=form,
        certificate=as_of.show(cert),
        today=as_of.day,
        review=review,
    )

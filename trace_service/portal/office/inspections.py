"""The office's page of field inspections: failed checks whose proposal (revoke the
certificate, recall the lot) waits for a decision, accepted with the office's decision number
or rejected, always with a reason, through the same service as the API (which revokes or
recalls and audits); below them, the latest inspections with their photos. Accepting has a
review step, as revoking a certificate from its own page has: the first press shows what
will be revoked or recalled and changes nothing; “Sửa lại” gives the form back as typed."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WResponse
from wtforms import HiddenField, StringField, TextAreaField

from trace_service.auth.services import get_user
from trace_service.clock import today_vn
from trace_service.db import get_session, utcnow
from trace_service.errors import DomainError, NotFound
from trace_service.labels import serials
from trace_service.labels.schemas import label_url
from trace_service.labels.services import get_label
from trace_service.portal.access import page_roles
from trace_service.portal.forms import MaxLength, Required, show_refusal
from trace_service.portal.office.blueprint import office
from trace_service.portal.office.verdicts import verdict_words
from trace_service.principal import Principal, Role, current_principal
from trace_service.registry.services import get_product
from trace_service.trace.services import get_lot
from trace_service.verify.inspections import (
    Proposed,
    TargetChanged,
    apply_decision,
    check_decision,
    decision_numbers,
    get_photo,
    inspection_query,
    open_certificate,
    waiting_proposals,
)
from trace_service.verify.models import FieldInspection
from trace_service.web.i18n import t

LATEST = 50


@dataclass(frozen=True)
class About:
    """What an inspection is about, so the office decides knowing which product and lot."""

    code: str | None = None  # the stamp's code as printed, grouped
    stamp_url: str | None = None  # the stamp's public page
    product: str | None = None
    producer: str | None = None
    lot_code: str | None = None
    certificate: str | None = None
    inspector: str | None = None


def _inspector(session: Session, user_id: int) -> str | None:
    try:
        user = get_user(session, user_id)
    except NotFound:
        return None
    return f"{user.display_name} ({user.username})" if user.display_name else user.username


def _about(session: Session, actor: Principal, inspection: FieldInspection) -> About:
    """Read through the services, as the office may see them; what is not found stays out."""
    facts: dict[str, str | None] = {"inspector": _inspector(session, inspection.inspector_id)}
    run = None
    if inspection.serial:
        facts["code"] = serials.grouped(inspection.serial)
        try:
            label = get_label(session, actor, inspection.serial)
        except NotFound:
            label = None
        if label is not None:
            run = label.run
            facts["stamp_url"] = label_url(label)
            facts["certificate"] = run.certificate.number
    product = run.product if run is not None else None
    if product is None and inspection.product_id is not None:
        try:
            product = get_product(session, actor, inspection.product_id)
        except NotFound:
            product = None
    if product is not None:
        facts["product"] = product.name_vi  # the registered name, as on the certificate
        facts["producer"] = product.producer.name
        if run is None:
            cert = open_certificate(session, product.id)  # as a revocation would name
            facts["certificate"] = cert.number if cert is not None else None
    facts["lot_code"] = _lot_code(session, actor, inspection) or (run.lot.code if run else None)
    return About(**facts)


def _lot_code(session: Session, actor: Principal, inspection: FieldInspection) -> str | None:
    if inspection.lot_id is None:
        return None
    try:
        return get_lot(session, actor, inspection.lot_id).code
    except NotFound:
        return None


class DecisionForm(FlaskForm):
    reason = TextAreaField(validators=[Required(), MaxLength(2000)])
    decision_number = StringField(validators=[MaxLength(64)])
    confirmed = HiddenField()  # "1" from the review step: the acceptance is made
    # what the review step showed, so the confirm acts on it or on nothing
    certificate_id = HiddenField()
    lot_id = HiddenField()
    edit = HiddenField()  # "1" from the review step's "Sửa lại": the form again, as typed


def _page(
    forms: dict[int, DecisionForm] | None = None,
    review: Proposed | None = None,
    refused: str | None = None,
) -> str:
    """``refused``: a refusal said at the top of the page, for a proposal whose form the
    page no longer shows (decided meanwhile, e.g. from another tab)."""
    session, actor = get_session(), current_principal()
    waiting = list(session.scalars(waiting_proposals()))
    forms = forms or {}
    for inspection in waiting:
        forms.setdefault(inspection.id, DecisionForm(prefix=f"d{inspection.id}", formdata=None))
    latest = list(session.scalars(inspection_query(actor).limit(LATEST)))
    about = {i.id: _about(session, actor, i) for i in [*waiting, *latest]}
    return render_template(
        "portal/office/inspections.html",
        waiting=waiting,
        forms=forms,
        latest=latest,
        about=about,
        verdict_words=verdict_words,
        review=review,
        refused=refused,
        numbers=decision_numbers(session, [i.id for i in latest if i.decision is not None]),
        today=today_vn(),
    )


def _target(value: str | None) -> int | None:
    """The review step's hidden id; anything but digits names no target (never matches)."""
    if not value:
        return None
    return int(value) if value.isdigit() and len(value) < 19 else -1


def _done(proposed: Proposed, number: str) -> str:
    if proposed.lot is not None:
        return t(
            f"Đã thu hồi lô {proposed.lot.code} theo quyết định số {number}.",
            f"Lot {proposed.lot.code} recalled under decision no. {number}.",
        )
    if proposed.certificate is not None:
        cert = proposed.certificate.number
        return t(
            f"Đã thu hồi giấy chứng nhận {cert} theo quyết định số {number}.",
            f"Certificate {cert} revoked under decision no. {number}.",
        )
    return t("Đã từ chối đề xuất.", "Proposal rejected.")


@office.route("/kiem-tra/")
@page_roles(Role.ADMIN)
def inspections() -> str:
    return _page()


@office.route("/kiem-tra/<id:inspection_id>/quyet-dinh", methods=["POST"])
@page_roles(Role.ADMIN)
def decide(inspection_id: int) -> str | WResponse | tuple[str, int]:
    form = DecisionForm(prefix=f"d{inspection_id}")
    accepted = request.form.get("action") == "accept"
    review: Proposed | None = None
    if form.validate_on_submit() and not form.edit.data:
        if accepted and not (form.decision_number.data or "").strip():
            form.decision_number.errors = [
                t("Cần số quyết định để chấp nhận.", "Accepting needs the decision's number.")
            ]
        else:
            session = get_session()
            decision = {
                "accepted": accepted,
                "reason": form.reason.data.strip(),
                "decision_number": (form.decision_number.data or "").strip() or None,
            }
            # Accepting revokes or recalls for good: first the review step, as revoking a
            # certificate from its page has (the service's refusals come before it); the
            # confirm names what the step showed, and acts on nothing else.
            targets = {
                "certificate_id": _target(form.certificate_id.data),
                "lot_id": _target(form.lot_id.data),
            }
            # a confirm that names nothing (a page from before) gets the review again
            confirmed = form.confirmed.data == "1" and any(targets.values())
            decided = not accepted or confirmed
            if accepted and decided:
                decision.update(targets)
            try:
                with session.begin_nested():
                    now = utcnow()
                    proposed = check_decision(session, inspection_id, decision, now)
                    if decided:
                        apply_decision(session, current_principal(), proposed, decision, now)
                    else:
                        review = proposed
            except TargetChanged as changed:
                # shown again as it stands now, with what changed beside the button
                fresh = {**decision, "certificate_id": None, "lot_id": None}
                try:
                    review = check_decision(session, inspection_id, fresh, utcnow())
                except DomainError as refused:
                    show_refusal(form, refused, fallback="reason")
                else:
                    form.form_errors.append(t(changed.message, changed.message_en))
                return _page({inspection_id: form}, review), 409
            except DomainError as refused:
                found = session.get(FieldInspection, inspection_id)
                if found is not None and found.decision is not None:
                    # decided already (another tab): its form is gone, so said on top
                    return _page(refused=t(refused.message, refused.message_en)), 409
                show_refusal(form, refused, fallback="reason")
            else:
                if decided:
                    flash(_done(proposed, decision["decision_number"] or ""))
                    return redirect(url_for("office.inspections", _anchor="quyet-dinh-vua-xong"))
    return _page({inspection_id: form}, review)


@office.route("/kiem-tra/<id:inspection_id>/anh/<id:photo_id>.jpg")
@page_roles(Role.ADMIN)
def inspection_photo(inspection_id: int, photo_id: int) -> Response:
    found = get_photo(get_session(), current_principal(), inspection_id, photo_id)
    response = Response(found.data, mimetype=found.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response

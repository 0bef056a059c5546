"""The office's page of field inspections: failed checks whose proposal (revoke the
certificate, recall the lot) waits for a decision, accepted with the office's decision number
or rejected, always with a reason, through the same service as the API (which revokes or
recalls and audits); below them, the latest inspections with their photos."""

from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WResponse
from wtforms import StringField, TextAreaField

from trace_service.db import get_session, utcnow
from trace_service.errors import DomainError
from trace_service.portal.access import page_roles
from trace_service.portal.forms import MaxLength, Required, show_refusal
from trace_service.portal.office.blueprint import office
from trace_service.principal import Role, current_principal
from trace_service.verify.inspections import (
    decide_proposal,
    get_photo,
    inspection_query,
    waiting_proposals,
)
from trace_service.web.i18n import t

LATEST = 50


class DecisionForm(FlaskForm):
    reason = TextAreaField(validators=[Required(), MaxLength(2000)])
    decision_number = StringField(validators=[MaxLength(64)])


def _page(forms: dict[int, DecisionForm] | None = None) -> str:
    session, actor = get_session(), current_principal()
    waiting = list(session.scalars(waiting_proposals()))
    forms = forms or {}
    for inspection in waiting:
        forms.setdefault(inspection.id, DecisionForm(prefix=f"d{inspection.id}", formdata=None))
    latest = list(session.scalars(inspection_query(actor).limit(LATEST)))
    return render_template(
        "portal/office/inspections.html", waiting=waiting, forms=forms, latest=latest
    )


@office.route("/kiem-tra/")
@page_roles(Role.ADMIN)
def inspections() -> str:
    return _page()


@office.route("/kiem-tra/<id:inspection_id>/quyet-dinh", methods=["POST"])
@page_roles(Role.ADMIN)
def decide(inspection_id: int) -> str | WResponse:
    form = DecisionForm(prefix=f"d{inspection_id}")
    accepted = request.form.get("action") == "accept"
    if form.validate_on_submit():
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
            try:
                with session.begin_nested():
                    decide_proposal(session, current_principal(), inspection_id, decision, utcnow())
            except DomainError as refused:
                show_refusal(form, refused, fallback="reason")
            else:
                return redirect(url_for("office.inspections", _anchor="da-quyet-dinh"))
    return _page({inspection_id: form})


@office.route("/kiem-tra/<id:inspection_id>/anh/<id:photo_id>.jpg")
@page_roles(Role.ADMIN)
def inspection_photo(inspection_id: int, photo_id: int) -> Response:
    found = get_photo(get_session(), current_principal(), inspection_id, photo_id)
    response = Response(found.data, mimetype=found.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response

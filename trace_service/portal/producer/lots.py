"""Lots: the list, a lot's whole chain, the packing form on a page of its own; and the
expiry letters sent to the producer."""

from __future__ import annotations

from flask import Response, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse

from trace_service.certificates.delivery import DeliverySettings
from trace_service.certificates.services import expiry_letter
from trace_service.db import get_session
from trace_service.labels.models import stamps_ordered
from trace_service.portal.access import page_roles
from trace_service.portal.forms import query_id
from trace_service.portal.producer.blueprint import producer
from trace_service.portal.producer.events import EVENT_KINDS, PROCESSES
from trace_service.portal.producer.forms import PackingForm
from trace_service.portal.producer.packing import fill_choices, record_from_form
from trace_service.principal import Role, current_principal
from trace_service.trace.services import (
    backward_trace,
    forward_trace,
    get_lot,
    left_of,
    lot_query,
    lots_with_left,
)
from trace_service.trace.units import UNIT_NAMES

Page = str | WResponse


@producer.route("/dong-goi", methods=["GET", "POST"])
@page_roles(Role.PRODUCER)
def record_packing_page() -> Page:
    session, actor = get_session(), current_principal()
    form = PackingForm(prefix="packing")
    fill_choices(session, actor, form)
    chosen = request.args.get("san-pham", "")
    if request.method == "GET" and query_id(chosen) is not None:
        form.product.data = query_id(chosen)
    if form.is_submitted():
        lot = record_from_form(session, actor, form)
        if lot is not None and lot.product_id is not None:
            return redirect(url_for(".order_stamps", product_id=lot.product_id))
    return render_template("portal/producer/packing.html", packing=form)


@producer.route("/thong-bao/<id:notice_id>/thu.pdf")
@page_roles(Role.PRODUCER)
def notice_letter(notice_id: int) -> Response:
    """The written 30-day notice the office sent, as the API gives it."""
    office = DeliverySettings.from_config(current_app.config).office
    letter = expiry_letter(get_session(), current_principal(), notice_id, office)
    return Response(
        letter.pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{letter.filename}"'},
    )


@producer.route("/lo/")
@page_roles(Role.PRODUCER)
def lots() -> str:
    # With what is left of each: a used-up lot can no longer be packed or processed.
    found = lots_with_left(get_session(), lot_query(current_principal(), {}))
    return render_template(
        "portal/producer/lots.html",
        lots=sorted(found, key=lambda pair: -pair[0].id),
        units=UNIT_NAMES,
    )


@producer.route("/lo/<id:lot_id>")
@page_roles(Role.PRODUCER)
def lot_chain(lot_id: int) -> str:
    """The lot's whole chain on one page: where it comes from, what was made of it."""
    session, actor = get_session(), current_principal()
    lot = get_lot(session, actor, lot_id)
    return render_template(
        "portal/producer/lot.html",
        lot=lot,
        left=left_of(session, lot),
        back=backward_trace(session, lot),
        forward=forward_trace(session, lot),
        stamped=stamps_ordered(session, lot.id),
        kinds=EVENT_KINDS,
        processes=PROCESSES,
        units=UNIT_NAMES,
    )

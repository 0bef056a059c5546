"""Printing on real stock: a sample sheet of each sticker stock before ordering, and the
calibration page with the producer's printer offset (kept per producer, used by every run
they order afterwards). The PDFs are drawn by the same renderers as the runs' files."""

from __future__ import annotations

import io

from flask import Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse

from trace_service.certificates.services import label_status
from trace_service.clock import today_vn
from trace_service.db import get_session
from trace_service.errors import DomainError, NotFound
from trace_service.labels.art import LabelArt, StampFacts
from trace_service.labels.print_settings import offset_problems, own_offset, set_offset
from trace_service.labels.qrbatch import encode
from trace_service.labels.render.calibration import render_calibration_pdf
from trace_service.labels.render.sheet_pdf import render_sheet_pdf
from trace_service.labels.render.stocks import Stock, get_stock, stocks
from trace_service.portal.access import page_roles
from trace_service.portal.forms import csrf_failed, query_id, show_problems, show_refusal
from trace_service.portal.producer.blueprint import producer
from trace_service.portal.producer.forms import OffsetForm
from trace_service.portal.stamp_preview import SPECIMEN_CODE, SPECIMEN_TEXT
from trace_service.principal import Role, current_principal
from trace_service.registry.services import get_product

OFFSET_FIELDS = {"offset_x": "offset_x", "offset_y": "offset_y"}


def _stock(name: str) -> Stock:
    stock = get_stock(name)
    if stock is None:
        raise NotFound("Không có loại giấy in này.", "No such sticker stock.")
    return stock


def _pdf(data: bytes, name: str) -> Response:
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@producer.route("/san-pham/<id:product_id>/to-mau/<stock>.pdf")
@page_roles(Role.PRODUCER)
def sample_sheet(product_id: int, stock: str) -> Response:
    """One sheet of ``stock`` filled with specimen stamps of the product (their QR codes say
    "MẪU", never a signed label), with the producer's offset, to try before ordering."""
    chosen = _stock(stock)
    session, actor = get_session(), current_principal()
    verdict = label_status(session, actor, product_id, today_vn())
    if not verdict.allowed or verdict.certificate is None:
        raise NotFound(verdict.message, verdict.message_en)
    cert = verdict.certificate
    facts = StampFacts(
        star=cert.star,
        product_name=cert.product_name,
        producer_name=get_product(session, actor, product_id).producer.name,
        certificate_number=cert.number,
        valid_until=cert.valid_until,
    )
    specimen = LabelArt(SPECIMEN_TEXT, SPECIMEN_CODE, encode(SPECIMEN_TEXT))
    out = io.BytesIO()
    render_sheet_pdf(
        facts,
        [specimen] * chosen.per_page,
        out,
        footer="MẪU – KHÔNG DÁN LÊN HÀNG / SPECIMEN – NOT FOR USE",
        template=chosen.name,
        offset=own_offset(session, actor).as_floats(),
    )
    return _pdf(out.getvalue(), f"to-mau-{chosen.name}.pdf")


@producer.route("/in-tem/can-chinh", methods=["GET", "POST"])
@page_roles(Role.PRODUCER)
def calibration() -> str | WResponse:
    session, actor = get_session(), current_principal()
    offset = own_offset(session, actor)
    form = OffsetForm(prefix="offset")
    saved = request.args.get("da_luu") == "1"
    # Opened from an order form: saving leads back to it (the producer's own product only).
    ordering = query_id(request.args.get("san_pham"))
    product = get_product(session, actor, ordering) if ordering else None
    x, y = form.offset_x.data, form.offset_y.data
    if form.validate_on_submit() and x is not None and y is not None:
        try:
            with session.begin_nested():
                set_offset(session, actor, x, y)
        except DomainError as refused:
            show_refusal(form, refused, names=OFFSET_FIELDS)
        else:
            if product is not None:
                return redirect(url_for(".order_stamps", product_id=product.id, lech_da_luu=1))
            return redirect(url_for(".calibration", da_luu=1))
    elif not form.is_submitted():
        form.offset_x.data, form.offset_y.data = offset.x_mm, offset.y_mm
    elif not csrf_failed(form):  # y unreadable, x out of range: both said at once
        show_problems(form, offset_problems(x, y), OFFSET_FIELDS)
    return render_template(
        "portal/producer/calibration.html",
        form=form,
        offset=offset,
        stocks=stocks(),
        saved=saved,
        product=product,
    )


@producer.route("/in-tem/can-chinh/<stock>.pdf")
@page_roles(Role.PRODUCER)
def calibration_pdf(stock: str) -> Response:
    chosen = _stock(stock)
    out = io.BytesIO()
    offset = own_offset(get_session(), current_principal()).as_floats()
    render_calibration_pdf(chosen.name, out, offset)
    return _pdf(out.getvalue(), f"can-chinh-{chosen.name}.pdf")

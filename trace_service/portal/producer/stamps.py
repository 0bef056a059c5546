"""Ordering stamps in few screens: the home's "Đặt in tem" opens a product's order page
(lot, or a packing recorded on the spot; quantity; a preview of one stamp); the order
leads to the run's page, which follows the build and offers the PDF and ZPL; every
earlier run stays there to download again. Files go through the signed-in session."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import (
    Response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as WResponse

from trace_service.certificates.services import label_status
from trace_service.clock import VIETNAM, today_vn
from trace_service.db import get_session
from trace_service.errors import DomainError, NotFound
from trace_service.labels import jobs, run_files, services
from trace_service.labels.art import StampFacts
from trace_service.labels.models import RunStatus, stamps_ordered
from trace_service.labels.print_settings import own_offset
from trace_service.labels.render.stocks import DEFAULT_STOCK, get_stock, stocks
from trace_service.portal.access import page_roles
from trace_service.portal.forms import csrf_failed, query_id, show_problems, show_refusal
from trace_service.portal.producer.blueprint import producer
from trace_service.portal.producer.forms import OrderForm, PackingForm
from trace_service.portal.producer.packing import fill_choices, record_from_form
from trace_service.portal.stamp_preview import stamp_preview_png
from trace_service.principal import Principal, Role, current_principal
from trace_service.registry.services import get_product
from trace_service.signing.service import get_keystore
from trace_service.trace.services import lot_query
from trace_service.web.formatting import vn_number
from trace_service.web.i18n import t

Page = str | WResponse
ORDER_FIELDS = {
    "lot_id": "lot",
    "quantity": "quantity",
    "stock": "stock",
    "start_position": "start_position",
}


def _packed_lots(product_id: int) -> list[tuple[Any, int]]:
    """The product's packed lots, newest first, each with how many units have no stamp yet."""
    session = get_session()
    lots = session.scalars(lot_query(current_principal(), {"product_id": product_id}))
    packed = [(lot, lot.units - stamps_ordered(session, lot.id)) for lot in lots if lot.units]
    return sorted(packed, key=lambda pair: pair[0].id, reverse=True)


def _order_page(product: Any, order: OrderForm, packing: PackingForm, **extra: Any) -> str:
    verdict = label_status(get_session(), current_principal(), product.id, today_vn())
    packed = _packed_lots(product.id)
    lots = [(lot, left) for lot, left in packed if left > 0]
    order.lot.choices = [(lot.id, lot.code) for lot, _ in lots]
    if order.lot.data is None and lots:
        order.lot.data = lots[0][0].id
    return render_template(
        "portal/producer/order.html",
        recent=services.recent_run(get_session(), current_principal(), product.id),
        product=product,
        verdict=verdict,
        lots=lots,
        used_up=len(packed) > len(lots),  # packed lots there are, every unit stamped
        order=order,
        packing=packing,
        stocks=stocks(),
        offset=own_offset(get_session(), current_principal()),
        offset_saved=request.args.get("lech_da_luu") == "1",
        **extra,
    )


@producer.route("/san-pham/<id:product_id>/dat-in-tem", methods=["GET", "POST"])
@page_roles(Role.PRODUCER)
def order_stamps(product_id: int) -> Page:
    session, actor = get_session(), current_principal()
    product = get_product(session, actor, product_id)
    order, packing = OrderForm(prefix="order"), PackingForm(prefix="packing")
    fill_choices(session, actor, packing)
    harvested = None
    if request.method == "GET":
        packing.product.data = product.id
        harvested = _harvested(packing)
    if "packing-submit" in request.form and packing.is_submitted():
        lot = record_from_form(session, actor, packing)
        if lot is not None:
            return redirect(url_for(".order_stamps", product_id=lot.product_id or product.id))
        return _order_page(product, OrderForm(prefix="order", formdata=None), packing, open=True)
    if "order-submit" in request.form and order.validate_on_submit():
        if _twin_unconfirmed(actor, product.id, order):
            # The order's own problems in the same answer (review user16: a quantity over
            # what is left was said only after the box was ticked and the form sent again).
            show_problems(order, _order_problems(product, order), ORDER_FIELDS)
            return _order_page(product, order, packing, harvested=harvested)
        run = _place_order(actor, product.id, order)
        if run is not None:
            return redirect(url_for(".print_run", run_id=run))
    elif "order-submit" in request.form and not csrf_failed(order):
        # Format errors: the service's rules over the fields it could read, in the same pass.
        show_problems(order, _order_problems(product, order), ORDER_FIELDS)
    return _order_page(product, order, packing, harvested=harvested)


def _harvested(packing: PackingForm) -> str | None:
    """Back from the harvest form (``?thu_hoach=``, the lot it made): that lot is chosen as
    the packing's input, if it is one of the producer's lots to pack; its code, for the notice."""
    lot_id = query_id(request.args.get("thu_hoach"))
    for choice, label in packing.input_lot.choices:
        if lot_id is not None and choice == lot_id:
            packing.input_lot.data = lot_id
            return str(label).split(" · ")[0]
    return None


def _start(form: OrderForm) -> int | None:
    """The start position typed (0 is refused like 99, not read as 1); left empty: 1."""
    if form.start_position.errors:
        return None
    return 1 if form.start_position.data is None else form.start_position.data


def _order_problems(product: Any, form: OrderForm) -> list[Any]:
    def read(field: Any) -> Any:
        return None if field.errors else field.data

    return services.order_problems(
        get_session(),
        product,
        read(form.lot),
        read(form.quantity),
        str(read(form.stock) or DEFAULT_STOCK)[:32],
        _start(form),
        bool(form.scratch.data),
    )


def _twin_unconfirmed(actor: Principal, product_id: int, form: OrderForm) -> bool:
    """True (with the question beside the box to tick) when the lot had a run from another
    form minutes ago and the order does not say another is meant: Back, then ordering
    again, would otherwise make the same run twice without a word."""
    recent = services.recent_run(get_session(), actor, product_id, form.lot.data)
    from_this_form = (recent.idempotency_key or "").startswith(_form_key(form)) if recent else False
    if recent is None or from_this_form or form.repeat.data:
        return False
    at = recent.created_at.astimezone(VIETNAM)
    form.repeat.errors = [
        t(
            f"Bạn vừa đặt đợt in số {recent.id} lúc {at:%H:%M} cho lô này "
            f"({vn_number(recent.quantity)} tem). "
            "Nếu chỉ cần in lại, hãy mở đợt in đó; muốn đặt thêm một đợt nữa, hãy đánh dấu ô này.",
            f"You ordered run {recent.id} at {at:%H:%M} for this lot ({recent.quantity} stamps). "
            "To print it again, open that run; to order another run, tick this box.",
        )
    ]
    return True


def _form_key(form: OrderForm) -> str:
    return f"portal-{form.key.data[:32]}-"


def _place_order(actor: Principal, product_id: int, form: OrderForm) -> int | None:
    """The new (or replayed) run's id, or None with the refusal beside its field."""
    session = get_session()
    typed = _start(form)
    stock, start = form.stock.data or DEFAULT_STOCK, 1 if typed is None else typed
    scratch = bool(form.scratch.data)
    ordered = f"{form.lot.data}|{form.quantity.data}|{stock}|{start}" + (
        "|scratch" if scratch else ""
    )
    what = hashlib.sha256(ordered.encode()).hexdigest()
    order = services.RunOrder(
        product_id=product_id,
        lot_id=form.lot.data,
        quantity=form.quantity.data or 0,
        # The form's key with what it orders: the same form sent twice gives back its run,
        # the same form sent again with another lot, quantity or stock is another order.
        idempotency_key=f"{_form_key(form)}{what[:16]}",
        stock=str(stock)[:32],
        start_position=start,
        scratch=scratch,
    )
    try:
        with session.begin_nested():
            run, created = services.order_print_run(
                session, actor, order, get_keystore(), jobs.label_base_url()
            )
    except DomainError as refused:
        show_refusal(form, refused, names=ORDER_FIELDS)
        return None
    if created:
        jobs.build_after_commit(run.id, actor)
    return run.id


def _preview_scale(x: str | None) -> int:
    """The preview's density from ``?x=``: exactly "1" or "2" (the page's srcset), 2 when
    absent; any other text (0, 3, " 1", "1.0", a full-width digit...) is a 400."""
    if x is None:
        return 2
    if x in ("1", "2"):
        return int(x)
    raise DomainError(
        "Mẫu tem chỉ có cỡ x=1 hoặc x=2.",
        "The stamp preview comes only at x=1 or x=2.",
    )


@producer.route("/san-pham/<id:product_id>/mau-tem.png")
@page_roles(Role.PRODUCER)
def stamp_preview(product_id: int) -> Response:
    """One stamp as it will print, with a specimen code (no label is issued for it). ``x`` is
    the page's srcset density, 1 or 2 (2 when absent); anything else is refused."""
    scale = _preview_scale(request.args.get("x"))
    session, actor = get_session(), current_principal()
    verdict = label_status(session, actor, product_id, today_vn())
    if not verdict.allowed or verdict.certificate is None:
        raise NotFound(verdict.message, verdict.message_en)
    cert = verdict.certificate
    facts = StampFacts(
        star=cert.star,
        product_name=cert.product_name,  # as the run's stamps print it (build.stamp_facts)
        producer_name=get_product(session, actor, product_id).producer.name,
        certificate_number=cert.number,
        valid_until=cert.valid_until,
    )
    png = stamp_preview_png(facts, scale)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


@producer.route("/dot-in/")
@page_roles(Role.PRODUCER)
def print_runs() -> str:
    runs = get_session().scalars(services.run_query(current_principal(), {}).limit(200))
    return render_template("portal/producer/runs.html", runs=list(runs))


@producer.route("/dot-in/<id:run_id>")
@page_roles(Role.PRODUCER)
def print_run(run_id: int) -> str:
    run = services.get_run(get_session(), current_principal(), run_id)
    done = run.status in (RunStatus.READY, RunStatus.FAILED)
    stock = get_stock(run.stock)
    title = t(stock.title_vi, stock.title_en) if stock else run.stock
    return render_template("portal/producer/run.html", run=run, done=done, stock_title=title)


@producer.route("/dot-in/<id:run_id>/dung-lai", methods=["POST"])
@page_roles(Role.PRODUCER)
def rebuild_run(run_id: int) -> WResponse:
    actor = current_principal()
    run = run_files.resume_print_run(get_session(), actor, run_id, jobs.files_root())
    jobs.build_after_commit(run.id, actor)
    return redirect(url_for(".print_run", run_id=run.id))


def _part_asked() -> int | None:
    """``?phan=``: which file of a run in parts, a whole number from 1 written plainly; any
    other text is no file (it used to fall back to the whole run, or to part 1)."""
    raw = request.args.get("phan")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and int(raw) >= 1):
        raise NotFound("Không có tệp này.", "No such file.")
    return int(raw)


@producer.route("/dot-in/<id:run_id>/tem-ocop.pdf")
@page_roles(Role.PRODUCER)
def run_pdf(run_id: int) -> Response:
    part = _part_asked() or 1
    file = run_files.sheet_file(get_session(), current_principal(), run_id, part, jobs.files_root())
    return run_files.send(file, "application/pdf")


@producer.route("/dot-in/<id:run_id>/tem-ocop-<int:dpi>dpi.zpl")
@page_roles(Role.PRODUCER)
def run_zpl(run_id: int, dpi: int) -> Response:
    if dpi not in (203, 300):
        raise NotFound("Không có tệp này.", "No such file.")
    part = _part_asked()  # none: the whole run in one download
    file = run_files.zpl_file(
        get_session(), current_principal(), run_id, dpi, jobs.files_root(), part
    )
    return run_files.send(file, "application/zpl")

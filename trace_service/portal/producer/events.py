"""Harvests and processing steps from short forms, through the API's recording functions:
a refused rule (a harvest that ends before it starts, more taken than a lot holds, a yield
no process gives) is shown in the service's words beside the field it concerns."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from trace_service.db import get_session
from trace_service.errors import Conflict, DomainError, NotFound
from trace_service.portal.access import page_roles
from trace_service.portal.forms import query_id, show_refusal
from trace_service.portal.producer.blueprint import producer
from trace_service.portal.producer.forms import HarvestForm, ProcessForm
from trace_service.portal.producer.packing import (
    event_time,
    fill_inputs,
    inputs_of,
    new_lot_code,
    output_lot,
    parse_amount,
)
from trace_service.principal import Principal, Role, current_principal
from trace_service.registry.models import Product
from trace_service.registry.services import area_query, get_product
from trace_service.trace.models import TraceEvent
from trace_service.trace.rules import max_yields
from trace_service.trace.services import record_harvest, record_transformation
from trace_service.web.i18n import t

Page = str | Response

HARVEST_FIELDS = {
    "area_id": "area",
    "harvest_end": "harvest_end",
    "event_time": "harvest_end",
    "lot": "code",
    "lot.quantity": "quantity",
    "lot.unit_weight_kg": "unit",
}
PROCESS_FIELDS = {
    "inputs": "input_lot",
    "inputs.0.lot_id": "input_lot",
    "inputs.0.quantity": "input_quantity",
    "inputs.0.unit": "input_quantity",
    "inputs.1.lot_id": "input_lot_2",
    "inputs.1.quantity": "input_quantity_2",
    "inputs.1.unit": "input_quantity_2",
    "event_time": "done_on",
    "outputs": "quantity",
    "outputs.0": "code",
    "outputs.0.quantity": "quantity",
}
# What the forms offer (bags and pieces need a unit weight: the API takes those).
UNITS = (
    ("kg", ("kg", "kg")),
    ("t", ("tấn", "tonnes")),
    ("g", ("g", "g")),
    ("l", ("lít", "litres")),
)


def unit_choices() -> list[tuple[str, str]]:
    """The units in the page's language."""
    return [(code, t(*names)) for code, names in UNITS]


EVENT_KINDS = {
    "harvest": ("Thu hoạch", "Harvest"),
    "transformation": ("Chế biến", "Processing"),
    "packing": ("Đóng gói", "Packing"),
    "shipping": ("Vận chuyển", "Shipping"),
    "receiving": ("Tiếp nhận", "Receiving"),
    "inspection": ("Kiểm tra", "Inspection"),
    "sampling": ("Lấy mẫu", "Sampling"),
    "recall": ("Thu hồi", "Recall"),
    "correction": ("Đính chính", "Correction"),
}
PROCESSES = {
    "drying": ("Phơi, sấy", "Drying"),
    "pulping": ("Xát vỏ quả tươi", "Pulping"),
    "fermenting": ("Lên men", "Fermenting"),
    "hulling": ("Xay xát, bóc vỏ", "Hulling"),
    "cherry_to_green": ("Quả tươi thành nhân", "Cherry to green bean"),
    "sorting": ("Phân loại", "Sorting"),
    "roasting": ("Rang", "Roasting"),
    "grinding": ("Xay bột", "Grinding"),
    "blending": ("Phối trộn", "Blending"),
    "extraction": ("Chiết xuất", "Extraction"),
}


def _recorded(
    session: Session, form: FlaskForm, record: Callable[[], object], names: dict[str, str]
) -> bool:
    """Run ``record`` in a savepoint; a refusal goes beside its field and undoes it all."""
    try:
        with session.begin_nested():
            record()
    except Conflict as refused:
        show_refusal(form, refused, fallback="code", names=names)
        return False
    except DomainError as refused:
        show_refusal(form, refused, names=names)
        return False
    return True


def _harvest(session: Session, actor: Principal, form: HarvestForm) -> TraceEvent:
    return record_harvest(
        session,
        actor,
        {
            "area_id": form.area.data,
            "harvest_start": form.harvest_start.data,
            "harvest_end": form.harvest_end.data,
            "event_time": event_time(form.harvest_end.data),
            "lot": {
                "code": new_lot_code(form.code.data, form.harvest_end.data),
                "material": form.material.data.strip(),
                "quantity": parse_amount(form.quantity.data),
                "unit": form.unit.data,
            },
        },
    )


@producer.route("/thu-hoach", methods=["GET", "POST"])
@page_roles(Role.PRODUCER)
def record_harvest_page() -> Page:
    session, actor = get_session(), current_principal()
    form = HarvestForm()
    areas = session.scalars(area_query(actor, {}))
    form.area.choices = [("", t("— Chọn vùng —", "— Choose an area —"))] + [
        (area.id, area.name) for area in areas
    ]
    form.unit.choices = unit_choices()
    product = _ordering(session, actor)
    made: list[TraceEvent] = []
    if form.validate_on_submit() and _recorded(
        session, form, lambda: made.append(_harvest(session, actor, form)), HARVEST_FIELDS
    ):
        lot = output_lot(session, made[0])
        if product is not None:  # back to the order it came from, the lot ready to pack
            return redirect(url_for(".order_stamps", product_id=product.id, thu_hoach=lot.id))
        return redirect(url_for(".lot_chain", lot_id=lot.id))
    return render_template("portal/producer/harvest.html", form=form, product=product)


def _ordering(session: Session, actor: Principal) -> Product | None:
    """The producer's own product whose order page sent here (``?san-pham=``), else None:
    the way back is built from its id, never from an address the link carries."""
    product_id = query_id(request.args.get("san-pham"))
    if product_id is None:
        return None
    try:
        return get_product(session, actor, product_id)
    except NotFound:
        return None


def _process(session: Session, actor: Principal, form: ProcessForm) -> TraceEvent:
    data = {
        "process": form.step.data,
        "event_time": event_time(form.done_on.data),
        "inputs": inputs_of(form),
        "outputs": [
            {
                "code": new_lot_code(form.code.data, form.done_on.data),
                "material": form.material.data.strip(),
                "quantity": parse_amount(form.quantity.data),
                "unit": form.unit.data,
            }
        ],
    }
    yields = max_yields(current_app.config["MAX_YIELDS"])
    return record_transformation(session, actor, data, yields)


@producer.route("/che-bien", methods=["GET", "POST"])
@page_roles(Role.PRODUCER)
def record_process_page() -> Page:
    session, actor = get_session(), current_principal()
    form = ProcessForm()
    fill_inputs(session, actor, form)
    form.step.choices = [(key, t(vi, en)) for key, (vi, en) in PROCESSES.items()]
    form.unit.choices = unit_choices()
    made: list[TraceEvent] = []
    if form.validate_on_submit() and _recorded(
        session, form, lambda: made.append(_process(session, actor, form)), PROCESS_FIELDS
    ):
        return redirect(url_for(".lot_chain", lot_id=output_lot(session, made[0]).id))
    return render_template("portal/producer/process.html", form=form)

"""Recording a packing from the short form: the form's fields become the body the API's
``record_packing`` takes, and its refusals go back beside the fields they name."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.clock import VIETNAM, today_vn
from trace_service.db import utcnow
from trace_service.errors import Conflict, DomainError
from trace_service.portal.forms import csrf_failed, show_problems, show_refusal
from trace_service.portal.producer.forms import PackingForm, parse_amount
from trace_service.principal import Principal
from trace_service.registry.models import Product
from trace_service.registry.services import product_query
from trace_service.trace.models import EventLot, Lot, TraceEvent
from trace_service.trace.services import (
    lot_query,
    lots_with_left,
    packing_problems,
    record_packing,
)
from trace_service.trace.units import UNIT_EN, UNIT_VI, Unit
from trace_service.web.formatting import vn_amount
from trace_service.web.i18n import t

# The service's field names, as the form calls them.
FIELDS = {
    "inputs": "input_lot",
    "inputs.0.lot_id": "input_lot",
    "inputs.0.quantity": "input_quantity",
    "inputs.0.unit": "input_quantity",
    "inputs.1.lot_id": "input_lot_2",
    "inputs.1.quantity": "input_quantity_2",
    "inputs.1.unit": "input_quantity_2",
    "event_time": "packed_on",
    "outputs": "quantity",
    "outputs.0": "code",
    "outputs.0.code": "code",
    "outputs.0.product_id": "product",
    "outputs.0.unit_count": "unit_count",
}


def _lot_label(lot: Lot, left: Decimal) -> str:
    """A lot as the input select names it, with what is left of it (what a step may take),
    as every page writes amounts (Vietnamese separators, English pages too: PAGES.md):
    L261125-ABBC · Cà phê nhân · còn 1.250 kg; "1.250 bags left" in English."""
    amount = vn_amount(left)
    left_text = t(f"còn {amount} {UNIT_VI[lot.unit]}", f"{amount} {UNIT_EN[lot.unit]} left")
    return f"{lot.code} · {lot.material} · {left_text}"


def fill_inputs(session: Session, actor: Principal, form: Any) -> None:
    """The producer's lots that are not yet a product's and not used up, as the inputs to
    choose from (a used-up lot would only be refused: "chỉ còn 0 kg")."""
    raw = lot_query(actor, {}).where(Lot.product_id.is_(None))
    choices = [
        (lot.id, _lot_label(lot, left)) for lot, left in lots_with_left(session, raw) if left > 0
    ]
    form.input_lot.choices = [("", t("— Chọn lô —", "— Choose a lot —")), *choices]
    form.input_lot_2.choices = [("", t("— Không —", "— None —")), *choices]


def fill_choices(session: Session, actor: Principal, form: PackingForm) -> None:
    """The producer's own products, and its lots that are not yet a product's (inputs)."""
    products = session.scalars(product_query(actor, {}))
    form.product.choices = [(p.id, p.name_vi) for p in products]
    fill_inputs(session, actor, form)


def new_lot_code(typed: str | None, day: date) -> str:
    """The lot code typed, or one made from the day: L261204-3FA2 (fits on a label)."""
    return ((typed or "").strip() or f"L{day:%y%m%d}-{secrets.token_hex(2)}").upper()


def event_time(day: date) -> datetime:
    """Today: now; a past day: its last minute (after whatever the inputs went through)."""
    if day == today_vn():
        return utcnow()
    return datetime.combine(day, time(23, 59), tzinfo=VIETNAM)


def inputs_of(form: Any) -> list[dict[str, object]]:
    inputs = [{"lot_id": form.input_lot.data, "quantity": parse_amount(form.input_quantity.data)}]
    if form.input_lot_2.data:
        second = parse_amount(form.input_quantity_2.data)
        inputs.append({"lot_id": form.input_lot_2.data, "quantity": second})
    return inputs


def _packing_body(session: Session, form: PackingForm) -> dict[str, object]:
    product = session.get(Product, form.product.data)
    return {
        "event_time": event_time(form.packed_on.data),
        "inputs": inputs_of(form),
        "outputs": [
            {
                "code": new_lot_code(form.code.data, form.packed_on.data),
                "material": (product.name_vi if product else "")[:120] or "-",
                "quantity": parse_amount(form.quantity.data),
                "unit": Unit.KG,
                "product_id": form.product.data,
                "unit_count": form.unit_count.data,
            }
        ],
    }


def _readable(field: Any) -> Any:
    """A field's value if the form read it without fault, else None (not checked)."""
    return None if field.errors or field.data in (None, "") else field.data


def _amount(field: Any) -> Any:
    text = _readable(field)
    return parse_amount(text) if text is not None else None


def _partial_body(form: PackingForm) -> dict[str, object]:
    """What the form could read, for ``packing_problems``: None where a field is at fault."""
    inputs = [{"lot_id": _readable(form.input_lot), "quantity": _amount(form.input_quantity)}]
    if _readable(form.input_lot_2) is not None:
        second = {"lot_id": form.input_lot_2.data, "quantity": _amount(form.input_quantity_2)}
        inputs.append(second)
    output = {
        "product_id": _readable(form.product),
        "quantity": _amount(form.quantity),
        "unit_count": _readable(form.unit_count),
    }
    return {"inputs": inputs, "outputs": [output]}


def record_from_form(session: Session, actor: Principal, form: PackingForm) -> Lot | None:
    """The packed lot of a submitted form, or None with every field's problem on the form at
    once: its format errors and the service's rules over the fields it could read."""
    if not form.validate():
        if not csrf_failed(form):  # a stale page or another site's post: not looked at
            show_problems(form, packing_problems(session, actor, _partial_body(form)), FIELDS)
        return None
    try:
        with session.begin_nested():  # a refusal leaves nothing half-written
            event = record_packing(session, actor, _packing_body(session, form))
    except Conflict as refused:
        show_refusal(form, refused, fallback="code", names=FIELDS)
        return None
    except DomainError as refused:
        show_refusal(form, refused, names=FIELDS)
        return None
    return output_lot(session, event)


def output_lot(session: Session, event: TraceEvent) -> Lot:
    """The lot an event made (harvests, processing steps and packings make one here)."""
    return session.scalars(
        select(Lot).join(EventLot).where(EventLot.event_id == event.id, EventLot.role == "output")
    ).one()

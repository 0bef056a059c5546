"""Recording what happened to lots, and walking their genealogy.

Every recording function checks the rules (order in time, positive quantities in known
units, yields, ownership through ``auth/scoping.py``), writes the event, its lots and the
genealogy links, audits, and flushes; none commits. Recalls and corrections are announced
(``trace/signals.py``) to the layers above. Trace queries are recursive SQL, the same on
SQLite and PostgreSQL; what the layers above add to a trace, or hold over a lot's unit
count, they register in ``trace/hooks.py``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, Select, func, literal, select
from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.audit.tags import Tag
from trace_service.auth.scoping import get_owned, may_act_for, scoped
from trace_service.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    field_error,
    raise_all,
)
from trace_service.principal import Principal, Role
from trace_service.registry.models import Product, RawMaterialArea
from trace_service.registry.services import get_area
from trace_service.trace import hooks, signals
from trace_service.trace.files import clean_name, sniff
from trace_service.trace.models import Attachment, EventLot, Lot, LotLink, Recall, TraceEvent
from trace_service.trace.rules import (
    MAX_QUANTITY,
    MAX_UNIT_COUNT,
    MAX_YIELD,
    MIN_QUANTITY,
    OFFICIAL_KINDS,
    EventKind,
    RecorderRole,
    process_words,
)
from trace_service.trace.units import UNIT_VI, Unit, in_kg
from trace_service.web.formatting import vn_amount, vn_number

INPUT, OUTPUT, SUBJECT = "input", "output", "subject"


def _lot_not_found() -> NotFound:
    return NotFound("Không tìm thấy lô hàng.", "No lot has this id.")


def _not_yours(field_name: str, vi: str, en: str) -> Callable[[], InvalidInput]:
    """The refusal of a body naming a record the actor may not see (or that does not exist):
    a field error, as for any unknown id."""
    return lambda: field_error(field_name, vi=vi, en=en)


def _no_lot_of_yours(field_name: str) -> Callable[[], InvalidInput]:
    return _not_yours(field_name, "Không có lô hàng này của bạn.", "No lot of yours has this id.")


def get_lot(session: Session, actor: Principal, lot_id: int) -> Lot:
    return get_owned(session, actor, Lot, lot_id, _lot_not_found)


def lot_query(actor: Principal, args: dict[str, Any]) -> Select[Any]:
    stmt = scoped(select(Lot).order_by(Lot.id), actor, Lot)
    for key, column in (("producer_id", Lot.producer_id), ("product_id", Lot.product_id)):
        if key in args:
            stmt = stmt.where(column == args[key])
    if "code" in args:
        stmt = stmt.where(Lot.code == args["code"])
    return stmt


def _owner(actor: Principal, producer_id: int) -> None:
    if not may_act_for(actor, producer_id):
        raise Forbidden(
            "Chủ thể chỉ được ghi sự kiện cho lô hàng và vùng nguyên liệu của mình.",
            "A producer may only record events for its own lots and areas.",
        )


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def quantity_problem(value: Any, field: str) -> InvalidInput | None:
    """A quantity the database holds and its CHECK takes (0.001 to 10¹², in thousandths);
    None (left out) is not checked here."""
    if value is None:
        return None
    amount = _decimal(value)
    if amount is None or amount < MIN_QUANTITY:
        return field_error(
            field,
            vi="Số lượng phải lớn hơn 0 (ít nhất 0,001).",
            en="A quantity is above 0 (at least 0.001).",
        )
    if amount > MAX_QUANTITY:
        return field_error(
            field,
            vi="Số lượng quá lớn (tối đa 1.000 tỷ).",
            en="A quantity is at most 10^12.",
        )
    return None


def unit_count_problem(value: Any, field: str) -> InvalidInput | None:
    """Units (bags, bottles…) of a packed lot: a whole number from 1 (the database's CHECK)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return field_error(
            field,
            vi="Số gói, chai… đã đóng: phải từ 1 trở lên.",
            en="Units packed (bags, bottles…): at least 1.",
        )
    if value > MAX_UNIT_COUNT:
        return field_error(
            field,
            vi=f"Số gói, chai… đã đóng: tối đa {vn_number(MAX_UNIT_COUNT)}.",
            en=f"Units packed (bags, bottles…): at most {MAX_UNIT_COUNT:,}.",
        )
    return None


def lot_problems(spec: dict[str, Any], field: str) -> list[InvalidInput]:
    """The numbers of a new lot that no lot may hold, each under its own field."""
    problems = [
        quantity_problem(spec.get("quantity"), f"{field}.quantity"),
        unit_count_problem(spec.get("unit_count"), f"{field}.unit_count"),
    ]
    weight = spec.get("unit_weight_kg")
    if weight is not None and not (_decimal(weight) or 0) > 0:
        problems.append(
            field_error(
                f"{field}.unit_weight_kg",
                vi="Khối lượng mỗi đơn vị phải lớn hơn 0.",
                en="The weight of one unit is above 0.",
            )
        )
    return [problem for problem in problems if problem is not None]


def _new_lot(session: Session, producer_id: int, spec: dict[str, Any], field: str) -> Lot:
    raise_all(lot_problems(spec, field))
    if session.scalar(select(Lot.id).where(Lot.code == spec["code"])) is not None:
        raise Conflict(
            "Mã lô đã tồn tại.",
            f"A lot with code {spec['code']} exists.",
            errors={"json": {field: [f"Lot code {spec['code']} is taken."]}},
        )
    if spec["unit"] in (Unit.BAG, Unit.PIECE) and spec.get("unit_weight_kg") is None:
        raise field_error(
            field,
            vi="Bao và đơn vị đóng gói cần khối lượng mỗi đơn vị.",
            en="Bags and pieces need unit_weight_kg (the weight of one).",
        )
    product_id = spec.get("product_id")
    if product_id is not None:
        product = session.get(Product, product_id)
        if product is None or product.producer_id != producer_id:
            raise field_error(
                field,
                vi="Không có sản phẩm này của chủ thể.",
                en="No product of this producer has this id.",
            )
    if spec.get("unit_count") is not None:
        _check_unit_count(Unit(spec["unit"]), product_id, f"{field}.unit_count")
    lot = Lot(
        code=spec["code"],
        producer_id=producer_id,
        product_id=product_id,
        material=spec["material"],
        quantity=Decimal(str(spec["quantity"])),
        unit=Unit(spec["unit"]),
        unit_weight_kg=(
            Decimal(str(spec["unit_weight_kg"])) if spec.get("unit_weight_kg") else None
        ),
        unit_count=spec.get("unit_count"),
    )
    session.add(lot)
    session.flush()
    return lot


def _event(
    session: Session,
    actor: Principal,
    kind: EventKind,
    producer_id: int,
    data: dict[str, Any],
    **extra: Any,
) -> TraceEvent:
    event = TraceEvent(
        uri=f"urn:uuid:{uuid.uuid4()}",
        kind=kind,
        producer_id=producer_id,
        event_time=data["event_time"],
        time_zone=data.get("time_zone", "+07:00"),
        location=data.get("location"),
        details=data.get("details") or {},
        recorded_by=actor.user_id,
        recorder_name=actor.name[:80],
        recorder_role=_recorder_role(actor),
        **extra,
    )
    session.add(event)
    session.flush()
    return event


def _recorder_role(actor: Principal) -> RecorderRole:
    """The role an event is recorded with: the user's, or the system's when no user acts
    (demo data, command line), which has the office's rights."""
    if actor.user_id is None or actor.role is None:
        return RecorderRole.SYSTEM
    return RecorderRole(actor.role.value)


def _is_official(actor: Principal) -> bool:
    """Inspectors and the province office (and the system, acting for the office)."""
    return actor.role in (Role.INSPECTOR, Role.ADMIN)


def _last_event_time(session: Session, lot_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(TraceEvent.event_time)).join(EventLot).where(EventLot.lot_id == lot_id)
    )


def _taken_from(lot_id: Any) -> Select[Any]:
    """What the steps recorded took from a lot as their input, summed (0 if none)."""
    return select(func.coalesce(func.sum(EventLot.quantity), 0)).where(
        EventLot.lot_id == lot_id, EventLot.role == INPUT
    )


def left_of(session: Session, lot: Lot) -> Decimal:
    """What is left of a lot for a step to take (as a refusal says "chỉ còn …")."""
    return lot.quantity - (session.scalar(_taken_from(lot.id)) or Decimal(0))


def lots_with_left(session: Session, lots: Select[Any]) -> list[tuple[Lot, Decimal]]:
    """Each lot of a query of lots with what is left of it, as ``left_of`` says, in one
    query however long the list (a correlated sum per row, over the indexed lot id)."""
    taken = _taken_from(Lot.id).scalar_subquery()
    found = session.execute(lots.add_columns(taken))
    return [(lot, lot.quantity - (used or Decimal(0))) for lot, used in found]


def _n(value: Decimal) -> str:
    """A quantity as a person writes it: 95, 0.9, 1500.25 (no trailing zeros)."""
    return f"{value.normalize():f}"


def _kg(amount: Decimal, unit: Unit, lot: Lot) -> Decimal | None:
    return in_kg(amount, unit, lot.unit_weight_kg)


def record_harvest(session: Session, actor: Principal, data: dict[str, Any]) -> TraceEvent:
    """A lot of raw material comes into being at a raw-material area."""
    area = get_owned(
        session,
        actor,
        RawMaterialArea,
        data["area_id"],
        _not_yours(
            "area_id",
            "Không có vùng nguyên liệu này của bạn.",
            "No raw-material area of yours has this id.",
        ),
    )
    start, end = data["harvest_start"], data["harvest_end"]
    if start > end:
        raise field_error(
            "harvest_end",
            vi="Ngày kết thúc thu hoạch trước ngày bắt đầu.",
            en="The harvest cannot end before it starts.",
        )
    if end > data["event_time"].date():
        raise field_error(
            "event_time",
            vi="Thời điểm ghi nhận thu hoạch phải sau ngày kết thúc thu hoạch.",
            en="The harvest is recorded after it ends, not before.",
        )
    lot = _new_lot(session, area.producer_id, data["lot"], "lot")
    event = _event(
        session,
        actor,
        EventKind.HARVEST,
        area.producer_id,
        data,
        area_id=area.id,
        harvest_start=start,
        harvest_end=end,
    )
    session.add(EventLot(event=event, lot=lot, role=OUTPUT, quantity=lot.quantity, unit=lot.unit))
    session.flush()
    record_event(
        session,
        actor,
        Tag.TRACE_EVENT_RECORDED,
        "trace_event",
        event.id,
        {"kind": event.kind, "lot": lot.code, "area_id": area.id},
    )
    return event


def _take_inputs(
    session: Session, actor: Principal, data: dict[str, Any]
) -> list[tuple[Lot, Decimal, Unit]]:
    taken = []
    seen: set[int] = set()
    for i, item in enumerate(data["inputs"]):
        lot = get_owned(session, actor, Lot, item["lot_id"], _no_lot_of_yours(f"inputs.{i}.lot_id"))
        if lot.id in seen:
            raise field_error(
                f"inputs.{i}.lot_id",
                vi="Một lô hàng bị liệt kê hai lần.",
                en="The same lot is listed twice.",
            )
        seen.add(lot.id)
        unit = Unit(item.get("unit", lot.unit))
        if unit is not lot.unit:
            raise field_error(
                f"inputs.{i}.unit",
                vi=f"Lô {lot.code} tính bằng {lot.unit}.",
                en=f"Lot {lot.code} is counted in {lot.unit}.",
            )
        wrong = quantity_problem(item["quantity"], f"inputs.{i}.quantity")
        if wrong is not None:
            raise wrong
        amount = Decimal(str(item["quantity"]))
        # Two steps taking from one lot at once must see each other's take (PostgreSQL reads
        # committed; SQLite's write lock serialises already): the lot's row is locked first.
        session.refresh(lot, with_for_update=True)
        left = left_of(session, lot)
        if amount > left:
            raise _not_enough(lot, left, amount, f"inputs.{i}.quantity")
        last = _last_event_time(session, lot.id)
        if last is not None and data["event_time"] < last:
            raise field_error(
                "event_time",
                vi=f"Sự kiện không thể trước sự kiện đã có của lô {lot.code}.",
                en=f"Lot {lot.code} has an event at {last.isoformat()}; this one cannot come "
                "before it.",
            )
        taken.append((lot, amount, unit))
    producers = {lot.producer_id for lot, _, _ in taken}
    if len(producers) != 1:
        raise field_error(
            "inputs",
            vi="Mọi nguyên liệu đầu vào phải của cùng một chủ thể.",
            en="All inputs must belong to one producer.",
        )
    return taken


def _not_enough(lot: Lot, left: Decimal, amount: Decimal, field: str) -> InvalidInput:
    error = InvalidInput(
        f"Lô {lot.code} chỉ còn {vn_amount(left)} {UNIT_VI[lot.unit]}.",
        f"Lot {lot.code} has only {_n(left)} {lot.unit} left; {_n(amount)} was asked for.",
        errors={"json": {field: [f"Only {_n(left)} left."]}},
    )
    error.field = field
    return error


def _check_yield(
    process: str, taken: list[tuple[Lot, Decimal, Unit]], made: list[Lot], ceiling: Decimal
) -> None:
    inputs_kg = [_kg(amount, unit, lot) for lot, amount, unit in taken]
    outputs_kg = [_kg(lot.quantity, lot.unit, lot) for lot in made]
    known_in = [kg for kg in inputs_kg if kg is not None]
    known_out = [kg for kg in outputs_kg if kg is not None]
    if len(known_in) < len(inputs_kg) or len(known_out) < len(outputs_kg):
        return  # litres or undeclared pieces: no common measure to compare
    total_in = sum(known_in, Decimal(0))
    total_out = sum(known_out, Decimal(0))
    if total_out > total_in * ceiling:
        step_vi, step_en = process_words(process)
        raise InvalidInput(
            f"Đầu ra {vn_amount(total_out)} kg vượt mức cho phép của công đoạn {step_vi}: "
            f"{vn_amount(total_in)} kg × {vn_amount(ceiling)} = "
            f"{vn_amount(total_in * ceiling)} kg.",
            f"{step_en}: {_n(total_out)} kg out of {_n(total_in)} kg in is more than the "
            f"maximum yield {_n(ceiling)} allows ({_n(total_in * ceiling)} kg).",
            errors={"json": {"outputs": ["More than the process can yield."]}},
        )


def _transform(
    session: Session,
    actor: Principal,
    kind: EventKind,
    process: str,
    data: dict[str, Any],
    yields: dict[str, Decimal],
) -> TraceEvent:
    taken = _take_inputs(session, actor, data)
    producer_id = taken[0][0].producer_id
    _owner(actor, producer_id)
    # Outputs are always new lots, so a transformation can never close a cycle.
    made = [
        _new_lot(session, producer_id, spec, f"outputs.{i}")
        for i, spec in enumerate(data["outputs"])
    ]
    _check_yield(process, taken, made, yields.get(process, Decimal(1)))
    event = _event(session, actor, kind, producer_id, data, process=process)
    for lot, amount, unit in taken:
        session.add(EventLot(event=event, lot=lot, role=INPUT, quantity=amount, unit=unit))
    for lot in made:
        session.add(
            EventLot(event=event, lot=lot, role=OUTPUT, quantity=lot.quantity, unit=lot.unit)
        )
        for parent, _, _ in taken:
            session.add(LotLink(parent_lot_id=parent.id, child_lot_id=lot.id, event_id=event.id))
    session.flush()
    record_event(
        session,
        actor,
        Tag.TRACE_EVENT_RECORDED,
        "trace_event",
        event.id,
        {
            "kind": kind,
            "process": process,
            "inputs": [lot.code for lot, _, _ in taken],
            "outputs": [lot.code for lot in made],
        },
    )
    return event


def record_transformation(
    session: Session, actor: Principal, data: dict[str, Any], yields: dict[str, Decimal] = MAX_YIELD
) -> TraceEvent:
    """Input lots become output lots (drying, hulling, roasting, grinding, blending…)."""
    return _transform(session, actor, EventKind.TRANSFORMATION, data["process"], data, yields)


def record_packing(session: Session, actor: Principal, data: dict[str, Any]) -> TraceEvent:
    """A bulk lot becomes packed units of a product (the units the labels go on)."""
    raise_all(packing_problems(session, actor, data))
    return _transform(session, actor, EventKind.PACKING, "packing", data, MAX_YIELD)


def packing_problems(
    session: Session, actor: Principal, data: dict[str, Any]
) -> list[InvalidInput]:
    """Every problem of a packing's inputs and outputs that shows before recording it, over
    all its fields at once (a part left out, or None, is not checked): a page reports them
    in one pass, with its own format errors. ``record_packing`` checks these first."""
    problems: list[InvalidInput] = []
    for i, item in enumerate(data.get("inputs") or []):
        if item.get("lot_id") is None:
            continue
        try:
            lot = get_owned(
                session, actor, Lot, item["lot_id"], _no_lot_of_yours(f"inputs.{i}.lot_id")
            )
        except InvalidInput as problem:
            problems.append(problem)
            continue
        field = f"inputs.{i}.quantity"
        wrong = quantity_problem(item.get("quantity"), field)
        if wrong is not None or item.get("quantity") is None:
            problems += [wrong] if wrong else []
            continue
        amount, left = Decimal(str(item["quantity"])), left_of(session, lot)
        if amount > left:  # checked again, under the lot's lock, when it is taken
            problems.append(_not_enough(lot, left, amount, field))
    for i, spec in enumerate(data.get("outputs") or []):
        if spec.get("product_id") is None:
            problems.append(
                field_error(
                    f"outputs.{i}.product_id",
                    vi="Lô đóng gói phải thuộc một sản phẩm.",
                    en="Packed units are of a product.",
                )
            )
        problems += lot_problems(spec, f"outputs.{i}")
    return problems


OBSERVATIONS = (EventKind.SHIPPING, EventKind.RECEIVING, EventKind.INSPECTION, EventKind.SAMPLING)

# Who recorded an event, as a refusal names them (Vietnamese, English).
_RECORDERS = {
    RecorderRole.ADMIN: ("văn phòng OCOP", "the OCOP office"),
    RecorderRole.PRODUCER: ("chủ thể", "a producer"),
    RecorderRole.INSPECTOR: ("thanh tra", "an inspector"),
    RecorderRole.SYSTEM: ("hệ thống", "the system"),
}


def _check_official(actor: Principal, kind: str, verb_vi: str, verb_en: str) -> None:
    """Inspections and sampling are recorded, corrected and attached to by inspectors and
    the office only; inspectors do none of these to other events."""
    if kind in OFFICIAL_KINDS and not _is_official(actor):
        raise Forbidden(
            f"Chỉ thanh tra hoặc văn phòng OCOP được {verb_vi} sự kiện kiểm tra, lấy mẫu.",
            f"Only inspectors and the OCOP office may {verb_en} inspections and sampling.",
        )
    if actor.role is Role.INSPECTOR and kind not in OFFICIAL_KINDS:
        raise Forbidden(
            f"Thanh tra chỉ {verb_vi} sự kiện kiểm tra, lấy mẫu.",
            f"Inspectors {verb_en} inspections and sampling only.",
        )


def record_observation(session: Session, actor: Principal, data: dict[str, Any]) -> TraceEvent:
    """Lots seen somewhere: shipped, received, inspected or sampled. Producers record
    shipping and receiving of their own lots; inspectors record inspections and sampling of
    any lot; the office records any of these."""
    kind = EventKind(data["kind"])
    _check_official(actor, kind, "ghi", "record")
    lots = []
    for i, item in enumerate(data["lots"]):
        lot = get_owned(session, actor, Lot, item["lot_id"], _no_lot_of_yours(f"lots.{i}.lot_id"))
        first = session.scalar(
            select(func.min(TraceEvent.event_time)).join(EventLot).where(EventLot.lot_id == lot.id)
        )
        if first is not None and data["event_time"] < first:
            raise field_error(
                "event_time",
                vi=f"Lô {lot.code} chưa có vào thời điểm đó.",
                en=f"Lot {lot.code} did not exist yet at that time.",
            )
        amount = Decimal(str(item["quantity"])) if item.get("quantity") else lot.quantity
        lots.append((lot, amount))
    # The event belongs to one producer: it shows in that producer's traces, and nowhere
    # may one producer's event name another's lots.
    if len({lot.producer_id for lot, _ in lots}) != 1:
        raise field_error(
            "lots",
            vi="Các lô hàng của một sự kiện phải cùng một chủ thể; hãy ghi từng sự kiện riêng.",
            en="The lots of one event must all belong to one producer; record one event each.",
        )
    producer_id = lots[0][0].producer_id
    event = _event(session, actor, kind, producer_id, data)
    for lot, amount in lots:
        session.add(EventLot(event=event, lot=lot, role=SUBJECT, quantity=amount, unit=lot.unit))
    session.flush()
    record_event(
        session,
        actor,
        Tag.TRACE_EVENT_RECORDED,
        "trace_event",
        event.id,
        {"kind": kind, "lots": [lot.code for lot, _ in lots]},
    )
    return event


def record_correction(session: Session, actor: Principal, data: dict[str, Any]) -> TraceEvent:
    """Declare an earlier event erroneous; it stays in the record, marked as such. A
    producer corrects only what producers recorded; inspections and sampling are corrected
    by inspectors and the office."""
    wrong = get_owned(
        session,
        actor,
        TraceEvent,
        data["corrects_event_id"],
        _not_yours(
            "corrects_event_id", "Không có sự kiện này của bạn.", "No event of yours has this id."
        ),
    )
    _check_official(actor, wrong.kind, "đính chính", "correct")
    if actor.is_producer and wrong.recorder_role != RecorderRole.PRODUCER:
        by_vi, by_en = _RECORDERS[RecorderRole(wrong.recorder_role)]
        raise Forbidden(
            f"Sự kiện này do {by_vi} ghi; chủ thể chỉ đính chính sự kiện do chủ thể ghi. "
            "Hãy đề nghị văn phòng OCOP đính chính.",
            f"This event was recorded by {by_en} ({wrong.recorder_name}); a producer may only "
            "correct events producers recorded. Ask the OCOP office to correct it.",
        )
    if wrong.kind == EventKind.CORRECTION:
        raise field_error(
            "corrects_event_id",
            vi="Không thể đính chính một lần đính chính.",
            en="A correction cannot itself be corrected (EPCIS error declarations are final).",
        )
    session.refresh(wrong, with_for_update=True)  # two corrections at once: one wins
    if session.scalar(select(TraceEvent.id).where(TraceEvent.corrects_event_id == wrong.id)):
        raise Conflict("Sự kiện này đã được đính chính.", "This event is already corrected.")
    event = _event(
        session,
        actor,
        EventKind.CORRECTION,
        wrong.producer_id,
        data,
        corrects_event_id=wrong.id,
        reason=data["reason"],
    )
    record_event(
        session,
        actor,
        Tag.TRACE_EVENT_CORRECTED,
        "trace_event",
        wrong.id,
        {"correction": event.id, "reason": data["reason"]},
    )
    signals.event_corrected.send(event, session=session, actor=actor, corrected=wrong)
    return event


def _check_unit_count(unit: Unit, product_id: int | None, field: str) -> None:
    if unit in (Unit.BAG, Unit.PIECE):
        raise field_error(
            field,
            vi=f"Lô tính bằng {UNIT_VI[unit]} có số đơn vị bằng số lượng; chỉ khai số đơn vị cho "
            "lô tính theo khối lượng hoặc thể tích.",
            en=f"A lot counted in {unit} holds as many units as its quantity; unit_count is for "
            "lots counted by weight or volume (kg, t, g, l).",
        )
    if product_id is None:
        raise field_error(
            field,
            vi="Chỉ khai số đơn vị cho lô thành phẩm của một sản phẩm.",
            en="Only a packed lot of a product holds units that take stamps.",
        )


def declare_unit_count(session: Session, actor: Principal, lot: Lot, unit_count: int) -> Lot:
    """How many units (bags, bottles…) a packed lot counted by weight or volume holds:
    stamps are ordered for at most that many, over all its print runs. It may change, but
    never below the stamps already ordered."""
    _check_unit_count(lot.unit, lot.product_id, "unit_count")
    # Locked as an order locks it, so an order at the same time sees the old or the new count.
    session.refresh(lot, with_for_update=True)
    hooks.run_unit_count_checks(session, lot, unit_count)  # labels: not below stamps ordered
    before = lot.unit_count
    lot.unit_count = unit_count
    session.flush()
    record_event(
        session,
        actor,
        Tag.LOT_UNITS_DECLARED,
        "lot",
        lot.id,
        {"lot": lot.code, "unit_count": unit_count, "before": before},
    )
    return lot


def recall_lot(session: Session, actor: Principal, lot: Lot, data: dict[str, Any]) -> Recall:
    recall = Recall(
        lot_id=lot.id,
        recalled_at=data["recalled_at"],
        decision=data.get("decision"),
        reason=data["reason"],
    )
    session.add(recall)
    session.flush()
    affected = session.scalar(select(func.count()).select_from(descendants(lot.id).subquery()))
    record_event(
        session,
        actor,
        Tag.LOT_RECALLED,
        "lot",
        lot.id,
        {"recall": recall.id, "reason": recall.reason, "affected_lots": affected},
    )
    signals.lot_recalled.send(recall, session=session, actor=actor, lot=lot)
    return recall


# -- genealogy ----------------------------------------------------------------------------


def ancestors(lot_id: int) -> Any:
    """SELECT of the ids of ``lot_id`` and every lot it was made from (recursive)."""
    tree = select(literal(lot_id, BigInteger()).label("lot_id")).cte("ancestors", recursive=True)
    tree = tree.union(
        select(LotLink.parent_lot_id).join(tree, LotLink.child_lot_id == tree.c.lot_id)
    )
    return select(tree.c.lot_id)


def descendants(lot_id: int) -> Any:
    """SELECT of the ids of ``lot_id`` and every lot made from it (recursive)."""
    tree = select(literal(lot_id, BigInteger()).label("lot_id")).cte("descendants", recursive=True)
    tree = tree.union(
        select(LotLink.child_lot_id).join(tree, LotLink.parent_lot_id == tree.c.lot_id)
    )
    return select(tree.c.lot_id)


@dataclass
class Trace:
    lots: list[Lot]
    events: list[TraceEvent]
    areas: list[RawMaterialArea]
    recalls: list[Recall]
    # What the layers above keep about these lots, by name (trace/hooks.py): labels adds
    # "print_runs" and "labels" (how many labels they hold: what a recall must reach).
    parts: dict[str, Any] = field(default_factory=dict)


def _trace(
    session: Session, lot_ids: Select[Any], skip_parts: Collection[hooks.TracePart] = ()
) -> Trace:
    lots = list(session.scalars(select(Lot).where(Lot.id.in_(lot_ids)).order_by(Lot.id)))
    events = list(
        session.scalars(
            select(TraceEvent)
            .where(TraceEvent.id.in_(select(EventLot.event_id).where(EventLot.lot_id.in_(lot_ids))))
            .order_by(TraceEvent.event_time, TraceEvent.id)
        )
    )
    corrections = list(
        session.scalars(
            select(TraceEvent).where(TraceEvent.corrects_event_id.in_([e.id for e in events]))
        )
    )
    areas = list(
        session.scalars(
            select(RawMaterialArea)
            .where(RawMaterialArea.id.in_([e.area_id for e in events if e.area_id is not None]))
            .order_by(RawMaterialArea.id)
        )
    )
    recalls = list(session.scalars(select(Recall).where(Recall.lot_id.in_(lot_ids))))
    events = sorted(events + corrections, key=lambda e: (e.event_time, e.id))
    return Trace(lots, events, areas, recalls, hooks.trace_parts(session, lot_ids, skip_parts))


def backward_trace(
    session: Session, lot: Lot, *, skip_parts: Collection[hooks.TracePart] = ()
) -> Trace:
    """One step back, all the way: every lot, event and raw-material area behind ``lot``;
    without the layers' parts a reader does not show (``skip_parts``)."""
    return _trace(session, ancestors(lot.id), skip_parts)


def forward_trace(session: Session, lot: Lot) -> Trace:
    """One step forward, all the way: everything made from ``lot`` (for recalls)."""
    return _trace(session, descendants(lot.id))


def lots_from_area(area_id: int) -> Any:
    """Ids of the lots harvested at an area and of everything made from them."""
    harvested = (
        select(EventLot.lot_id)
        .join(TraceEvent)
        .where(
            TraceEvent.area_id == area_id,
            TraceEvent.kind == EventKind.HARVEST,
            EventLot.role == OUTPUT,
        )
    )
    tree = harvested.cte("from_area", recursive=True)
    tree = tree.union(
        select(LotLink.child_lot_id).join(tree, LotLink.parent_lot_id == tree.c.lot_id)
    )
    return select(tree.c.lot_id)


def area_trace(session: Session, area_id: int) -> Trace:
    """Everything harvested at an area and everything made from it."""
    return _trace(session, lots_from_area(area_id))


def trace_lot(session: Session, actor: Principal, lot_id: int, direction: str) -> Trace:
    """The actor's lot traced ``backward`` (what it was made from) or ``forward``."""
    lot = get_lot(session, actor, lot_id)
    return forward_trace(session, lot) if direction == "forward" else backward_trace(session, lot)


def trace_area(session: Session, actor: Principal, area_id: int) -> Trace:
    """What was harvested at the actor's raw-material area and made from it."""
    return area_trace(session, get_area(session, actor, area_id).id)


def areas_behind(session: Session, lot: Lot) -> list[RawMaterialArea]:
    """The raw-material areas harvested for ``lot``, in one query (the label page's "where
    it comes from", without the whole trace)."""
    harvests = (
        select(TraceEvent.area_id)
        .join(EventLot, EventLot.event_id == TraceEvent.id)
        .where(EventLot.lot_id.in_(ancestors(lot.id)), TraceEvent.kind == EventKind.HARVEST)
    )
    return list(
        session.scalars(
            select(RawMaterialArea)
            .where(RawMaterialArea.id.in_(harvests))
            .order_by(RawMaterialArea.id)
        )
    )


def recalled_by(session: Session, lot: Lot) -> list[Recall]:
    """The recalls that reach ``lot``: of itself or of anything it was made from."""
    return list(session.scalars(select(Recall).where(Recall.lot_id.in_(ancestors(lot.id)))))


# -- attachments ----------------------------------------------------------------------------


def _event_not_found() -> NotFound:
    return NotFound("Không tìm thấy sự kiện.", "No event has this id.")


def get_event(session: Session, actor: Principal, event_id: int) -> TraceEvent:
    return get_owned(session, actor, TraceEvent, event_id, _event_not_found)


def attach_file(
    session: Session, actor: Principal, event: TraceEvent, filename: str, data: bytes
) -> Attachment:
    """Attach a lab report, inspection record or photo (PDF, PNG or JPEG) to an event.
    Inspections and sampling take files from inspectors and the office only; producers
    attach to their own other events."""
    _check_official(actor, event.kind, "đính kèm tệp vào", "attach files to")
    content_type = sniff(data)
    if content_type is None:
        raise InvalidInput(
            "Chỉ nhận tệp PDF, PNG hoặc JPEG.",
            "Only PDF, PNG and JPEG files are accepted.",
            errors={"files": {"file": ["Not a PDF, PNG or JPEG file."]}},
        )
    attachment = Attachment(
        event_id=event.id,
        filename=clean_name(filename) or "attachment",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by=actor.user_id,
    )
    session.add(attachment)
    session.flush()
    record_event(
        session,
        actor,
        Tag.TRACE_ATTACHMENT_ADDED,
        "trace_event",
        event.id,
        {
            "attachment": attachment.id,
            "filename": attachment.filename,
            "sha256": attachment.sha256,
            "size": attachment.size,
        },
    )
    return attachment


def get_attachment(
    session: Session, actor: Principal, event_id: int, attachment_id: int
) -> Attachment:
    event = get_event(session, actor, event_id)
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.event_id != event.id:
        raise NotFound("Không tìm thấy tệp đính kèm.", "No attachment has this id.")
    return attachment

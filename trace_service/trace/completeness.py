"""Which of the ten minimum traceability items of Circular 02/2024/TT-BKHCN a product has,
each read as the Circular means it:

- a stage (công đoạn) is a recorded event, each with a product trace code (the code of a lot
  it takes in, makes or concerns: Art. 3, "mã truy vết sản phẩm"), a location trace code (the
  plot or facility where it happened, not the producer's name: "mã truy vết địa điểm") and
  the time it happened;
- the event times are the times of those events, on their own;
- brand, model and serial, and the shelf life, are "(nếu có)": optional, never missing;
- what does not apply to a product group is said so: handicrafts and tourism services are not
  harvested, and a tourism service has no lots, codes or shelf life.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.clock import today_vn, vn_date
from trace_service.registry.enums import ProductGroup
from trace_service.registry.models import Product
from trace_service.trace.models import EventLot, Lot, TraceEvent
from trace_service.trace.rules import EventKind
from trace_service.trace.services import backward_trace

# Groups whose raw material is grown: their chain starts at a harvest on a plot.
HARVESTED = frozenset(
    {ProductGroup.FOOD, ProductGroup.BEVERAGES, ProductGroup.HERBAL, ProductGroup.ORNAMENTAL}
)
# The stages of production and trade (công đoạn sản xuất, kinh doanh); official checks,
# recalls and corrections are events about the goods, not stages they go through.
STAGE_KINDS = frozenset(
    {
        EventKind.HARVEST,
        EventKind.TRANSFORMATION,
        EventKind.PACKING,
        EventKind.SHIPPING,
        EventKind.RECEIVING,
    }
)
# A tourism service is no goods: no lots, trace codes or shelf life.
SERVICES = frozenset({ProductGroup.TOURISM})
# Groups that have no shelf life to state.
NO_SHELF_LIFE = SERVICES | {ProductGroup.HANDICRAFTS}


@dataclass(frozen=True)
class Item:
    key: str
    label: str  # as the Circular words it, in Vietnamese
    label_en: str
    present: bool
    detail: str
    # False for "(nếu có)" items and for items that do not apply to the product's group: a
    # missing one does not make the product's data incomplete.
    required: bool = True
    applies: bool = True


@dataclass(frozen=True)
class _Chain:
    """The product's newest packed lot and what its recorded chain shows."""

    packed: Lot | None
    events: tuple[TraceEvent, ...]
    serials: int  # stamps with a serial on the packed lot and the lots behind it


def _newest_packed_lot(session: Session, product: Product) -> Lot | None:
    return session.scalar(
        select(Lot)
        .join(EventLot, EventLot.lot_id == Lot.id)
        .join(TraceEvent)
        .where(
            Lot.product_id == product.id,
            EventLot.role == "output",
            TraceEvent.kind == EventKind.PACKING,
        )
        .order_by(Lot.id.desc())
        .limit(1)
    )


def _chain(session: Session, product: Product) -> _Chain:
    packed = _newest_packed_lot(session, product)
    if packed is None:
        return _Chain(None, (), 0)
    trace = backward_trace(session, packed)
    stages = tuple(e for e in trace.events if e.kind in STAGE_KINDS)
    return _Chain(packed, stages, int(trace.parts.get("labels") or 0))


def _item(key: str, vi: str, en: str, present: Any, detail: str, **kw: bool) -> Item:
    return Item(key, vi, en, bool(present), detail, **kw)


def _not_applicable(key: str, vi: str, en: str, why: str) -> Item:
    return Item(key, vi, en, False, why, required=False, applies=False)


def _product_items(product: Product) -> list[Item]:
    producer = product.producer
    return [
        _item("name", "Tên sản phẩm", "Product name", product.name_vi, product.name_vi),
        _item(
            "image",
            "Hình ảnh sản phẩm",
            "Product image",
            product.images,
            f"{len(product.images or [])} images",
        ),
        _item("producer_name", "Tên cơ sở sản xuất", "Producer name", producer.name, producer.name),
        _item(
            "producer_address",
            "Địa chỉ cơ sở sản xuất",
            "Producer address",
            producer.address,
            producer.address,
        ),
    ]


def _day(event: TraceEvent) -> str:
    return vn_date(today_vn(event.event_time)) if event.event_time else "(no time)"


def _stage_gaps(events: tuple[TraceEvent, ...]) -> list[str]:
    """What each stage lacks of a product code, a location code and a time."""
    gaps = []
    for event in events:
        lacks = [
            what
            for what, has in (
                ("product trace code", any(link.lot for link in event.lots)),
                ("location trace code", event.area_id is not None or event.location),
                ("time", event.event_time),
            )
            if not has
        ]
        if lacks:
            gaps.append(f"{event.kind} {_day(event)}: no {', '.join(lacks)}")
    return gaps


def _stages(product: Product, chain: _Chain) -> Item:
    vi = "Các công đoạn: mã truy vết sản phẩm, mã truy vết địa điểm, thời gian"
    en = "Stages with product and location trace codes and times"
    if chain.packed is None:
        return _item("stages", vi, en, False, "no packed lot with a recorded chain yet")
    gaps = _stage_gaps(chain.events)
    harvested = any(e.kind == EventKind.HARVEST for e in chain.events)
    if product.product_group in HARVESTED and not harvested:
        gaps.append(f"no harvest: a {product.product_group} product's chain starts on a plot")
    detail = f"{len(chain.events)} stages behind lot {chain.packed.code}"
    return _item("stages", vi, en, not gaps, "; ".join([detail, *gaps]))


def _event_times(chain: _Chain) -> Item:
    vi, en = "Thời gian diễn ra sự kiện", "Event times"
    timed = sorted((e for e in chain.events if e.event_time), key=lambda e: e.event_time)
    if not timed or len(timed) < len(chain.events):
        return _item("event_times", vi, en, False, "no recorded event times")
    span = f"{_day(timed[0])} – {_day(timed[-1])}"
    return _item("event_times", vi, en, True, f"{len(timed)} events, {span}")


def _chain_items(product: Product, chain: _Chain) -> list[Item]:
    code = ("trace_code", "Mã truy vết", "Traceability code")
    if product.product_group in SERVICES:
        why = "a tourism service has no lots (not goods)"
        return [
            _not_applicable(
                "stages",
                "Các công đoạn: mã truy vết sản phẩm, mã truy vết địa điểm, thời gian",
                "Stages with product and location trace codes and times",
                why,
            ),
            _not_applicable("event_times", "Thời gian diễn ra sự kiện", "Event times", why),
            _not_applicable(*code, why),
        ]
    return [
        _stages(product, chain),
        _event_times(chain),
        _item(
            *code,
            chain.packed is not None,
            chain.packed.code if chain.packed else "no packed lot",
        ),
    ]


def _brand_model_serial(product: Product, chain: _Chain) -> Item:
    vi, en = "Nhãn hiệu, kiểu loại, số sê-ri (nếu có)", "Brand, model, serial (if any)"
    if product.product_group in SERVICES:
        return _not_applicable("brand_model_serial", vi, en, "a tourism service has no serials")
    # The GTIN names the trade item, not its brand, model or serial: the stamps' serials are
    # the serials each unit carries; no brand or model is recorded.
    detail = (
        f"{chain.serials} stamps with serials on lot {chain.packed.code}"
        if chain.serials and chain.packed
        else "no serial stamps; optional (nếu có)"
    )
    return _item("brand_model_serial", vi, en, chain.serials, detail, required=False)


def _shelf_life(product: Product) -> Item:
    vi, en = "Hạn sử dụng (nếu có)", "Shelf life (if any)"
    if product.product_group in NO_SHELF_LIFE:
        return _not_applicable(
            "shelf_life", vi, en, f"a {product.product_group} product has no shelf life"
        )
    days = product.shelf_life_days
    return _item(
        "shelf_life",
        vi,
        en,
        days,
        f"{days} days" if days else "none stated; optional (nếu có)",
        required=False,
    )


def _label_items(product: Product, chain: _Chain) -> list[Item]:
    return [
        _brand_model_serial(product, chain),
        _shelf_life(product),
        _item(
            "standards",
            "Tiêu chuẩn công bố áp dụng",
            "Standards applied",
            product.standards,
            ", ".join(product.standards or []) or "none declared",
        ),
    ]


def completeness(session: Session, product: Product) -> list[Item]:
    """The ten items, in the Circular's order: the product and its producer, the chain
    behind its newest packed lot, and what its label states."""
    service = product.product_group in SERVICES
    chain = _Chain(None, (), 0) if service else _chain(session, product)
    return [
        *_product_items(product),
        *_chain_items(product, chain),
        *_label_items(product, chain),
    ]

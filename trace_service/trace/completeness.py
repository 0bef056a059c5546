"""Which of the ten minimum traceability items of Circular 02/2024/TT-BKHCN a product has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.registry.models import Product
from trace_service.trace.models import EventLot, Lot, TraceEvent
from trace_service.trace.rules import EventKind
from trace_service.trace.services import backward_trace


@dataclass(frozen=True)
class Item:
    key: str
    label: str  # as the Circular words it, in Vietnamese
    label_en: str
    present: bool
    detail: str


@dataclass(frozen=True)
class _Chain:
    """The product's newest packed lot and what its recorded chain shows."""

    packed: Lot | None
    stages_ok: bool
    detail: str


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
    """Every stage behind the newest packed lot has a time and a place, from a harvest on."""
    packed = _newest_packed_lot(session, product)
    if packed is None:
        return _Chain(None, False, "no packed lot with a recorded chain yet")
    trace = backward_trace(session, packed)
    stages_ok = any(e.kind == EventKind.HARVEST for e in trace.events) and all(
        e.event_time and (e.area_id or e.location or e.producer_id) for e in trace.events
    )
    detail = f"{len(trace.events)} events from {len(trace.areas)} plots behind lot {packed.code}"
    return _Chain(packed, stages_ok, detail)


def _item(key: str, vi: str, en: str, present: Any, detail: str) -> Item:
    return Item(key, vi, en, bool(present), detail)


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


def _chain_items(chain: _Chain) -> list[Item]:
    return [
        _item(
            "stages",
            "Các công đoạn: mã truy vết sản phẩm, mã truy vết địa điểm, thời gian",
            "Stages with product and location trace codes and times",
            chain.stages_ok,
            chain.detail,
        ),
        _item(
            "event_times", "Thời gian diễn ra sự kiện", "Event times", chain.stages_ok, chain.detail
        ),
        _item(
            "trace_code",
            "Mã truy vết",
            "Traceability code",
            chain.packed is not None,
            chain.packed.code if chain.packed else "no packed lot",
        ),
    ]


def _label_items(product: Product) -> list[Item]:
    return [
        _item(
            "brand_model_serial",
            "Nhãn hiệu, kiểu loại, số sê-ri (nếu có)",
            "Brand, model, serial (if any)",
            product.gtin,
            product.gtin or "no GTIN",
        ),
        _item(
            "shelf_life",
            "Hạn sử dụng (nếu có)",
            "Shelf life (if any)",
            product.shelf_life_days,
            f"{product.shelf_life_days or '—'} days",
        ),
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
    chain = _chain(session, product)
    return [*_product_items(product), *_chain_items(chain), *_label_items(product)]

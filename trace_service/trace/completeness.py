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


def completeness(session: Session, product: Product) -> list[Item]:
    producer = product.producer
    packed = session.scalar(
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
    trace = backward_trace(session, packed) if packed is not None else None
    stages_ok = bool(
        trace
        and any(e.kind == EventKind.HARVEST for e in trace.events)
        and all(e.event_time and (e.area_id or e.location or e.producer_id) for e in trace.events)
    )
    stage_detail = (
        f"{len(trace.events)} events from {len(trace.areas)} plots behind lot {packed.code}"
        if trace and packed
        else "no packed lot with a recorded chain yet"
    )

    def item(key: str, vi: str, en: str, present: Any, detail: str) -> Item:
        return Item(key, vi, en, bool(present), detail)

    return [
        item("name", "Tên sản phẩm", "Product name", product.name_vi, product.name_vi),
        item(
            "image",
            "Hình ảnh sản phẩm",
            "Product image",
            product.images,
            f"{len(product.images or [])} images",
        ),
        item("producer_name", "Tên cơ sở sản xuất", "Producer name", producer.name, producer.name),
        item(
            "producer_address",
            "Địa chỉ cơ sở sản xuất",
            "Producer address",
            producer.address,
            producer.address,
        ),
        item(
            "stages",
            "Các công đoạn: mã truy vết sản phẩm, mã truy vết địa điểm, thời gian",
            "Stages with product and location trace codes and times",
            stages_ok,
            stage_detail,
        ),
        item("event_times", "Thời gian diễn ra sự kiện", "Event times", stages_ok, stage_detail),
        item(
            "trace_code",
            "Mã truy vết",
            "Traceability code",
            packed is not None,
            packed.code if packed else "no packed lot",
        ),
        item(
            "brand_model_serial",
            "Nhãn hiệu, kiểu loại, số sê-ri (nếu có)",
            "Brand, model, serial (if any)",
            product.gtin,
            product.gtin or "no GTIN",
        ),
        item(
            "shelf_life",
            "Hạn sử dụng (nếu có)",
            "Shelf life (if any)",
            product.shelf_life_days,
            f"{product.shelf_life_days or '—'} days",
        ),
        item(
            "standards",
            "Tiêu chuẩn công bố áp dụng",
            "Standards applied",
            product.standards,
            ", ".join(product.standards or []) or "none declared",
        ),
    ]

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace_service.db import Base, Created, IntPk, UtcDateTime, value_enum
from trace_service.registry import hooks as registry_hooks
from trace_service.registry.models import Producer, Product, RawMaterialArea
from trace_service.trace.files import download_name
from trace_service.trace.units import Unit


class Lot(Base):
    """A quantity of one material (cherry, green bean, ground coffee in bags…) owned by a
    producer. Lots are made by events: a harvest, a transformation or a packing."""

    __tablename__ = "lots"
    __owner__: ClassVar[tuple[str, ...]] = ("producer_id",)  # auth/scoping.py
    __table_args__ = (CheckConstraint("quantity > 0", name="positive_quantity"),)

    id: Mapped[IntPk]
    code: Mapped[str] = mapped_column(String(64), unique=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    material: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[Decimal] = mapped_column(Numeric(16, 3))
    unit: Mapped[Unit] = mapped_column(value_enum(Unit, 8))
    # For bags and packed pieces: the weight of one, so quantities convert to kg.
    unit_weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    # For a packed lot counted by weight or volume (kg, t, g, l): how many units (bags,
    # bottles) it holds, declared before stamps are ordered; one stamp per unit at most.
    unit_count: Mapped[int | None] = mapped_column(
        Integer, CheckConstraint("unit_count > 0", name="positive_unit_count")
    )
    created_at: Mapped[Created]

    producer: Mapped[Producer] = relationship()
    product: Mapped[Product | None] = relationship()

    @property
    def units(self) -> int | None:
        """How many packed units the lot holds: its quantity when counted in bags or pieces,
        else its declared ``unit_count`` (None: not declared)."""
        if self.unit in (Unit.BAG, Unit.PIECE):
            return int(self.quantity)
        return self.unit_count


class TraceEvent(Base):
    """What happened, when, where and why: append-only. A correction is a new event that
    declares an earlier one erroneous (``corrects_event_id``), never an edit."""

    __tablename__ = "trace_events"
    __owner__: ClassVar[tuple[str, ...]] = ("producer_id",)  # auth/scoping.py

    id: Mapped[IntPk]
    uri: Mapped[str] = mapped_column(String(64), unique=True)  # urn:uuid:…
    kind: Mapped[str] = mapped_column(String(24), index=True)
    process: Mapped[str | None] = mapped_column(String(40))  # drying, hulling, roasting…
    event_time: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    time_zone: Mapped[str] = mapped_column(String(6), default="+07:00")
    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("raw_material_areas.id"), index=True)
    location: Mapped[str | None] = mapped_column(String(255))  # a facility, when not an area
    harvest_start: Mapped[date | None]
    harvest_end: Mapped[date | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    corrects_event_id: Mapped[int | None] = mapped_column(ForeignKey("trace_events.id"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    # Who recorded it, as they were then (a user's role can change later; the rules on who
    # may correct an event go by the role it was recorded with). No user: the system.
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorder_name: Mapped[str] = mapped_column(String(80), server_default="system")
    recorder_role: Mapped[str] = mapped_column(
        String(16),
        CheckConstraint(
            "recorder_role IN ('admin', 'producer', 'inspector', 'system')", name="recorder_role"
        ),
        server_default="system",
    )
    recorded_at: Mapped[Created]

    area: Mapped[RawMaterialArea | None] = relationship()
    lots: Mapped[list[EventLot]] = relationship(back_populates="event", order_by="EventLot.id")
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id")

    @property
    def recorder(self) -> dict[str, Any]:
        return {"user_id": self.recorded_by, "name": self.recorder_name, "role": self.recorder_role}


class EventLot(Base):
    """A lot in an event: consumed (``input``), made (``output``) or observed (``subject``)."""

    __tablename__ = "trace_event_lots"
    __owner__: ClassVar[tuple[str, ...]] = ("event", "producer_id")  # auth/scoping.py
    __table_args__ = (
        UniqueConstraint("event_id", "lot_id", "role"),
        CheckConstraint("quantity > 0", name="positive_quantity"),
    )

    id: Mapped[IntPk]
    event_id: Mapped[int] = mapped_column(ForeignKey("trace_events.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(Numeric(16, 3))
    unit: Mapped[Unit] = mapped_column(value_enum(Unit, 8))

    event: Mapped[TraceEvent] = relationship(back_populates="lots")
    lot: Mapped[Lot] = relationship()


class LotLink(Base):
    """Genealogy: ``parent`` went into ``child`` through ``event``. Trace queries walk these
    edges with recursive SQL, backward (parents) and forward (children)."""

    __tablename__ = "lot_links"
    __table_args__ = (UniqueConstraint("parent_lot_id", "child_lot_id", "event_id"),)

    id: Mapped[IntPk]
    parent_lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    child_lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("trace_events.id"))


class Recall(Base):
    """A lot withdrawn from the market; everything made from it is affected (derived by the
    forward trace, never copied onto each lot)."""

    __tablename__ = "recalls"
    __owner__: ClassVar[tuple[str, ...]] = ("lot", "producer_id")  # auth/scoping.py

    id: Mapped[IntPk]
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    recalled_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decision: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Created]

    lot: Mapped[Lot] = relationship()


class Attachment(Base):
    """A file that belongs to an event: a lab report, an inspection record, a photo. Kept in
    the database (a few MiB at most) so backups and both databases hold the whole record."""

    __tablename__ = "trace_attachments"

    id: Mapped[IntPk]
    event_id: Mapped[int] = mapped_column(ForeignKey("trace_events.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[Created]

    @property
    def download_name(self) -> str:
        """The name it downloads under: as uploaded, with the extension of its type."""
        return download_name(self.filename, self.content_type)


# What the trace record keeps the registry from deleting (registry/hooks.py): declared with the
# models, so wherever lots and events exist the registry knows of them.
registry_hooks.refuse_delete_while_referred(
    Product,
    Lot.product_id,
    "Sản phẩm đã có lô hàng trong hồ sơ truy xuất; lịch sử được giữ lại, không thể xóa.",
    "The product has lots in the traceability record; its history is kept.",
)
registry_hooks.refuse_delete_while_referred(
    RawMaterialArea,
    TraceEvent.area_id,
    "Vùng nguyên liệu đã có sự kiện truy xuất (thu hoạch); lịch sử được giữ lại.",
    "The area has traceability events (harvests); its history is kept.",
)

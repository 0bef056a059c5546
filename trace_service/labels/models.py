from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace_service.certificates.models import Certificate
from trace_service.db import Base, Created, IntPk, UtcDateTime, value_enum
from trace_service.registry.models import Producer, Product
from trace_service.trace.models import Lot, TraceEvent

MAX_RUN_LABELS = 100_000


class RunStatus(StrEnum):
    QUEUED = "queued"  # labels issued (serials, signatures), files not yet built
    BUILDING = "building"  # a builder holds the lease and draws the files
    READY = "ready"
    FAILED = "failed"  # can be built again: the labels stay, no new serials


class PrintRun(Base):
    """An order of OCOP stamps for one lot of a certified product.

    The claims every label of the run signs (star, certificate, valid-until, key) are kept
    on the run, so each label row only needs its serial and signature.
    """

    __tablename__ = "print_runs"
    __owner__: ClassVar[tuple[str, ...]] = ("producer_id",)  # auth/scoping.py
    __table_args__ = (
        UniqueConstraint("producer_id", "idempotency_key"),
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_RUN_LABELS}", name="quantity_range"),
    )

    id: Mapped[IntPk]
    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    # The packing event that made the lot: labels join the traceability record there.
    packing_event_id: Mapped[int | None] = mapped_column(ForeignKey("trace_events.id"), index=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    star: Mapped[int]
    valid_until: Mapped[date]
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot_code: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]
    kid: Mapped[str] = mapped_column(String(11))
    base_url: Mapped[str] = mapped_column(String(255))
    payload_version: Mapped[int]
    qr_version: Mapped[int]
    scratch: Mapped[bool] = mapped_column(default=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    request_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[RunStatus] = mapped_column(value_enum(RunStatus, 16), default=RunStatus.QUEUED)
    labels_drawn: Mapped[int] = mapped_column(default=0)
    pages: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[Created]
    built_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    producer: Mapped[Producer] = relationship()
    product: Mapped[Product] = relationship()
    lot: Mapped[Lot] = relationship()
    certificate: Mapped[Certificate] = relationship()
    packing_event: Mapped[TraceEvent | None] = relationship()


class Label(Base):
    """One stamp: a serial unique across the database and its Ed25519 signature."""

    __tablename__ = "labels"
    __owner__: ClassVar[tuple[str, ...]] = ("run", "producer_id")  # auth/scoping.py
    __table_args__ = (
        UniqueConstraint("run_id", "seq"),  # also the index that reads a run in order
    )

    id: Mapped[IntPk]
    run_id: Mapped[int] = mapped_column(ForeignKey("print_runs.id"))
    seq: Mapped[int]  # 1..quantity: the order on the sheet
    serial: Mapped[str] = mapped_column(String(15), unique=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    scratch_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))

    run: Mapped[PrintRun] = relationship()

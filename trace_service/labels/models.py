from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from trace_service.certificates.models import Certificate
from trace_service.db import Base, BigId, Created, IntPk, UtcDateTime, value_enum
from trace_service.errors import field_error
from trace_service.registry.models import Producer, Product
from trace_service.trace import hooks as trace_hooks
from trace_service.trace.models import Lot, TraceEvent
from trace_service.web.formatting import vn_number

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
    # The sticker stock and where the run sits on it (migration 0011): a label_templates
    # sheet, the first free position on the first sheet, and the producer's print offset
    # when ordered (tenths of a millimetre, + right and + down), kept so that a file drawn
    # again is the same file.
    stock: Mapped[str] = mapped_column(String(32), default="a4_sheet", server_default="a4_sheet")
    start_position: Mapped[int] = mapped_column(default=1, server_default="1")
    offset_x_tenth_mm: Mapped[int] = mapped_column(default=0, server_default="0")
    offset_y_tenth_mm: Mapped[int] = mapped_column(default=0, server_default="0")
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
    # Absent until the stamp is first scanned, voided or its scratch code entered.
    state: Mapped[LabelState | None] = relationship(viewonly=True)


class LabelState(Base):
    """What has happened to one stamp since printing, kept beside it in bounded space so
    that a page view reads and writes one row, however often the stamp was scanned.

    ``recent_clients``: the last ``LABEL_COPY_RECENT`` distinct clients that viewed the page,
    as ``[salted hash, ISO time]`` pairs, newest last (labels/scans.py).
    """

    __tablename__ = "label_states"
    __owner__: ClassVar[tuple[str, ...]] = ("label", "run", "producer_id")  # auth/scoping.py

    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id"), primary_key=True)
    scan_count: Mapped[int] = mapped_column(default=0)
    # Views that count towards the copy rule: a client's reloads within REPEAT_WINDOW count
    # once (labels/scans.py), so one visitor reloading cannot flag a genuine stamp.
    counted_views: Mapped[int] = mapped_column(default=0, server_default="0")
    first_scanned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_scanned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    recent_clients: Mapped[list[Any]] = mapped_column(default=list)
    flagged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    flag_reason: Mapped[str | None] = mapped_column(String(16))  # "scans" | "clients"
    # The office's last clearing of a flag (labels/scans.py): the counts stay; the copy rule
    # counts only views after it (``counted_views - cleared_views``, clients since then).
    flag_cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    flag_cleared_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    flag_clear_reason: Mapped[str | None] = mapped_column(Text)
    cleared_views: Mapped[int] = mapped_column(default=0, server_default="0")
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scratch_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    scratch_failures: Mapped[int] = mapped_column(default=0)

    label: Mapped[Label] = relationship()


class PrintSettings(Base):
    """A producer's print calibration: how far their printer puts stamps off the labels,
    in tenths of a millimetre (+ right, + down), copied into each run they order."""

    __tablename__ = "print_settings"
    __owner__: ClassVar[tuple[str, ...]] = ("producer_id",)
    __table_args__ = (
        CheckConstraint("offset_x_tenth_mm BETWEEN -100 AND 100", name="offset_x_range"),
        CheckConstraint("offset_y_tenth_mm BETWEEN -100 AND 100", name="offset_y_range"),
    )

    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id"), primary_key=True)
    offset_x_tenth_mm: Mapped[int] = mapped_column(default=0)
    offset_y_tenth_mm: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# The scan log: append-only, never updated, read only by the office's analyses and pruned
# by age (``flask labels prune-scans``). A plain table (no primary key, no ORM mapping): on
# PostgreSQL it is partitioned by month (migration 0008), which a key would have to include.
label_scans = Table(
    "label_scans",
    Base.metadata,
    Column("label_id", BigId, ForeignKey("labels.id"), nullable=False),
    Column("scanned_at", UtcDateTime(), nullable=False),
    Column("client_hash", String(32), nullable=False),  # HMAC of the address, salt by month
    Column("device", String(8), nullable=False),  # phone | tablet | desktop | bot | other
    Column("source", String(8), nullable=False),  # scan | typed
    Index("ix_label_scans_label_id_scanned_at", "label_id", "scanned_at"),
    Index("ix_label_scans_scanned_at", "scanned_at"),
)


# The generation of what label pages show beyond a stamp's own row (labels/page_cache.py):
# one row per name, set to a fresh random number by every change a page could show, and
# read in the same query as the label, so every worker sees an invalidation at once.
page_versions = Table(
    "page_versions",
    Base.metadata,
    Column("name", String(32), primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# A print run's page facts as one worker composed them, for every other worker and instance
# (labels/page_cache.py): kept with the page version and the day they were composed for, and
# used only while both are still the current ones. Read when a worker's own cache misses.
run_page_facts = Table(
    "run_page_facts",
    Base.metadata,
    Column("run_id", BigId, ForeignKey("print_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("day", Date, nullable=False),
    Column("body", Text, nullable=False),  # JSON (labels/facts_codec.py)
)


def stamps_ordered(session: Session, lot_id: int) -> int:
    """Stamps a lot's units carry, over all its print runs (one per packed unit at most):
    those ordered, less those voided (a spoiled or lost stamp is on no unit, and a new one
    may be printed in its place)."""
    ordered = session.scalar(
        select(func.coalesce(func.sum(PrintRun.quantity), 0)).where(PrintRun.lot_id == lot_id)
    )
    voided = session.scalar(
        select(func.count())
        .select_from(LabelState)
        .join(Label, Label.id == LabelState.label_id)
        .join(PrintRun, PrintRun.id == Label.run_id)
        .where(PrintRun.lot_id == lot_id, LabelState.voided_at.is_not(None))
    )
    return int(ordered or 0) - int(voided or 0)


# What labels add to the trace record (trace/hooks.py), declared with the models, so wherever
# print runs exist every trace shows them and a lot's units stay enough for its stamps.


@trace_hooks.add_to_trace
def print_runs_on(session: Session, lot_ids: Select[Any]) -> Mapping[str, Any]:
    """The print runs on the traced lots, and how many labels they hold (what a recall must
    reach)."""
    runs = list(
        session.scalars(select(PrintRun).where(PrintRun.lot_id.in_(lot_ids)).order_by(PrintRun.id))
    )
    return {"print_runs": runs, "labels": sum(run.quantity for run in runs)}


@trace_hooks.check_unit_counts
def not_below_stamps_ordered(session: Session, lot: Lot, unit_count: int) -> None:
    ordered = stamps_ordered(session, lot.id)
    if unit_count < ordered:
        raise field_error(
            "unit_count",
            vi=f"Đã đặt {vn_number(ordered)} tem cho lô {lot.code}; số đơn vị không thể ít hơn.",
            en=f"{ordered} stamps were ordered for lot {lot.code} already; it cannot hold fewer "
            "units than that.",
        )

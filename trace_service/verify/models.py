"""Field inspections: what an inspector found when checking a stamp or a product in a shop,
recorded on the device (often with no network) and sent later, each exactly once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace_service.db import Base, Created, IntPk, UtcDateTime, value_enum
from trace_service.labels import page_cache


class InspectionResult(StrEnum):
    PASSED = "passed"  # nothing wrong found
    DOUBTFUL = "doubtful"  # to look into (a sample taken, an amber verdict)
    FAILED = "failed"  # a fake, expired or recalled product on sale


class Proposal(StrEnum):
    REVOCATION = "revocation"  # of the product's certificate
    RECALL = "recall"  # of the lot


class Decision(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class FieldInspection(Base):
    __tablename__ = "field_inspections"
    __table_args__ = (
        # The id the device made: a retried send finds the record it already made.
        UniqueConstraint("inspector_id", "client_id"),
        CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL)", name="position_whole_or_absent"
        ),
        CheckConstraint("proposal IS NULL OR result = 'failed'", name="proposal_when_failed"),
        CheckConstraint("decision IS NULL OR proposal IS NOT NULL", name="decision_of_proposal"),
    )

    id: Mapped[IntPk]
    client_id: Mapped[str] = mapped_column(String(64))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    serial: Mapped[str | None] = mapped_column(String(15), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    place: Mapped[str | None] = mapped_column(String(255))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    result: Mapped[InspectionResult] = mapped_column(value_enum(InspectionResult, 16))
    # The stamp's verdict as the device's screen showed it (its headline: voided, recalled,
    # genuine...; from older devices, the signature's verdict alone), and the service's own
    # on the text the device scanned, judged when the record arrives for the day of the check.
    verdict: Mapped[str | None] = mapped_column(String(32))
    service_verdict: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    sample_taken: Mapped[bool] = mapped_column(Boolean, default=False)
    # A failed check may propose a revocation or a recall; the office decides, with a reason
    # (then revokes or recalls through their own procedures, with their decision numbers).
    proposal: Mapped[Proposal | None] = mapped_column(value_enum(Proposal, 16))
    decision: Mapped[Decision | None] = mapped_column(value_enum(Decision, 16))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[Created]
    # The lot of the stamp checked (found by its serial when recorded): what a recall
    # proposal recalls and where the inspection shows on the trace.
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)
    # The laboratory's answer on the sample, recorded later.
    lab_passed: Mapped[bool | None] = mapped_column(Boolean)
    lab_result: Mapped[str | None] = mapped_column(Text)
    lab_recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    # Their ids and sizes with the inspection (a page of them in one more query); the
    # bytes only when a photo is asked for.
    photos: Mapped[list[InspectionPhoto]] = relationship(
        order_by="InspectionPhoto.id", lazy="selectin", viewonly=True
    )


class InspectionPhoto(Base):
    """A photo taken at an inspection, as we re-encoded it (JPEG, size capped): never the
    bytes the device sent, which may carry anything (other formats, location tags)."""

    __tablename__ = "inspection_photos"

    id: Mapped[IntPk]
    inspection_id: Mapped[int] = mapped_column(ForeignKey("field_inspections.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[Created]


class InspectorDevice(Base):
    """A phone or tablet an inspector signed in on: its own token, limited to checking stamps
    and recording inspections; the office lists and revokes them."""

    __tablename__ = "inspector_devices"

    id: Mapped[IntPk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[Created]
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# A lot's label pages say when its stamps passed a check in the field (labels/page_facts.py):
# an inspection of no lot, or one that did not pass, changes no page.
page_cache.watch(
    FieldInspection,
    lambda inspection: (
        inspection.lot_id is not None and inspection.result == InspectionResult.PASSED
    ),
)

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace_service.certificates.rules import CouncilLevel, valid_until
from trace_service.db import Base, Created, IntPk, UtcDateTime, utcnow, value_enum
from trace_service.registry.models import AdministrativeUnit, Product


class Evaluation(Base):
    """A council's rating of a product (Decision 148: parts A ≤ 40, B ≤ 25, C ≤ 35)."""

    __tablename__ = "evaluations"
    __owner__: ClassVar[tuple[str, ...]] = ("product", "producer_id")  # auth/scoping.py
    __table_args__ = (
        CheckConstraint("score_a BETWEEN 0 AND 40", name="score_a_range"),
        CheckConstraint("score_b BETWEEN 0 AND 25", name="score_b_range"),
        CheckConstraint("score_c BETWEEN 0 AND 35", name="score_c_range"),
        CheckConstraint("total = score_a + score_b + score_c", name="total_adds_up"),
    )

    id: Mapped[IntPk]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    council_level: Mapped[CouncilLevel] = mapped_column(value_enum(CouncilLevel, 16))
    # The unit whose council rated it, as it was then (none for the central council).
    council_unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    evaluated_on: Mapped[date]
    score_a: Mapped[int]
    score_b: Mapped[int]
    score_c: Mapped[int]
    total: Mapped[int]
    mandatory_met: Mapped[bool]
    # Fixed when the council decides; None means "not certified" (a mandatory criterion failed).
    star: Mapped[int | None]
    reference: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[Created]

    product: Mapped[Product] = relationship()
    council_unit: Mapped[AdministrativeUnit | None] = relationship()


class Certificate(Base):
    """Giấy chứng nhận sản phẩm OCOP. Its status is derived from its dates, never stored."""

    __tablename__ = "certificates"
    __owner__: ClassVar[tuple[str, ...]] = ("product", "producer_id")  # auth/scoping.py
    __table_args__ = (CheckConstraint("star BETWEEN 3 AND 5", name="certified_star"),)

    id: Mapped[IntPk]
    number: Mapped[str] = mapped_column(String(64), unique=True)
    decision_number: Mapped[str] = mapped_column(String(64))
    decision_date: Mapped[date]
    issuing_unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    # The authority as printed on the certificate when issued, e.g. "UBND huyện Đắk Mil".
    issuing_authority: Mapped[str] = mapped_column(String(255))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    # The product's name as certified, kept if the product record changes later.
    product_name: Mapped[str] = mapped_column(String(255))
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    star: Mapped[int]
    issue_date: Mapped[date]
    valid_until: Mapped[date] = mapped_column(index=True)
    revoked_on: Mapped[date | None]
    revocation_decision: Mapped[str | None] = mapped_column(String(64))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), unique=True)
    superseded_on: Mapped[date | None]
    created_at: Mapped[Created]

    @property
    def validity_counted_from(self) -> date:
        """The day its 36 months count from: the decision's, when they were counted so
        (``rules.ValidityFrom``), else the issue's."""
        decided = self.decision_date
        if decided < self.issue_date and valid_until(decided) == self.valid_until:
            return decided
        return self.issue_date

    product: Mapped[Product] = relationship()
    evaluation: Mapped[Evaluation | None] = relationship()
    issuing_unit: Mapped[AdministrativeUnit | None] = relationship()
    superseded_by: Mapped[Certificate | None] = relationship(remote_side="Certificate.id")
    notices: Mapped[list[ExpiryNotice]] = relationship(
        back_populates="certificate", order_by="ExpiryNotice.threshold_days.desc()"
    )


class ExpiryNotice(Base):
    """The outbox: one row per certificate per threshold crossed (90, 60, 30, 0 days).

    The unique constraint is what makes a sweep exactly-once: a second sweep, at the same time
    or after a crash, inserts nothing that is already there.
    """

    __tablename__ = "expiry_notices"
    __owner__: ClassVar[tuple[str, ...]] = (
        "certificate",
        "product",
        "producer_id",
    )  # auth/scoping.py
    __table_args__ = (UniqueConstraint("certificate_id", "threshold_days"),)

    id: Mapped[IntPk]
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"))
    threshold_days: Mapped[int]
    valid_until: Mapped[date]
    # The day the sweep ran for: the notice's date, from which its days are counted.
    swept_on: Mapped[date]
    # Indexed: a sweep finds the notices it has just written by their creation time.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)

    certificate: Mapped[Certificate] = relationship(back_populates="notices")
    deliveries: Mapped[list[NoticeDelivery]] = relationship(
        back_populates="notice", order_by="NoticeDelivery.id"
    )


class NoticeDelivery(Base):
    """One channel's delivery of a notice (e-mail to the producer, webhook to the province)."""

    __tablename__ = "notice_deliveries"
    __owner__: ClassVar[tuple[str, ...]] = (
        "notice",
        "certificate",
        "product",
        "producer_id",
    )
    __table_args__ = (UniqueConstraint("notice_id", "channel"),)

    id: Mapped[IntPk]
    notice_id: Mapped[int] = mapped_column(ForeignKey("expiry_notices.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # A worker leases a delivery before sending, so two workers never send the same one.
    leased_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))

    notice: Mapped[ExpiryNotice] = relationship(back_populates="deliveries")
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(order_by="DeliveryAttempt.id")


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[IntPk]
    delivery_id: Mapped[int] = mapped_column(ForeignKey("notice_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ok: Mapped[bool]
    detail: Mapped[str] = mapped_column(String(500))

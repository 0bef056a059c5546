from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, ClassVar

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace_service.certificates.rules import CouncilLevel, band_of, valid_until
from trace_service.db import Base, Created, IntPk, UtcDateTime, utcnow, value_enum
from trace_service.registry.models import AdministrativeUnit, Product

# A council's scores are its members' averages, published to one decimal place (69.7).
Score = Annotated[Decimal, mapped_column(Numeric(4, 1))]


class Evaluation(Base):
    """A council's rating of a product, as councils publish it: the average of its members'
    scores to one decimal place, parts A, B, C within the caps of the decision of the day
    (1048: 35/25/40; 148 and 1489: 40/25/35, ``checks.scores_within``), and how far up the
    stars the mandatory criteria are met."""

    __tablename__ = "evaluations"
    __owner__: ClassVar[tuple[str, ...]] = ("product", "producer_id")  # auth/scoping.py
    __table_args__ = (
        # The widest caps of any period; each period's own are checked by the service.
        CheckConstraint("score_a BETWEEN 0 AND 40", name="score_a_range"),
        CheckConstraint("score_b BETWEEN 0 AND 25", name="score_b_range"),
        CheckConstraint("score_c BETWEEN 0 AND 40", name="score_c_range"),
        CheckConstraint("total BETWEEN 0 AND 100", name="total_range"),
        # Each average rounded to 0.1 on its own: the total may differ from the parts' sum by
        # 0.1 (0.15 leaves room for SQLite's binary floats).
        CheckConstraint(
            "total BETWEEN score_a + score_b + score_c - 0.15"
            " AND score_a + score_b + score_c + 0.15",
            name="total_adds_up",
        ),
        CheckConstraint("mandatory_met_through BETWEEN 0 AND 5", name="mandatory_range"),
    )

    id: Mapped[IntPk]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    council_level: Mapped[CouncilLevel] = mapped_column(value_enum(CouncilLevel, 16))
    # The unit whose council rated it, as it was then (none for the central council).
    council_unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    evaluated_on: Mapped[date]
    score_a: Mapped[Score]
    score_b: Mapped[Score]
    score_c: Mapped[Score]
    total: Mapped[Score]
    # The highest star whose mandatory criteria, and every lower star's, are all met (0-5,
    # ``rules.met_through``): 3 for a product failing a 4★ criterion.
    mandatory_met_through: Mapped[int] = mapped_column(SmallInteger)
    # Fixed when the council decides (``rules.star_of_council``); None: not certified.
    star: Mapped[int | None]
    reference: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[Created]

    product: Mapped[Product] = relationship()
    council_unit: Mapped[AdministrativeUnit | None] = relationship()

    @property
    def mandatory_met(self) -> bool:
        """The API's older flag: every mandatory criterion up to the band the total reaches
        is met, so the star is the band's."""
        return self.mandatory_met_through >= band_of(self.total)


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


class Dossier(Base):
    """A product's OCOP dossier for one year's evaluation round, as the province's plan counts
    them (Kế hoạch 93/KH-UBND, 2025): registered as a candidate for a star, then submitted to
    the council of that star, each on its day, so the plan board can set them against its
    deadlines."""

    __tablename__ = "ocop_dossiers"
    __owner__: ClassVar[tuple[str, ...]] = ("product", "producer_id")  # auth/scoping.py
    __table_args__ = (
        UniqueConstraint("product_id", "year"),
        CheckConstraint("target_star BETWEEN 3 AND 5", name="target_star"),
        CheckConstraint(
            "submitted_on IS NULL OR submitted_on >= registered_on", name="submitted_in_order"
        ),
    )

    id: Mapped[IntPk]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    year: Mapped[int] = mapped_column(index=True)
    # The star the product is entered for (3★, 4★, or a national 5★ dossier).
    target_star: Mapped[int]
    registered_on: Mapped[date]
    # The day the dossier reached the council of its star; None: not yet submitted.
    submitted_on: Mapped[date | None]
    reference: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[Created]

    product: Mapped[Product] = relationship()


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

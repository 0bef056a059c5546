"""A consumer's report to the province office.

Kept apart from the audit log (which records that a report came and who closed it): the
report is the office's case file. A report names the label, product and producer its code
resolved to when it came, so a producer can read reports about its own products.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trace_service.db import Base, Created, IntPk, UtcDateTime, value_enum


class ReportStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Problem(StrEnum):
    FAKE = "fake"  # the stamp or the product looks fake
    EXPIRED = "expired"  # sold though expired, recalled or no longer certified
    QUALITY = "quality"
    WRONG_INFO = "wrong_info"  # the stamp or its page does not match the product
    OTHER = "other"


class ConsumerReport(Base):
    __tablename__ = "consumer_reports"
    __owner__: ClassVar[tuple[str, ...]] = ("producer_id",)  # auth/scoping.py

    id: Mapped[IntPk]
    code: Mapped[str] = mapped_column(String(64))  # as the page showed it, or as typed
    label_id: Mapped[int | None] = mapped_column(ForeignKey("labels.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("producers.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(32))
    problem: Mapped[Problem] = mapped_column(value_enum(Problem, 16))
    details: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(200))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_type: Mapped[str | None] = mapped_column(String(64))
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ReportStatus] = mapped_column(
        value_enum(ReportStatus, 8), default=ReportStatus.OPEN, index=True
    )
    created_at: Mapped[Created] = mapped_column(index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    close_note: Mapped[str | None] = mapped_column(Text)

    @property
    def has_photo(self) -> bool:
        return self.photo_sha256 is not None

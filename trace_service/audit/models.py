from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from trace_service.db import Base, Created, IntPk


class AuditEvent(Base):
    """One state change. Rows are only ever inserted; ``hash`` chains each to the one before."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[IntPk]
    occurred_at: Mapped[Created]
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(80))
    tag: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def chained_fields(self) -> dict[str, Any]:
        """What the hash covers: everything but the row id, which the database assigns."""
        occurred: datetime = self.occurred_at
        return {
            "occurred_at": occurred.isoformat(timespec="microseconds"),
            "actor_user_id": self.actor_user_id,
            "actor": self.actor,
            "tag": self.tag,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "details": self.details,
            "prev_hash": self.prev_hash,
        }

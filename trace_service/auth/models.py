from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace_service.db import Base, Created, IntPk, Updated, UtcDateTime, value_enum
from trace_service.principal import Role

if TYPE_CHECKING:  # the registry is a layer above: named here, never imported at run time
    from trace_service.registry.models import Producer


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # A producer account is bound to exactly one producer; other roles to none.
        CheckConstraint(
            "(role = 'producer' AND producer_id IS NOT NULL)"
            " OR (role <> 'producer' AND producer_id IS NULL)",
            name="producer_binding",
        ),
    )

    id: Mapped[IntPk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(value_enum(Role, 16))
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("producers.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[Created]
    updated_at: Mapped[Updated]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")
    # Resolved by name when the mappers are configured (registry.models defines Producer).
    producer: Mapped[Producer | None] = relationship("Producer")


class ApiToken(Base):
    """A personal API token. Only its SHA-256 is stored; the token is shown once, at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[IntPk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so a person can tell their tokens apart without the secret.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[Created]
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The token this one was made with (``POST /auth/tokens`` with a bearer token), and the
    # first token of that line, which was made with a password or the command line (None:
    # this token is the first of its family). Revoking a token revokes every token made from
    # it, its children's children too, in one statement (auth/services.py: revoke_token).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), index=True)

    user: Mapped[User] = relationship(back_populates="tokens")

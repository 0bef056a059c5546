"""Who is acting: the authenticated user of a request, a CLI operator, or the anonymous public."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # the province OCOP office
    PRODUCER = "producer"  # bound to one producer (chủ thể OCOP)
    INSPECTOR = "inspector"  # reads everything, records inspections


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    name: str
    role: Role | None  # None: anonymous
    producer_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role is None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_producer(self) -> bool:
        return self.role is Role.PRODUCER

    def owns(self, producer_id: int | None) -> bool:
        return self.is_producer and producer_id is not None and producer_id == self.producer_id


ANONYMOUS = Principal(user_id=None, name="anonymous", role=None)


def system_principal(name: str = "system") -> Principal:
    """The actor for CLI commands and scheduled jobs: acts with the province office's rights."""
    return Principal(user_id=None, name=name, role=Role.ADMIN)

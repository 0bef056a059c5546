"""Keeping the scan log: rows older than the retention go; on PostgreSQL, months ahead get
their partitions and months wholly past the retention are dropped at once (migration 0008
made the parent, two months and a default partition)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from trace_service.labels.models import label_scans

PARTITIONS = "label_scan_months"  # the schema of the partitions
_MONTH = re.compile(r"^label_scans_(\d{4})(\d{2})$")
MONTHS_AHEAD = 2


@dataclass(frozen=True)
class Pruned:
    deleted: int
    dropped: list[str]
    created: list[str]


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _create_months(session: Session, now: datetime) -> list[str]:
    created = []
    first = now.date().replace(day=1)
    for _ in range(MONTHS_AHEAD + 1):
        name = f"label_scans_{first:%Y%m}"
        exists = session.scalar(
            text("SELECT to_regclass(:name) IS NOT NULL"), {"name": f"{PARTITIONS}.{name}"}
        )
        if not exists:
            session.execute(
                text(
                    f"CREATE TABLE {PARTITIONS}.{name} PARTITION OF label_scans FOR VALUES "
                    f"FROM ('{first.isoformat()} 00:00+00') "
                    f"TO ('{_next_month(first).isoformat()} 00:00+00')"
                )
            )
            created.append(name)
        first = _next_month(first)
    return created


def _drop_months(session: Session, cutoff: datetime) -> list[str]:
    children = session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'label_scans'"
        )
    )
    dropped = []
    for name in list(children):
        match = _MONTH.match(name)
        if match and _next_month(date(int(match[1]), int(match[2]), 1)) <= cutoff.date():
            session.execute(text(f"DROP TABLE {PARTITIONS}.{name}"))
            dropped.append(name)
    return dropped


def prune_scans(session: Session, now: datetime, retention_days: int) -> Pruned:
    """Delete the scan log's rows older than ``retention_days`` (the counters beside each
    stamp stay), and on PostgreSQL keep the monthly partitions in step."""
    cutoff = now - timedelta(days=retention_days)
    created: list[str] = []
    dropped: list[str] = []
    if session.get_bind().dialect.name == "postgresql":
        try:
            with session.begin_nested():
                created = _create_months(session, now)
        except DBAPIError:
            # Rows of that month already sit in the default partition: leave them there.
            created = []
        dropped = _drop_months(session, cutoff)
    result = session.execute(delete(label_scans).where(label_scans.c.scanned_at < cutoff))
    return Pruned(int(result.rowcount or 0), dropped, created)  # type: ignore[attr-defined]

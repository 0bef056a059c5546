"""How often a producer's stamps are scanned, week by week (Vietnam's weeks, Monday first),
from the scan log; scoped like every label query (a producer counts their own)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from trace_service.auth.scoping import scoped
from trace_service.clock import VIETNAM
from trace_service.labels.models import Label, label_scans
from trace_service.principal import Principal


def _vn_day(dialect: str) -> Any:
    """The scan's day in Vietnam (UTC+7, no daylight saving) as the database writes it."""
    if dialect == "postgresql":
        return func.date(func.timezone("Asia/Ho_Chi_Minh", label_scans.c.scanned_at))
    return func.date(label_scans.c.scanned_at, literal_column("'+7 hours'"))


def weekly_scans(
    session: Session, actor: Principal, today: date, weeks: int = 12
) -> list[tuple[date, int]]:
    """``(Monday, scans)`` for the ``weeks`` weeks up to the one of ``today``, oldest first,
    weeks without a scan included."""
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    since = datetime.combine(first, time(), tzinfo=VIETNAM)  # Monday 00:00 in Vietnam
    day = _vn_day(session.get_bind().dialect.name)
    stmt = (
        select(day.label("day"), func.count().label("scans"))
        .select_from(label_scans.join(Label, Label.id == label_scans.c.label_id))
        .where(label_scans.c.scanned_at >= since)
        .group_by(day)
    )
    counts = {first + timedelta(weeks=i): 0 for i in range(weeks)}
    for row in session.execute(scoped(stmt, actor, Label)):
        seen = row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day))
        monday = seen - timedelta(days=seen.weekday())
        if monday in counts:
            counts[monday] += int(row.scans)
    return sorted(counts.items())

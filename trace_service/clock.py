"""Dates as the people using the service count them: Vietnam's civil date (UTC+7, no DST)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

VIETNAM = timezone(timedelta(hours=7), "ICT")


def today_vn(now: datetime | None = None) -> date:
    return (now or datetime.now(VIETNAM)).astimezone(VIETNAM).date()


def vn_date(day: date) -> str:
    """A date as people in Vietnam write it on paper and pages: dd/mm/yyyy."""
    return day.strftime("%d/%m/%Y")

"""Dates, times and numbers on pages as people in Vietnam write them: 03/12/2026, 07:30 in
Vietnam time (never UTC), 1.234,5. The API keeps ISO 8601."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask

from trace_service.clock import VIETNAM, vn_date
from trace_service.web.i18n import current


def vn_datetime(moment: datetime) -> str:
    """``07:30 03/12/2026`` in Vietnam time."""
    local = moment.astimezone(VIETNAM)
    return f"{local:%H:%M} {vn_date(local.date())}"


def vn_day(moment: date | datetime) -> str:
    """A date, or the Vietnam-time date of a moment: a recall at 00:30 +07:00 on 06/11 is
    06/11, although it is still 05/11 in UTC."""
    if isinstance(moment, datetime):
        return vn_date(moment.astimezone(VIETNAM).date())
    return vn_date(moment)


def vn_time(moment: datetime) -> str:
    """``07:30``, the Vietnam-time clock of a moment."""
    return f"{moment.astimezone(VIETNAM):%H:%M}"


def vn_number(value: int | float | Decimal, decimals: int = 0) -> str:
    """``1.234,5``: dots between thousands, a comma before decimals."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def vn_amount(value: int | float | Decimal) -> str:
    """An amount as written here, without trailing zeros, to the gram of a kilogram at most:
    1.250, 12,5, 0,25, 10.000 (services' messages in Vietnamese too: ``vn_number``'s
    separators, where English keeps 1,250.5)."""
    text = vn_number(value, 3)
    return text.rstrip("0").rstrip(",") if "," in text else text


def points(value: int | float | Decimal) -> str:
    """A council's score as councils write it, one decimal at most: 75, 69,7 (69.7 in
    English pages)."""
    text = f"{Decimal(str(value)):.1f}".removesuffix(".0")
    return text.replace(".", ",") if current() == "vi" else text


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        vn_date=vn_day,
        vn_datetime=vn_datetime,
        vn_time=vn_time,
        vn_number=vn_number,
        points=points,
    )

"""The rules of OCOP rating and certification, as pure functions (no database, no clock).

Sources: Decision 148/QĐ-TTg (24 Feb 2023) for the scores and star bands; Decision
1489/QĐ-TTg (6 Jul 2025) for who certifies; the Civil Code 2015, Articles 147–148, for
counting a period in months.
"""

from __future__ import annotations

import calendar
from datetime import date
from enum import StrEnum

MAX_A, MAX_B, MAX_C = 40, 25, 35  # product & community strength, marketing, quality
VALIDITY_MONTHS = 36
CERTIFIED_MIN_STAR = 3
# Decision 1489/QĐ-TTg moved 3★ from district to province councils.
RULE_CHANGE_1489 = date(2025, 7, 6)


class CouncilLevel(StrEnum):
    DISTRICT = "district"
    PROVINCE = "province"
    CENTRAL = "central"


COUNCIL_LEVEL_VI = {
    CouncilLevel.DISTRICT: "Hội đồng cấp huyện",
    CouncilLevel.PROVINCE: "Hội đồng cấp tỉnh",
    CouncilLevel.CENTRAL: "Hội đồng cấp trung ương",
}


def star_for(total: int, mandatory_met: bool) -> int | None:
    """Star of a total score (1★ < 30, 2★ 30–49, 3★ 50–69, 4★ 70–89, 5★ 90–100).

    ``None`` means "not certified": a failed mandatory criterion refuses the rank whatever
    the points.
    """
    if not 0 <= total <= MAX_A + MAX_B + MAX_C:
        raise ValueError(f"total {total} is outside 0..100")
    if not mandatory_met:
        return None
    for floor, star in ((90, 5), (70, 4), (50, 3), (30, 2)):
        if total >= floor:
            return star
    return 1


def stars_council_may_certify(level: CouncilLevel, on: date) -> frozenset[int]:
    """The stars a council of ``level`` could certify on day ``on``."""
    if on < RULE_CHANGE_1489:
        allowed = {
            CouncilLevel.DISTRICT: {3},
            CouncilLevel.PROVINCE: {4},
            CouncilLevel.CENTRAL: {5},
        }
    else:
        allowed = {
            CouncilLevel.DISTRICT: set(),
            CouncilLevel.PROVINCE: {3, 4},
            CouncilLevel.CENTRAL: {5},
        }
    return frozenset(allowed[level])


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, or the last day of that month if it has no such day
    (Civil Code 2015, Art. 148): 29 Feb 2024 + 36 months = 28 Feb 2027."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def valid_until(issue_date: date) -> date:
    """Last day a certificate issued on ``issue_date`` is valid, inclusive.

    The 36 months start the day after issue (Art. 147) and end at the end of the
    corresponding day of the last month (Art. 148): issued 15 Mar 2022, valid through
    15 Mar 2025; issued 29 Feb 2024, valid through 28 Feb 2027; issued 31 Aug 2023, valid
    through 31 Aug 2026.
    """
    return add_months(issue_date, VALIDITY_MONTHS)


class Status(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


STATUS_VI = {
    Status.VALID: "Còn hiệu lực",
    Status.EXPIRING: "Sắp hết hạn",
    Status.EXPIRED: "Hết hiệu lực",
    Status.REVOKED: "Đã thu hồi",
    Status.SUPERSEDED: "Đã được thay thế",
}


def status_on(
    day: date,
    *,
    valid_until: date,
    revoked_on: date | None,
    superseded_on: date | None,
    expiring_window_days: int,
) -> Status:
    """A certificate's status on ``day``, derived from its dates; never stored."""
    if revoked_on is not None and revoked_on <= day:
        return Status.REVOKED
    if superseded_on is not None and superseded_on <= day:
        return Status.SUPERSEDED
    if day > valid_until:
        return Status.EXPIRED
    if (valid_until - day).days <= expiring_window_days:
        return Status.EXPIRING
    return Status.VALID

"""The rules of OCOP rating and certification, as data and pure functions (no database, no
clock).

Sources: Decision 1048/QĐ-TTg (2019, until 23 Feb 2023), Decision 148/QĐ-TTg (24 Feb 2023) and
Decision 1489/QĐ-TTg (6 Jul 2025) for the score parts, the star bands and who certifies; the
Civil Code 2015, Articles 147–148, for counting a period in months.

Each rule is a table that the code reads, so that a new period or a new status is a row:

- ``STAR_BANDS``: the lowest total of each star;
- ``PERIODS``: each period's score parts, who evaluates and who certifies which stars, from
  which day to which (``period_on``), the 1–5 Jul 2025 gap included;
- ``CENTRAL_AUTHORITIES``: the ministry that issues 5★ certificates, by date;
- ``STANDING``: a certificate's status on a day, from its dates. ``standing.py`` derives the
  SQL filters from the same table, so a list, a count and a label agree with ``status_on``;
- ``STATUS_TEXT``: each status in Vietnamese and English, for the API and the label page.
"""

from __future__ import annotations

import calendar
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum, StrEnum
from typing import Any, Literal

MAX_TOTAL = 100
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


# -- stars ------------------------------------------------------------------------------------

# Decision 148/QĐ-TTg: (star, lowest total), highest star first: 1★ < 30, 2★ 30–49,
# 3★ 50–69, 4★ 70–89, 5★ 90–100.
STAR_BANDS: tuple[tuple[int, int], ...] = ((5, 90), (4, 70), (3, 50), (2, 30), (1, 0))
MAX_STAR = STAR_BANDS[0][0]
CERTIFIED_STARS = frozenset(star for star, _ in STAR_BANDS if star >= CERTIFIED_MIN_STAR)


def star_floor(star: int) -> int:
    """The lowest total that earns ``star`` (70 for 4★)."""
    return dict(STAR_BANDS)[star]


def star_for(total: int | Decimal, mandatory_met: bool) -> int | None:
    """Star of a total score (1★ < 30, 2★ 30–49, 3★ 50–69, 4★ 70–89, 5★ 90–100) with one
    flag for every mandatory criterion (the API's older shape; ``star_of_council`` keeps
    them per star).

    ``None`` means "not certified": a failed mandatory criterion refuses the rank whatever
    the points.
    """
    if not 0 <= total <= MAX_TOTAL:
        raise ValueError(f"total {total} is outside 0..{MAX_TOTAL}")
    if not mandatory_met:
        return None
    return next(star for star, floor in STAR_BANDS if total >= floor)


def council_total(average: Decimal | float | str) -> Decimal:
    """A council's average total as councils publish it, to one decimal place, half up:
    69.67 → 69.7 (still 3★; rounding to a whole number would make it 70, 4★)."""
    return Decimal(str(average)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def met_through(unmet: Collection[int] = ()) -> int:
    """The highest star whose mandatory criteria, and those of every lower star, are all met,
    from the stars whose criteria the product fails: ``{4}`` → 3, ``()`` → 5, ``{1}`` → 0.
    Evaluations keep this number (``Evaluation.mandatory_met_through``)."""
    return min((star - 1 for star in unmet), default=MAX_STAR)


def star_of_council(average: Decimal | float | str, through: int) -> int | None:
    """The star of a council's average total when the mandatory criteria are met up to the
    star ``through`` (``met_through``): the highest band the total reaches whose mandatory
    criteria (and those of every lower star) are all met. A 75-point product failing a 4★
    criterion (``through`` 3) keeps 3★. ``None``: not even 1★'s are met."""
    total = council_total(average)
    if not 0 <= total <= MAX_TOTAL:
        raise ValueError(f"total {total} is outside 0..{MAX_TOTAL}")
    band = next(star for star, floor in STAR_BANDS if total >= floor)
    star = min(band, through)
    return star if star >= 1 else None


def star_with_criteria(average: Decimal | float | str, unmet: Collection[int] = ()) -> int | None:
    """``star_of_council`` from the stars whose mandatory criteria the product fails."""
    return star_of_council(average, met_through(unmet))


def band_of(total: Decimal | float | int) -> int:
    """The star band a total reaches, whatever the criteria."""
    return next(star for star, floor in STAR_BANDS if total >= floor)


# -- who certifies what, by period -------------------------------------------------------------


@dataclass(frozen=True)
class ScoreParts:
    """The most points of each part: A product & community strength, B marketing, C quality."""

    a: int
    b: int
    c: int

    @property
    def total(self) -> int:
        return self.a + self.b + self.c


@dataclass(frozen=True)
class RulePeriod:
    """The rules in force from ``starts`` to ``ends`` (inclusive; ``None``: still in force),
    by the day of the council's decision: its score parts, who evaluates, and who certifies
    (ranks and issues the certificate of) which star."""

    starts: date
    ends: date | None
    source: str  # the decision, as refusals quote it ("Quyết định 148/QĐ-TTg")
    source_en: str
    scores: ScoreParts
    council_stars: Mapping[CouncilLevel, frozenset[int]]
    evaluates_vi: str
    evaluates_en: str
    # Who certifies what, as refusals quote it.
    summary_vi: str
    summary_en: str

    def covers(self, day: date) -> bool:
        return self.starts <= day and (self.ends is None or day <= self.ends)


def _stars(
    district: set[int], province: set[int], central: set[int]
) -> dict[CouncilLevel, frozenset[int]]:
    return {
        CouncilLevel.DISTRICT: frozenset(district),
        CouncilLevel.PROVINCE: frozenset(province),
        CouncilLevel.CENTRAL: frozenset(central),
    }


DECISION_148 = date(2023, 2, 24)
DISTRICTS_ABOLISHED = date(2025, 7, 1)

PERIODS: tuple[RulePeriod, ...] = (
    # Decision 1048/QĐ-TTg (21 Aug 2019), Appendix and Art. 2: district councils evaluate and
    # propose; the province council ranks 3★ and 4★ and the province chairman certifies them
    # (Đắk Nông: Decision 1032/QĐ-UBND of 21/7/2021); the central council 5★.
    RulePeriod(
        starts=date.min,
        ends=date(2023, 2, 23),
        source="Quyết định 1048/QĐ-TTg",
        source_en="Decision 1048/QĐ-TTg",
        scores=ScoreParts(35, 25, 40),
        council_stars=_stars(set(), {3, 4}, {5}),
        evaluates_vi="hội đồng cấp huyện đánh giá sơ bộ, hội đồng cấp tỉnh đánh giá, xếp hạng",
        evaluates_en="district councils pre-evaluate, the province council rates",
        summary_vi="đến 23/02/2023 (Quyết định 1048/QĐ-TTg): cấp tỉnh 3 và 4 sao, trung ương 5 sao",
        summary_en="to 23/02/2023 (Decision 1048/QĐ-TTg): province 3★ and 4★, central 5★",
    ),
    # Decision 148/QĐ-TTg (24 Feb 2023): district 3★, province 4★ (proposes 5★), central 5★.
    RulePeriod(
        starts=DECISION_148,
        ends=date(2025, 6, 30),
        source="Quyết định 148/QĐ-TTg",
        source_en="Decision 148/QĐ-TTg",
        scores=ScoreParts(40, 25, 35),
        council_stars=_stars({3}, {4}, {5}),
        evaluates_vi="hội đồng cấp huyện, cấp tỉnh, trung ương",
        evaluates_en="district, province and central councils",
        summary_vi="24/02/2023–30/06/2025 (Quyết định 148/QĐ-TTg): cấp huyện 3 sao, "
        "cấp tỉnh 4 sao, trung ương 5 sao",
        summary_en="24/02/2023–30/06/2025 (Decision 148/QĐ-TTg): district 3★, province 4★, "
        "central 5★",
    ),
    # 1–5 Jul 2025: districts were abolished on 1 Jul 2025 and Decision 1489 was signed on
    # 6 Jul: Decision 148 still stood, but no council was left to certify 3★.
    RulePeriod(
        starts=DISTRICTS_ABOLISHED,
        ends=date(2025, 7, 5),
        source="Quyết định 148/QĐ-TTg",
        source_en="Decision 148/QĐ-TTg",
        scores=ScoreParts(40, 25, 35),
        council_stars=_stars(set(), {4}, {5}),
        evaluates_vi="hội đồng cấp tỉnh, trung ương (cấp huyện đã giải thể)",
        evaluates_en="province and central councils (districts abolished)",
        summary_vi="01–05/07/2025 (Quyết định 148/QĐ-TTg, cấp huyện đã giải thể): "
        "không cấp nào công nhận 3 sao, cấp tỉnh 4 sao, trung ương 5 sao",
        summary_en="01–05/07/2025 (Decision 148/QĐ-TTg, districts abolished): nobody "
        "certifies 3★, province 4★, central 5★",
    ),
    # Decision 1489/QĐ-TTg (6 Jul 2025): province 3★ and 4★, central 5★; communes pre-check.
    RulePeriod(
        starts=RULE_CHANGE_1489,
        ends=None,
        source="Quyết định 1489/QĐ-TTg",
        source_en="Decision 1489/QĐ-TTg",
        scores=ScoreParts(40, 25, 35),
        council_stars=_stars(set(), {3, 4}, {5}),
        evaluates_vi="hội đồng cấp tỉnh, trung ương (cấp xã kiểm tra hồ sơ)",
        evaluates_en="province and central councils (communes pre-check dossiers)",
        summary_vi="từ 06/07/2025 (Quyết định 1489/QĐ-TTg): cấp tỉnh 3 và 4 sao, trung ương 5 sao",
        summary_en="from 06/07/2025 (Decision 1489/QĐ-TTg): province 3★ and 4★, central 5★",
    ),
)


# The most points of each part in any period (the API's bounds); each period's own caps are
# checked against the evaluation's day (``checks.scores_within``).
MAX_A = max(period.scores.a for period in PERIODS)
MAX_B = max(period.scores.b for period in PERIODS)
MAX_C = max(period.scores.c for period in PERIODS)


@dataclass(frozen=True)
class CentralAuthority:
    """The ministry that issues 5★ certificates between ``starts`` and ``ends``."""

    name: str
    starts: date
    ends: date | None


# Resolution 176/2025/QH15 and Decree 35/2025/NĐ-CP: the Ministry of Agriculture and Rural
# Development merged into the Ministry of Agriculture and Environment from 1 Mar 2025.
CENTRAL_AUTHORITIES: tuple[CentralAuthority, ...] = (
    CentralAuthority("Bộ Nông nghiệp và Phát triển nông thôn", date.min, date(2025, 2, 28)),
    CentralAuthority("Bộ Nông nghiệp và Môi trường", date(2025, 3, 1), None),
)


def central_authority_on(day: date) -> CentralAuthority:
    """The ministry that issued 5★ certificates on ``day``."""
    return next(
        ministry
        for ministry in CENTRAL_AUTHORITIES
        if ministry.starts <= day and (ministry.ends is None or day <= ministry.ends)
    )


def period_on(day: date) -> RulePeriod:
    """The rules in force on ``day``."""
    return next(period for period in PERIODS if period.covers(day))


def stars_council_may_certify(level: CouncilLevel, on: date) -> frozenset[int]:
    """The stars a council of ``level`` could certify on day ``on``."""
    return period_on(on).council_stars.get(level, frozenset())


def entered_for(level: CouncilLevel, on: date, total: int | Decimal) -> int | None:
    """The star an evaluation was entered for: the star its council certifies or, for a
    council that certifies several, the highest of them the total reaches (the lowest if it
    reaches none). ``None``: that council certified nothing on that day."""
    stars = sorted(stars_council_may_certify(level, on))
    if not stars:
        return None
    reached = [star for star in stars if total >= star_floor(star)]
    return reached[-1] if reached else stars[0]


# -- validity ---------------------------------------------------------------------------------


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, or the last day of that month if it has no such day
    (Civil Code 2015, Art. 148): 29 Feb 2024 + 36 months = 28 Feb 2027."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


class ValidityFrom(StrEnum):
    """The day a certificate's 36 months count from, as the province's decisions say."""

    # Đắk Nông: "ba năm kể từ ngày Quyết định được ký ban hành".
    DECISION = "decision"
    ISSUE = "issue"


VALIDITY_FROM_TEXT: dict[ValidityFrom, tuple[str, str]] = {
    ValidityFrom.DECISION: ("kể từ ngày ký quyết định công nhận", "from the day of the decision"),
    ValidityFrom.ISSUE: ("kể từ ngày cấp", "from the issue date"),
}

# Each province's setting, by its GSO code; a province not listed takes the default, which is
# Đắk Nông's (the province this service grew from). Lâm Đồng (68) has not been checked.
VALIDITY_FROM_BY_PROVINCE: Mapping[str, ValidityFrom] = {"67": ValidityFrom.DECISION}
VALIDITY_FROM_DEFAULT = ValidityFrom.DECISION


def validity_from(province_code: str | None) -> ValidityFrom:
    """Which day a certificate of the province with GSO code ``province_code`` counts from."""
    return VALIDITY_FROM_BY_PROVINCE.get(province_code or "", VALIDITY_FROM_DEFAULT)


def validity_start(counts_from: ValidityFrom, issue_date: date, decision_date: date) -> date:
    """The day the 36 months start: the decision's (never after the issue) or the issue's."""
    if counts_from is ValidityFrom.DECISION:
        return min(decision_date, issue_date)
    return issue_date


def valid_until(issue_date: date) -> date:
    """Last day a certificate issued (or decided, ``validity_start``) on ``issue_date`` is
    valid, inclusive.

    The 36 months start the day after issue (Art. 147) and end at the end of the
    corresponding day of the last month (Art. 148): issued 15 Mar 2022, valid through
    15 Mar 2025; issued 29 Feb 2024, valid through 28 Feb 2027; issued 31 Aug 2023, valid
    through 31 Aug 2026.
    """
    return add_months(issue_date, VALIDITY_MONTHS)


# -- a certificate's standing on a day --------------------------------------------------------


class Status(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    # Issued for a later day than the one asked about: not yet in force (and no label).
    PENDING = "pending"


# Vietnamese first, as everywhere; the API and the label page show these words.
STATUS_TEXT: dict[Status, tuple[str, str]] = {
    Status.VALID: ("Còn hiệu lực", "Valid"),
    Status.EXPIRING: ("Còn hiệu lực, sắp hết hạn", "Valid, expiring soon"),
    Status.EXPIRED: ("Đã hết hiệu lực", "Expired"),
    Status.REVOKED: ("Đã bị thu hồi", "Revoked"),
    Status.SUPERSEDED: ("Đã được thay bằng giấy chứng nhận mới", "Replaced by a newer one"),
    Status.PENDING: ("Chưa có hiệu lực", "Not yet in force"),
}


class Bound(Enum):
    DAY = "day"  # the day asked about
    HORIZON = "horizon"  # the day asked about plus the expiring window


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
}


@dataclass(frozen=True)
class DateTest:
    """``<one of the certificate's dates> <op> <bound>``. A date that is not there (never
    revoked, never superseded) fails the test. The operator is Python's own, so the same
    test compares dates in Python and columns in SQL (``standing.py``)."""

    field: Literal["issue_date", "valid_until", "revoked_on", "superseded_on"]
    op: Literal["<", "<=", ">"]
    bound: Bound

    def bound_on(self, day: date, window_days: int) -> date:
        if self.bound is Bound.DAY:
            return day
        return date.fromordinal(day.toordinal() + window_days)

    def compare(self, value: Any, day: date, window_days: int) -> Any:
        """``value <op> bound``: a bool for a date, an SQL expression for a column."""
        return _OPERATORS[self.op](value, self.bound_on(day, window_days))


# A certificate's status on a day is the first row whose test holds, in this order; the last
# row has no test. Revocation and supersession are decisions and come first; a certificate
# issued after the day asked about is not yet in force.
STANDING: tuple[tuple[Status, DateTest | None], ...] = (
    (Status.REVOKED, DateTest("revoked_on", "<=", Bound.DAY)),
    (Status.SUPERSEDED, DateTest("superseded_on", "<=", Bound.DAY)),
    (Status.PENDING, DateTest("issue_date", ">", Bound.DAY)),
    (Status.EXPIRED, DateTest("valid_until", "<", Bound.DAY)),
    (Status.EXPIRING, DateTest("valid_until", "<=", Bound.HORIZON)),
    (Status.VALID, None),
)
# In force: the product may carry the OCOP star label.
IN_FORCE = frozenset({Status.VALID, Status.EXPIRING})


def status_on(
    day: date,
    *,
    issue_date: date,
    valid_until: date,
    revoked_on: date | None,
    superseded_on: date | None,
    expiring_window_days: int,
) -> Status:
    """A certificate's status on ``day``, derived from its dates; never stored."""
    dates = {
        "issue_date": issue_date,
        "valid_until": valid_until,
        "revoked_on": revoked_on,
        "superseded_on": superseded_on,
    }
    for status, test in STANDING:
        if test is None:
            return status
        value = dates[test.field]
        if value is not None and test.compare(value, day, expiring_window_days):
            return status
    raise AssertionError("STANDING ends with a row without a test")  # pragma: no cover

"""The checks a certificate must pass, whether it comes through the API
(``services.issue_certificate``) or a province's spreadsheet (``importer``): one function and
one message, in both languages, per rule.

Each check returns ``None`` or the ``Problem``: the field at fault and what is wrong. The API
raises the first problem as a field error (422, or 409 for a clash with what exists); the
importer lists every problem of every row (``"<Vietnamese> / <English>"``). The database
look-ups they need (is this number taken, which certificates has the product) are the
caller's: one query for the API, one per batch of rows for the importer.

Where the two differ, it is on purpose: the API issues new certificates, so one older than
the product's open certificate is refused (``newer_certificate``); the importer also brings
in history, so an older certificate goes in behind the open one, unless two existing ones
are already chained around its date (``chained_around``), and a second certificate of the
product on the same day is refused (``same_day``).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date

from sqlalchemy import String

from trace_service.certificates.models import Certificate
from trace_service.certificates.rules import (
    CERTIFIED_STARS,
    CouncilLevel,
    central_authority_on,
    period_on,
    stars_council_may_certify,
)
from trace_service.clock import vn_date
from trace_service.errors import Conflict, DomainError, field_error
from trace_service.registry.models import AdministrativeUnit
from trace_service.text import fold


def _length(column: str) -> int:
    kind = Certificate.__table__.c[column].type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"certificates.{column} is not a text of bounded length")
    return kind.length


# The longest texts a certificate keeps, as its columns hold them.
TEXT_LIMITS: dict[str, int] = {
    name: _length(name) for name in ("number", "decision_number", "issuing_authority")
}


@dataclass(frozen=True)
class Problem:
    """A rule broken by one field, in Vietnamese and English (no final full stop)."""

    field: str
    vi: str
    en: str
    conflict: bool = False  # clashes with what exists (409) rather than being wrong (422)

    def text(self) -> str:
        """As an import report lists it."""
        return f"{self.vi} / {self.en}"

    def error(self, field: str | None = None) -> DomainError:
        """As the API raises it; ``field`` names the request's field when it differs."""
        name = field or self.field
        vi, en = f"{self.vi}.", f"{self.en}."
        if self.conflict:
            return Conflict(vi, en, errors={"json": {name: [en]}})
        return field_error(name, vi=vi, en=en)


def _stars(stars: frozenset[int]) -> tuple[str, str]:
    ordered = sorted(stars)
    vi = ", ".join(str(s) for s in ordered[:-1]) + f" hoặc {ordered[-1]} sao"
    en = ", ".join(f"{s}★" for s in ordered[:-1]) + f" and {ordered[-1]}★"
    return vi, en


def certified_star(star: int | None, shown_vi: str, shown_en: str) -> Problem | None:
    """Only 3★, 4★ and 5★ products get a certificate. ``shown_*`` say what was given."""
    if star in CERTIFIED_STARS:
        return None
    vi, en = _stars(CERTIFIED_STARS)
    return Problem(
        "star",
        f"Chỉ sản phẩm {vi} được cấp giấy chứng nhận ({shown_vi})",
        f"Only {en} products are certified ({shown_en})",
    )


def not_in_future(field: str, day: date, today: date) -> Problem | None:
    """An issue (or a revocation) is dated today at the latest."""
    if day <= today:
        return None
    what_vi, what_en = {
        "issue_date": ("Ngày cấp", "issue date"),
        "revoked_on": ("Ngày thu hồi", "revocation date"),
    }[field]
    return Problem(
        field,
        f"{what_vi} {vn_date(day)} ở tương lai (hôm nay là {vn_date(today)})",
        f"The {what_en} {day.isoformat()} is in the future (today is {today.isoformat()})",
    )


def issued_after_evaluation(issue_date: date, evaluated_on: date) -> Problem | None:
    if issue_date >= evaluated_on:
        return None
    return Problem(
        "issue_date",
        f"Ngày cấp {vn_date(issue_date)} trước ngày đánh giá {vn_date(evaluated_on)}",
        f"Issued {issue_date.isoformat()}, before its evaluation on {evaluated_on.isoformat()}",
    )


def decision_in_order(
    decided: date, issued: date, evaluated_on: date | None = None
) -> Problem | None:
    """The decision comes after the evaluation (when there is one) and by the issue date."""
    if decided > issued:
        return Problem(
            "decision_date",
            f"Ngày quyết định {vn_date(decided)} sau ngày cấp {vn_date(issued)}",
            f"The decision date {decided.isoformat()} is after the issue date {issued.isoformat()}",
        )
    if evaluated_on is not None and decided < evaluated_on:
        return Problem(
            "decision_date",
            f"Ngày quyết định {vn_date(decided)} trước ngày đánh giá {vn_date(evaluated_on)}",
            f"The decision date {decided.isoformat()} is before the evaluation on "
            f"{evaluated_on.isoformat()}",
        )
    return None


def number_free(number: str, taken: Container[str]) -> Problem | None:
    """A certificate number is used once; ``taken``: the numbers that exist."""
    if number not in taken:
        return None
    return Problem(
        "number",
        f"Số GCN {number} đã có trong hệ thống",
        f"The certificate number {number} already exists",
        conflict=True,
    )


def council_may_certify(
    level: CouncilLevel, star: int, day: date, who_vi: str, who_en: str
) -> Problem | None:
    """The council (or issuing authority) of ``level`` could certify ``star`` on ``day``
    (the rules of ``rules.PERIODS``); ``who_*`` name it in the message."""
    allowed = stars_council_may_certify(level, day)
    if star in allowed:
        return None
    period = period_on(day)
    can = ", ".join(f"{s}★" for s in sorted(allowed)) or "nothing"
    return Problem(
        "council_level",
        f"{who_vi} không được công nhận {star} sao vào ngày {vn_date(day)} ({period.summary_vi})",
        f"{who_en} could not certify {star}★ on {day.isoformat()} "
        f"(it could certify {can}; {period.summary_en})",
    )


def authority_existed(field: str, unit: AdministrativeUnit, day: date) -> Problem | None:
    """A council's or issuer's unit existed on ``day`` (districts end on 30 Jun 2025, Đắk
    Nông merged into Lâm Đồng on 1 Jul 2025): an abolished body certifies nothing."""
    if unit.is_valid_on(day):
        return None
    if day < unit.valid_from:
        return Problem(
            field,
            f"{unit.name} chưa tồn tại vào ngày {vn_date(day)}",
            f"{unit.name} did not exist on {day.isoformat()}",
        )
    heir = unit.successor
    return Problem(
        field,
        f"{unit.name} không còn tồn tại vào ngày {vn_date(day)}"
        + (f", thay bằng {heir.name}" if heir is not None else ""),
        f"{unit.name} did not exist on {day.isoformat()}"
        + (f", succeeded by {heir.name}" if heir is not None else ""),
    )


def central_authority(name: str, day: date) -> Problem | None:
    """A 5★ certificate names the ministry of its day (the Ministry of Agriculture and
    Environment only from 1 Mar 2025)."""
    ministry = central_authority_on(day)
    if fold(name) == fold(ministry.name):
        return None
    return Problem(
        "issuing_authority",
        f"Ngày {vn_date(day)} cơ quan trung ương là {ministry.name}, không phải «{name}»",
        f"On {day.isoformat()} the central authority was {ministry.name}, not '{name}'",
    )


def scores_within(day: date, a: int, b: int, c: int) -> Problem | None:
    """Each part is within the caps of the decision in force on the evaluation's day
    (1048: A 35, B 25, C 40; 148 and 1489: A 40, B 25, C 35)."""
    period = period_on(day)
    caps = period.scores
    over = [
        (name, given, cap)
        for name, given, cap in (
            ("score_a", a, caps.a),
            ("score_b", b, caps.b),
            ("score_c", c, caps.c),
        )
        if given > cap
    ]
    if not over:
        return None
    name, given, cap = over[0]
    part = name[-1].upper()
    return Problem(
        name,
        f"Phần {part} tối đa {cap} điểm theo {period.source} (ngày {vn_date(day)}), "
        f"không phải {given}",
        f"Part {part} is at most {cap} points under {period.source_en} (on {day.isoformat()}), "
        f"not {given}",
    )


def newer_certificate(open_one: Certificate | None, issue_date: date) -> Problem | None:
    """A new certificate (the API) is not older than the product's open one."""
    if open_one is None or open_one.issue_date <= issue_date:
        return None
    return Problem(
        "issue_date",
        f"Sản phẩm đã có giấy chứng nhận mới hơn: số {open_one.number} cấp ngày "
        f"{vn_date(open_one.issue_date)}",
        f"The product has a newer certificate already: {open_one.number}, issued "
        f"{open_one.issue_date.isoformat()}",
    )


def same_day(existing: Certificate, issue_date: date) -> Problem | None:
    """One certificate of a product per issue date (the importer)."""
    if existing.issue_date != issue_date:
        return None
    return Problem(
        "issue_date",
        f"Sản phẩm đã có giấy chứng nhận số {existing.number} cấp cùng ngày {vn_date(issue_date)}",
        f"The product already has certificate {existing.number} issued on {issue_date.isoformat()}",
    )


def chained_around(next_one: Certificate, successors: Container[int | None]) -> Problem | None:
    """An older certificate slotted in front of ``next_one``, which already supersedes
    another, would need that link rewritten: history of that kind is left to a person."""
    if next_one.id not in successors:
        return None
    return Problem(
        "issue_date",
        f"Giấy chứng nhận số {next_one.number} (cấp {vn_date(next_one.issue_date)}) đã thay "
        "thế một giấy khác của sản phẩm; không thể nhập giấy cũ hơn xen vào giữa",
        f"Certificate {next_one.number} (issued {next_one.issue_date.isoformat()}) already "
        "supersedes another of this product; an older certificate cannot be imported in "
        "between",
    )

"""What the expiry board shows, read through the services the API uses: the certificates in
force whose last valid day is within 30, 60 or 90 days (``certificate_query``'s
``expiring_within_days``), by district (``district_id``: a commune formed in 2025 counts
in the district its predecessors belonged to), each with the notices sent about it."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.certificates.models import ExpiryNotice
from trace_service.certificates.notices import LETTER_THRESHOLD_DAYS, Office
from trace_service.certificates.services import certificate_query, expiry_letter
from trace_service.certificates.standing import AsOf, CertificateView
from trace_service.portal.forms import query_id
from trace_service.principal import Principal
from trace_service.registry.enums import UnitLevel
from trace_service.registry.models import AdministrativeUnit
from trace_service.registry.services import communes_of_district, unit_query
from trace_service.text import sort_key

WINDOWS = (30, 60, 90)


@dataclass(frozen=True)
class BoardRow:
    certificate: CertificateView
    days_left: int
    notices: list[ExpiryNotice]  # oldest first, each with its deliveries

    @property
    def letter(self) -> ExpiryNotice | None:
        """The written 30-day notice, once the daily sweep has made it."""
        return next((n for n in self.notices if n.threshold_days == LETTER_THRESHOLD_DAYS), None)


def districts(session: Session) -> list[AdministrativeUnit]:
    """Every district the registry knows, by name, those closed in 2025 included (a name
    once: the newest unit of that name)."""
    units = session.scalars(unit_query({"level": UnitLevel.DISTRICT}))
    by_name = {unit.name: unit for unit in units}
    return sorted(by_name.values(), key=lambda unit: sort_key(unit.name))


def communes(session: Session, district: AdministrativeUnit) -> list[AdministrativeUnit]:
    """The district's communes, and the communes that took their place in 2025, by name."""
    found = session.scalars(
        select(AdministrativeUnit).where(
            AdministrativeUnit.id.in_(communes_of_district(district.id))
        )
    )
    return sorted(found, key=lambda unit: (unit.valid_to is not None, sort_key(unit.name)))


def commune_of(
    session: Session, district: AdministrativeUnit | None, asked: str | None
) -> AdministrativeUnit | None:
    """The commune asked for, if it is one of the district's (else none: the whole district)."""
    wanted = query_id(asked)
    if district is None or wanted is None:
        return None
    return next((c for c in communes(session, district) if c.id == wanted), None)


def expiry_board(
    session: Session,
    actor: Principal,
    as_of: AsOf,
    within: int,
    district_id: int | None = None,
    commune_id: int | None = None,
    since: date | None = None,
) -> list[BoardRow]:
    """The certificates in force whose last valid day is within ``within`` days (and not
    before ``since``, for a calendar month that starts later than today)."""
    args: dict[str, int] = {"expiring_within_days": within}
    if district_id is not None:
        args["district_id"] = district_id
    rows = []
    for cert in session.scalars(certificate_query(actor, args, as_of)):
        if commune_id is not None and cert.product.producer.commune_id != commune_id:
            continue  # the district's list, narrowed to the producers of one commune
        if since is not None and cert.valid_until < since:
            continue
        notices = sorted(cert.notices, key=lambda n: (n.swept_on, n.id))
        days = (cert.valid_until - as_of.day).days
        rows.append(BoardRow(as_of.show(cert), days, notices))
    return rows


def letters_pdf(
    session: Session, actor: Principal, rows: Iterable[BoardRow], office: Office
) -> bytes | None:
    """Every written notice of the board in one PDF (one letter a page), or None if the
    board has none yet. Each letter is the one the API gives (``expiry_letter``)."""
    # pypdf (~9 MiB) is imported on use, not with the app: a queue worker never needs it, and its
    # memory counts (issue 15).
    from pypdf import PdfWriter

    merged = PdfWriter()
    count = 0
    for row in rows:
        if row.letter is None:
            continue
        letter = expiry_letter(session, actor, row.letter.id, office)
        merged.append(io.BytesIO(letter.pdf))
        count += 1
    if not count:
        return None
    out = io.BytesIO()
    merged.write(out)
    return out.getvalue()


def within_days(asked: str | None) -> int:
    """The window asked for (30, 60 or 90 days), else 30."""
    return int(asked) if asked in {str(w) for w in WINDOWS} else WINDOWS[0]


MONTHS = {"nay": 0, "sau": 1}  # ?thang=nay: this calendar month; ?thang=sau: the next


@dataclass(frozen=True)
class Span:
    """The days the board covers: from ``start`` to ``end``, both included."""

    start: date
    end: date
    month: str | None  # "nay" | "sau" when a calendar month was asked for
    within: int  # days from today to ``end``: the services' ``expiring_within_days``


def span_of(today: date, within: str | None, month: str | None) -> Span:
    """A calendar month (``?thang=nay|sau``: "what expires next month" in one click), else
    the next 30, 60 or 90 days."""
    if month in MONTHS:
        first = _add_months(today.replace(day=1), MONTHS[month])
        last = _add_months(first, 1) - timedelta(days=1)
        return Span(max(first, today), last, month, (last - today).days)
    days = within_days(within)
    return Span(today, today + timedelta(days=days), None, days)


def _add_months(first: date, months: int) -> date:
    index = first.month - 1 + months
    return date(first.year + index // 12, index % 12 + 1, 1)


def district_of(session: Session, asked: str | None) -> AdministrativeUnit | None:
    wanted = query_id(asked)
    if wanted is None:
        return None
    unit = session.get(AdministrativeUnit, wanted)
    return unit if unit is not None and unit.level is UnitLevel.DISTRICT else None


def by_district(session: Session, rows: Iterable[BoardRow]) -> list[tuple[AdministrativeUnit, int]]:
    """How many of ``rows`` fall in each district (its communes and their 2025 successors),
    the districts with none left out: the board's one-click shortcuts."""
    rows = list(rows)
    counted = []
    for district in districts(session):
        ids = {commune.id for commune in communes(session, district)}
        count = sum(1 for row in rows if row.certificate.product.producer.commune_id in ids)
        if count:
            counted.append((district, count))
    return counted

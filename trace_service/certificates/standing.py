"""A certificate's standing on a day, in Python and in SQL, both read from ``rules.STANDING``.

Everything that asks "what is this certificate's status", "is it in force" or "which
certificates are expiring" asks here: the API's status and its list filters, the counts of
the reports, the expiry sweep, the label verdict (``services.may_label``) and the label page.
So a certificate that a list shows as ``expiring`` is the one the label page calls valid and
expiring soon, on every day, including a day before its issue (``pending``).

Also here: whether a certificate is still *open* (no decision has ended it: neither revoked
nor superseded, on any day), which is the one a newer certificate of its product supersedes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, not_, or_, true

from trace_service.certificates.models import Certificate
from trace_service.certificates.rules import (
    IN_FORCE,
    STANDING,
    STATUS_TEXT,
    DateTest,
    Status,
    status_on,
)

# -- Python -----------------------------------------------------------------------------------


def status_of(cert: Certificate, day: date, window_days: int) -> Status:
    """``cert``'s status on ``day`` (``window_days``: how close a last valid day makes it
    ``expiring``)."""
    return status_on(
        day,
        issue_date=cert.issue_date,
        valid_until=cert.valid_until,
        revoked_on=cert.revoked_on,
        superseded_on=cert.superseded_on,
        expiring_window_days=window_days,
    )


def in_force(cert: Certificate, day: date) -> bool:
    """May the product carry the OCOP star label on ``day`` by this certificate?"""
    return status_of(cert, day, 0) in IN_FORCE  # the window only tells two in-force apart


def is_open(cert: Certificate) -> bool:
    return cert.revoked_on is None and cert.superseded_on is None


# -- SQL --------------------------------------------------------------------------------------


def _holds(test: DateTest, day: date, window_days: int) -> ColumnElement[bool]:
    column = getattr(Certificate, test.field)
    # A date that is not there fails the test, as in Python; so its negation holds.
    return and_(column.is_not(None), test.compare(column, day, window_days))


def status_clause(status: Status, day: date, window_days: int) -> ColumnElement[bool]:
    """SQL: the certificate's status on ``day`` is ``status`` (exactly ``status_of``)."""
    return statuses_clause({status}, day, window_days)


def statuses_clause(
    statuses: Collection[Status], day: date, window_days: int
) -> ColumnElement[bool]:
    """SQL: the certificate's status on ``day`` is one of ``statuses``."""
    wanted = set(statuses)
    order = [status for status, _ in STANDING]
    if wanted and wanted == set(order[len(order) - len(wanted) :]):
        # The last rows of the table (e.g. in force): no earlier test holds. Simpler SQL
        # than the union below, and the window is not needed unless a wanted row uses it.
        return and_(
            true(),
            *(
                not_(_holds(test, day, window_days))
                for status, test in STANDING
                if status not in wanted and test is not None
            ),
        )
    clauses = []
    earlier: list[ColumnElement[bool]] = []
    for status, test in STANDING:
        holds = _holds(test, day, window_days) if test is not None else None
        if status in wanted:
            clauses.append(
                and_(true(), *(not_(e) for e in earlier), *([holds] if holds is not None else []))
            )
        if holds is not None:
            earlier.append(holds)
    return or_(*clauses) if clauses else false()


def in_force_clause(day: date) -> ColumnElement[bool]:
    """SQL: the certificate is in force on ``day`` (exactly ``in_force``)."""
    return statuses_clause(IN_FORCE, day, 0)


def status_case(day: date, window_days: int) -> ColumnElement[Any]:
    """SQL: the certificate's status on ``day``, as its value (``"valid"``…), for counts."""
    *tested, (last, _) = STANDING
    return case(
        *((_holds(test, day, window_days), status.value) for status, test in tested if test),
        else_=last.value,
    )


def open_clause() -> ColumnElement[bool]:
    """SQL: ``is_open``."""
    return and_(Certificate.revoked_on.is_(None), Certificate.superseded_on.is_(None))


# -- what the API shows -----------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateView:
    """A certificate with its status on the day it is shown; reads through to the
    certificate for everything else, so a schema dumps it as it would the certificate."""

    certificate: Certificate
    status: Status

    @property
    def status_vi(self) -> str:
        return STATUS_TEXT[self.status][0]

    @property
    def status_en(self) -> str:
        return STATUS_TEXT[self.status][1]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "certificate":  # not set yet (copy, pickle)
            raise AttributeError(name)
        return getattr(self.certificate, name)


@dataclass(frozen=True)
class AsOf:
    """The day statuses are asked for, and how close a last valid day makes a certificate
    ``expiring`` (``OCOP_EXPIRY_WINDOW_DAYS``)."""

    day: date
    window_days: int

    def status(self, cert: Certificate) -> Status:
        return status_of(cert, self.day, self.window_days)

    def show(self, cert: Certificate) -> CertificateView:
        return CertificateView(cert, self.status(cert))

    def show_all(self, certs: Iterable[Certificate]) -> list[CertificateView]:
        return [self.show(cert) for cert in certs]

    def show_page(self, page: dict[str, Any]) -> dict[str, Any]:
        """A page from ``api.paginate`` with its certificates shown as of this day."""
        return {**page, "items": self.show_all(page["items"])}

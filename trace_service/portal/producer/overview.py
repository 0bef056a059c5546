"""What a producer's home shows, read through the services the API uses: each product
with its newest certificate's standing, the expiry reminders sent, the latest print runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from trace_service.certificates.models import Certificate, ExpiryNotice
from trace_service.certificates.services import LabelVerdict, certificate_query, may_label
from trace_service.certificates.standing import AsOf, CertificateView
from trace_service.labels.models import PrintRun
from trace_service.labels.services import run_query
from trace_service.principal import Principal
from trace_service.registry.models import Product
from trace_service.registry.services import product_query

LATEST_RUNS = 5


@dataclass
class ProductLine:
    product: Product
    verdict: LabelVerdict  # may it carry stamps today, and why not
    certificate: CertificateView | None  # the newest certificate, with its status today
    days_left: int | None  # to the in-force certificate's last valid day (0: the last)


@dataclass
class Overview:
    products: list[ProductLine]
    notices: list[ExpiryNotice]  # newest first
    runs: list[PrintRun]
    more_runs: bool
    extra: dict[str, Any] = field(default_factory=dict)


def _newest(certs: list[Certificate]) -> Certificate | None:
    return max(certs, key=lambda c: (c.issue_date, c.id), default=None)


def product_lines(session: Session, actor: Principal, as_of: AsOf) -> list[ProductLine]:
    products = list(session.scalars(product_query(actor, {})))
    certs = list(session.scalars(certificate_query(actor, {}, as_of)))
    lines = []
    for product in products:
        newest = _newest([c for c in certs if c.product_id == product.id])
        verdict = may_label(session, product.id, as_of.day)
        shown = verdict.certificate if verdict.allowed else newest
        view = as_of.show(shown) if shown is not None else None
        # Days left only for the certificate in force: a revoked, superseded, expired or
        # not yet valid one has none to count, whatever its printed end date.
        in_force = verdict.certificate if verdict.allowed else None
        days = (in_force.valid_until - as_of.day).days if in_force is not None else None
        lines.append(ProductLine(product, verdict, view, days))
    return lines


def notices_of(session: Session, actor: Principal, as_of: AsOf) -> list[ExpiryNotice]:
    certs = session.scalars(certificate_query(actor, {}, as_of))
    notices = [notice for cert in certs for notice in cert.notices]
    return sorted(notices, key=lambda n: (n.swept_on, n.id), reverse=True)


def overview(session: Session, actor: Principal, today: date, window_days: int) -> Overview:
    as_of = AsOf(today, window_days)
    runs = list(session.scalars(run_query(actor, {}).limit(LATEST_RUNS + 1)))
    return Overview(
        product_lines(session, actor, as_of),
        notices_of(session, actor, as_of),
        runs[:LATEST_RUNS],
        len(runs) > LATEST_RUNS,
    )

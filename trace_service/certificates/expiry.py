"""The expiry sweep: write one notice per certificate per threshold crossed, exactly once.

Each sweep is two set-based ``INSERT … SELECT … ON CONFLICT DO NOTHING`` statements in one
transaction: the unique constraints on (certificate, threshold) and (notice, channel) make a
second sweep, a concurrent one, or a re-run after a crash insert nothing twice, and a sweep
killed half-way commits nothing. Memory does not grow with the number of certificates: no
row is loaded into Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Result, case, literal, null, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.audit.tags import Tag
from trace_service.certificates.models import Certificate, ExpiryNotice, NoticeDelivery
from trace_service.certificates.rules import IN_FORCE, Status
from trace_service.certificates.standing import statuses_clause
from trace_service.db import UtcDateTime
from trace_service.principal import Principal
from trace_service.registry.models import Producer, Product

THRESHOLDS = (90, 60, 30, 0)
# A certificate that expired longer ago than this gets no "expired today" notice: a first
# sweep over old records must not mail every producer whose certificate lapsed years ago.
EXPIRED_NOTICE_GRACE_DAYS = 30

# Notices go to certificates that stand on the sweep's day, in force or expired: not to one
# revoked, superseded or not yet in force (``standing.py``).
NOTIFIED = IN_FORCE | {Status.EXPIRED}

EMAIL, WEBHOOK = "email", "webhook"


@dataclass(frozen=True)
class SweepReport:
    day: date
    notices: int
    deliveries: int


def affected(result: Result[Any]) -> int:
    """Rows an INSERT, UPDATE or DELETE touched (``execute`` types its result loosely)."""
    return cast(CursorResult[Any], result).rowcount


def _insert(session: Session, model: type) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def _tightest_threshold(today: date) -> Any:
    """The smallest threshold a certificate has crossed: 90, 60 or 30 days before its last
    valid day, or 0 once that day has passed (the certificate has expired)."""
    return case(
        (Certificate.valid_until < today, 0),
        *(
            (Certificate.valid_until <= today + timedelta(days=t), t)
            for t in sorted(THRESHOLDS)[1:]
        ),
    )


def sweep(
    session: Session,
    actor: Principal,
    today: date,
    *,
    webhook_url: str | None = None,
    now: datetime,
) -> SweepReport:
    crossed = select(
        Certificate.id,
        _tightest_threshold(today),
        Certificate.valid_until,
        literal(today),
        literal(now, UtcDateTime()),
    ).where(
        statuses_clause(NOTIFIED, today, 0),
        Certificate.valid_until <= today + timedelta(days=max(THRESHOLDS)),
        Certificate.valid_until >= today - timedelta(days=EXPIRED_NOTICE_GRACE_DAYS),
    )
    notices = affected(
        session.execute(
            _insert(session, ExpiryNotice)
            .from_select(
                ["certificate_id", "threshold_days", "valid_until", "swept_on", "created_at"],
                crossed,
            )
            .on_conflict_do_nothing(index_elements=["certificate_id", "threshold_days"])
            .execution_options(preserve_rowcount=True)  # else PostgreSQL reports -1
        )
    )
    deliveries = _add_deliveries(session, EMAIL, Producer.email, now)
    if webhook_url:
        deliveries += _add_deliveries(session, WEBHOOK, literal(webhook_url), now)
    if notices:
        record_event(
            session,
            actor,
            Tag.EXPIRY_NOTICES_CREATED,
            "expiry_sweep",
            None,
            {"day": today, "notices": notices, "deliveries": deliveries},
        )
    session.flush()
    return SweepReport(day=today, notices=notices, deliveries=deliveries)


def _add_deliveries(session: Session, channel: str, recipient: Any, now: datetime) -> int:
    """One delivery per channel for each notice this sweep wrote (``created_at == now``).

    Only new notices are looked at, so the work stays proportional to what this sweep found,
    however long the outbox's history grows. A producer without an e-mail address gets a
    delivery marked ``undeliverable``, so the province office sees who must be told on paper.
    """
    pending = (
        select(
            ExpiryNotice.id,
            literal(channel),
            recipient,
            case((recipient.is_(None), "undeliverable"), else_="pending"),
            literal(0),
            case((recipient.is_(None), null()), else_=literal(now, UtcDateTime())),
            case((recipient.is_(None), "The producer has no e-mail address."), else_=null()),
        )
        .select_from(ExpiryNotice)
        .join(Certificate)
        .join(Product)
        .join(Producer)
        .where(ExpiryNotice.created_at == literal(now, UtcDateTime()))
    )
    return affected(
        session.execute(
            _insert(session, NoticeDelivery)
            .from_select(
                [
                    "notice_id",
                    "channel",
                    "recipient",
                    "status",
                    "attempts",
                    "next_attempt_at",
                    "last_error",
                ],
                pending,
            )
            .on_conflict_do_nothing(index_elements=["notice_id", "channel"])
            .execution_options(preserve_rowcount=True)
        )
    )

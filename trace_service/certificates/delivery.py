"""Delivering expiry notices from the outbox: e-mail and HMAC-signed webhooks, with retries.

Each delivery is leased before it is sent (an atomic UPDATE that only one worker wins), sent
outside any transaction, and its attempt recorded afterwards. Delivery is at-least-once: a
worker that dies between sending and recording sends again after the lease runs out, so the
e-mail carries a stable Message-ID and the webhook a stable ``X-OCOP-Delivery`` id that
receivers can use to drop a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from trace_service.audit.services import record_event
from trace_service.audit.tags import Tag
from trace_service.certificates.expiry import EMAIL, WEBHOOK, affected
from trace_service.certificates.models import DeliveryAttempt, NoticeDelivery
from trace_service.certificates.notices import (
    LETTER_THRESHOLD_DAYS,
    Office,
    email_message,
    letter_pdf,
    webhook_payload,
)
from trace_service.certificates.standing import is_open
from trace_service.db import utcnow
from trace_service.principal import Principal

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)  # far longer than one send (SMTP 20 s, webhook 10 s timeouts)
MAX_RETRY_WAIT_S = 86_400


@dataclass(frozen=True)
class DeliverySettings:
    office: Office
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "OCOP <ocop@localhost>"
    webhook_secret: str = ""
    max_attempts: int = 6
    retry_seconds: int = 300

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DeliverySettings:
        return cls(
            office=Office(
                config["OFFICE_NAME"], config["OFFICE_PLACE"], config["PUBLIC_BASE_URL"].rstrip("/")
            ),
            smtp_host=config["SMTP_HOST"],
            smtp_port=config["SMTP_PORT"],
            smtp_username=config["SMTP_USERNAME"],
            smtp_password=config["SMTP_PASSWORD"],
            smtp_starttls=config["SMTP_STARTTLS"],
            mail_from=config["MAIL_FROM"],
            webhook_secret=config["WEBHOOK_SECRET"],
            max_attempts=config["DELIVERY_MAX_ATTEMPTS"],
            retry_seconds=config["DELIVERY_RETRY_SECONDS"],
        )

    def channels(self) -> list[str]:
        """E-mail waits (stays pending) while no mail server is configured."""
        return [EMAIL, WEBHOOK] if self.smtp_host else [WEBHOOK]


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0  # the certificate was revoked or renewed, or the address is gone
    # E-mails held back because no mail server is configured (OCOP_SMTP_HOST is empty).
    waiting_for_mail_server: int = 0
    errors: list[str] = field(default_factory=list)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` HMAC of ``<timestamp>.<body>``: a receiver recomputes it with the shared
    secret, and refuses old timestamps so a captured request cannot be replayed later."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


Send = Callable[[], str]


@dataclass(frozen=True)
class _Cancel:
    """The delivery should not go out any more: ``status`` and why."""

    status: str
    reason: str


def _smtp(settings: DeliverySettings, message: EmailMessage) -> str:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
    return f"sent to {message['To']}"


def _post(url: str, body: bytes, headers: dict[str, str]) -> str:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - the URL is the operator's setting
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return f"HTTP {response.status}"


def _prepare(settings: DeliverySettings, delivery: NoticeDelivery, now: datetime) -> Send | _Cancel:
    """Read everything the send needs now, so no transaction stays open while it runs;
    or decide it should not go: the certificate was revoked or renewed since the sweep."""
    notice = delivery.notice
    cert = notice.certificate
    if not is_open(cert):
        why = "revoked" if cert.revoked_on is not None else "superseded by a newer certificate"
        return _Cancel("cancelled", f"The certificate was {why}.")
    if delivery.channel == EMAIL:
        recipient = cert.product.producer.email  # today's address, not the sweep's copy
        if not recipient:
            return _Cancel("undeliverable", "The producer has no e-mail address.")
        pdf = (
            letter_pdf(notice, settings.office)
            if notice.threshold_days == LETTER_THRESHOLD_DAYS
            else None
        )
        message = email_message(notice, settings.office, settings.mail_from, recipient, pdf)
        return lambda: _smtp(settings, message) + (" with the letter" if pdf else "")
    body = json.dumps(webhook_payload(notice), ensure_ascii=False).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "ocop-trace-service",
        "X-OCOP-Event": "certificate.expiry_notice",
        "X-OCOP-Delivery": str(delivery.id),
        "X-OCOP-Timestamp": timestamp,
    }
    if settings.webhook_secret:
        headers["X-OCOP-Signature"] = sign(settings.webhook_secret, timestamp, body)
    url = delivery.recipient or ""
    return lambda: _post(url, body, headers)


def _claim(session: Session, delivery_id: int, now: datetime) -> datetime | None:
    """Lease a due delivery for this worker; the lease's end, or None if another has it."""
    lease = now + LEASE
    claimed = affected(
        session.execute(
            update(NoticeDelivery)
            .where(
                NoticeDelivery.id == delivery_id,
                NoticeDelivery.status == "pending",
                or_(NoticeDelivery.leased_until.is_(None), NoticeDelivery.leased_until < now),
            )
            .values(leased_until=lease)
        )
    )
    session.commit()
    return lease if claimed == 1 else None


def _record(
    session: Session,
    actor: Principal,
    settings: DeliverySettings,
    delivery: NoticeDelivery,
    outcome: tuple[bool, str] | _Cancel,
    now: datetime,
    report: DeliveryReport,
) -> None:
    delivery.leased_until = None
    if isinstance(outcome, _Cancel):
        delivery.status, delivery.last_error = outcome.status, outcome.reason
        report.cancelled += 1
        session.commit()
        return
    ok, detail = outcome
    delivery.attempts += 1
    session.add(
        DeliveryAttempt(delivery_id=delivery.id, attempted_at=now, ok=ok, detail=detail[:500])
    )
    if ok:
        delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
        report.sent += 1
        record_event(
            session,
            actor,
            Tag.NOTICE_DELIVERED,
            "notice_delivery",
            delivery.id,
            {
                "channel": delivery.channel,
                "notice_id": delivery.notice_id,
                "attempts": delivery.attempts,
            },
        )
    elif delivery.attempts >= settings.max_attempts:
        delivery.status, delivery.last_error = "failed", detail[:500]
        report.failed += 1
        record_event(
            session,
            actor,
            Tag.NOTICE_DELIVERY_FAILED,
            "notice_delivery",
            delivery.id,
            {"channel": delivery.channel, "error": detail[:500], "attempts": delivery.attempts},
        )
    else:
        delivery.last_error = detail[:500]
        wait = min(settings.retry_seconds * 2 ** (delivery.attempts - 1), MAX_RETRY_WAIT_S)
        delivery.next_attempt_at = now + timedelta(seconds=wait)
        report.retrying += 1
    session.commit()


def _deliver_one(
    make_session: sessionmaker[Session],
    actor: Principal,
    settings: DeliverySettings,
    delivery_id: int,
    clock: Callable[[], datetime],
    report: DeliveryReport,
) -> None:
    with make_session() as session:
        lease = _claim(session, delivery_id, clock())
        if lease is None:
            return  # another worker has it
        delivery = session.get(NoticeDelivery, delivery_id)
        assert delivery is not None  # noqa: S101 - we hold its lease
        prepared = _prepare(settings, delivery, clock())
        session.commit()  # end the read transaction before talking to the network
    if isinstance(prepared, _Cancel):
        outcome: tuple[bool, str] | _Cancel = prepared
    else:
        try:
            outcome = (True, prepared())
        # Whatever a receiver does (refuse, time out, answer garbage), it is one failed
        # attempt of one delivery: recorded, retried, and the others still go.
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}"
            outcome = (False, detail)
            report.errors.append(f"delivery {delivery_id}: {detail}")
            log.warning("notice delivery %s failed: %s", delivery_id, detail)
    with make_session() as session:
        delivery = session.get(NoticeDelivery, delivery_id)
        if delivery is None or delivery.leased_until != lease:
            # The lease ran out and another worker took the delivery over: it records.
            report.errors.append(f"delivery {delivery_id}: lease lost before recording")
            return
        _record(session, actor, settings, delivery, outcome, clock(), report)


def deliver_due(
    make_session: sessionmaker[Session],
    actor: Principal,
    settings: DeliverySettings,
    *,
    now: datetime | None = None,
    limit: int = 500,
) -> DeliveryReport:
    """Send every delivery that is due, one at a time, each in its own transactions.

    ``now`` fixes the clock (for tests); otherwise every lease and record reads the time
    afresh, so a long run never hands out leases that have already expired.
    """

    def clock() -> datetime:
        return now or utcnow()

    report = DeliveryReport()
    with make_session() as session:
        if not settings.smtp_host:
            report.waiting_for_mail_server = (
                session.scalar(
                    select(func.count()).where(
                        NoticeDelivery.status == "pending", NoticeDelivery.channel == EMAIL
                    )
                )
                or 0
            )
        started = clock()
        due = list(
            session.scalars(
                select(NoticeDelivery.id)
                .where(
                    NoticeDelivery.status == "pending",
                    NoticeDelivery.channel.in_(settings.channels()),
                    NoticeDelivery.next_attempt_at <= started,
                    or_(
                        NoticeDelivery.leased_until.is_(None),
                        NoticeDelivery.leased_until < started,
                    ),
                )
                .order_by(NoticeDelivery.next_attempt_at, NoticeDelivery.id)
                .limit(limit)
            )
        )
    for delivery_id in due:
        try:
            _deliver_one(make_session, actor, settings, delivery_id, clock, report)
        except SQLAlchemyError as exc:  # e.g. SQLite busy: skip it, its lease will run out
            report.errors.append(f"delivery {delivery_id}: {type(exc).__name__}: {exc}")
            log.exception("notice delivery %s could not be recorded", delivery_id)
    return report

"""Delivering expiry notices: e-mail through a real SMTP server, HMAC-signed webhooks to a
real HTTP server, retries with backoff, and a record of every attempt.

Both servers listen on 127.0.0.1 in a thread of the test process: aiosmtpd's ``Controller``
collects the envelopes it really received, and a ``ThreadingHTTPServer`` records each webhook
request and can be told to answer 500 for the first N of them. A server that is "down" is a
port nobody listens on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.factories import CertificateFactory, ProducerFactory, ProductFactory
from trace_service.audit.models import AuditEvent
from trace_service.certificates.delivery import DeliveryReport, DeliverySettings, deliver_due
from trace_service.certificates.expiry import sweep
from trace_service.certificates.models import Certificate, DeliveryAttempt, NoticeDelivery
from trace_service.certificates.notices import Office
from trace_service.db import get_db
from trace_service.principal import system_principal

TODAY = date(2026, 3, 2)
# 08:00 in Vietnam: the same civil day as TODAY, so the notice says "30 days left".
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SECRET = "s3cret"
ACTOR = system_principal("test")


def free_port() -> int:
    """A port the OS just handed out and nobody listens on any more."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- a real SMTP server -------------------------------------------------------------------


class _Collector:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int
    collector: _Collector

    @property
    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(e.content) for e in self.collector.envelopes]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    collector = _Collector()
    # aiosmtpd's Controller pokes the server once it listens, so it needs a real port (not
    # 0); the explicit server_hostname spares it a slow getfqdn(), and the ready_timeout is
    # generous enough for a loaded CI machine.
    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="smtp.test.local",
        ready_timeout=10.0,
    )
    controller.start()
    try:
        yield SmtpServer(port=controller.port, collector=collector)
    finally:
        controller.stop()


# --- a real webhook receiver --------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: Message
    body: bytes


@dataclass
class WebhookServer:
    url: str
    requests: list[Received] = field(default_factory=list)
    fail_first: int = 0  # answer 500 to this many requests, then 204
    garbage: bool = False  # answer with something that is not HTTP at all
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    receiver = WebhookServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.requests.append(Received(self.path, self.headers, body))
                fail = len(receiver.requests) <= receiver.fail_first
            if receiver.garbage:
                self.close_connection = True
                self.wfile.write(b"SSH-2.0-not-a-web-server\r\n\r\n")
                return
            payload = b"boom" if fail else b""
            self.send_response(500 if fail else 204)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/ocop"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the service under test ---------------------------------------------------------------

OFFICE = Office(
    "Văn phòng Điều phối Chương trình OCOP tỉnh Đắk Nông",
    "Đắk Nông",
    "https://ocop.example.vn",
)


@pytest.fixture
def settings(smtp_server: SmtpServer) -> DeliverySettings:
    return DeliverySettings(
        office=OFFICE,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        mail_from="OCOP Đắk Nông <ocop@daknong.example.vn>",
        webhook_secret=SECRET,
        retry_seconds=60,
        max_attempts=3,
    )


def certificate(days_left: int, email: str | None = "htx@example.vn") -> Certificate:
    producer = ProducerFactory(name="Hợp tác xã Cà phê Đức Lập", email=email)
    product = ProductFactory(producer=producer)
    return CertificateFactory(product=product, valid_until=TODAY + timedelta(days=days_left))


def run_sweep(session: Session, webhook_url: str | None = None) -> None:
    sweep(session, ACTOR, TODAY, webhook_url=webhook_url, now=NOW)


def deliver(app: Flask, settings: DeliverySettings, now: datetime) -> DeliveryReport:
    return deliver_due(get_db(app).sessionmaker, ACTOR, settings, now=now)


def delivery(session: Session, cert: Certificate, channel: str) -> NoticeDelivery:
    """The delivery as the database has it now (deliver_due wrote it in its own sessions)."""
    session.expire_all()
    return session.scalars(
        select(NoticeDelivery)
        .join(NoticeDelivery.notice)
        .where(NoticeDelivery.channel == channel)
        .filter_by(certificate_id=cert.id)
    ).one()


def attempts(session: Session, row: NoticeDelivery) -> list[DeliveryAttempt]:
    return list(
        session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == row.id)
            .order_by(DeliveryAttempt.id)
        )
    )


def expected_signature(timestamp: str, body: bytes) -> str:
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


# --- e-mail -------------------------------------------------------------------------------


def test_does_the_producer_get_a_vietnamese_email_with_the_pdf_letter_30_days_ahead(
    app: Flask, db_session: Session, settings: DeliverySettings, smtp_server: SmtpServer
) -> None:
    cert = certificate(30)
    run_sweep(db_session)

    report = deliver(app, settings, NOW)

    assert report.sent == 1
    assert report.errors == []
    [envelope] = smtp_server.collector.envelopes
    assert envelope.mail_from == "ocop@daknong.example.vn"
    assert envelope.rcpt_tos == ["htx@example.vn"]
    [message] = smtp_server.messages
    # The header went over the wire MIME-encoded; the parser decodes it back to Vietnamese.
    assert "Giấy chứng nhận" in message["Subject"]
    assert cert.number in message["Subject"]
    assert "còn 30 ngày" in message["Subject"]
    assert message["To"] == "htx@example.vn"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content_charset() == "utf-8"
    text = body.get_content()
    assert "Kính gửi: Hợp tác xã Cà phê Đức Lập" in text
    assert cert.number in text
    # A product's name in typographic quotes, in both languages; never ASCII ones.
    assert f"của sản phẩm “{cert.product_name}”" in text and '"' not in text
    assert f"stars) for “{cert.product.name_en or cert.product_name}”" in text
    [letter] = list(message.iter_attachments())
    assert letter.get_content_type() == "application/pdf"
    assert letter.get_filename().endswith(".pdf")
    assert letter.get_content().startswith(b"%PDF")
    row = delivery(db_session, cert, "email")
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOW)
    [attempt] = attempts(db_session, row)
    assert attempt.ok is True
    assert "with the letter" in attempt.detail


def test_does_the_60_day_notice_come_without_the_letter_attached(
    app: Flask, db_session: Session, settings: DeliverySettings, smtp_server: SmtpServer
) -> None:
    cert = certificate(60)
    run_sweep(db_session)

    deliver(app, settings, NOW)

    [message] = smtp_server.messages
    assert cert.number in message["Subject"]
    assert "còn 60 ngày" in message["Subject"]
    assert list(message.iter_attachments()) == []
    assert not message.is_multipart()
    assert delivery(db_session, cert, "email").status == "sent"


def test_is_an_smtp_server_that_is_down_retried_rather_than_a_crash(
    app: Flask, db_session: Session, settings: DeliverySettings
) -> None:
    cert = certificate(30)
    run_sweep(db_session)
    down = dataclasses.replace(settings, smtp_port=free_port())

    report = deliver(app, down, NOW)

    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    row = delivery(db_session, cert, "email")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == NOW + timedelta(seconds=60)
    assert row.leased_until is None
    assert "ConnectionRefusedError" in (row.last_error or "")
    [attempt] = attempts(db_session, row)
    assert attempt.ok is False
    assert attempt.attempted_at == NOW


def test_is_a_producer_without_email_marked_undeliverable_and_never_tried(
    app: Flask,
    db_session: Session,
    settings: DeliverySettings,
    smtp_server: SmtpServer,
    webhook_server: WebhookServer,
) -> None:
    cert = certificate(30, email=None)
    run_sweep(db_session, webhook_server.url)

    report = deliver(app, settings, NOW)
    deliver(app, settings, NOW + timedelta(days=1))

    assert report.sent == 1  # the webhook still tells the province office
    assert smtp_server.collector.envelopes == []
    row = delivery(db_session, cert, "email")
    assert (row.status, row.recipient, row.attempts) == ("undeliverable", None, 0)
    assert row.last_error == "The producer has no e-mail address."
    assert attempts(db_session, row) == []
    assert delivery(db_session, cert, "webhook").status == "sent"


def test_do_emails_wait_while_no_smtp_server_is_configured(
    app: Flask,
    db_session: Session,
    settings: DeliverySettings,
    smtp_server: SmtpServer,
    webhook_server: WebhookServer,
) -> None:
    cert = certificate(30)
    run_sweep(db_session, webhook_server.url)
    no_smtp = dataclasses.replace(settings, smtp_host="")

    report = deliver(app, no_smtp, NOW)

    assert report.sent == 1
    assert len(webhook_server.requests) == 1
    assert smtp_server.collector.envelopes == []
    row = delivery(db_session, cert, "email")
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, None)
    assert attempts(db_session, row) == []
    assert delivery(db_session, cert, "webhook").status == "sent"


# --- webhooks -----------------------------------------------------------------------------


def test_does_the_webhook_arrive_signed_with_the_shared_secret(
    app: Flask, db_session: Session, settings: DeliverySettings, webhook_server: WebhookServer
) -> None:
    cert = certificate(30)
    run_sweep(db_session, webhook_server.url)

    deliver(app, dataclasses.replace(settings, smtp_host=""), NOW)

    [request] = webhook_server.requests
    assert request.path == "/hooks/ocop"
    assert request.headers.get_content_type() == "application/json"
    timestamp = request.headers["X-OCOP-Timestamp"]
    assert timestamp == str(int(NOW.timestamp()))
    signature = request.headers["X-OCOP-Signature"]
    assert hmac.compare_digest(signature, expected_signature(timestamp, request.body))
    # Tampering with the body or the timestamp breaks the signature.
    assert signature != expected_signature(timestamp, request.body + b" ")
    assert signature != expected_signature(str(int(NOW.timestamp()) + 1), request.body)
    payload = json.loads(request.body.decode("utf-8"))
    assert payload["threshold_days"] == 30
    assert payload["days_left"] == 30
    assert payload["certificate"]["number"] == cert.number
    assert payload["certificate"]["valid_until"] == (TODAY + timedelta(days=30)).isoformat()
    assert payload["producer"]["name"] == "Hợp tác xã Cà phê Đức Lập"
    row = delivery(db_session, cert, "webhook")
    assert request.headers["X-OCOP-Delivery"] == str(row.id)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOW)
    [attempt] = attempts(db_session, row)
    assert (attempt.ok, attempt.detail) == (True, "HTTP 204")


def test_is_a_webhook_answering_500_retried_after_the_backoff(
    app: Flask, db_session: Session, settings: DeliverySettings, webhook_server: WebhookServer
) -> None:
    cert = certificate(30)
    run_sweep(db_session, webhook_server.url)
    webhooks_only = dataclasses.replace(settings, smtp_host="")
    webhook_server.fail_first = 1

    first = deliver(app, webhooks_only, NOW)

    assert (first.sent, first.retrying, first.failed) == (0, 1, 0)
    row = delivery(db_session, cert, "webhook")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == NOW + timedelta(seconds=60)
    assert "500" in (row.last_error or "")
    [failed] = attempts(db_session, row)
    assert (failed.ok, failed.attempted_at) == (False, NOW)

    early = deliver(app, webhooks_only, NOW + timedelta(seconds=59))

    assert (early.sent, early.retrying, early.failed) == (0, 0, 0)
    assert len(webhook_server.requests) == 1
    assert delivery(db_session, cert, "webhook").attempts == 1

    later = NOW + timedelta(seconds=60)
    second = deliver(app, webhooks_only, later)

    assert second.sent == 1
    row = delivery(db_session, cert, "webhook")
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 2, later, None)
    assert [(a.ok, a.attempted_at) for a in attempts(db_session, row)] == [
        (False, NOW),
        (True, later),
    ]
    # The retry is recognisably the same delivery; only its timestamp (and so the signature)
    # is new.
    retry_ids = {r.headers["X-OCOP-Delivery"] for r in webhook_server.requests}
    assert retry_ids == {str(row.id)}
    [first_body, second_body] = [r.body for r in webhook_server.requests]
    assert first_body == second_body
    retried = webhook_server.requests[1]
    assert retried.headers["X-OCOP-Timestamp"] == str(int(later.timestamp()))
    assert retried.headers["X-OCOP-Signature"] == expected_signature(
        retried.headers["X-OCOP-Timestamp"], retried.body
    )


def test_does_a_webhook_that_keeps_failing_end_up_failed_with_an_audit_event(
    app: Flask, db_session: Session, settings: DeliverySettings, webhook_server: WebhookServer
) -> None:
    cert = certificate(30)
    run_sweep(db_session, webhook_server.url)
    webhooks_only = dataclasses.replace(settings, smtp_host="")
    webhook_server.fail_first = 100

    deliver(app, webhooks_only, NOW)
    # Exponential backoff: 60 s after the first failure, 120 s after the second.
    assert delivery(db_session, cert, "webhook").next_attempt_at == NOW + timedelta(seconds=60)
    second_at = NOW + timedelta(seconds=60)
    deliver(app, webhooks_only, second_at)
    row = delivery(db_session, cert, "webhook")
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.next_attempt_at == second_at + timedelta(seconds=120)
    third_at = second_at + timedelta(seconds=120)
    last = deliver(app, webhooks_only, third_at)

    assert (last.sent, last.retrying, last.failed) == (0, 0, 1)
    row = delivery(db_session, cert, "webhook")
    assert (row.status, row.attempts) == ("failed", 3)
    assert "500" in (row.last_error or "")
    logged = attempts(db_session, row)
    assert [(a.ok, a.attempted_at) for a in logged] == [
        (False, NOW),
        (False, second_at),
        (False, third_at),
    ]
    [event] = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.tag == "certificates:notice_delivery:failed",
            AuditEvent.object_id == str(row.id),
        )
    ).all()
    assert event.object_type == "notice_delivery"
    assert event.details["attempts"] == 3
    assert event.details["channel"] == "webhook"

    # A failed delivery is given up on: a later run sends nothing more.
    deliver(app, webhooks_only, third_at + timedelta(days=1))
    assert len(webhook_server.requests) == 3


def test_is_a_webhook_receiver_that_is_down_retried(
    app: Flask, db_session: Session, settings: DeliverySettings
) -> None:
    cert = certificate(30)
    run_sweep(db_session, f"http://127.0.0.1:{free_port()}/hooks/ocop")

    report = deliver(app, dataclasses.replace(settings, smtp_host=""), NOW)

    assert report.retrying == 1
    row = delivery(db_session, cert, "webhook")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == NOW + timedelta(seconds=60)
    [attempt] = attempts(db_session, row)
    assert attempt.ok is False


def test_is_a_webhook_receiver_answering_garbage_retried_rather_than_a_crash(
    app: Flask, db_session: Session, settings: DeliverySettings, webhook_server: WebhookServer
) -> None:
    cert = certificate(30)
    run_sweep(db_session, webhook_server.url)
    webhook_server.garbage = True

    report = deliver(app, dataclasses.replace(settings, smtp_host=""), NOW)

    assert report.retrying == 1
    assert len(webhook_server.requests) == 1
    row = delivery(db_session, cert, "webhook")
    assert (row.status, row.attempts, row.leased_until) == ("pending", 1, None)
    assert row.next_attempt_at == NOW + timedelta(seconds=60)
    [attempt] = attempts(db_session, row)
    assert attempt.ok is False


# --- leases and duplicates ----------------------------------------------------------------


def test_is_a_delivery_leased_by_another_worker_left_alone(
    app: Flask, db_session: Session, settings: DeliverySettings, webhook_server: WebhookServer
) -> None:
    cert = certificate(30)
    run_sweep(db_session, webhook_server.url)
    webhooks_only = dataclasses.replace(settings, smtp_host="")
    leased = delivery(db_session, cert, "webhook")
    lease_end = NOW + timedelta(minutes=2)
    leased.leased_until = lease_end
    db_session.flush()

    report = deliver(app, webhooks_only, NOW)

    assert (report.sent, report.retrying, report.failed) == (0, 0, 0)
    assert webhook_server.requests == []
    row = delivery(db_session, cert, "webhook")
    assert (row.status, row.attempts, row.leased_until) == ("pending", 0, lease_end)
    assert attempts(db_session, row) == []

    # Once the other worker's lease has run out (it died), the delivery is picked up again.
    deliver(app, webhooks_only, lease_end + timedelta(seconds=1))
    assert len(webhook_server.requests) == 1
    assert delivery(db_session, cert, "webhook").status == "sent"


def test_does_a_second_run_after_success_send_nothing_more(
    app: Flask,
    db_session: Session,
    settings: DeliverySettings,
    smtp_server: SmtpServer,
    webhook_server: WebhookServer,
) -> None:
    in_30 = certificate(30, email="a@example.vn")
    in_60 = certificate(60, email="b@example.vn")
    run_sweep(db_session, webhook_server.url)

    first = deliver(app, settings, NOW)
    again = deliver(app, settings, NOW + timedelta(seconds=1))
    much_later = deliver(app, settings, NOW + timedelta(days=1))

    assert first.sent == 4
    assert (again.sent, again.retrying, again.failed) == (0, 0, 0)
    assert (much_later.sent, much_later.retrying, much_later.failed) == (0, 0, 0)
    messages = smtp_server.messages
    assert len(messages) == 2
    assert sorted(m["To"] for m in messages) == ["a@example.vn", "b@example.vn"]
    assert {in_30.number in m["Subject"] for m in messages} == {True, False}
    assert len({m["Message-ID"] for m in messages}) == 2
    assert len(webhook_server.requests) == 2
    for cert in (in_30, in_60):
        for channel in ("email", "webhook"):
            row = delivery(db_session, cert, channel)
            assert (row.status, row.attempts) == ("sent", 1)
            assert len(attempts(db_session, row)) == 1


# --- after the sweep: what changed before the notice went out --------------------------------


def test_is_a_notice_cancelled_when_the_certificate_was_renewed_or_revoked_meanwhile(
    app: Flask, db_session: Session, settings: DeliverySettings, smtp_server: SmtpServer
) -> None:
    revoked = certificate(30)
    renewed = certificate(30)
    run_sweep(db_session)
    revoked.revoked_on, revoked.revocation_decision = TODAY, "9/QĐ-UBND"
    revoked.revocation_reason = "Vi phạm an toàn thực phẩm"
    renewed.superseded_on = TODAY
    db_session.flush()

    report = deliver(app, settings, NOW)

    assert report.cancelled == 2 and report.sent == 0
    assert smtp_server.messages == []
    for cert, reason in ((revoked, "revoked"), (renewed, "superseded")):
        row = delivery(db_session, cert, "email")
        assert (row.status, row.attempts) == ("cancelled", 0)
        assert reason in row.last_error


def test_does_the_email_go_to_the_address_the_producer_has_today(
    app: Flask, db_session: Session, settings: DeliverySettings, smtp_server: SmtpServer
) -> None:
    cert = certificate(30, email="cu@example.vn")
    run_sweep(db_session)
    cert.product.producer.email = "moi@example.vn"
    db_session.flush()

    deliver(app, settings, NOW)

    assert [m["To"] for m in smtp_server.messages] == ["moi@example.vn"]


def test_does_a_worker_whose_lease_was_taken_over_record_nothing(
    app: Flask,
    db_session: Session,
    settings: DeliverySettings,
    webhook_server: WebhookServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trace_service.certificates import delivery as delivery_module

    cert = certificate(30)
    run_sweep(db_session, webhook_server.url)
    webhooks_only = dataclasses.replace(settings, smtp_host="")
    row = delivery(db_session, cert, "webhook")
    real_post = delivery_module._post

    def slow_post(url: str, body: bytes, headers: dict[str, str]) -> str:
        # While this worker sends, its lease runs out and another worker takes the delivery.
        db_session.execute(
            update(NoticeDelivery)
            .where(NoticeDelivery.id == row.id)
            .values(leased_until=NOW + timedelta(hours=1))
        )
        db_session.flush()
        return real_post(url, body, headers)

    monkeypatch.setattr(delivery_module, "_post", slow_post)
    report = deliver(app, webhooks_only, NOW)

    assert report.sent == 0
    assert "lease lost" in report.errors[0]
    after = delivery(db_session, cert, "webhook")
    assert (after.status, after.attempts) == ("pending", 0)

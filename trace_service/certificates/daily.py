"""The daily job: sweep for expiring certificates, then deliver what is due.

Run it from cron or a systemd timer (``flask certs daily``), or let the web process run it
(``OCOP_SCHEDULER=true``; fine on one machine: the sweep is exactly-once and deliveries are
leased, so several workers or machines running it at once do no harm).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Flask

from trace_service.certificates.delivery import DeliveryReport, DeliverySettings, deliver_due
from trace_service.certificates.expiry import SweepReport, sweep
from trace_service.clock import VIETNAM, today_vn
from trace_service.db import get_db, session_scope, utcnow
from trace_service.principal import system_principal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DailyReport:
    sweep: SweepReport
    delivery: DeliveryReport


def run_sweep(app: Flask, day: date | None = None) -> SweepReport:
    with session_scope(app) as session:
        return sweep(
            session,
            system_principal("expiry-sweep"),
            day or today_vn(),
            webhook_url=app.config["WEBHOOK_URL"] or None,
            now=utcnow(),
        )


def run_delivery(app: Flask) -> DeliveryReport:
    return deliver_due(
        get_db(app).sessionmaker,
        system_principal("notice-delivery"),
        DeliverySettings.from_config(app.config),
    )


def run_daily(app: Flask, day: date | None = None) -> DailyReport:
    return DailyReport(sweep=run_sweep(app, day), delivery=run_delivery(app))


def seconds_until(at: str, now: datetime) -> float:
    """Seconds from ``now`` to the next ``HH:MM`` in Vietnam time."""
    hours, minutes = (int(part) for part in at.split(":"))
    local = now.astimezone(VIETNAM)
    target = local.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=1)
    return (target - local).total_seconds()


def start_scheduler(app: Flask) -> threading.Thread | None:
    """Start the in-process daily job if ``SCHEDULER`` is on; a daemon thread per process.
    With a job queue (``REDIS_URL``) its workers queue the daily job instead."""
    if not app.config["SCHEDULER"] or app.testing or app.config["REDIS_URL"]:
        return None
    seconds_until(app.config["SCHEDULER_TIME"], utcnow())  # a bad HH:MM fails at start-up

    def loop() -> None:
        while True:
            time.sleep(seconds_until(app.config["SCHEDULER_TIME"], utcnow()))
            try:
                with app.app_context():
                    report = run_daily(app)
                log.info("daily expiry job: %s", report)
            except Exception:  # the next day must still run
                log.exception("daily expiry job failed")

    thread = threading.Thread(target=loop, name="ocop-daily-expiry", daemon=True)
    thread.start()
    app.extensions["ocop_scheduler"] = thread
    return thread

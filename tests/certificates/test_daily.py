"""The daily job as cron, a systemd timer or the in-process scheduler runs it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from trace_service import create_app
from trace_service.certificates.daily import seconds_until, start_scheduler
from trace_service.certificates.models import ExpiryNotice
from trace_service.clock import today_vn


@pytest.mark.parametrize(
    "now_utc, at, expected_hours",
    [
        (datetime(2026, 11, 28, 22, 0, tzinfo=UTC), "06:00", 1),  # 05:00 in Vietnam
        (datetime(2026, 11, 28, 23, 30, tzinfo=UTC), "06:00", 23.5),  # 06:30: tomorrow
        (datetime(2026, 11, 28, 23, 0, tzinfo=UTC), "06:00", 24),  # exactly now: tomorrow
    ],
)
def test_the_scheduler_waits_until_the_next_run_in_vietnam_time(now_utc, at, expected_hours):
    assert seconds_until(at, now_utc) == expected_hours * 3600


def test_the_scheduler_stays_off_unless_asked(app):
    assert start_scheduler(app) is None


def test_a_bad_scheduler_time_stops_start_up(tmp_path):
    with pytest.raises(ValueError):
        create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                "SCHEDULER": True,
                "SCHEDULER_TIME": "six",
            }
        )


def test_the_scheduler_starts_a_daemon_thread_when_asked(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "SCHEDULER": True})
    thread = app.extensions.get("ocop_scheduler")
    assert thread is not None and thread.daemon and thread.is_alive()


def test_certs_daily_sweeps_and_reports(app, db_session):
    last_day = today_vn() + timedelta(days=20)
    factories.CertificateFactory(issue_date=last_day - timedelta(days=1095), valid_until=last_day)
    result = app.test_cli_runner().invoke(args=["certs", "daily"])
    assert result.exit_code == 0, result.output
    assert "1 new notices" in result.output
    assert db_session.scalar(select(func.count()).select_from(ExpiryNotice)) == 1
    again = app.test_cli_runner().invoke(args=["certs", "sweep"])
    assert "0 new notices" in again.output


def test_certs_sweep_takes_a_day(app, db_session):
    factories.CertificateFactory(issue_date=date(2023, 1, 10))  # last valid day 10/01/2026
    result = app.test_cli_runner().invoke(args=["certs", "sweep", "--day", "2025-12-20"])
    assert result.exit_code == 0, result.output
    assert "2025-12-20: 1 new notices" in result.output


def test_certs_import_checks_then_imports(app, db_session, tmp_path, units):
    producer = factories.ProducerFactory(registration_code="6400123456")
    factories.ProductFactory(producer=producer, name_vi="Tiêu đen Đắk Song")
    sheet = tmp_path / "ds.csv"
    sheet.write_text(
        "Số GCN,Số QĐ,Ngày QĐ,Cơ quan cấp,MST,Tên sản phẩm,Số sao,Ngày cấp\n"
        "DNO-1,1/QĐ-UBND,02/03/2023,UBND huyện Đắk Song,6400123456,"
        "Tiêu đen Đắk Song,3,02/03/2023\n",
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["certs", "import", str(sheet), "--dry-run"])
    assert checked.exit_code == 0 and "dry run" in checked.output
    done = runner.invoke(args=["certs", "import", str(sheet)])
    assert done.exit_code == 0 and "Imported 1" in done.output
    again = runner.invoke(args=["certs", "import", str(sheet)])  # the same list again
    assert again.exit_code == 0, again.output
    assert "Imported 0 certificates. 1 of them recorded already" in again.output
    sheet.write_text(sheet.read_text(encoding="utf-8").replace(",3,", ",4,"), encoding="utf-8")
    changed = runner.invoke(args=["certs", "import", str(sheet)])  # the same number, 4 stars
    assert changed.exit_code != 0
    assert "line 2" in changed.output


def test_certs_deliver_says_when_e_mails_wait_for_a_mail_server(app, db_session):
    last_day = today_vn() + timedelta(days=50)
    factories.CertificateFactory(
        issue_date=last_day - timedelta(days=1095),
        valid_until=last_day,
        product__producer__email="htx@example.vn",
    )
    runner = app.test_cli_runner()
    runner.invoke(args=["certs", "sweep"])
    result = runner.invoke(args=["certs", "deliver"])
    assert result.exit_code == 0, result.output
    assert "Sent 0" in result.output
    assert "1 e-mails wait: no mail server is configured" in result.output

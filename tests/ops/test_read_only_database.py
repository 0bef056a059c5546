"""A read-only database during the daily sweep and a print-run build (PostgreSQL's
``default_transaction_read_only`` on a fresh test database): each says so plainly (503 in
the API, a message and a non-zero exit from the command), nothing is lost, and both work
again once the database is writable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from tests import factories
from tests.databases import fresh_database, postgres_admin_url
from tests.labels.conftest import P, seed_committed
from tests.ops.conftest import make_app
from trace_service.certificates.models import ExpiryNotice
from trace_service.clock import today_vn
from trace_service.db import get_db, session_scope
from trace_service.labels import services
from trace_service.labels.jobs import label_base_url
from trace_service.labels.models import Label, PrintRun, RunStatus
from trace_service.migrate import upgrade
from trace_service.principal import system_principal
from trace_service.signing.service import get_keystore, init_keys

pytestmark = pytest.mark.postgres_only


def _read_only(app, url: str, on: bool) -> None:
    """Set the database's default for new sessions, and drop the app's pooled connections
    so they pick it up (as after a failover to a standby, or an operator's switch)."""
    name = make_url(url).database
    # From another database: a read-only one would refuse to be switched back from inside.
    admin = create_engine(postgres_admin_url() or url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        value = "on" if on else "off"
        connection.execute(
            text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {value}')
        )
    admin.dispose()
    get_db(app).engine.dispose()


def _counts(app) -> tuple[int, int, int]:
    with session_scope(app, writes=False) as session:
        return (
            session.scalar(select(func.count()).select_from(PrintRun)) or 0,
            session.scalar(select(func.count()).select_from(Label)) or 0,
            session.scalar(select(func.count()).select_from(ExpiryNotice)) or 0,
        )


def test_read_only_database_during_sweep_and_build(tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        app = make_app(url, tmp_path)
        seed = seed_committed(app, bags=100)
        init_keys(app)
        with app.app_context(), session_scope(app) as session:
            factories.bind(session)
            # A certificate whose last valid day is weeks away: the sweep owes it a notice.
            factories.CertificateFactory(issue_date=today_vn() - timedelta(days=1080))
            order = services.RunOrder(seed.product_id, seed.lot_id, 5, False)
            run, _ = services.order_print_run(
                session, system_principal("test"), order, get_keystore(app), label_base_url(app)
            )
            run_id = run.id  # ordered, not yet built (as a queue holds it)
        before = _counts(app)
        assert before == (1, 5, 0)
        runner = app.test_cli_runner()
        client = app.test_client()
        # Used once while writable: a token's first use (and one every few minutes) records
        # its last use, a write that a read-only database refuses with the same 503.
        labels = client.get(f"{P}/print-runs/{run_id}/labels", headers=seed.headers)
        stamp = urlsplit(labels.json["items"][0]["url"])

        _read_only(app, url, True)

        sweep = runner.invoke(args=["certs", "daily"])
        assert sweep.exit_code == 1
        assert "The database is read-only for now (maintenance); nothing was changed" in (
            sweep.output
        )
        assert "Traceback" not in sweep.output
        build = runner.invoke(args=["labels", "build", str(run_id)])
        assert build.exit_code == 1
        assert "read-only" in build.output
        ordered = client.post(
            f"{P}/print-runs",
            json={"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 2},
            headers=seed.headers,
        )
        assert ordered.status_code == 503
        assert ordered.headers["Retry-After"] == "60"
        assert "chế độ chỉ đọc" in ordered.json["message"]
        assert client.get(f"{P}/products", headers=seed.headers).status_code == 200  # reads
        # The stamp's page counts each view, a write: the signature's verdict, never a 500.
        page = client.get(f"{stamp.path}?{stamp.query}", headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert 'data-unavailable="read_only"' in page.get_data(as_text=True)
        assert _counts(app) == before  # nothing lost, nothing half-written
        with session_scope(app, writes=False) as session:
            assert session.get_one(PrintRun, run_id).status is RunStatus.QUEUED

        _read_only(app, url, False)

        sweep = runner.invoke(args=["certs", "daily"])
        assert sweep.exit_code == 0, sweep.output
        assert ": 1 new notices." in sweep.output
        build = runner.invoke(args=["labels", "build", str(run_id)])
        assert build.exit_code == 0, build.output
        with session_scope(app, writes=False) as session:
            assert session.get_one(PrintRun, run_id).status is RunStatus.READY
        assert _counts(app) == (1, 5, 1)
        get_db(app).engine.dispose()

"""``flask labels prune-scans`` as an operator runs it from cron: old views go, the counters
stay, and on PostgreSQL the coming months get their partitions and past months are dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from tests.databases import fresh_database
from tests.labels.conftest import seed_committed
from trace_service import create_app
from trace_service.db import get_db, session_scope
from trace_service.labels.models import Label, PrintRun, label_scans
from trace_service.migrate import upgrade


def _one_label(app) -> int:
    seed = seed_committed(app, bags=10)
    client = app.test_client()
    client.post(
        "/api/v1/print-runs",
        headers=seed.headers,
        json={"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 1},
    )
    with app.app_context(), session_scope(app) as session:
        return session.scalars(select(Label.id).join(PrintRun)).one()


def test_prune_scans_deletes_old_views_and_keeps_the_months_in_step(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "KEYS_DIR": str(tmp_path / "keys"),
                "KEYS_PASSPHRASE": "a passphrase for this test only, long and random",
                "LABEL_FILES_DIR": str(tmp_path / "files"),
                "LABEL_BUILD": "inline",
                "SCAN_RETENTION_DAYS": 30,
            }
        )
        runner = app.test_cli_runner()
        assert runner.invoke(args=["keys", "init"]).exit_code == 0
        label_id = _one_label(app)
        now = datetime.now(UTC)
        with app.app_context(), session_scope(app) as session:
            for age in (1, 20, 45, 400):  # days; 400 days ago lands in the default partition
                session.execute(
                    insert(label_scans).values(
                        label_id=label_id,
                        scanned_at=now - timedelta(days=age),
                        client_hash="0" * 32,
                        device="phone",
                        source="scan",
                    )
                )
        pruned = runner.invoke(args=["labels", "prune-scans"])
        assert pruned.exit_code == 0, pruned.output
        assert "2 views older than 30 days deleted" in pruned.output
        with app.app_context(), session_scope(app) as session:
            assert session.scalar(select(func.count()).select_from(label_scans)) == 2
            if backend == "postgresql":
                months = session.scalars(
                    text(
                        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = "
                        "i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
                        "WHERE p.relname = 'label_scans'"
                    )
                ).all()
                assert "label_scans_default" in months and len(months) >= 4
        again = runner.invoke(args=["labels", "prune-scans"])
        assert again.exit_code == 0 and "0 views" in again.output
        get_db(app).engine.dispose()

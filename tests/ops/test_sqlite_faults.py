"""SQLite refusing writes, injected for real with its own pragmas (tests run as root, so
file modes prove nothing): a full disk (``max_page_count`` at the current size) and a
read-only database (``query_only``). An order of stamps then fails with a clear message, in
the API (503) and on the command line (exit 1, no traceback), writes nothing, and succeeds
once writing works again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from tests.databases import fresh_database
from tests.labels.conftest import P, seed_committed
from tests.ops.conftest import make_app
from trace_service.db import get_db, session_scope
from trace_service.labels.models import Label, PrintRun
from trace_service.migrate import upgrade
from trace_service.signing.service import init_keys


def _full(connection: Any, _record: Any) -> None:
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")


def _read_only(connection: Any, _record: Any) -> None:
    connection.execute("PRAGMA query_only = ON")


@pytest.mark.parametrize(
    ("inject", "says"),
    [
        (_full, "disk full or a write error"),
        (_read_only, "read-only for now"),
    ],
)
def test_an_order_while_sqlite_cannot_write(
    tmp_path: Path, inject: Callable[[Any, Any], None], says: str
) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = make_app(url, tmp_path)
        seed = seed_committed(app, bags=200)
        init_keys(app)
        engine = get_db(app).engine
        body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 100}
        order = ["labels", "order", "--product-id", str(seed.product_id)]
        order += ["--lot-id", str(seed.lot_id), "--quantity", "100"]
        client, runner = app.test_client(), app.test_cli_runner()

        event.listen(engine, "connect", inject)
        engine.dispose()
        try:
            refused = client.post(f"{P}/print-runs", json=body, headers=seed.headers)
            assert refused.status_code == 503
            assert says in refused.json["message_en"]
            assert int(refused.headers["Retry-After"]) > 0
            failed = runner.invoke(args=order)
            assert failed.exit_code == 1
            assert says in failed.output
            assert "Traceback" not in failed.output
        finally:
            event.remove(engine, "connect", inject)
            engine.dispose()

        with session_scope(app, writes=False) as session:
            assert session.scalar(select(func.count()).select_from(PrintRun)) == 0
            assert session.scalar(select(func.count()).select_from(Label)) == 0
        assert client.post(f"{P}/print-runs", json=body, headers=seed.headers).status_code == 202
        assert runner.invoke(args=order).exit_code == 0
        with session_scope(app, writes=False) as session:
            assert session.scalar(select(func.count()).select_from(Label)) == 200
        engine.dispose()

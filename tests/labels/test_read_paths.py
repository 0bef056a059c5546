"""What a label page view and a verification send to the database (db.py's read paths).

A page view reads its label outside any transaction and then writes its scan in one
(SQLite: the only BEGIN is the write's BEGIN IMMEDIATE); a verification writes nothing and
runs its statements outside any transaction (no BEGIN on SQLite, autocommit on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event

from tests.databases import fresh_database
from tests.labels.conftest import P, seed_committed
from trace_service import create_app
from trace_service.db import get_db
from trace_service.migrate import upgrade
from trace_service.signing.service import init_keys


@contextmanager
def _statements(app) -> Iterator[list[tuple[str, bool]]]:
    """(the statement, whether the driver ran it outside a transaction) for each sent."""
    seen: list[tuple[str, bool]] = []
    engine = get_db(app).engine

    def record(connection, _cursor, statement, *_args) -> None:
        raw = connection.connection.dbapi_connection
        autocommit = getattr(raw, "autocommit", None)
        if autocommit is None:  # sqlite3: no transaction open after our connect hook
            autocommit = raw.in_transaction is False
        seen.append(
            (
                statement.split()[0].upper() + " " + statement.split()[1:2][0]
                if len(statement.split()) > 1
                else statement.upper(),
                bool(autocommit),
            )
        )

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def _app_with_labels(tmp_path, backend) -> Iterator[tuple[Any, Any, list[str]]]:
    """The app on a fresh migrated database of ``backend`` (its own sessions, as served:
    not the suite's rolled-back transaction), a committed packed lot and one stamp's URL."""
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "KEYS_DIR": str(tmp_path / "keys"),
                "KEYS_PASSPHRASE": "a passphrase for this test only, long and random",
                "LABEL_FILES_DIR": str(tmp_path / "files"),
                "LABEL_BUILD": "inline",
                "LABEL_BASE_URL": "https://tem.ocop.example.vn",
                "REDIS_URL": "",
            }
        )
        init_keys(app)
        seed = seed_committed(app, bags=10)
        client = app.test_client()
        body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 1}
        run = client.post(f"{P}/print-runs", headers=seed.headers, json=body).json
        items = client.get(f"{P}/print-runs/{run['id']}/labels", headers=seed.headers).json
        try:
            yield app, seed, [item["url"] for item in items["items"]]
        finally:
            get_db(app).engine.dispose()


def test_a_page_view_reads_outside_and_writes_in_one_transaction(tmp_path, backend):
    """A view of a stamp whose run's facts this worker holds (every view but a run's first):
    on PostgreSQL two statements in all, on SQLite the read and one short write."""
    with _app_with_labels(tmp_path, backend) as (app, _seed, urls):
        parts = urlsplit(urls[0])
        page = f"{parts.path}?{parts.query}"
        assert app.test_client().get(page).status_code == 200  # the run's facts composed
        with _statements(app) as seen:
            assert app.test_client().get(page).status_code == 200
    kinds = [statement for statement, _ in seen]
    assert kinds[0].startswith("SELECT"), kinds  # the label, its run's claims and state
    if backend == "sqlite":  # read before any transaction, then the write's two statements
        assert seen[0][1] is True
        assert [k for k in kinds if k.startswith("BEGIN")] == ["BEGIN IMMEDIATE"], kinds
        assert len([k for k in kinds if k.split()[0] in ("INSERT", "UPDATE")]) == 2, kinds
    else:  # the read, then counters and log row in one statement, no transaction at all
        assert kinds == ["SELECT labels.id,", "WITH logged"], kinds
        assert all(outside for _, outside in seen), seen


def test_a_verification_runs_outside_any_transaction(tmp_path, backend):
    with _app_with_labels(tmp_path, backend) as (app, seed, urls), _statements(app) as seen:
        answer = app.test_client().post(
            f"{P}/labels/verify", headers=seed.headers, json={"url": urls[0]}
        )
    assert answer.status_code == 200 and answer.json["verdict"] == "genuine"
    assert seen, "the verification read nothing"
    assert not [s for s, _ in seen if s.startswith(("BEGIN", "COMMIT"))], seen
    assert all(outside for _, outside in seen), seen


def test_a_page_views_commit_skips_the_flush_for_itself_alone(tmp_path):
    """PostgreSQL: the view's statement turns ``synchronous_commit`` off for its own
    transaction (a worker does not sit through a WAL flush per view); the pooled connection
    comes back as it was, so what commits on it next (an order, an audit event) waits for
    its flush as before."""
    with _app_with_labels(tmp_path, "postgresql") as (app, _seed, urls):
        parts = urlsplit(urls[0])
        engine = get_db(app).engine
        sent: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
        assert app.test_client().get(f"{parts.path}?{parts.query}").status_code == 200
        view = next(statement for statement in sent if statement.startswith("WITH logged"))
        assert "set_config(" in view, view
        with engine.connect() as connection:
            setting = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
            pooled = engine.pool.checkedin()
    assert setting == "on" and pooled == 0, (setting, pooled)

"""Two requests at once on a committed database (attack finding F9): on PostgreSQL, which
reads what is committed, two processing steps could both take the last of a lot, and two
corrections could both declare one event wrong. The rows they depend on are locked now."""

from __future__ import annotations

import time
from contextlib import contextmanager

from sqlalchemy import func, select

from tests.databases import fresh_database
from tests.labels.conftest import P, seed_committed
from tests.labels.test_concurrency import _app, _together
from trace_service.db import get_db, session_scope
from trace_service.migrate import upgrade
from trace_service.signing.service import init_keys
from trace_service.trace.models import TraceEvent


def _post(app, path, body, headers):
    """A client that retries when the database asks it to (SQLite's 503 on a write race)."""
    client = app.test_client()
    for _ in range(5):
        response = client.post(f"{P}{path}", json=body, headers=headers)
        if response.status_code != 503:
            return response
        time.sleep(0.2)
    return response


@contextmanager
def _served(backend, tmp_path):
    """The app on a fresh committed database, its connections closed after the test (a
    connection left to the garbage collector warns in whichever test runs next)."""
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path)
        try:
            yield app
        finally:
            get_db(app).engine.dispose()


def _harvested_lot(app, headers) -> dict:
    found = app.test_client().get(f"{P}/lots?code=H-C", headers=headers).json["items"]
    return found[0]


def test_two_steps_taking_the_last_of_a_lot_at_once_leave_one_refused(backend, tmp_path):
    with _served(backend, tmp_path) as app:
        seed = seed_committed(app)  # 10,000 kg harvested, 2,500 kg packed: 7,500 kg left
        init_keys(app)
        lot = _harvested_lot(app, seed.headers)

        def drying(code):
            return {
                "process": "drying",
                "event_time": "2026-01-07T08:00:00+07:00",
                "inputs": [{"lot_id": lot["id"], "quantity": 5000}],
                "outputs": [
                    {"code": code, "material": "Cà phê khô", "quantity": 2000, "unit": "kg"}
                ],
            }

        first, second = _together(
            lambda: _post(app, "/trace/transformations", drying("DRY-1"), seed.headers),
            lambda: _post(app, "/trace/transformations", drying("DRY-2"), seed.headers),
        )
        assert sorted([first.status_code, second.status_code]) == [201, 422], (
            first.json,
            second.json,
        )
        refused = first if first.status_code == 422 else second
        assert "has only 2500 kg left" in refused.json["message_en"]


def test_two_corrections_of_one_event_at_once_leave_one(backend, tmp_path):
    with _served(backend, tmp_path) as app:
        seed = seed_committed(app)
        init_keys(app)
        lot = _harvested_lot(app, seed.headers)
        observed = _post(
            app,
            "/trace/observations",
            {
                "kind": "shipping",
                "event_time": "2026-01-07T08:00:00+07:00",
                "lots": [{"lot_id": lot["id"]}],
            },
            seed.headers,
        )
        assert observed.status_code == 201, observed.json

        def correction(reason):
            return {
                "corrects_event_id": observed.json["id"],
                "reason": reason,
                "event_time": "2026-01-08T08:00:00+07:00",
            }

        first, second = _together(
            lambda: _post(app, "/trace/corrections", correction("Sai ngày"), seed.headers),
            lambda: _post(app, "/trace/corrections", correction("Sai lô"), seed.headers),
        )
        assert sorted([first.status_code, second.status_code]) == [201, 409]
        with session_scope(app) as session:
            corrections = session.scalar(
                select(func.count())
                .select_from(TraceEvent)
                .where(TraceEvent.corrects_event_id == observed.json["id"])
            )
        assert corrections == 1

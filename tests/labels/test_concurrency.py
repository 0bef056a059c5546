"""Several connections at once, on a committed database: retries and parallel orders, and
builds in a background thread with their progress visible to other requests."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select, text

from tests.databases import fresh_database
from tests.labels.conftest import P, seed_committed
from trace_service import create_app
from trace_service.db import get_db, session_scope
from trace_service.labels import serials as serial_codes
from trace_service.labels import services
from trace_service.labels.models import Label, PrintRun
from trace_service.migrate import upgrade
from trace_service.signing.service import get_keystore, init_keys


def _app(url, tmp_path, build="inline"):
    return create_app(
        {
            "DATABASE_URL": url,
            "KEYS_DIR": str(tmp_path / "keys"),
            "KEYS_PASSPHRASE": "a passphrase for this test only, long and random",
            "LABEL_BASE_URL": "https://tem.ocop.example.vn",
            "LABEL_FILES_DIR": str(tmp_path / "files"),
            "LABEL_BUILD": build,
        }
    )


def _together(*calls):
    """Run the calls in threads released at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait(timeout=10)
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _post_retrying(app, seed, body, headers, account=None):
    """A client that retries once when the database asks it to (SQLite's 503 on a write
    race), as the error message tells it to."""
    client = app.test_client()
    account = account or seed.headers
    for _ in range(3):
        response = client.post(f"{P}/print-runs", json=body, headers={**account, **headers})
        if response.status_code != 503:
            return response
        time.sleep(0.2)
    return response


def test_one_order_sent_twice_at_once_makes_one_run(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path)
        seed = seed_committed(app)
        init_keys(app)  # keys made before the race, as on a running server
        body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 50}
        key = {"Idempotency-Key": "retry-me"}
        first, second = _together(
            lambda: _post_retrying(app, seed, body, key),
            lambda: _post_retrying(app, seed, body, key),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 202]
        assert first.json["id"] == second.json["id"]
        with session_scope(app) as session:
            assert session.scalar(select(func.count()).select_from(PrintRun)) == 1
            assert session.scalar(select(func.count()).select_from(Label)) == 50
        get_db(app).engine.dispose()


def test_parallel_runs_never_share_a_serial(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path)
        seed = seed_committed(app)
        init_keys(app)
        body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 1500}
        responses = _together(
            *(
                lambda n=n: _post_retrying(app, seed, body, {"Idempotency-Key": f"k{n}"})
                for n in range(3)
            )
        )
        assert [r.status_code for r in responses] == [202, 202, 202]
        with session_scope(app) as session:
            serials = list(session.scalars(select(Label.serial)))
        assert len(serials) == len(set(serials)) == 4500
        get_db(app).engine.dispose()


def test_a_serial_taken_meanwhile_is_replaced_not_shared(app, packed, db_session, client):
    """The database's unique index decides; the run gets a fresh serial for that seq."""
    first = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": 1},
    ).json
    taken = db_session.scalars(select(Label.serial).where(Label.run_id == first["id"])).one()
    second = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": 1},
    ).json
    run = db_session.get(PrintRun, second["id"])
    fresh = [body + serial_codes.check_char(body) for body in ("0" * 14, "1" * 14)]
    # The first batch offers the serial the first run holds; the second its replacement.
    offered = iter([[taken, fresh[0]], [fresh[1]]])

    def source(count):
        batch = next(offered)
        assert len(batch) == count
        return batch

    services.issue_labels(db_session, run, [2, 3], get_keystore(app).signer(), None, source)
    rows = dict(
        db_session.execute(select(Label.seq, Label.serial).where(Label.run_id == run.id)).all()
    )
    assert rows[2] == fresh[1] and rows[3] == fresh[0]
    owner = db_session.scalars(select(Label.run_id).where(Label.serial == taken)).one()
    assert owner == first["id"]


def test_a_background_build_shows_its_progress_then_its_files(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path, build="background")
        init_keys(app)
        seed = seed_committed(app)
        init_keys(app)  # as `flask keys init` does before the server starts
        client = app.test_client()
        body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 400}
        ordered = client.post(f"{P}/print-runs", json=body, headers=seed.headers)
        assert ordered.status_code == 202 and ordered.json["status"] in {"queued", "building"}
        ordered.close()  # the build starts when the response is closed, after the commit
        seen, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            run = client.get(f"{P}/print-runs/{ordered.json['id']}", headers=seed.headers).json
            seen.append((run["status"], run["progress"]["labels_drawn"]))
            if run["status"] in {"ready", "failed"}:
                break
            time.sleep(0.05)
        assert run["status"] == "ready", (run, seen)
        assert run["progress"]["labels_drawn"] == 400
        drawn = [n for _, n in seen]
        assert drawn == sorted(drawn)  # progress only moves forward
        pdf = client.get(run["files"]["sheets"][0]["url"], headers=seed.headers)
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        pdf.close()
        get_db(app).engine.dispose()


def test_parallel_orders_built_in_the_background_all_finish(backend, tmp_path):
    """Six producers' clicks at once: every build ends ready, none stays "building"."""
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path, build="background")
        seed = seed_committed(app)
        init_keys(app)
        body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 40}

        def order(n):
            response = _post_retrying(app, seed, body, {"Idempotency-Key": f"bg{n}"})
            response.close()  # starts the build, as the server does once it has answered
            return response.json["id"]

        ids = _together(*(lambda n=n: order(n) for n in range(6)))
        client = app.test_client()
        deadline = time.monotonic() + 90
        statuses = {}
        while time.monotonic() < deadline:
            statuses = {
                i: client.get(f"{P}/print-runs/{i}", headers=seed.headers).json["status"]
                for i in ids
            }
            if all(s in {"ready", "failed"} for s in statuses.values()):
                break
            time.sleep(0.1)
        assert set(statuses.values()) == {"ready"}, statuses
        get_db(app).engine.dispose()


def test_orders_at_the_same_moment_cannot_overdraw_a_lot(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path)
        seed = seed_committed(app, bags=1000, accounts=3)
        init_keys(app)
        body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 400}
        # Three people of one co-operative, each with their own account (one token's requests
        # queue behind each other on the token's row).
        accounts = [seed.headers, *seed.more_headers]
        responses = _together(
            *(
                lambda n=n: _post_retrying(
                    app, seed, body, {"Idempotency-Key": f"o{n}"}, accounts[n]
                )
                for n in range(3)
            )
        )
        assert sorted(r.status_code for r in responses) == [202, 202, 422]
        with session_scope(app) as session:
            assert session.scalar(select(func.count()).select_from(Label)) == 800
        get_db(app).engine.dispose()


def test_an_order_waiting_too_long_for_its_lot_is_told_to_retry(backend, tmp_path, monkeypatch):
    """Another order of the same lot holds it while it signs (seconds, for 100,000 stamps):
    past LOT_LOCK_SECONDS the answer is "retry in a few seconds", not "database down"."""
    if backend != "postgresql":
        return  # SQLite writers take turns (sqlite_writes.py): no row locks to wait on
    monkeypatch.setattr(services, "LOT_LOCK_SECONDS", 1)
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path)
        seed = seed_committed(app, bags=1000)
        init_keys(app)
        body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 10}
        engine = get_db(app).engine
        with engine.connect() as holder, holder.begin():
            holder.execute(
                text("SELECT id FROM lots WHERE id = :id FOR UPDATE"), {"id": seed.lot_id}
            )
            started = time.monotonic()
            refused = app.test_client().post(f"{P}/print-runs", json=body, headers=seed.headers)
            assert time.monotonic() - started < 5
        assert refused.status_code == 503, refused.json
        assert refused.headers["Retry-After"] == "5"
        assert "thử lại sau ít giây" in refused.json["message"]
        with session_scope(app) as session:
            assert session.scalar(select(func.count()).select_from(Label)) == 0
        ordered = app.test_client().post(f"{P}/print-runs", json=body, headers=seed.headers)
        assert ordered.status_code == 202, ordered.json
        engine.dispose()

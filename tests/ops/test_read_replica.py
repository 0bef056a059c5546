"""A read replica (``OCOP_DATABASE_REPLICA_URL``), against a private primary and streaming
replica this test makes (tests/ops/pg_pair.py; the machine's cluster is never touched):
the label page, the verify API and the offline snapshot read from the replica, which the
test holds behind the primary by pausing its replay; the scans those pages count and the
scratch codes they check are written on the primary; a replica behind never signs a
snapshot that takes back what an earlier one said; and with the replica stopped everything
answers from the primary. A replica further behind than the bound
(``OCOP_DATABASE_REPLICA_MAX_LAG_SECONDS``) is left for the primary until it catches up;
only the replica's own trouble sends a read to the primary, not an error of the read's."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.orm import Session

from tests.labels.conftest import Committed, P, seed_committed
from tests.ops.conftest import make_app, print_stamps
from tests.ops.pg_pair import PgPair, pg_pair, postgres_bin
from trace_service.db import REPLICA_LAG_CHECK_SECONDS, get_db, read_on_replica
from trace_service.labels import serials
from trace_service.migrate import upgrade
from trace_service.signing.service import (
    get_keystore,
    init_keys,
    publish_trust_list,
    scratch_secret,
)

pytestmark = pytest.mark.postgres_only
BASE = "https://tem.ocop.example.vn"


@pytest.fixture
def pair() -> Iterator[PgPair]:
    if postgres_bin() is None:
        pytest.skip("needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)")
    with pg_pair() as made:
        yield made


def _serial(path: str) -> str:
    return path.split("?")[0].rsplit("/", 1)[1]


def _scans(pair: PgPair, port: int) -> int:
    return int(str(pair.sql(port, "SELECT count(*) FROM label_scans")))


def _verdict(client: FlaskClient, seed: Committed, path: str) -> str:
    answer = client.post(f"{P}/labels/verify", json={"url": BASE + path}, headers=seed.headers)
    assert answer.status_code == 200, answer.json
    return str(answer.json["verdict"])


def _snapshot(client: FlaskClient) -> dict:
    answer = client.get("/offline/snapshot.json")
    assert answer.status_code == 200, answer.json
    return dict(answer.json)


def _void(client: FlaskClient, seed: Committed, pair: PgPair, path: str) -> None:
    serial = _serial(path)
    query = "SELECT run_id FROM labels WHERE serial = :serial"
    run_id = pair.sql(pair.primary_port, query, serial=serial)
    body = {"sequences": [1], "reason": "In hỏng"}
    voided = client.post(f"{P}/print-runs/{run_id}/voids", json=body, headers=seed.headers)
    assert voided.status_code == 200, voided.json


def _scratch_stamp(app: Flask, seed: Committed) -> str:
    """A stamp with a scratch code, ordered and built; the path its QR code opens."""
    client = app.test_client()
    body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 1}
    run = client.post(f"{P}/print-runs", json=body | {"scratch_code": True}, headers=seed.headers)
    assert run.status_code == 202, run.json
    labels = client.get(f"{P}/print-runs/{run.json['id']}/labels", headers=seed.headers)
    url = labels.json["items"][0]["url"]
    return url.removeprefix(BASE)


def _checked(pair: PgPair, port: int, serial: str) -> bool:
    query = (
        "SELECT s.scratch_checked_at IS NOT NULL FROM label_states s "
        "JOIN labels l ON l.id = s.label_id WHERE l.serial = :serial"
    )
    return bool(pair.sql(port, query, serial=serial))


def _scratch_checked_on_primary(app: Flask, pair: PgPair, path: str) -> None:
    """Replay paused: the stamp's page (read on the replica) takes its scratch code, and the
    first check is written on the primary."""
    serial = _serial(path)
    code = serials.scratch_code(scratch_secret(get_keystore(app)), serial)
    answer = app.test_client().post(path, data={"code": code})
    assert answer.status_code == 200
    assert "đây là lần kiểm tra đầu tiên" in answer.get_data(as_text=True)
    assert _checked(pair, pair.primary_port, serial)
    assert not _checked(pair, pair.replica_port, serial)


def _snapshot_reads_the_replica(app: Flask, pair: PgPair, seed: Committed, path: str) -> None:
    """Replay paused: a void on the primary is not in the snapshot served from the replica;
    once the primary's records signed a version with it, the replica's stale view does not
    sign one without it."""
    client = app.test_client()
    before = _snapshot(client)
    _void(client, seed, pair, path)  # the run's first stamp: ``path``
    stale = _snapshot(client)
    assert stale["version"] == before["version"] and _serial(path) not in json.dumps(stale)
    signed = app.test_cli_runner().invoke(args=["offline", "snapshot"])  # on the primary
    assert signed.exit_code == 0, signed.output
    served = _snapshot(client)
    assert served["version"] == before["version"] + 1
    assert _serial(path) in json.dumps(served["voided"])


def test_public_reads_go_to_the_replica_and_writes_to_the_primary(
    pair: PgPair, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upgrade(pair.primary_url)
    app = make_app(
        pair.primary_url,
        tmp_path,
        DATABASE_REPLICA_URL=pair.replica_url,
        OFFLINE_SNAPSHOT_CHECK_SECONDS=0,  # every request looks at the records
        OFFLINE_SNAPSHOT_DIR=str(tmp_path / "offline"),
    )
    try:
        seed = seed_committed(app, bags=100)
        init_keys(app)
        publish_trust_list(get_keystore(app))
        old, scratched = print_stamps(app, seed), _scratch_stamp(app, seed)
        client = app.test_client()
        pair.caught_up()
        _snapshot(client)
        assert client.get(old[1]).status_code == 200
        pair.caught_up()  # the view's count too: its commit did not wait for the WAL flush

        pair.pause_replay()  # the replica stays where it is; the primary goes on
        new = print_stamps(app, seed)
        scans = _scans(pair, pair.primary_port)
        assert client.get(new[0]).status_code == 404  # not on the replica yet
        assert _verdict(client, seed, new[0]) == "not_issued"
        assert client.get(old[1]).status_code == 200
        assert _scans(pair, pair.primary_port) == scans + 1  # the view, on the primary
        assert _scans(pair, pair.replica_port) == scans  # (the replica is paused)
        _scratch_checked_on_primary(app, pair, scratched)
        _snapshot_reads_the_replica(app, pair, seed, old[0])
        pair.resume_replay()
        pair.caught_up()
        assert client.get(new[0]).status_code == 200
        assert _verdict(client, seed, new[0]) == "genuine"

        pair.stop("replica")
        with caplog.at_level(logging.WARNING, logger="trace_service.db"):
            assert client.get(new[1]).status_code == 200  # from the primary now
            assert _verdict(client, seed, new[2]) == "genuine"
            assert _snapshot(client)["version"] >= 2
        assert "read replica failed" in caplog.text
        assert _scans(pair, pair.primary_port) == scans + 3
    finally:
        get_db(app).dispose()


def _in_recovery(session: Session) -> bool:
    return bool(session.execute(text("SELECT pg_is_in_recovery()")).scalar())


def _read_on_standby(app: Flask) -> bool:
    """Whether a public read (one request's) runs on the standby now, or on the primary."""
    with app.test_request_context("/"):
        return read_on_replica(_in_recovery)


def test_a_replica_too_far_behind_is_left_for_the_primary_until_it_catches_up(
    pair: PgPair, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upgrade(pair.primary_url)
    app = make_app(
        pair.primary_url,
        tmp_path,
        DATABASE_REPLICA_URL=pair.replica_url,
        DATABASE_REPLICA_MAX_LAG_SECONDS=1,
    )
    try:
        seed = seed_committed(app, bags=100)
        init_keys(app)
        client = app.test_client()
        pair.caught_up()
        time.sleep(1.5)  # the primary is quiet longer than the bound: still 0 behind
        assert _read_on_standby(app)

        pair.pause_replay()  # a standby that stays reachable but replays nothing
        new = print_stamps(app, seed)
        time.sleep(REPLICA_LAG_CHECK_SECONDS + 0.2)  # the measure of 0 s behind is old now
        with caplog.at_level(logging.WARNING, logger="trace_service.db"):
            assert client.get(new[0]).status_code == 200  # from the primary
            assert _verdict(client, seed, new[1]) == "genuine"
            assert not _read_on_standby(app)
        assert caplog.text.count("public reads go to the primary") == 1, caplog.text
        assert "s behind (more than 1 s)" in caplog.text

        caplog.clear()
        pair.resume_replay()
        pair.caught_up()
        time.sleep(REPLICA_LAG_CHECK_SECONDS + 0.2)
        with caplog.at_level(logging.WARNING, logger="trace_service.db"):
            assert _read_on_standby(app)
            assert client.get(new[2]).status_code == 200  # the standby has it now
            assert _read_on_standby(app)
        assert caplog.text.count("caught up") == 1, caplog.text
    finally:
        get_db(app).dispose()


def _ends_its_connection_on_the_standby(session: Session) -> bool:
    if _in_recovery(session):
        session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    return _in_recovery(session)


def test_only_the_replicas_own_trouble_sends_a_read_to_the_primary(
    pair: PgPair, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upgrade(pair.primary_url)
    pair.caught_up()
    app = make_app(pair.primary_url, tmp_path, DATABASE_REPLICA_URL=pair.replica_url)
    write = "UPDATE alembic_version SET version_num = 'x'"  # through the read-only standby
    try:
        with (
            caplog.at_level(logging.WARNING, logger="trace_service.db"),
            app.test_request_context("/"),
        ):
            with pytest.raises(DataError):  # bad data: the read's own error, not retried
                read_on_replica(lambda s: s.execute(text("SELECT CAST('x' AS integer)")))
            with pytest.raises(DBAPIError, match="read-only transaction") as refused:
                read_on_replica(lambda s: s.execute(text(write)))  # not done on the primary
            assert getattr(refused.value.orig, "sqlstate", None) == "25006"
            assert read_on_replica(_in_recovery)  # the request's later reads: the standby
        assert pair.sql(pair.primary_port, "SELECT version_num FROM alembic_version") != "x"
        assert "read replica failed" not in caplog.text and _read_on_standby(app)

        with (
            caplog.at_level(logging.WARNING, logger="trace_service.db"),
            app.test_request_context("/"),
        ):
            assert read_on_replica(_ends_its_connection_on_the_standby) is False  # run again
        assert "read replica failed" in caplog.text
        assert not _read_on_standby(app)  # left alone for a while
    finally:
        get_db(app).dispose()


def test_a_replica_url_naming_a_server_that_is_no_standby_reads_the_primary(
    pair: PgPair, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Not in recovery (the primary itself here; a promoted standby): its lag behind the
    primary cannot be measured, so it counts as too far behind."""
    upgrade(pair.primary_url)
    app = make_app(pair.primary_url, tmp_path, DATABASE_REPLICA_URL=pair.primary_url)
    read_only = "SELECT current_setting('transaction_read_only') = 'on'"
    try:
        with (
            caplog.at_level(logging.WARNING, logger="trace_service.db"),
            app.test_request_context("/"),
        ):
            assert read_on_replica(lambda s: s.execute(text(read_only)).scalar()) is False
        assert "read replica is not a standby" in caplog.text
    finally:
        get_db(app).dispose()

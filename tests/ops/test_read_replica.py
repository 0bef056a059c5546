"""A read replica (``OCOP_DATABASE_REPLICA_URL``), against a private primary and streaming
replica this test makes (tests/ops/pg_pair.py; the machine's cluster is never touched):
the label page, the verify API and the offline snapshot read from the replica, which the
test holds behind the primary by pausing its replay; the scans those pages count are
written on the primary; a replica behind never signs a snapshot that takes back what an
earlier one said; and with the replica stopped everything answers from the primary."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.labels.conftest import Committed, P, seed_committed
from tests.ops.conftest import make_app, print_stamps
from tests.ops.pg_pair import PgPair, pg_pair, postgres_bin
from trace_service.db import get_db
from trace_service.migrate import upgrade
from trace_service.signing.service import get_keystore, init_keys, publish_trust_list

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
        old = print_stamps(app, seed)
        client = app.test_client()
        pair.caught_up()
        _snapshot(client)
        assert client.get(old[1]).status_code == 200

        pair.pause_replay()  # the replica stays where it is; the primary goes on
        new = print_stamps(app, seed)
        scans = _scans(pair, pair.primary_port)
        assert client.get(new[0]).status_code == 404  # not on the replica yet
        assert _verdict(client, seed, new[0]) == "not_issued"
        assert client.get(old[1]).status_code == 200
        assert _scans(pair, pair.primary_port) == scans + 1  # the view, on the primary
        assert _scans(pair, pair.replica_port) == scans  # (the replica is paused)
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

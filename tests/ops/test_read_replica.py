"""A read replica (``OCOP_DATABASE_REPLICA_URL``), against a private primary and streaming
replica this test makes (tests/ops/pg_pair.py; the machine's cluster is never touched):
the label page, the verify API and the offline snapshot read from the replica, which the
test holds behind the primary by pausing its replay; the scans those pages count and the
scratch codes they check are written on the primary; a replica behind never signs a
snapshot that takes back what an earlier one said; and with the replica stopped everything
answers from the primary."""

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

"""`flask backup create` while the service runs, `flask backup restore` into a new place:
the audit chain verifies there and the stamps printed before the backup still verify; a
backup whose files do not match its manifest is refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

from tests.databases import fresh_database
from tests.labels.conftest import seed_committed
from tests.ops.conftest import make_app, print_stamps
from trace_service.db import get_db
from trace_service.migrate import upgrade
from trace_service.signing.service import init_keys


def test_backup_then_restore_into_a_new_place(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = make_app(url, tmp_path / "first")
        seed = seed_committed(app, bags=100)
        init_keys(app)
        stamps = print_stamps(app, seed)
        client = app.test_client()
        assert client.get(stamps[0]).status_code == 200  # a scan: the log has something new
        client.get("/readyz")  # the service holds its connections open: an online backup

        made = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "bk")])
        assert made.exit_code == 0, made.output
        assert "Keep OCOP_KEYS_PASSPHRASE apart" in made.output
        manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
        paths = {entry["path"] for entry in manifest["files"]}
        assert "database.sqlite3" in paths
        assert manifest["key_ids"] and manifest["schema_revision"]
        for kid in manifest["key_ids"]:  # private keys stay encrypted in the backup
            pem = (tmp_path / "bk" / "keys" / f"{kid}.pem").read_text()
            assert pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert (tmp_path / "bk").stat().st_mode & 0o077 == 0
        get_db(app).engine.dispose()

    place = tmp_path / "elsewhere"
    restored = make_app(f"sqlite:///{place / 'ocop.sqlite3'}", place)
    runner = restored.test_cli_runner()
    result = runner.invoke(args=["backup", "restore", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "Audit chain intact" in verified.output
    client = restored.test_client()
    for stamp in stamps:
        page = client.get(stamp, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert 'data-colour="green"' in page.get_data(as_text=True)
    assert (place / "ocop.sqlite3").stat().st_mode & 0o077 == 0  # this service's alone
    again = runner.invoke(args=["backup", "restore", str(tmp_path / "bk")])
    assert again.exit_code == 1  # never over an existing database
    assert "A database exists" in again.output
    get_db(restored).engine.dispose()


def test_a_damaged_backup_is_refused(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = make_app(url, tmp_path / "first")
        init_keys(app)
        assert (
            app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "bk")]).exit_code
            == 0
        )
        get_db(app).engine.dispose()
    database = tmp_path / "bk" / "database.sqlite3"
    data = bytearray(database.read_bytes())
    data[-1] ^= 1
    database.write_bytes(bytes(data))
    place = tmp_path / "elsewhere"
    restored = make_app(f"sqlite:///{place / 'ocop.sqlite3'}", place)
    result = restored.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path / "bk")])
    assert result.exit_code == 1
    assert "database.sqlite3 does not match its SHA-256" in result.output
    assert not (place / "ocop.sqlite3").exists()
    assert not (place / "keys").exists()


def test_a_backup_holding_a_link_is_refused(tmp_path: Path) -> None:
    # A key "file" that is a link would restore whatever it points at as a signing key.
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = make_app(url, tmp_path / "first")
        init_keys(app)
        made = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "bk")])
        assert made.exit_code == 0, made.output
        get_db(app).engine.dispose()
    secret = tmp_path / "someone-elses.txt"
    secret.write_text("not ours")
    (tmp_path / "bk" / "keys" / "extra.pem").symlink_to(secret)
    place = tmp_path / "elsewhere"
    restored = make_app(f"sqlite:///{place / 'ocop.sqlite3'}", place)
    result = restored.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path / "bk")])
    assert result.exit_code == 1
    assert "keys/extra.pem is a link" in result.output
    assert not (place / "ocop.sqlite3").exists()


def test_postgresql_is_pointed_to_pg_dump_and_keys_back_up_alone(tmp_path: Path) -> None:
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path)
    init_dir = tmp_path / "keys"
    init_dir.mkdir(mode=0o700)
    (init_dir / "k.pem").write_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["backup", "create", str(tmp_path / "bk")])
    assert refused.exit_code == 1
    assert "pg_dump" in refused.output
    keys = runner.invoke(args=["backup", "create", "--keys-only", str(tmp_path / "bk")])
    assert keys.exit_code == 0, keys.output
    assert (tmp_path / "bk" / "keys" / "k.pem").exists()
    assert not (tmp_path / "bk" / "database.sqlite3").exists()
    assert runner.invoke(args=["backup", "check", str(tmp_path / "bk")]).exit_code == 0

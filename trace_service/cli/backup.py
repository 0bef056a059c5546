"""``flask backup create DIR`` and ``flask backup restore DIR``: the SQLite database and the
label-signing key directory, consistent and checkable.

- The database is copied with SQLite's online backup API while the service runs (readers
  and writers go on; the copy is one consistent state, WAL included).
- The key directory is copied as it is, under the key store's own lock: the private keys
  stay encrypted with ``OCOP_KEYS_PASSPHRASE``, which is never in a backup (keep it apart).
- ``manifest.json`` lists every file with its size and SHA-256, the schema revision and the
  key ids; ``restore`` checks them all before it writes anything, refuses links, and never
  overwrites an existing database or key. The manifest finds damage, not tampering (anyone
  who can write the backup can write its manifest): keep backups where only the operator
  writes.

Print-run files and offline snapshots are not copied: they are drawn again from the
database (a ready run whose files are missing is rebuilt by ``flask labels build``).
PostgreSQL is backed up with ``pg_dump``/``pg_restore`` (README), the key directory with this
command's ``--keys-only``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine, make_url

from trace_service.migrate import current_revision
from trace_service.signing.service import keys_dir

backup_cli = AppGroup("backup", help="Back up and restore the database and signing keys.")

MANIFEST = "manifest.json"
FORMAT = "ocop-backup/1"
DATABASE_FILE = "database.sqlite3"
KEYS_FOLDER = "keys"
_KEY_STORE_LOCK = ".lock"  # the key store's own lock file (signing/keystore.py)


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise click.ClickException("The SQLite database is in memory: nothing to back up.")
    return Path(parsed.database)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _key_store_locked(folder: Path) -> Iterator[None]:
    """The key store's writers wait while we copy (a rotation is never half in a backup)."""
    if not folder.is_dir():
        yield
        return
    fd = os.open(folder / _KEY_STORE_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup: one consistent state, while the service keeps working."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=15)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst, pages=1024)  # steps of 1024 pages: writers wait only between them
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file


def _revision(database: Path) -> str | None:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    finally:
        engine.dispose()


def _files(root: Path) -> list[dict[str, Any]]:
    return [
        {
            "path": path.relative_to(root).as_posix(),
            "bytes": path.stat().st_size,
            "sha256": _sha256(path),
        }
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != MANIFEST and path.name != _KEY_STORE_LOCK
    ]


def create_backup(
    target: Path, database_url: str, keys: Path, *, keys_only: bool
) -> dict[str, Any]:
    """Write a backup into ``target`` (new or empty); its manifest."""
    if target.exists() and any(target.iterdir()):
        raise click.ClickException(f"{target} is not empty: give a new directory.")
    database = None if keys_only else _sqlite_path(database_url)
    if not keys_only and database is None:
        raise click.ClickException(
            "The database is PostgreSQL: back it up with pg_dump (see the README), and the "
            "keys with `flask backup create --keys-only DIR`."
        )
    if database is not None and not database.is_file():
        raise click.ClickException(f"No database at {database}.")
    # Written beside the target and renamed at the end: a backup that exists is whole.
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700, parents=True)
    try:
        if database is not None:
            _copy_database(database, partial / DATABASE_FILE)
        with _key_store_locked(keys):
            if keys.is_dir():
                shutil.copytree(
                    keys, partial / KEYS_FOLDER, ignore=shutil.ignore_patterns(_KEY_STORE_LOCK)
                )
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "schema_revision": _revision(partial / DATABASE_FILE) if database else None,
            "key_ids": sorted(p.stem for p in (partial / KEYS_FOLDER).glob("*.pem")),
            "files": _files(partial),
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if target.exists():
            target.rmdir()
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def check_backup(source: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is there with its size and hash, and no
    other file is; a ClickException naming the first problem otherwise."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{source} has no readable {MANIFEST}: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise click.ClickException(f"{source}: not a backup of this service ({FORMAT}).")
    # A backup of ours holds plain files only: a link would restore whatever it points at
    # (another user's file, /etc/...) as our database or keys.
    links = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_symlink())
    if links:
        raise click.ClickException(f"{source}: {links[0]} is a link, not a file of a backup.")
    listed = {entry["path"]: entry for entry in manifest["files"]}
    found = {entry["path"]: entry for entry in _files(source)}
    for path in sorted(listed.keys() | found.keys()):
        if path not in found:
            raise click.ClickException(f"{source}: {path} is missing.")
        if path not in listed:
            raise click.ClickException(f"{source}: {path} is not in the manifest.")
        if found[path] != listed[path]:
            raise click.ClickException(f"{source}: {path} does not match its SHA-256.")
    return manifest


def restore_backup(source: Path, database_url: str, keys: Path) -> dict[str, Any]:
    """Check ``source``, then copy its database and keys into place (never over existing)."""
    manifest = check_backup(source)
    has_database = (source / DATABASE_FILE).is_file()
    database = _sqlite_path(database_url) if has_database else None
    if has_database and database is None:
        raise click.ClickException(
            "This backup holds an SQLite database but the service is set to PostgreSQL."
        )
    if database is not None and database.exists() and database.stat().st_size > 0:
        raise click.ClickException(
            f"A database exists at {database}: restore into a new place (OCOP_DATABASE_URL), "
            "or move it aside first."
        )
    backed_keys = source / KEYS_FOLDER
    if backed_keys.is_dir() and keys.is_dir():
        clash = sorted(p.name for p in backed_keys.iterdir() if (keys / p.name).exists())
        if clash:
            raise click.ClickException(
                f"Keys exist in {keys} ({', '.join(clash[:3])}…): restore into a new key "
                "directory (OCOP_KEYS_DIR), or move it aside first."
            )
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
        _copy_database(source / DATABASE_FILE, database)
        database.chmod(0o600)  # the registry and audit log are this service's alone
    if backed_keys.is_dir():
        keys.mkdir(mode=0o700, parents=True, exist_ok=True)
        keys.chmod(0o700)
        shutil.copytree(backed_keys, keys, dirs_exist_ok=True)
        for path in keys.rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)
    return manifest


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--keys-only", is_flag=True, help="Only the key directory (PostgreSQL installs).")
def backup_create(directory: Path, keys_only: bool) -> None:
    """Back up the SQLite database (online) and the signing keys (still encrypted) into the
    new DIRECTORY, with a manifest of hashes. The keys' passphrase is not included."""
    manifest = create_backup(
        directory, current_app.config["DATABASE_URL"], keys_dir(), keys_only=keys_only
    )
    size = sum(entry["bytes"] for entry in manifest["files"])
    click.echo(
        f"Backup in {directory}: {len(manifest['files'])} files, {size:,} bytes, schema "
        f"{manifest['schema_revision'] or '-'}, keys {', '.join(manifest['key_ids']) or '-'}."
    )
    click.echo("Keep OCOP_KEYS_PASSPHRASE apart from it: the keys open only with it.")


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def backup_restore(directory: Path) -> None:
    """Check DIRECTORY's manifest, then restore its database to OCOP_DATABASE_URL and its
    keys to OCOP_KEYS_DIR (both must be new). Then run `flask audit verify`."""
    manifest = restore_backup(directory, current_app.config["DATABASE_URL"], keys_dir())
    click.echo(
        f"Restored the backup of {manifest['created_at']} (schema "
        f"{manifest['schema_revision'] or '-'}). Check it: flask audit verify."
    )


@backup_cli.command("check")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def backup_check(directory: Path) -> None:
    """Check that every file of DIRECTORY matches its manifest (writes nothing)."""
    manifest = check_backup(directory)
    click.echo(f"Backup of {manifest['created_at']}: {len(manifest['files'])} files intact.")

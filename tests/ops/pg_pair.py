"""A private PostgreSQL primary and its streaming replica, made for one test with ``initdb``
and ``pg_basebackup`` on free ports under a temporary directory, and removed after it.

PostgreSQL refuses to run as root: as root, every command runs as the ``postgres`` user.
The machine's own cluster (port 5432) is never touched: these two have their own data
directories, ports, sockets and ``pg_hba.conf`` (which allows replication from 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

USER = "postgres"
DATABASE = "ocop"
HBA = """\
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
"""


def postgres_bin() -> Path | None:
    """The newest installed server's binaries (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgPair:
    bin: Path
    base: Path
    primary_port: int
    replica_port: int

    def url(self, port: int, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{port}/{database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    def run(self, tool: str, *args: str) -> None:
        as_postgres = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
        command = [*as_postgres, str(self.bin / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stdout}\n{done.stderr}")

    def start(self, name: str, port: int) -> None:
        data, log = self.base / name, self.base / f"{name}.log"
        self.run(
            "pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "30", "-o", f"-p {port}", "start"
        )

    def stop(self, name: str) -> None:
        if (self.base / name / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.base / name), "-m", "immediate", "-w", "stop")

    def sql(self, port: int, statement: str, database: str = DATABASE, **params: object) -> object:
        engine = create_engine(self.url(port, database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                result = connection.execute(text(statement), params)
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()

    def caught_up(self, seconds: float = 20) -> None:
        """Wait until the replica has replayed everything the primary has written so far,
        commits not yet flushed included (a label page view's commit does not wait for it)."""
        lsn = self.sql(self.primary_port, "SELECT pg_current_wal_insert_lsn()")
        query = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), CAST(:lsn AS pg_lsn)) >= 0"
        deadline = time.monotonic() + seconds
        while not self.sql(self.replica_port, query, lsn=str(lsn)):
            if time.monotonic() > deadline:
                raise AssertionError(f"the replica did not reach {lsn} in {seconds} s")
            time.sleep(0.05)

    def pause_replay(self) -> None:
        self.sql(self.replica_port, "SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.sql(self.replica_port, "SELECT pg_wal_replay_resume()")


def _configure_primary(pair: PgPair) -> None:
    data = pair.base / "primary"
    with (data / "postgresql.conf").open("a") as conf:
        # Private: its own socket folder; fsync off (a test's data, thrown away after it).
        conf.write(
            f"listen_addresses = '127.0.0.1'\nunix_socket_directories = '{pair.base}'\n"
            "fsync = off\nfull_page_writes = off\nwal_level = replica\n"
            "max_wal_senders = 4\nhot_standby = on\nmax_connections = 40\n"
        )
    (data / "pg_hba.conf").write_text(HBA)


@contextmanager
def pg_pair() -> Iterator[PgPair]:
    """A running primary (with an empty database ``ocop``) and a streaming replica of it."""
    binaries = postgres_bin()
    assert binaries is not None, "check postgres_bin() first"
    base = Path(tempfile.mkdtemp(prefix="ocop-pg-pair-"))
    if os.geteuid() == 0:
        shutil.chown(base, USER, USER)
    pair = PgPair(binaries, base, free_port(), free_port())
    try:
        pair.run("initdb", "-D", str(base / "primary"), "-U", USER, "--auth=trust", "--no-sync")
        _configure_primary(pair)
        pair.start("primary", pair.primary_port)
        pair.sql(pair.primary_port, f"CREATE DATABASE {DATABASE}", database="postgres")
        pair.run(
            "pg_basebackup",
            *("-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", USER),
            *("-D", str(base / "replica"), "-R", "-X", "stream", "-c", "fast", "--no-sync"),
        )
        pair.start("replica", pair.replica_port)
        yield pair
    finally:
        for name in ("replica", "primary"):
            with contextlib.suppress(RuntimeError):  # already stopped, or never started
                pair.stop(name)
        shutil.rmtree(base, ignore_errors=True)

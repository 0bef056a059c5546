"""Our processes take turns at SQLite's write lock through a lock file beside the database.

SQLite makes a writer that finds the database locked sleep and try again (its busy handler
sleeps 1, 2, 5, 10… ms), so with two gunicorn workers counting label page views, a view that
arrives while the other worker commits sleeps a millisecond or more with its CPU idle: a
fifth of a worker's time under load. Waiting on ``flock`` instead, the kernel wakes the next
writer the moment the lock is let go. Threads of one process take a lock of their own first
(``flock`` does not exclude threads sharing a file); a thread that begins a second write while
holding the turn (a mistake SQLite's timeout reports) passes through to SQLite, as before.

Only our own write transactions (``BEGIN IMMEDIATE``) take it; any other program writing the
file (a backup, the sqlite3 shell) still meets SQLite's busy handler. A writer waits for its
turn at most ``timeout_seconds`` (db.py: 5 s), then goes on without it and SQLite's busy
handler decides (db.py: up to 10 s more), as before: this lock makes writers faster, never
stuck, and the two waits together stay under the web workers' timeout.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import event as sa_event

HELD = "ocop_sqlite_write_lock"  # in a pooled connection's info while it holds the lock
POLL_SECONDS = 0.0001  # between tries of the file lock, held by another process


class WriteTurns:
    """The lock file of one database, opened once per process (a forked worker must not
    share its parent's open file: ``flock`` locks belong to the open file)."""

    def __init__(self, path: str, timeout_seconds: float) -> None:
        self.path = path
        self.timeout = timeout_seconds
        # A plain lock with its owner, not an RLock: a connection may be reset (its turn
        # ended) by another thread than the one that began its write.
        self._threads = threading.Lock()
        self._owner: int | None = None
        self._depth = 0  # the owner's writes (more than one: SQLite decides, as before)
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # a read-only directory: SQLite alone decides, as it did
                return None
            self._pid = os.getpid()
        return self._fd

    def acquire(self) -> bool:
        """Take the turn (True), or give up after the timeout (False: SQLite decides)."""
        if self._owner == threading.get_ident():
            self._depth += 1
            return True
        if not self._threads.acquire(timeout=self.timeout):
            return False
        self._owner, self._depth = threading.get_ident(), 1
        if self._lock_file():
            return True
        self.release()
        return False

    def _lock_file(self) -> bool:
        fd = self._file()
        if fd is None:
            return False
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
            time.sleep(POLL_SECONDS)

    def release(self) -> None:
        self._depth -= 1
        if self._depth > 0:
            return
        if self._fd is not None and self._pid == os.getpid():
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._owner = None
        self._threads.release()


def take_turns(engine: Engine, database_path: str, timeout_seconds: float) -> WriteTurns:
    """Make ``engine``'s write transactions take turns (see the module's docstring): the
    caller's BEGIN hook calls ``begin`` before BEGIN IMMEDIATE; the turn ends with the
    transaction's COMMIT or ROLLBACK, or with its connection."""
    turns = WriteTurns(f"{database_path}-writes.lock", timeout_seconds)
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def _end(info: dict[str, Any] | None) -> None:
        if info is not None and info.pop(HELD, False):
            turns.release()

    def _info(connection: Any) -> dict[str, Any] | None:
        # SQLAlchemy hands these the pooled connection, whose ``info`` is its record's; the
        # engine's first connection (no record, no turn taken) has none.
        try:
            return connection.info
        except (AttributeError, NotImplementedError):
            return None

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            _end(_info(dbapi_connection))

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            _end(_info(dbapi_connection))

    # The dialect is this engine's own: its commit and rollback are wrapped for it alone.
    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    @sa_event.listens_for(engine, "close")
    def _closed(_dbapi_connection: Any, record: Any) -> None:
        _end(record.info)

    @sa_event.listens_for(engine, "invalidate")
    def _invalidated(_dbapi_connection: Any, record: Any, _exception: Any) -> None:
        _end(record.info)

    return turns


def begin(turns: WriteTurns | None, connection: Any) -> None:
    """Take the turn for a write transaction about to begin on ``connection``."""
    info = connection.connection.info
    if turns is not None and not info.get(HELD) and turns.acquire():
        info[HELD] = True

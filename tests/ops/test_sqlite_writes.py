"""SQLite writers take turns through a lock file (trace_service/sqlite_writes.py): a writer
that finds another's write in progress waits in the kernel and goes on the moment it ends,
instead of sleeping in SQLite's busy handler; a turn ends with its transaction, whatever
ends it; and a writer never waits longer than SQLite itself would have."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from trace_service.db import IMMEDIATE_OPTION, make_engine
from trace_service.sqlite_writes import WriteTurns


def _engine(path):
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (v INTEGER)"))
    return engine


def _write_after(engine, started: threading.Event, done: list[float]) -> None:
    with engine.connect().execution_options(**{IMMEDIATE_OPTION: True}) as connection:
        started.set()
        with connection.begin():
            connection.execute(text("INSERT INTO t VALUES (2)"))
    done.append(time.monotonic())


def test_a_second_writer_goes_on_as_soon_as_the_first_commits(tmp_path):
    first, second = _engine(tmp_path / "db.sqlite3"), _engine(tmp_path / "db.sqlite3")
    started, done = threading.Event(), []
    holder = first.connect().execution_options(**{IMMEDIATE_OPTION: True})
    transaction = holder.begin()
    holder.execute(text("INSERT INTO t VALUES (1)"))
    waiter = threading.Thread(target=_write_after, args=(second, started, done))
    waiter.start()
    started.wait(5)
    time.sleep(0.45)  # SQLite's busy handler would next look at 0.528 s
    assert done == []  # waiting its turn
    transaction.commit()
    committed = time.monotonic()
    waiter.join(5)
    holder.close()
    assert done and done[0] - committed < 0.02  # woken at once, not after a busy sleep
    with first.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_a_turn_ends_with_a_rollback_and_with_its_connection(tmp_path):
    engine = _engine(tmp_path / "db.sqlite3")
    other = WriteTurns(f"{tmp_path / 'db.sqlite3'}-writes.lock", timeout_seconds=0.2)
    with engine.connect().execution_options(**{IMMEDIATE_OPTION: True}) as connection:
        connection.begin()
        assert other.acquire() is False  # held by the transaction
        connection.rollback()
        assert other.acquire() is True
        other.release()
        connection.begin()
        connection.invalidate()  # a connection lost mid-transaction
    assert other.acquire() is True
    other.release()


def test_a_writer_waits_no_longer_than_its_timeout_and_a_thread_may_nest(tmp_path):
    lock = f"{tmp_path / 'db.sqlite3'}-writes.lock"
    holder, late = WriteTurns(lock, 5), WriteTurns(lock, 0.2)
    assert holder.acquire() and holder.acquire()  # the same thread again: SQLite decides
    started = time.monotonic()
    assert late.acquire() is False
    assert 0.2 <= time.monotonic() - started < 1.0
    holder.release()
    assert late.acquire() is False  # still held once
    holder.release()
    assert late.acquire() is True
    late.release()

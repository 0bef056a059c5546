"""Database plumbing: the declarative base, reusable column types and the session per request.

One commit per unit of work, at the edge: a request's session is committed once after a
successful response and rolled back after any error; CLI commands use ``session_scope``.
Services receive the session as an argument and only ever ``flush``.

With ``OCOP_DATABASE_REPLICA_URL`` the public reads (the label page, the verify API, the
offline snapshot) run on a read replica through ``read_on_replica``; everything else, and
every write those requests make, stays on the primary (``get_session``).
"""

from __future__ import annotations

import enum
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Enum,
    Integer,
    MetaData,
    create_engine,
    text,
)
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from trace_service import db_waits, sqlite_writes

log = logging.getLogger(__name__)
T = TypeVar("T")

# Stable constraint names, so Alembic migrations name things the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone, so we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def value_enum(enum_class: type[enum.Enum], length: int = 32) -> Enum:
    """Store an enum by its value (readable in SQL, stable across renames of members)."""
    return Enum(
        enum_class,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


IntPk = Annotated[int, mapped_column(BigId, primary_key=True)]
Created = Annotated[datetime, mapped_column(UtcDateTime(), default=utcnow)]
Updated = Annotated[datetime, mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        int: BigId,
        datetime: UtcDateTime(),
        dict[str, Any]: JsonDoc,
        list[Any]: JsonDoc,
    }


def default_database_url(instance_path: str) -> str:
    os.makedirs(instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(instance_path, "ocop.sqlite3")


def _json_serializer(value: Any) -> str:
    # Keep Vietnamese as text in JSON columns so that searches match it (SQLite stores the
    # JSON text as is; escaped "c\u00e0 ph\u00ea" would never match "cà phê").
    return json.dumps(value, ensure_ascii=False)


IMMEDIATE_OPTION = "ocop_sqlite_begin_immediate"
# A route that writes nothing reads without a transaction: each statement sees the database
# as it is (as the next statement may not), which a single verdict does not mind, and no
# BEGIN or COMMIT is sent (on PostgreSQL two round trips of four).
AUTOCOMMIT_OPTION = "ocop_sqlite_autocommit"
DATABASE_WAIT_SECONDS = 5  # OCOP_DATABASE_WAIT_SECONDS's default (db_waits.py)
# SQLite: a writer waits at most 15 s in all, under gunicorn's 30 s worker timeout: its turn
# among our writers (sqlite_writes.py) for up to 5 s, then SQLite's busy handler up to 10 s.
TURN_SECONDS = 5
BUSY_SECONDS = 10
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def make_engine(
    url: str,
    echo: bool = False,
    *,
    read_only: bool = False,
    wait_seconds: int = DATABASE_WAIT_SECONDS,
) -> Engine:
    """An engine for ``url``; ``read_only`` (the replica's): every PostgreSQL transaction
    read-only, so nothing can write through it even if the URL names a writable server;
    ``wait_seconds``: how long a connection attempt (anywhere) and a web request's waits on
    the server (db_waits.py) last at most."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": 15}, json_serializer=_json_serializer
        )
        _configure_sqlite(engine)
        return engine
    # A server that went away is found at checkout (pre-ping) and the pool reconnects by
    # itself once it is back; a connection attempt gives up after a few seconds (libpq's
    # least is 2), so a request answers 503 rather than waiting on an unreachable host; and
    # one that never answers (frozen) is given up on by db_waits.
    connect_args: dict[str, Any] = {"connect_timeout": max(2, wait_seconds)}
    if read_only:
        connect_args["options"] = "-c default_transaction_read_only=on"
    engine = create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        json_serializer=_json_serializer,
        connect_args=connect_args,
    )
    db_waits.bound_connections(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    path = engine.url.database
    file_based = bool(path) and path != ":memory:" and not str(path).startswith("file:")
    turns = sqlite_writes.take_turns(engine, str(path), TURN_SECONDS) if file_based else None

    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite opens transactions on its own schedule, which breaks SAVEPOINT; take control.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        cursor.close()

    @sa_event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A request that writes takes the write lock when it starts (BEGIN IMMEDIATE) and so
        # waits its turn (busy_timeout); with a plain BEGIN it would read first, and fail
        # with "database is locked" when another writer had committed since its read.
        options = connection.get_execution_options()
        if options.get(AUTOCOMMIT_OPTION, False):
            return  # the driver runs each statement on its own (isolation_level None)
        if not options.get(IMMEDIATE_OPTION):
            connection.exec_driver_sql("BEGIN")
            return
        sqlite_writes.begin(turns, connection)  # our writers take turns (sqlite_writes.py)
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# A replica that failed is left alone this long (per process) before it is tried again, so
# an unreachable one costs one request's connection attempt, not every request's.
REPLICA_RETRY_SECONDS = 30.0
# A replica's measured lag is believed this long (per process): one small query every two
# seconds, not one per request.
REPLICA_LAG_CHECK_SECONDS = 2.0

# How far behind the primary the replica is, in seconds, in one round trip; NULL when it is
# not a standby at all (not in recovery: a promoted or unrelated server, whose lag behind
# OCOP_DATABASE_URL nobody can tell, so it counts as too far behind).
# - Streaming from the primary, and all it received replayed: 0, however long ago the last
#   transaction was: a replica of an idle primary is up to date, although the age of its
#   last replayed transaction (below) grows with the primary's quiet.
# - Otherwise: the age of the last transaction it replayed (none since it started: too
#   far). That covers a replay paused or held back by a query (received WAL not replayed),
#   and a WAL receiver that is not streaming: cut off from the primary, the replica cannot
#   know what it misses; a replica of a quiet primary is then taken as far behind as the
#   quiet is long. Both errors lean to the primary, never to a stale answer, and so does the
#   first write after a quiet spell, whose replay a measure may catch half-way (its age is
#   then the quiet's, for one measure). A clock difference between the two adds in.
# - pg_stat_wal_receiver shows the status only to a role with pg_read_all_stats (README); to
#   another the status is NULL, so the second rule applies. A link that breaks silently
#   stays "streaming" until the replica's wal_receiver_timeout (60 s by default) ends it.
REPLICA_LAG_SQL = text(
    """
    SELECT CASE
      WHEN NOT pg_is_in_recovery() THEN NULL
      WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
        AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0
      ELSE coalesce(
        extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8, 'Infinity'
      )
    END
    """
)


class Database:
    """The engine and session factory of one app, and of its read replica if one is named;
    kept in ``app.extensions['ocop_db']``."""

    def __init__(
        self, engine: Engine, replica: Engine | None = None, replica_max_lag: float = 30.0
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)
        # The same pool, its connections outside any transaction (statements_stand_alone):
        # a session on it connects on its first statement, as any other.
        self.autocommit_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.replica = replica
        self.replica_sessionmaker = (
            sessionmaker(bind=replica, expire_on_commit=False) if replica is not None else None
        )
        self.replica_down_until = 0.0  # time.monotonic() before which the primary reads
        self.replica_max_lag = replica_max_lag
        self.replica_behind = False  # at the last measure: more than replica_max_lag
        self.replica_measured_at = float("-inf")  # time.monotonic(); never yet
        self._measuring = threading.Lock()

    def replica_lag_known(self) -> bool:
        """Whether the last measure of the replica's lag is recent enough to believe."""
        return time.monotonic() - self.replica_measured_at < REPLICA_LAG_CHECK_SECONDS

    def replica_in_time(self, session: Session) -> bool:
        """Whether the replica is at most ``replica_max_lag`` behind the primary: measured
        on ``session`` (the replica's) unless measured lately or by another thread now."""
        if self.replica_lag_known() or not self._measuring.acquire(blocking=False):
            return not self.replica_behind
        try:
            lag = session.execute(REPLICA_LAG_SQL).scalar()
            self.replica_measured_at = time.monotonic()
            behind = lag is None or float(lag) > self.replica_max_lag
            if behind and not self.replica_behind:
                how = (
                    "is not a standby: its lag cannot be measured"
                    if lag is None
                    else f"is {float(lag):.1f} s behind (more than {self.replica_max_lag} s)"
                )
                log.warning(
                    "read replica %s; public reads go to the primary until it catches up", how
                )
            elif self.replica_behind and not behind:
                log.warning("read replica caught up: public reads go to it again")
            self.replica_behind = behind
        finally:
            self._measuring.release()
        return not self.replica_behind

    def replica_failed(self, error: BaseException) -> None:
        self.replica_down_until = time.monotonic() + REPLICA_RETRY_SECONDS
        log.warning(
            "read replica failed (%s); public reads go to the primary for %.0f s",
            error,
            REPLICA_RETRY_SECONDS,
        )

    def dispose(self) -> None:
        self.engine.dispose()
        if self.replica is not None:
            self.replica.dispose()

    def init_app(self, app: Flask) -> None:
        app.extensions["ocop_db"] = self
        app.teardown_appcontext(_close_request_session)


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["ocop_db"]


def _new_session(
    app: Flask | None, *, writes: bool, autocommit: bool = False, server_autocommit: bool = False
) -> Session:
    """A session; on SQLite one that ``writes`` takes the write lock when it begins; one
    that ``autocommit``s runs each statement on its own, outside any transaction (with
    ``server_autocommit``, on a database server only: not SQLite)."""
    db = get_db(app)
    # (Not when the factory is bound to a connection: the tests' rolled-back transaction.)
    standing = db.sessionmaker.kw.get("bind") is db.engine
    if server_autocommit and standing and db.engine.dialect.name != "sqlite":
        return db.sessionmaker(bind=db.autocommit_engine)  # connects when first used
    session = db.sessionmaker()
    bind = session.get_bind()
    if not isinstance(bind, Engine):  # pragma: no cover - the factory binds an engine
        return session
    if autocommit:
        sqlite = bind.dialect.name == "sqlite"
        option: dict[str, Any] = {AUTOCOMMIT_OPTION: True}
        session.connection(
            execution_options=option if sqlite else {"isolation_level": "AUTOCOMMIT"}
        )
    elif writes and bind.dialect.name == "sqlite":
        session.connection(execution_options={IMMEDIATE_OPTION: True})
    return session


def reads_only(view: Any) -> Any:
    """Mark a POST route that writes nothing (the verify API): its statements run outside
    any transaction, so on SQLite it never waits for the write lock, and a rare bookkeeping
    write (a token's last use) is one statement that stands on its own."""
    view.reads_only = True
    return view


def statements_stand_alone(view: Any) -> Any:
    """Mark a route whose writes are each one statement, atomic on its own (a label page
    view's count and log, together in one on PostgreSQL): on a database server its
    statements run outside any transaction (no BEGIN, no COMMIT: round trips saved), and a
    write that needs a transaction begins one with ``begin_write``. SQLite: as ``writes_late``."""
    view.statements_stand_alone = True
    return view


def writes_late(view: Any) -> Any:
    """Mark a route that works long before it writes (an uploaded photo decoded): its session
    begins as a plain read, and the view calls ``begin_write`` when it comes to writing, so
    on SQLite the database's write lock is not held while it works."""
    view.writes_late = True
    return view


def begin_write(session: Session) -> None:
    """End the session's reads and begin the write that follows them. SQLite: a read
    transaction cannot become a write once another connection has written since it began,
    so the reads end here and the write begins IMMEDIATE (waiting its turn for the database's
    lock, held then for the few statements of the write only, not the whole request).
    PostgreSQL: nothing to do (its row locks are taken by the writes themselves), unless the
    session ran its statements outside a transaction (``statements_stand_alone``): then the
    write gets one."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        if session_autocommits(session):
            session.commit()
            session.connection(
                execution_options={"isolation_level": bind.dialect.default_isolation_level}
            )
        return
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={IMMEDIATE_OPTION: True})


def session_autocommits(session: Session) -> bool:
    """Whether the session's statements run outside a transaction, each on its own."""
    options = session.connection().get_execution_options()
    return bool(options.get(AUTOCOMMIT_OPTION) or options.get("isolation_level") == "AUTOCOMMIT")


@contextmanager
def reads_before_write(session: Session) -> Iterator[Connection]:
    """A connection for the few reads a request makes before ``begin_write``. SQLite: a
    pooled connection of its own, outside any transaction, so the session's first statement
    is the write's BEGIN IMMEDIATE (no read transaction to end first: a label page view
    spends a sixth less). PostgreSQL: the session's own connection (a second one would cost
    a round trip to check out)."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        yield session.connection()
        return
    with bind.connect().execution_options(**{AUTOCOMMIT_OPTION: True}) as connection:
        yield connection


def request_reads_only() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "reads_only", False))


def _view_marked(mark: str) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, mark, False))


def _request_writes() -> bool:
    if not has_request_context():
        return False
    if any(_view_marked(m) for m in ("reads_only", "writes_late", "statements_stand_alone")):
        return False
    return request.method in WRITE_METHODS


def get_session() -> Session:
    """The session of the current request (or app context), created on first use. One that
    writes from its start begins only once the request's body is read: a slow client must
    not hold a transaction (on SQLite, the whole database's write lock) while it sends."""
    if "db_session" not in g:
        reads = has_request_context() and request_reads_only()
        writes = _request_writes()
        if writes:
            request.get_data(cache=True)  # bounded by the body limit; the API's already read
        alone = has_request_context() and _view_marked("statements_stand_alone")
        g.db_session = _new_session(None, writes=writes, autocommit=reads, server_autocommit=alone)
    return g.db_session


def has_session() -> bool:
    return "db_session" in g


def _close_request_session(_exc: BaseException | None) -> None:
    for name in ("db_session", "db_read_session"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


def _replica_session() -> Session | None:
    """The request's replica session (it only ever reads; closed with the request), or None
    when no replica is named, it failed lately, or it cannot be reached now."""
    db = get_db()
    if db.replica_sessionmaker is None or time.monotonic() < db.replica_down_until:
        return None
    if "db_read_session" not in g:
        if db.replica_behind and db.replica_lag_known():
            return None  # too far behind a moment ago
        session = db.replica_sessionmaker()
        try:
            session.connection()  # reached now? (a pooled connection is pinged first)
            in_time = db.replica_in_time(session)
        except DBAPIError as error:
            session.close()
            db.replica_failed(error)
            return None
        if not in_time:
            session.close()
            return None
        g.db_read_session = session
    session = g.db_read_session
    return session if isinstance(session, Session) else None


# The SQLSTATEs of a replica's own trouble, after which the work runs again on the primary:
# a connection lost or refused (08), the server short of resources (53) or of its files
# (58), shutting down (57P01-57P03) or its database dropped (57P04), and a query cancelled by
# a conflict with its recovery (40001; 40P01 when the conflict is a buffer-pin deadlock).
# Any other error is the work's own and would fail on the primary too, or must not succeed
# there: bad data (22...), a write attempted through the read-only replica (25006), a
# statement cancelled by its timeout (57014; run twice, it would cost the primary as much).
_REPLICA_TROUBLE_STATES = ("08", "53", "58", "57P", "40001", "40P01")


def _replica_trouble(error: DBAPIError) -> bool:
    if error.connection_invalidated:
        return True
    state = getattr(error.orig, "sqlstate", None)
    if not state:  # no server answered (psycopg names no state then)
        return isinstance(error, OperationalError | InterfaceError)
    return str(state).startswith(_REPLICA_TROUBLE_STATES)


def read_on_replica(work: Callable[[Session], T]) -> T:
    """Run the public read ``work`` on the read replica when one is named, and at most
    ``OCOP_DATABASE_REPLICA_MAX_LAG_SECONDS`` behind the primary; else on the request's
    session. A replica that cannot be reached, or fails during ``work`` for trouble of its
    own (gone, or a query cancelled by a conflict with its recovery), is logged and ``work``
    runs again on the primary: a replica's trouble never fails a request. Any other error
    in ``work`` propagates, as it would have on the primary. Writes the request makes after
    the read go to ``get_session()``, the primary, whose rows ``work``'s results may refer to.

    Replication lag: the replica may be a little behind the primary (a new stamp not found
    yet, a count a few views old, a stamp voided seconds ago not yet voided), for little
    more than the bound (measured every 2 s; see REPLICA_LAG_SQL). That is accepted for
    these public reads only; each would give the same answer a moment later, and their
    writes check the primary's rows afresh (the scan counters are written only if
    unchanged, else under a lock)."""
    with db_waits.public_read():  # a request's waits for it: OCOP_DATABASE_WAIT_SECONDS
        session = _replica_session()
        if session is None:
            return work(get_session())
        try:
            return work(session)
        except DBAPIError as error:
            if not _replica_trouble(error):
                session.rollback()  # the replica is well: later reads may use it
                raise
            g.pop("db_read_session", None)
            session.close()
            get_db().replica_failed(error)
            return work(get_session())


@contextmanager
def session_scope(app: Flask | None = None, *, writes: bool = True) -> Iterator[Session]:
    """A unit of work outside a request: commit once at the end, roll back on any error.

    ``writes=False`` for a long read (a print run's builder reading its labels), which must
    not hold SQLite's write lock."""
    session = _new_session(app, writes=writes)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()

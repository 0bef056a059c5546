"""Bounded waits on a PostgreSQL server in web requests.

A server that accepts and acknowledges but never answers (its process stopped by SIGSTOP,
a host hung behind a live kernel) must cost a request a few seconds and the answer a
server that went away gets (API 503 with Retry-After, the label page from its URL alone),
never the worker's whole timeout. Each wait of a request on the server gives up after
``OCOP_DATABASE_WAIT_SECONDS``: a pooled connection's ping at checkout, a new connection,
and each statement of a public read (the label page, the verify API, the offline
snapshot); its other statements (a write waiting behind another's row lock, an export)
after ``max(OCOP_DATABASE_WAIT_SECONDS, 20)``, still under gunicorn's 30 s worker timeout.
Outside web requests (print-run builders, job workers, CLI commands, migrations) nothing
changes: their waits are as long as their work.

Why psycopg's own wait timeout, and not the other ways to stop a blocked wait:
- The server's statement_timeout cannot fire on a server that is not running, and TCP
  keepalive or tcp_user_timeout never fire either: the server's kernel acknowledges
  every byte.
- A cancel (``cancel_safe()`` from a timer thread) is a request to the same frozen server:
  nobody reads it.
- A SIGALRM deadline works in the main thread only (not in gthread workers), raises at any
  bytecode, also inside SQLAlchemy's pool bookkeeping (a connection left neither checked
  in nor out), and psycopg answers an interrupt during a query by cancelling it and waiting
  again (up to 10 s more, for KeyboardInterrupt and SystemExit).
- psycopg 3's ``Connection.wait(gen, interval, timeout)``, through which every blocking
  step of a connection goes (a statement with its results, commit, rollback, the pool's
  ping), already polls with a deadline, in the thread that waits: no signal, no other
  thread, no race with a connection handed back to the pool. When it expires the protocol
  is left half-way, so the connection is closed at once (as psycopg does itself when a
  cancelled query does not end); SQLAlchemy then sees a broken connection, takes it for a
  disconnect and invalidates it with the pool's others, so the next checkout connects
  afresh: the service recovers by itself once the server answers again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from flask import Flask
from psycopg import errors as pg_errors
from psycopg.abc import PQGen
from sqlalchemy import Engine
from sqlalchemy import event as sa_event

RV = TypeVar("RV")
# A request's statements other than public reads: a write may wait behind another's row
# lock for a while; still answered (503) before gunicorn's 30 s worker timeout.
STATEMENT_SECONDS = 20
_WAIT_INTERVAL = 0.1  # psycopg's own: how often a wait wakes to look at signals


@dataclass
class RequestWaits:
    """The bounds of one request's waits, and the servers it already gave up on."""

    short: float  # checkout (ping, connect) and public reads' statements
    statements: float  # any other statement
    gave_up: set[object] = field(default_factory=set)


_waits: ContextVar[RequestWaits | None] = ContextVar("ocop_database_waits", default=None)
_public_read: ContextVar[bool] = ContextVar("ocop_public_read", default=False)


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits, in a web request, end at the request's bound."""

    server: object = None  # the engine it belongs to (gave_up is kept per server)
    pooled = False  # idle in the pool: its next wait is the pool's ping at checkout

    def wait(
        self, gen: PQGen[RV], interval: float = _WAIT_INTERVAL, timeout: float | None = None
    ) -> RV:
        waits = _waits.get()
        if waits is None or timeout is not None:
            return super().wait(gen, interval, timeout)
        short = self.pooled or _public_read.get()
        seconds = waits.short if short else waits.statements
        try:
            return super().wait(gen, interval, seconds)
        # psycopg's own (private) timeout of a wait, an OperationalError; what psycopg itself
        # catches after a cancel (connection.py). tests/ops/test_database_frozen.py fails
        # should a psycopg upgrade rename it.
        except pg_errors._WaitTimeout:
            self.pgconn.finish()  # half-way through the protocol: never to be used again
            waits.gave_up.add(self.server)
            raise psycopg.OperationalError(
                f"the database did not answer within {seconds:g} s"
            ) from None


def bound_connections(engine: Engine) -> None:
    """Make ``engine``'s connections (psycopg's) BoundedConnections, and keep track of
    which of them are idle in the pool."""
    server = object()

    @sa_event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> BoundedConnection:
        waits = _waits.get()
        if waits is not None and server in waits.gave_up:
            # This request waited its bound on the server already (a ping): not again.
            raise psycopg.OperationalError("the database did not answer: not tried again")
        try:
            connection = BoundedConnection.connect(*cargs, **cparams)
        except pg_errors.ConnectionTimeout:
            if waits is not None:
                waits.gave_up.add(server)
            raise
        connection.server = server
        return connection

    @sa_event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, BoundedConnection):
            dbapi_connection.pooled = True

    @sa_event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if isinstance(dbapi_connection, BoundedConnection):
            dbapi_connection.pooled = False


@contextmanager
def bounded(seconds: float) -> Iterator[RequestWaits]:
    """The waits of the work inside (a web request) bounded by ``seconds``."""
    waits = RequestWaits(seconds, max(seconds, STATEMENT_SECONDS))
    token = _waits.set(waits)
    try:
        yield waits
    finally:
        _waits.reset(token)


@contextmanager
def public_read() -> Iterator[None]:
    """The statements inside are a public read's: bounded as a checkout is."""
    token = _public_read.set(True)
    try:
        yield
    finally:
        _public_read.reset(token)


@contextmanager
def unbounded() -> Iterator[None]:
    """Long work inside a request (a print run built inline) waits as long as it must."""
    token = _waits.set(None)
    try:
        yield
    finally:
        _waits.reset(token)


def bound_requests(app: Flask, seconds: float) -> None:
    """Every request's waits on the database bounded, from its first before_request to the
    connection's return to the pool at teardown (a streamed body's, after, are not)."""
    inner: Callable[..., Any] = app.wsgi_app

    def wsgi_app(environ: Any, start_response: Any) -> Any:
        with bounded(seconds):
            return inner(environ, start_response)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]

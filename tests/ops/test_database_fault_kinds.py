"""Which database errors are the database's state (told to the client as 503 with their
cause) and which are ours (500, logged): the drivers' own exceptions, as SQLAlchemy wraps
them."""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg.errors as pg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from trace_service.errors import database_fault


@pytest.mark.parametrize(
    ("orig", "kind"),
    [
        (psycopg.OperationalError("connection failed: Connection refused"), "unreachable"),
        (pg.AdminShutdown("terminating connection due to administrator command"), "unreachable"),
        (pg.CannotConnectNow("the database system is starting up"), "unreachable"),
        (pg.ConnectionFailure("connection failure"), "unreachable"),
        (
            pg.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
            "read_only",
        ),
        (pg.DiskFull("could not extend file: No space left on device"), "storage"),
        (pg.LockNotAvailable("could not obtain lock"), "locked"),  # a lock_timeout ran out
        (pg.SerializationFailure("could not serialize access"), "busy"),
        (pg.QueryCanceled("canceling statement due to statement timeout"), "busy"),
        (sqlite3.OperationalError("database is locked"), "busy"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "read_only"),
        (sqlite3.OperationalError("database or disk is full"), "storage"),
        (sqlite3.OperationalError("unable to open database file"), "unreachable"),
        (pg.UndefinedTable('relation "x" does not exist'), None),  # a bug of ours
        (sqlite3.OperationalError("no such table: x"), None),
        (sqlite3.OperationalError('near "SELEC": syntax error'), None),
    ],
)
def test_what_a_database_error_means(orig: Exception, kind: str | None) -> None:
    wrapped = DBAPIError.instance("SELECT 1", {}, orig, type(orig))
    fault = database_fault(wrapped)
    assert (fault.kind if fault else None) == kind


def test_a_clash_with_other_data_is_not_a_fault_of_the_database() -> None:
    error = IntegrityError("INSERT", {}, pg.UniqueViolation("duplicate key"))
    assert database_fault(error) is None
    assert database_fault(ValueError("not a database error")) is None

"""What every benchmark here shares: logging to stderr, settling the database before a
timed step, timing, and the human table printed beside the last-line JSON."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine


def log(message: str = "") -> None:
    print(message, file=sys.stderr, flush=True)


def settle(engine: Engine) -> None:
    """Bring the database to the same physical state before each timed step: PostgreSQL
    vacuumed and analysed (as autovacuum would have it), SQLite's WAL checkpointed."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("VACUUM ANALYZE")
        else:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def timed(step: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def print_table(
    columns: Sequence[tuple[str, str | None]], rows: list[tuple[str, dict[str, Any]]]
) -> None:
    """One line per backend; ``columns`` are (heading, figure key), the first the backend."""
    table = [[heading for heading, _ in columns]]
    for backend, figures in rows:
        table.append([backend, *(_fmt(figures.get(key)) for _, key in columns[1:])])
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    log()
    for n, row in enumerate(table):
        log("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
        if n == 0:
            log("  ".join("-" * width for width in widths))
    log()

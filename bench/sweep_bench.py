"""Benchmark: one expiry sweep over N certificates, beside a bare indexed SELECT.

For each backend it builds a fresh, migrated database holding one province, district and
commune, ~200 producers (about half with an e-mail), ~2,000 products and N certificates issued
between 2021-01-01 and 2025-12-31 (``random.Random(42)``, so every run builds the same data),
then, per repetition:

* the reference: ``SELECT id, valid_until FROM certificates WHERE valid_until BETWEEN
  today - 30 AND today + 90``, fully fetched (it uses ``ix_certificates_valid_until``);
* the sweep: ``expiry.sweep(...)`` in a new Session, committed, timed end to end; the
  notices, deliveries and audit event it wrote are then deleted (untimed), so every
  repetition sweeps the same state.

Memory is the tracemalloc peak of Python allocations during one sweep, and the growth of the
process's peak RSS (VmHWM, reset through /proc/self/clear_refs) during one sweep, each at N
and at N/10, so a reader sees whether it grows with N.

Run from the repository root::

    .venv/bin/python bench/sweep_bench.py [--backend sqlite|postgresql|both]
        [--certificates 100000] [--repeat 5]

PostgreSQL needs OCOP_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test);
a fresh database is created on that server and dropped afterwards. A human table goes to
stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import (
    Engine,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session

from bench import common
from bench.common import log, settle, timed
from tests.databases import POSTGRES_ENV, fresh_database
from trace_service.audit.models import AuditEvent
from trace_service.certificates import expiry
from trace_service.certificates.models import (
    Certificate,
    ExpiryNotice,
    NoticeDelivery,
)
from trace_service.certificates.rules import valid_until
from trace_service.db import make_engine
from trace_service.migrate import upgrade
from trace_service.principal import system_principal
from trace_service.registry.models import AdministrativeUnit, Producer, Product

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
WEBHOOK_URL = "http://127.0.0.1:9/hook"
BAR_S = 2.0
PRODUCERS = 200
PRODUCTS = 2_000
CHUNK = 10_000
FIRST_ISSUE, LAST_ISSUE = date(2021, 1, 1), date(2025, 12, 31)
MIB = 1024 * 1024


# --- databases ---------------------------------------------------------------------------


# --- data ----------------------------------------------------------------------------------


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def populate(engine: Engine, certificates: int) -> None:
    """Bulk-insert the registry and ``certificates`` certificates in one transaction."""
    rng = random.Random(42)
    created = datetime(2026, 1, 1, tzinfo=UTC)
    search = {"search_key": ""}
    units = [
        {"id": 1, "code": "67", "name": "Tỉnh Đắk Nông", "level": "province", "parent_id": None},
        {"id": 2, "code": "663", "name": "Huyện Đắk Mil", "level": "district", "parent_id": 1},
        {"id": 3, "code": "24649", "name": "Thị trấn Đắk Mil", "level": "commune", "parent_id": 2},
    ]
    for unit in units:
        unit.update(search, valid_from=date(2004, 1, 1))
    kinds = ("cooperative", "enterprise", "household_business", "other")
    producers = [
        {
            "id": i,
            "kind": rng.choice(kinds),
            "name": f"HTX Nông nghiệp {i}",
            "registration_code": f"6400{i:06d}",
            "address": f"Thôn {i % 17 + 1}, thị trấn Đắk Mil",
            "commune_id": 3,
            "representative": f"Nguyễn Văn {i}",
            "email": f"htx{i}@example.vn" if rng.random() < 0.5 else None,
            "created_at": created,
            "updated_at": created,
            **search,
        }
        for i in range(1, PRODUCERS + 1)
    ]
    groups = ("food", "beverages", "herbal", "handicrafts", "ornamental", "tourism")
    products = [
        {
            "id": i,
            "producer_id": rng.randrange(1, PRODUCERS + 1),
            "name_vi": f"Cà phê Đắk Mil {i}",
            "product_group": rng.choice(groups),
            "images": [],
            "standards": [],
            "created_at": created,
            "updated_at": created,
            **search,
        }
        for i in range(1, PRODUCTS + 1)
    ]
    span = (LAST_ISSUE - FIRST_ISSUE).days + 1

    def certificate_rows() -> Iterator[dict[str, Any]]:
        for i in range(1, certificates + 1):
            issued = FIRST_ISSUE + timedelta(days=rng.randrange(span))
            revoked = rng.random() < 0.03
            yield {
                "number": f"OCOP-67-{i:07d}",
                "decision_number": f"{i}/QĐ-UBND",
                "decision_date": issued,
                "issuing_unit_id": 1,
                "issuing_authority": "UBND tỉnh Đắk Nông",
                "product_id": rng.randrange(1, PRODUCTS + 1),
                "evaluation_id": None,
                "star": rng.choice((3, 3, 3, 4, 4, 5)),
                "issue_date": issued,
                "valid_until": valid_until(issued),
                "product_name": "Cà phê bột",
                "revoked_on": issued + timedelta(days=rng.randrange(30, 700)) if revoked else None,
                "revocation_decision": f"{i}/QĐ-UBND-TH" if revoked else None,
                "created_at": created,
            }

    with engine.begin() as connection:
        connection.execute(insert(AdministrativeUnit.__table__), units)
        connection.execute(insert(Producer.__table__), producers)
        connection.execute(insert(Product.__table__), products)
        for chunk in _chunks(certificate_rows(), CHUNK):
            connection.execute(insert(Certificate.__table__), chunk)


# --- the measured steps --------------------------------------------------------------------


REFERENCE = select(Certificate.id, Certificate.valid_until).where(
    Certificate.valid_until.between(
        TODAY - timedelta(days=expiry.EXPIRED_NOTICE_GRACE_DAYS),
        TODAY + timedelta(days=max(expiry.THRESHOLDS)),
    )
)


def reference(engine: Engine) -> int:
    with engine.connect() as connection:
        return len(connection.execute(REFERENCE).all())


def sweep(engine: Engine) -> expiry.SweepReport:
    with Session(engine) as session:
        report = expiry.sweep(
            session, system_principal("bench"), TODAY, webhook_url=WEBHOOK_URL, now=NOW
        )
        session.commit()
    return report


def written(engine: Engine) -> tuple[int, int, int]:
    """Rows a sweep left: notices, deliveries, audit events (counted, not taken from the
    SweepReport, whose rowcounts a driver may not report)."""
    with engine.connect() as connection:
        return tuple(
            connection.execute(select(func.count()).select_from(model.__table__)).scalar_one()
            for model in (ExpiryNotice, NoticeDelivery, AuditEvent)
        )


def clean_up(engine: Engine) -> None:
    """Delete what a sweep wrote, so the next one sweeps the same state."""
    with engine.begin() as connection:
        connection.execute(delete(NoticeDelivery.__table__))
        connection.execute(delete(ExpiryNotice.__table__))
        connection.execute(delete(AuditEvent.__table__))
    settle(engine)


def tracemalloc_peak_mib(step: Callable[[], Any]) -> float:
    """Peak of Python allocations made during ``step`` (what a row loaded into Python costs)."""
    tracemalloc.start()
    try:
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / MIB


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def rss_growth_mib(step: Callable[[], Any]) -> float | None:
    """How far the process's peak RSS rose above its RSS during ``step`` (C allocations too:
    SQLite's page cache, libpq's result buffers). None where /proc cannot reset the peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        before = _status_kib("VmRSS")
    except OSError:
        return None
    step()
    return (_status_kib("VmHWM") - before) / 1024


def measure(backend: str, certificates: int, repeat: int, tmp_dir: Path) -> dict[str, Any]:
    with fresh_database(backend, tmp_dir) as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            load_s, _ = timed(lambda: populate(engine, certificates))
            settle(engine)
            # Warm-up (statement compilation, caches), then the memory figures, untimed.
            report = sweep(engine)
            notices, deliveries, events = written(engine)
            clean_up(engine)
            peak_mib = tracemalloc_peak_mib(lambda: sweep(engine))
            clean_up(engine)
            rss_mib = rss_growth_mib(lambda: sweep(engine))
            clean_up(engine)
            sweeps, references = [], []
            for _ in range(repeat):
                reference_s, rows = timed(lambda: reference(engine))
                references.append(reference_s)
                sweep_s, again = timed(lambda: sweep(engine))
                sweeps.append(sweep_s)
                if again != report or written(engine) != (notices, deliveries, events):
                    raise RuntimeError(f"sweeps differ: {again} != {report}")
                clean_up(engine)
        finally:
            engine.dispose()
    return {
        "certificates": certificates,
        "load_s": load_s,
        "sweep_s": statistics.median(sweeps),
        "sweep_min_s": min(sweeps),
        "sweep_max_s": max(sweeps),
        "reference_s": statistics.median(references),
        "reference_rows": rows,
        "notices": notices,
        "deliveries": deliveries,
        "audit_events": events,
        "reported_notices": report.notices,
        "reported_deliveries": report.deliveries,
        "peak_tracemalloc_mib": peak_mib,
        "peak_rss_growth_mib": rss_mib,
    }


# --- reporting -----------------------------------------------------------------------------


def print_table(rows: list[tuple[str, dict[str, Any]]]) -> None:
    columns = (
        ("backend", None),
        ("certificates", "certificates"),
        ("load s", "load_s"),
        ("sweep s (median)", "sweep_s"),
        ("min", "sweep_min_s"),
        ("max", "sweep_max_s"),
        ("reference s", "reference_s"),
        ("ratio", "ratio"),
        ("rows", "reference_rows"),
        ("notices", "notices"),
        ("deliveries", "deliveries"),
        ("reported", "reported_notices"),
        ("tracemalloc MiB", "peak_tracemalloc_mib"),
        ("RSS growth MiB", "peak_rss_growth_mib"),
    )
    common.print_table(columns, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--certificates", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not os.environ.get(POSTGRES_ENV):
        log(
            f"skipping PostgreSQL: set {POSTGRES_ENV}, "
            "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
        backends.remove("postgresql")

    big, small = args.certificates, max(1, args.certificates // 10)
    result: dict[str, Any] = {}
    rows: list[tuple[str, dict[str, Any]]] = []
    within = True
    with tempfile.TemporaryDirectory(prefix="ocop-bench-") as tmp:
        for backend in backends:
            figures = {}
            for n in (big, small):
                log(f"{backend}: {n} certificates, {args.repeat} repetitions …")
                figures[n] = measure(backend, n, args.repeat, Path(tmp))
                figures[n]["ratio"] = figures[n]["sweep_s"] / figures[n]["reference_s"]
                rows.append((backend, figures[n]))
            b, s = figures[big], figures[small]
            within = within and b["sweep_s"] < BAR_S
            result.update(
                {
                    f"{backend}_sweep_{big}_s": round(b["sweep_s"], 4),
                    f"{backend}_reference_s": round(b["reference_s"], 5),
                    f"{backend}_ratio": round(b["ratio"], 2),
                    f"{backend}_notices": b["notices"],
                    f"{backend}_deliveries": b["deliveries"],
                    f"{backend}_sweep_report_notices": b["reported_notices"],
                    f"{backend}_sweep_report_deliveries": b["reported_deliveries"],
                    f"{backend}_sweep_{small}_s": round(s["sweep_s"], 4),
                    f"{backend}_reference_{small}_s": round(s["reference_s"], 5),
                    f"{backend}_sweep_peak_tracemalloc_mib_{big}": round(
                        b["peak_tracemalloc_mib"], 3
                    ),
                    f"{backend}_sweep_peak_tracemalloc_mib_{small}": round(
                        s["peak_tracemalloc_mib"], 3
                    ),
                    f"{backend}_sweep_peak_rss_growth_mib_{big}": _round(
                        b["peak_rss_growth_mib"], 2
                    ),
                    f"{backend}_sweep_peak_rss_growth_mib_{small}": _round(
                        s["peak_rss_growth_mib"], 2
                    ),
                }
            )
    if not backends:
        log("no backend to measure")
    print_table(rows)
    result["within_2_s"] = bool(backends) and within
    if "postgresql" not in backends and args.backend != "sqlite":
        result["postgresql_skipped"] = True
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


if __name__ == "__main__":
    sys.exit(main())

"""The whole country's data in PostgreSQL, and what the service does at that size.

Generates, in a fresh database it creates (``--database``, default ``ocop_national``, on the
server of ``--postgres-url`` / ``OCOP_TEST_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), at ``--scale`` 1.0:

* 17,000 certified products of 8,500 producers, each product with its raw-material area, a
  harvest event and lot; one certificate each, issued over the last 1,090 days (so about
  8 % reach an expiry threshold within 90 days, as a steady three-year cycle gives);
* 10 million labels in 20,000 print runs of 500 (each run on its own packed lot made by its
  own packing event from the product's harvest lot); the first product's area feeds 200 of
  them, so its forward trace reaches 100,000 labels;
* 10 million scans, three per scanned label on a third of the labels, over the last 365 days
  in the monthly partitions of the scan log (made for those months first, as
  ``flask labels prune-scans`` would have made them as time went by); each scanned label's
  state row, one in 300 labels flagged as possibly copied; 1,000 recalled packed lots.

How: the service makes one of everything first (``print_run_bench._setup``: migrations, keys,
producer, certified product, area, harvest, a packed lot of 100,000 bags and the producer's
token, through the service's own functions), then set-based SQL (``INSERT … SELECT … FROM
generate_series``) clones those rows under new ids and names, not the ORM. Print runs and
labels are written as the service writes them, except the signatures: 10 million Ed25519
signatures would take longer than everything else, so the bulk rows carry placeholder bytes
and a sample of ``--sample`` labels (5,000: more distinct print runs than a web worker's
page cache of 4,096 holds, so the label page cannot answer from it alone) gets a fresh
serial and a genuine signature from the service's key store (``claims_for`` and the
signer, as ``order_print_run`` does). Only sampled labels are requested.

Then it measures, in the same run:

* the label page and the verify API under load: ``wrk`` with 50 connections against
  gunicorn (2 sync workers) serving the national database, and the same against the label
  benchmarks' demo-size database (``verify_bench._seed``: 1,000 labels), each server alone
  in its turn, 3 turns each (as ``verify_bench.py``); p99 and rps of each, and the ratio
  national / demo (bar, issue 15: label page p99 within 1.5×). Before the turns every
  sampled page is viewed once, 8 at a time (``first_view_*``: the day's first view of a
  print run composes its facts for every worker), so both databases are measured in the
  same state, as a day's later views find them: a sample spread over ~4,400 print runs
  would otherwise be measured almost only on first views, and the demo's one run never;
* the expiry sweep (``expiry.sweep``, committed; the first sweep, the largest, then a second
  one that finds nothing new);
* a forward trace from the first product's area to 100,000 labels (``area_trace``);
* the offline snapshot: built from the records (``snapshot_store.build_body``), signed,
  its canonical JSON and gzip size;
* a ``--order-quantity``-stamp order (100,000 at scale 1) built by 2 ``flask jobs worker``
  processes on RQ, from the request to the last file (``print_run_100k_bench._queued``);
  needs ``--redis-url`` or ``OCOP_TEST_REDIS_URL``, else skipped with a message.

Each phase's wall time is in ``phases_s``. The database is dropped at the end unless
``--keep``. Last line of stdout: JSON. Not part of the test suite; validate with
``--scale 0.01`` (100,000 labels); the full size is for a quiet machine::

    .venv/bin/python bench/national_size.py [--scale 1.0] [--seconds 15] [--keep]
        [--postgres-url URL] [--redis-url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, Engine, create_engine, make_url, text

from bench.common import log, settle
from tests.databases import POSTGRES_ENV

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PRODUCTS, PRODUCERS = 17_000, 8_500
LABELS, SCANS = 10_000_000, 10_000_000
RUN_LABELS = 500
FORWARD_LABELS = 100_000
RECALLS = 1_000
SAMPLE = 5_000
ORDER_QUANTITY = 100_000
CHUNK = 1_000_000
ROUNDS = 3
BAR_P99_RATIO = 1.5


class Phases:
    """Wall time of each phase, logged as it ends."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        log(f"[{time.strftime('%H:%M:%S')}] {name} …")
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 2)
        log(f"[{time.strftime('%H:%M:%S')}] {name}: {self.seconds[name]:.1f} s")


# --- sizes ----------------------------------------------------------------------------------


class Sizes:
    def __init__(self, scale: float) -> None:
        self.products = max(2, round(PRODUCTS * scale))
        self.producers = max(1, round(PRODUCERS * scale))
        self.runs = max(2, round(LABELS * scale / RUN_LABELS))
        self.labels = self.runs * RUN_LABELS
        self.scans = round(SCANS * scale)
        # The traced area's runs: 100,000 labels, or half of all at small scales.
        self.forward_runs = min(FORWARD_LABELS // RUN_LABELS, self.runs // 2)
        self.recalls = max(1, round(RECALLS * scale))
        self.order_quantity = min(ORDER_QUANTITY, max(1_000, round(ORDER_QUANTITY * scale)))

    def product_of_run(self, run: str) -> str:
        """SQL: the product index (1-based) of run index ``run``: the first ``forward_runs``
        runs are the traced product's, the rest go round the other products."""
        return (
            f"(CASE WHEN {run} <= {self.forward_runs} THEN 1 "
            f"ELSE 2 + (({run} - {self.forward_runs} - 1) % {self.products - 1}) END)"
        )


# --- generation -----------------------------------------------------------------------------


def _columns(connection: Connection, table: str) -> list[str]:
    return list(
        connection.scalars(
            text(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'public' AND table_name = :t ORDER BY ordinal_position"
            ),
            {"t": table},
        )
    )


def _base(connection: Connection, table: str) -> int:
    return int(connection.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}")) or 0)


def _clone(
    connection: Connection,
    table: str,
    seed_id: int,
    count: int,
    overrides: dict[str, str],
    joins: str = "",
) -> int:
    """Copy row ``seed_id`` of ``table`` ``count`` times (``g`` = 1..count) with the columns
    in ``overrides`` computed in SQL (``t`` is the seed row); ids follow the largest one.
    Returns the id base: copy ``g`` has id ``base + g``."""
    base = _base(connection, table)
    overrides = {"id": f"{base} + g", **overrides}
    columns = _columns(connection, table)
    select = ", ".join(overrides.get(column, f"t.{column}") for column in columns)
    connection.execute(
        text(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {table} t "
            f"CROSS JOIN generate_series(1, {count}) g {joins} WHERE t.id = {seed_id}"
        )
    )
    return base


def _gtin14(g: str) -> str:
    """SQL: a valid GTIN-14 (GS1 check digit) for product index ``g``."""
    body = f"('0893' || lpad({g}::text, 9, '0'))"
    check = (
        f"(SELECT (10 - sum(substr({body}, i, 1)::int * CASE WHEN i % 2 = 1 THEN 3 ELSE 1 END)"
        " % 10) % 10 FROM generate_series(1, 13) i)"
    )
    return f"({body} || {check}::text)"


def _seed_ids(connection: Connection, setup: dict[str, Any]) -> dict[str, int]:
    """The rows the service made, to be cloned."""
    row = connection.execute(
        text(
            "SELECT p.producer_id, c.id AS certificate_id, l.id AS packed_lot_id, "
            " pe.id AS packing_event_id, he.id AS harvest_event_id, he.area_id, "
            " hl.id AS harvest_lot_id "
            "FROM products p JOIN certificates c ON c.product_id = p.id "
            "JOIN lots l ON l.id = :lot "
            "JOIN trace_event_lots po ON po.lot_id = l.id AND po.role = 'output' "
            "JOIN trace_events pe ON pe.id = po.event_id "
            "JOIN trace_event_lots pi ON pi.event_id = pe.id AND pi.role = 'input' "
            "JOIN lots hl ON hl.id = pi.lot_id "
            "JOIN trace_event_lots ho ON ho.lot_id = hl.id AND ho.role = 'output' "
            "JOIN trace_events he ON he.id = ho.event_id "
            "WHERE p.id = :product"
        ),
        {"lot": setup["lot_id"], "product": setup["product_id"]},
    ).one()
    return dict(row._mapping) | {"product_id": setup["product_id"]}


def _registry(connection: Connection, seed: dict[str, int], n: Sizes) -> dict[str, int]:
    """Producers, products, certificates, areas, harvests; returns the id bases."""
    b: dict[str, int] = {}
    b["producer"] = _clone(connection, "producers", seed["producer_id"], n.producers, {
        "name": "t.name || ' ' || g",
        "registration_code": "'NAT' || lpad(g::text, 8, '0')",
        "search_key": "t.search_key || ' ' || g",
        "email": "CASE WHEN g % 2 = 0 THEN 'htx' || g || '@example.vn' END",
    })  # fmt: skip
    producer_of = f"({b['producer']} + ((g - 1) % {n.producers}) + 1)"
    b["product"] = _clone(connection, "products", seed["product_id"], n.products, {
        "producer_id": producer_of,
        "name_vi": "t.name_vi || ' ' || g",
        "gtin": f"CASE WHEN g % 5 < 3 THEN {_gtin14('g')} END",
        "gtin14": f"CASE WHEN g % 5 < 3 THEN {_gtin14('g')} END",
        "search_key": "t.search_key || ' ' || g",
    })  # fmt: skip
    issued = "(current_date - (1 + (g * 37) % 1090))"
    b["certificate"] = _clone(connection, "certificates", seed["certificate_id"], n.products, {
        "number": "'NAT-' || g || '/QĐ-UBND'",
        "decision_number": "'NAT-' || g || '/QĐ-UBND'",
        "decision_date": issued,
        "issue_date": issued,
        "valid_until": f"({issued} + interval '3 years')::date",
        "product_id": f"{b['product']} + g",
        "product_name": "t.product_name || ' ' || g",
        "star": "3 + g % 3",
        "evaluation_id": "NULL",
    })  # fmt: skip
    b["area"] = _clone(connection, "raw_material_areas", seed["area_id"], n.products, {
        "producer_id": producer_of,
        "name": "t.name || ' ' || g",
        "search_key": "t.search_key || ' ' || g",
    })  # fmt: skip
    b["harvest_event"] = _clone(connection, "trace_events", seed["harvest_event_id"], n.products, {
        "uri": "t.uri || '-h' || g",
        "producer_id": producer_of,
        "area_id": f"{b['area']} + g",
    })  # fmt: skip
    b["harvest_lot"] = _clone(connection, "lots", seed["harvest_lot_id"], n.products, {
        "code": "'NH' || g",
        "producer_id": producer_of,
    })  # fmt: skip
    harvest_output = _row_id(connection, seed["harvest_event_id"], "output")
    _clone(connection, "trace_event_lots", harvest_output, n.products, {
        "event_id": f"{b['harvest_event']} + g",
        "lot_id": f"{b['harvest_lot']} + g",
    })  # fmt: skip
    return b


def _row_id(connection: Connection, event_id: int, role: str) -> int:
    return int(
        connection.scalar(
            text("SELECT id FROM trace_event_lots WHERE event_id = :e AND role = :r"),
            {"e": event_id, "r": role},
        )
    )


def _packing(connection: Connection, seed: dict[str, int], n: Sizes, b: dict[str, int]) -> None:
    """One packing event and packed lot per print run, from its product's harvest lot."""
    product = n.product_of_run("g")
    joins = f"JOIN products p ON p.id = {b['product']} + {product}"
    b["packing_event"] = _clone(connection, "trace_events", seed["packing_event_id"], n.runs, {
        "uri": "t.uri || '-p' || g",
        "producer_id": "p.producer_id",
    }, joins)  # fmt: skip
    b["packed_lot"] = _clone(connection, "lots", seed["packed_lot_id"], n.runs, {
        "code": "'NP' || g",
        "producer_id": "p.producer_id",
        "product_id": "p.id",
        "quantity": str(RUN_LABELS),
        "unit_count": f"CASE WHEN t.unit_count IS NOT NULL THEN {RUN_LABELS} END",
    }, joins)  # fmt: skip
    packing = seed["packing_event_id"]
    _clone(connection, "trace_event_lots", _row_id(connection, packing, "input"), n.runs, {
        "event_id": f"{b['packing_event']} + g",
        "lot_id": f"{b['harvest_lot']} + {product}",
    })  # fmt: skip
    _clone(connection, "trace_event_lots", _row_id(connection, packing, "output"), n.runs, {
        "event_id": f"{b['packing_event']} + g",
        "lot_id": f"{b['packed_lot']} + g",
        "quantity": str(RUN_LABELS),
    })  # fmt: skip
    link = connection.scalar(text("SELECT id FROM lot_links WHERE event_id = :e"), {"e": packing})
    _clone(connection, "lot_links", int(link), n.runs, {
        "parent_lot_id": f"{b['harvest_lot']} + {product}",
        "child_lot_id": f"{b['packed_lot']} + g",
        "event_id": f"{b['packing_event']} + g",
    })  # fmt: skip


def _print_runs(connection: Connection, n: Sizes, b: dict[str, int], kid: str, base: str) -> None:
    b["run"] = _base(connection, "print_runs")
    product = n.product_of_run("g")
    connection.execute(
        text(
            "INSERT INTO print_runs (id, producer_id, product_id, lot_id, packing_event_id,"
            " certificate_id, star, valid_until, gtin, lot_code, quantity, kid, base_url,"
            " payload_version, qr_version, scratch, request_digest, status, labels_drawn,"
            " files, created_at, built_at) "
            f"SELECT {b['run']} + g, p.producer_id, p.id, {b['packed_lot']} + g,"
            f" {b['packing_event']} + g, c.id, c.star, c.valid_until, p.gtin14, 'NP' || g,"
            f" {RUN_LABELS}, :kid, :base, 1, 8, false, repeat('0', 64), 'ready', {RUN_LABELS},"
            " '{}'::jsonb, now() - interval '30 days', now() - interval '30 days' "
            f"FROM generate_series(1, {n.runs}) g "
            f"JOIN products p ON p.id = {b['product']} + {product} "
            f"JOIN certificates c ON c.id = {b['certificate']} + {product}"
        ),
        {"kid": kid, "base": base},
    )


def _chunked(engine: Engine, total: int, statement: Callable[[int, int], str], what: str) -> None:
    """Run ``statement(first, last)`` over 1..total in chunks, one transaction each."""
    for first in range(1, total + 1, CHUNK):
        last = min(total, first + CHUNK - 1)
        with engine.begin() as connection:
            connection.execute(text(statement(first, last)))
        log(f"  {what}: {last:,}/{total:,}")


def _serial_sql(h: str) -> str:
    """SQL: a serial as ``serials.new_serial`` makes it (14 characters of the alphabet and
    the check character, ``serials.check_char``: a sum in GF(32) written out as XORs of a
    table of products) from the bytes ``h`` (16 bytes of MD5: looks random, is repeatable)."""
    from trace_service.labels.serials import _EXP, _LOG, ALPHABET, RANDOM_CHARS

    table = [
        _EXP[_LOG[value] + (position + 1) % 31] if value else 0
        for position in range(RANDOM_CHARS)
        for value in range(32)
    ]
    products = f"'{{{','.join(map(str, table))}}}'::int[]"
    values = [f"(get_byte({h}, {p}) % 32)" for p in range(RANDOM_CHARS)]
    body = " || ".join(f"substr('{ALPHABET}', {v} + 1, 1)" for v in values)
    check = " # ".join(f"({products})[{32 * p} + {v} + 1]" for p, v in enumerate(values))
    return f"({body} || substr('{ALPHABET}', ({check}) + 1, 1))"


def _labels(engine: Engine, n: Sizes, b: dict[str, int]) -> None:
    with engine.connect() as connection:
        b["label"] = _base(connection, "labels")
    _chunked(
        engine,
        n.labels,
        lambda lo, hi: (
            "INSERT INTO labels (id, run_id, seq, serial, signature) "
            f"SELECT {b['label']} + g, {b['run']} + (g - 1) / {RUN_LABELS} + 1,"
            f" (g - 1) % {RUN_LABELS} + 1, {_serial_sql('h')}, decode(repeat('ab', 64), 'hex')"
            f" FROM (SELECT g, decode(md5(g::text || '-nat'), 'hex') AS h"
            # OFFSET 0: one MD5 a row
            f" FROM generate_series({lo}::bigint, {hi}::bigint) g OFFSET 0) s"
        ),
        "labels",
    )


def _scan_months(connection: Connection, now: datetime) -> None:
    """The last 13 months' partitions of the scan log, as prune-scans would have made them."""
    from trace_service.labels.scan_log import PARTITIONS, _next_month

    first = (now.date().replace(day=1) - timedelta(days=380)).replace(day=1)
    while first <= now.date():
        name = f"label_scans_{first:%Y%m}"
        connection.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {PARTITIONS}.{name} PARTITION OF label_scans FOR "
                f"VALUES FROM ('{first.isoformat()} 00:00+00') "
                f"TO ('{_next_month(first).isoformat()} 00:00+00')"
            )
        )
        first = _next_month(first)


def _scans(engine: Engine, n: Sizes, b: dict[str, int]) -> None:
    """Scans on every third label, over the last 365 days; then each scanned label's state."""
    scanned = max(1, n.labels // 3)
    with engine.begin() as connection:
        _scan_months(connection, datetime.now(UTC))
    _chunked(
        engine,
        n.scans,
        lambda lo, hi: (
            "INSERT INTO label_scans (label_id, scanned_at, client_hash, device, source) "
            f"SELECT {b['label']} + 3 * ((g - 1) % {scanned}) + 1,"
            " now() - ((g * 7919) % 31536000) * interval '1 second',"
            " substr(md5('c' || (g % 1000003)), 1, 32),"
            " (ARRAY['phone', 'phone', 'phone', 'tablet', 'desktop'])[1 + g % 5],"
            " CASE WHEN g % 20 = 0 THEN 'typed' ELSE 'scan' END "
            f"FROM generate_series({lo}::bigint, {hi}::bigint) g"
        ),
        "scans",
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO label_states (label_id, scan_count, counted_views,"
                " first_scanned_at, last_scanned_at, recent_clients, flagged_at, flag_reason,"
                " scratch_failures) "
                "SELECT label_id, count(*), count(*), min(scanned_at), max(scanned_at),"
                " '[]'::jsonb, CASE WHEN label_id % 100 = 0 THEN max(scanned_at) END,"
                " CASE WHEN label_id % 100 = 0 THEN 'clients' END, 0 "
                "FROM label_scans GROUP BY label_id"
            )
        )


def _recalls(connection: Connection, n: Sizes, b: dict[str, int]) -> None:
    """Recalls of packed lots outside the traced product's, spread over the runs."""
    others = n.runs - n.forward_runs
    step = max(1, others // n.recalls)
    connection.execute(
        text(
            "INSERT INTO recalls (lot_id, recalled_at, decision, reason, created_at) "
            f"SELECT {b['packed_lot']} + {n.forward_runs} + g, now() - (g % 300) * interval"
            " '1 day', 'NAT-' || g || '/QĐ-SNN', 'Phát hiện dư lượng vượt ngưỡng', now() "
            f"FROM generate_series(1, {others}, {step}) g LIMIT {n.recalls}"
        )
    )


def _sequences(connection: Connection) -> None:
    for table in ("producers", "products", "certificates", "raw_material_areas",
                  "trace_events", "lots", "trace_event_lots", "lot_links", "print_runs",
                  "labels", "recalls"):  # fmt: skip
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        )


def generate(url: str, setup: dict[str, Any], n: Sizes, kid: str, base: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            seed = _seed_ids(connection, setup)
            bases = _registry(connection, seed, n)
            _packing(connection, seed, n, bases)
            _print_runs(connection, n, bases, kid, base)
            _recalls(connection, n, bases)
        _labels(engine, n, bases)
        _scans(engine, n, bases)
        with engine.begin() as connection:
            _sequences(connection)
        settle(engine)  # VACUUM ANALYZE, as autovacuum would have it
    finally:
        engine.dispose()
    return bases


# --- signed samples -------------------------------------------------------------------------


def sign_sample(app: Any, n: Sizes, b: dict[str, int], count: int) -> tuple[list[str], list[str]]:
    """Give ``count`` random labels (outside recalled lots) a fresh serial and a genuine
    signature from the service's key store; clear a flag on any of them. Returns their
    printed paths and URLs."""
    from trace_service.db import session_scope
    from trace_service.labels import payload, serials
    from trace_service.labels.models import PrintRun
    from trace_service.labels.services import claims_for
    from trace_service.signing.service import get_keystore

    rng = random.Random(15)
    picked = rng.sample(range(b["label"] + 1, b["label"] + n.labels + 1), min(count, n.labels))
    signer = get_keystore(app).signer()
    paths, urls = [], []
    with app.app_context(), session_scope(app) as session:
        rows = session.execute(
            text(
                "SELECT l.id, l.run_id FROM labels l JOIN print_runs r ON r.id = l.run_id "
                "WHERE l.id = ANY(:ids) AND NOT EXISTS "
                "(SELECT 1 FROM recalls x WHERE x.lot_id = r.lot_id)"
            ),
            {"ids": picked},
        ).all()
        runs = {run.id: run for run in session.query(PrintRun).filter(
            PrintRun.id.in_({run_id for _, run_id in rows}))}  # fmt: skip
        updates = []
        for (label_id, run_id), serial in zip(rows, serials.new_serials(len(rows)), strict=True):
            claims = claims_for(runs[run_id], serial)
            kid, signature = signer.sign(claims.message())
            assert kid == runs[run_id].kid, "the bulk runs name the active signing key"
            url = payload.label_url(claims, signature)
            updates.append({"id": label_id, "serial": serial, "signature": signature})
            urls.append(url)
            paths.append(url[len(runs[run_id].base_url) :])
        session.execute(
            text("UPDATE labels SET serial = :serial, signature = :signature WHERE id = :id"),
            updates,
        )
        session.execute(
            text(
                "UPDATE label_states SET flagged_at = NULL, flag_reason = NULL "
                "WHERE label_id = ANY(:ids)"
            ),
            {"ids": [row[0] for row in rows]},
        )
    return paths, urls


def inspector_token(app: Any) -> str:
    from tests import factories
    from trace_service.auth.services import issue_token
    from trace_service.db import session_scope
    from trace_service.principal import Role, system_principal

    with app.app_context(), session_scope(app) as session:
        factories.bind(session)
        inspector = factories.UserFactory(role=Role.INSPECTOR, producer_id=None)
        return issue_token(session, system_principal("bench"), inspector, "bench", ttl_days=2).token


# --- measurements ---------------------------------------------------------------------------


def _first_views(port: int, paths: Path) -> dict[str, Any]:
    """Every sampled page once, 8 at a time, as the day's first views of their print runs
    (each composes its run's facts and keeps them for every worker): their latencies, and
    the pages warm for the turns, as a day's later views find them."""
    from concurrent.futures import ThreadPoolExecutor

    def view(path: str) -> tuple[float, bool]:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
                answer.read()
                ok = answer.status == 200
        except OSError:
            ok = False
        return time.perf_counter() - started, ok

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(view, paths.read_text().split()))
    latencies = sorted(seconds for seconds, _ok in answers)
    return {
        "first_view_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "first_view_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1),
        "first_view_errors": sum(not ok for _seconds, ok in answers),
    }


def _load_turns(
    servers: dict[str, tuple[int, Path, Path, str]], seconds: int
) -> dict[str, dict[str, Any]]:
    """wrk on the label page and the verify API of each database's server, in turns, after
    every sampled page was viewed once (``_first_views``)."""
    from bench.label_page_bench import LUA, _wrk
    from bench.verify_bench import VERIFY_LUA, _combined

    first = {f"{db}_label": _first_views(port, paths) for db, (port, paths, *_) in servers.items()}
    scripts = {}
    for name, lua in (("label", LUA), ("verify", VERIFY_LUA)):
        scripts[name] = Path(tempfile.mkstemp(suffix=".lua")[1])
        scripts[name].write_text(lua)
    turns: dict[str, list[dict[str, Any]]] = {}
    turn = max(2, seconds // ROUNDS)
    for port, paths, urls, token in servers.values():  # warm-ups, not counted
        _wrk(port, paths, scripts["label"], max(2, seconds // 5))
        _wrk(port, urls, scripts["verify"], max(2, seconds // 5), token)
    for _ in range(ROUNDS):
        for kind in ("label", "verify"):
            for db, (port, paths, urls, token) in servers.items():
                args = (paths,) if kind == "label" else (urls,)
                extra = () if kind == "label" else (token,)
                figures = _wrk(port, *args, scripts[kind], turn, *extra)
                figures["cpu_s"] = 0.0
                turns.setdefault(f"{db}_{kind}", []).append(figures)
    for script in scripts.values():
        script.unlink()
    return {key: _combined(runs) | first.get(key, {}) for key, runs in turns.items()}


def measure_load(
    national_url: str, work: Path, paths: list[str], urls: list[str], token: str, seconds: int
) -> dict[str, Any]:
    from bench.label_page_bench import _free_port, _serve
    from bench.verify_bench import _seed as demo_seed
    from tests.databases import fresh_database

    with (
        tempfile.TemporaryDirectory() as demo_tmp,
        fresh_database("postgresql", Path(demo_tmp)) as demo_url,
    ):
        demo_work = Path(demo_tmp)
        demo_urls, _, demo_token = demo_seed(demo_url, demo_work)
        files = {}
        for db, (p, u) in {"national": (paths, urls), "demo": (None, demo_urls)}.items():
            folder = work if db == "national" else demo_work
            u_file, p_file = folder / f"{db}-urls.txt", folder / f"{db}-paths.txt"
            u_file.write_text("\n".join(u) + "\n")
            page_paths = p if p is not None else [_path_of(url) for url in u]
            p_file.write_text("\n".join(page_paths) + "\n")
            files[db] = (p_file, u_file)
        ports = {"national": _free_port(), "demo": _free_port()}
        national = _serve(national_url, work, ports["national"])
        demo = _serve(demo_url, demo_work, ports["demo"])
        try:
            servers = {
                "demo": (ports["demo"], *files["demo"], demo_token),
                "national": (ports["national"], *files["national"], token),
            }
            results = _load_turns(servers, seconds)
        finally:
            for server in (national, demo):
                server.terminate()
                server.wait(timeout=30)
    figures: dict[str, Any] = {}
    for key, f in results.items():
        figures[f"{key}_rps"] = round(f["rps"], 1)
        figures[f"{key}_p50_ms"] = f["p50_us"] / 1000
        figures[f"{key}_p99_ms"] = f["p99_us"] / 1000
        figures[f"{key}_errors"] = f["socket_errors"] + max(f["status_errors"], f["not_200"])
        figures |= {f"{key}_{name}": f[name] for name in f if name.startswith("first_view")}
    for kind in ("label", "verify"):
        figures[f"{kind}_p99_ratio"] = round(
            figures[f"national_{kind}_p99_ms"] / max(0.001, figures[f"demo_{kind}_p99_ms"]), 3
        )
    figures["errors"] = sum(v for k, v in figures.items() if k.endswith("_errors"))
    return figures


def _path_of(url: str) -> str:
    """A printed URL's path and query (the host is another name of this service)."""
    rest = url.split("://", 1)[1]
    return rest[rest.index("/") :]


def measure_sweep(app: Any) -> dict[str, Any]:
    from trace_service.certificates import expiry
    from trace_service.clock import today_vn
    from trace_service.db import session_scope, utcnow
    from trace_service.principal import system_principal

    figures: dict[str, Any] = {}
    for name in ("first", "second"):
        with app.app_context():
            start = time.perf_counter()
            with session_scope(app) as session:
                report = expiry.sweep(session, system_principal("bench"), today_vn(), now=utcnow())
            figures[f"sweep_{name}_s"] = round(time.perf_counter() - start, 3)
            figures[f"sweep_{name}_notices"] = report.notices
            figures[f"sweep_{name}_deliveries"] = report.deliveries
    return figures


def measure_forward(app: Any, area_id: int, expected_labels: int) -> dict[str, Any]:
    from trace_service.db import session_scope
    from trace_service.trace.services import area_trace

    times, trace = [], None
    for _ in range(3):
        with app.app_context():
            start = time.perf_counter()
            with session_scope(app, writes=False) as session:
                trace = area_trace(session, area_id)
                labels, lots = trace.parts["labels"], len(trace.lots)
            times.append(time.perf_counter() - start)
    if labels != expected_labels:
        raise SystemExit(f"the forward trace reached {labels} labels, not {expected_labels}")
    return {
        "forward_trace_s": round(statistics.median(times), 3),
        "forward_trace_labels": labels,
        "forward_trace_lots": lots,
    }


def measure_snapshot(app: Any) -> dict[str, Any]:
    from ocop_verify.encoding import canonical_json
    from ocop_verify.snapshot import sign_snapshot
    from trace_service.db import session_scope
    from trace_service.signing.service import get_keystore
    from trace_service.verify.snapshot_store import build_body

    store = get_keystore(app)
    with app.app_context(), session_scope(app, writes=False) as session:
        start = time.perf_counter()
        body = build_body(session, store, datetime.now(UTC), 1)
        built = time.perf_counter() - start
        document = sign_snapshot(body, store.sign_as_snapshot)
        raw = canonical_json(document)
        signed = time.perf_counter() - start
    return {
        "snapshot_build_s": round(built, 3),
        "snapshot_build_and_sign_s": round(signed, 3),
        "snapshot_raw_bytes": len(raw),
        "snapshot_gzip_bytes": len(gzip.compress(raw, 9)),
        "snapshot_certificates": len(body["certificates"]),
        "snapshot_flagged": len(body.get("flagged", [])),
        "snapshot_recalled_lots": len(body.get("recalls", [])),
    }


def measure_order(url: str, work: Path, redis_url: str, quantity: int, setup: dict) -> dict:
    from bench.print_run_100k_bench import _queued

    result = _queued(url, work, redis_url, quantity, setup)
    return {
        "order_quantity": quantity,
        "order_2_workers_s": round(result["seconds"], 2),
        "order_answered_s": round(result["order_s"], 2),
        "order_worker_peak_rss_mib": round(max(result["worker_peak_rss_mib"].values()), 1),
        "order_parts_by_worker": result["parts_by_worker"],
    }


def database_sizes(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    with engine.connect() as connection:
        mib = 1024 * 1024
        figures = {
            "database_mib": round(
                connection.scalar(text("SELECT pg_database_size(current_database())")) / mib
            ),
            "labels_table_mib": round(
                connection.scalar(text("SELECT pg_total_relation_size('labels')")) / mib
            ),
            "scan_log_mib": round(
                connection.scalar(
                    text(
                        "SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i "
                        "WHERE i.inhparent = 'label_scans'::regclass"
                    )
                )
                / mib
            ),
        }
        for table in ("products", "certificates", "print_runs", "labels", "label_states"):
            figures[f"rows_{table}"] = connection.scalar(text(f"SELECT count(*) FROM {table}"))
        figures["rows_label_scans"] = connection.scalar(text("SELECT count(*) FROM label_scans"))
    engine.dispose()
    return figures


# --- the run --------------------------------------------------------------------------------


@contextmanager
def national_database(admin_url: str, name: str, keep: bool) -> Iterator[str]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.print_run_bench import _config, _setup
    from trace_service import create_app
    from trace_service.labels.jobs import label_base_url
    from trace_service.labels.payload import canonical_base
    from trace_service.signing.service import get_keystore

    n, phases = Sizes(args.scale), Phases()
    figures: dict[str, Any] = {"scale": args.scale, "products": n.products,
                               "producers": n.producers, "print_runs": n.runs,
                               "labels": n.labels, "scans": n.scans}  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="ocop-national-") as tmp,
        national_database(args.admin_url, args.database, args.keep) as url,
    ):
        work = Path(tmp)
        with phases("seed through the service"):
            setup = _setup(url, work)  # migrations, keys, one of everything, a 100,000-bag lot
            app = create_app(_config(url, work))
            kid = get_keystore(app).signer().kid
            base = canonical_base(label_base_url(app))
        with phases("generate (set-based SQL)"):
            bases = generate(url, setup, n, kid, base)
        with phases("sign the sample"):
            paths, urls = sign_sample(app, n, bases, args.sample)
            token = inspector_token(app)
        figures["sampled_labels"] = len(paths)
        figures |= database_sizes(url)
        with phases("label page and verify under load, national and demo"):
            figures |= measure_load(url, work, paths, urls, token, args.seconds)
        with phases("expiry sweep"):
            figures |= measure_sweep(app)
        with phases("forward trace"):
            figures |= measure_forward(app, bases["area"] + 1, n.forward_runs * RUN_LABELS)
        with phases("snapshot"):
            figures |= measure_snapshot(app)
        if args.redis_url:
            with phases("order built by 2 workers"):
                figures |= measure_order(url, work, args.redis_url, n.order_quantity, setup)
        else:
            log("order by 2 workers skipped: pass --redis-url or set OCOP_TEST_REDIS_URL")
    figures["phases_s"] = phases.seconds
    figures["total_s"] = round(sum(phases.seconds.values()), 1)
    figures["load_average_1m"] = os.getloadavg()[0]
    figures["within_label_p99_bar"] = (
        figures["label_p99_ratio"] <= BAR_P99_RATIO and figures["errors"] == 0
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=15, help="wrk seconds per page and db")
    parser.add_argument("--sample", type=int, default=SAMPLE, help="labels signed and requested")
    parser.add_argument("--database", default="ocop_national")
    parser.add_argument("--postgres-url", help=f"admin URL (else ${POSTGRES_ENV} or the default)")
    parser.add_argument("--redis-url", default=os.environ.get("OCOP_TEST_REDIS_URL"))
    parser.add_argument("--keep", action="store_true", help="leave the database afterwards")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    args.admin_url = args.postgres_url or os.environ.get(POSTGRES_ENV) or DEFAULT_ADMIN_URL
    os.environ[POSTGRES_ENV] = args.admin_url  # the demo database is made on the same server
    figures = run(args)
    for name, value in figures.items():
        log(f"{name:>36}  {value}")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Mixed traffic for minutes at 70 % of the measured maximum: errors, latency, workers' memory.

One backend per run (``--backend sqlite|postgres``): a fresh migrated database with one
certified product, a packed lot of 100,000 bags (``print_run_bench._setup``, which also makes
the producer's account and token), ``RUNS`` print runs of ``RUN_LABELS`` issued labels on it
(5,000 distinct genuine stamps, signed by the service's own key store) and an inspector's
token; gunicorn with 2 sync workers on 127.0.0.1 serving the real app with rate limits raised
(``OCOP_RATE_LIMIT_SCALE``, as the other benchmarks) and print runs built by the web process's
own builder threads (``OCOP_LABEL_BUILD=background``, no Redis: the embedded default).

The mix, per request: 90 % a label page (``GET`` one of the 5,000 printed paths at random),
8 % a verification (``POST /api/v1/labels/verify`` with the inspector's bearer token and one
of the printed URLs), 2 % a print-run order (``POST /api/v1/print-runs`` as the producer,
``ORDER_STAMPS`` stamps on the packed lot; its units are checked to last the whole run).

1. **Maximum**: ``wrk`` (Debian's) with 50 connections for ``--probe-seconds`` (20) on the same
   mix (a Lua script picks the kind and the label per request), which also warms both
   workers up. An order is answered before its files are drawn (by the builder threads of
   the web workers), so wrk's requests per second leave out work the mix still owes: the
   maximum is wrk's requests over its duration plus the time until the last ordered run is
   built (``max_builds_drain_s``; ``max_wrk_rps`` is wrk's figure alone).
2. **Paced**: the mix at 70 % of that maximum (``--load``) for ``--minutes`` (10), open loop.

Why an asyncio open-loop generator in this script and not ``wrk`` with a pacing Lua script:
wrk is closed-loop: each of its connections waits for an answer before it sends the next
request, and its Lua ``delay()`` only adds a pause after that answer, so when the server
slows the offered rate falls with it (coordinated omission: the slow moments are sampled
less, and the rate is not the one asked). Here request *i* is due at ``start + i / rate``
whatever came before, each on its own connection (gunicorn's sync workers close every
connection after one answer anyway), and its latency is counted from the moment it was due,
so a stall of the generator or the server shows in the figures instead of hiding. A minimal
HTTP/1.1 client on asyncio streams costs a few tens of microseconds of CPU per request, so
on 2 cores the generator keeps its schedule at the rates this machine serves (the JSON's
``send_lag_p99_ms`` and ``achieved_rps`` show whether it did).

Errors: answers other than 2xx, a verification whose verdict is not ``genuine``, connection
errors, and requests without a complete answer within ``TIMEOUT_S``. Memory: each gunicorn
worker's resident set (``VmRSS``) after the maximum phase (at the paced run's start) and at
its end, and the largest growth in per cent (issue 15: at most 20 %).

Last line of stdout: JSON. Not part of the test suite; the full 10 minutes is for a quiet
machine::

    .venv/bin/python bench/mixed_load_bench.py [--minutes 10] [--backend sqlite|postgres]
        [--probe-seconds 20] [--load 0.7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import log, print_table
from bench.label_page_bench import _free_port, _settings
from tests.databases import POSTGRES_ENV, fresh_database

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
CONNECTIONS = 50
RUNS, RUN_LABELS = 10, 500
ORDER_STAMPS = 5
MIX = (("label", 0.90), ("verify", 0.08), ("order", 0.02))
TIMEOUT_S = 10.0
BAR_GROWTH_PCT = 20.0

# The same mix for wrk's maximum: one Lua state per thread; the kind and the label drawn per
# request; anything but a 2xx counted.
PROBE_LUA = r"""
local threads = {}
setup = function(thread) table.insert(threads, thread) end
local paths, bodies = {}, {}
local verify_headers, order_headers, order_body = {}, {}, ""
not_ok = 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  for line in io.lines(args[2]) do bodies[#bodies + 1] = '{"url": "' .. line .. '"}' end
  verify_headers["Authorization"] = "Bearer " .. args[3]
  verify_headers["Content-Type"] = "application/json"
  order_headers["Authorization"] = "Bearer " .. args[4]
  order_headers["Content-Type"] = "application/json"
  order_body = args[5]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
request = function()
  local r = math.random()
  if r < 0.90 then return wrk.format("GET", paths[math.random(#paths)]) end
  if r < 0.98 then
    return wrk.format("POST", "/api/v1/labels/verify", verify_headers,
                      bodies[math.random(#bodies)])
  end
  return wrk.format("POST", "/api/v1/print-runs", order_headers, order_body)
end
response = function(status, headers, body)
  if status < 200 or status > 299 then not_ok = not_ok + 1 end
end
done = function(summary, latency, requests)
  local e = summary.errors
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("not_ok") or 0) end
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p99_us": %d, "socket_errors": %d, ' ..
    '"not_2xx": %d}\n', summary.requests, summary.duration, latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, bad))
end
"""


@dataclass
class Seeded:
    paths: list[str]  # label pages: path and query as printed
    urls: list[str]  # the same labels' full printed URLs, for the verify API
    inspector_token: str
    producer_token: str
    order_body: str
    units_left: int
    seeded_runs: int  # ids up to this are the seed's runs, never built (labels are enough)


def _bench_settings(url: str, work: Path) -> dict[str, str]:
    """The label benchmarks' settings, with orders built as in production without Redis."""
    return {**_settings(url, work), "OCOP_LABEL_BUILD": "background"}


def _seed(url: str, work: Path) -> Seeded:
    from bench.print_run_bench import _setup
    from tests import factories
    from trace_service import create_app
    from trace_service.auth.services import issue_token
    from trace_service.db import session_scope
    from trace_service.labels import jobs, services
    from trace_service.labels.lookup import signed_path
    from trace_service.labels.models import Label
    from trace_service.labels.schemas import label_url
    from trace_service.principal import Role, system_principal
    from trace_service.signing.service import get_keystore
    from trace_service.trace.models import Lot

    os.environ.update(_bench_settings(url, work))
    setup = _setup(url, work)  # migrates, keys, a certified product, a packed lot, a producer
    app = create_app()
    actor = system_principal("bench")
    with app.app_context(), session_scope(app) as session:
        for _ in range(RUNS):  # several runs: the page's per-run facts are not one cache entry
            order = services.RunOrder(setup["product_id"], setup["lot_id"], RUN_LABELS)
            services.order_print_run(
                session, actor, order, get_keystore(app), jobs.label_base_url(app)
            )
        labels = session.query(Label).order_by(Label.id).all()
        paths = [signed_path(label) for label in labels]
        urls = [label_url(label) for label in labels]
        factories.bind(session)
        inspector = factories.UserFactory(role=Role.INSPECTOR, producer_id=None)
        token = issue_token(session, actor, inspector, "bench", ttl_days=2).token
        lot = session.get_one(Lot, setup["lot_id"])
        units_left = int(lot.quantity) - len(labels)
        seeded_runs = max(label.run_id for label in labels)
    body = {"product_id": setup["product_id"], "lot_id": setup["lot_id"]}
    return Seeded(
        paths,
        urls,
        token,
        setup["token"],
        json.dumps(body | {"quantity": ORDER_STAMPS}),
        units_left,
        seeded_runs,
    )


def _serve(url: str, work: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, **_bench_settings(url, work), "PYTHONPATH": str(ROOT)}
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        f"--workers={WORKERS}",
        f"--bind=127.0.0.1:{port}",
        "--backlog=4096",
        "--log-level=warning",
        "wsgi:app",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start")


def _workers_rss_mib(server: subprocess.Popen[bytes]) -> list[float]:
    """Each gunicorn worker's resident set (``VmRSS``), by worker pid order."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    sizes = []
    for pid in sorted(map(int, children)):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(round(int(line.split()[1]) / 1024, 1))
    return sizes


def _probe(port: int, work: Path, seeded: Seeded, seconds: int) -> dict[str, Any]:
    """wrk at ``CONNECTIONS`` on the mix: the maximum requests per second."""
    files = {"paths": seeded.paths, "urls": seeded.urls}
    for name, lines in files.items():
        (work / f"{name}.txt").write_text("\n".join(lines) + "\n")
    script = work / "mix.lua"
    script.write_text(PROBE_LUA)
    out = subprocess.run(
        ["wrk", "--threads=2", f"--connections={CONNECTIONS}", f"--duration={seconds}s",
         "--timeout=10s", f"--script={script}", f"http://127.0.0.1:{port}", "--",
         str(work / "paths.txt"), str(work / "urls.txt"), seeded.inspector_token,
         seeded.producer_token, seeded.order_body],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = re.search(r"^WRKJSON (.*)$", out, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    figures = json.loads(found.group(1))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def _builds_drained(url: str, seeded_runs: int) -> float:
    """Seconds until no run ordered over HTTP is waiting or being built (files drawn)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    start = time.perf_counter()
    try:
        while True:
            with engine.connect() as connection:
                pending = connection.scalar(
                    text(
                        "SELECT count(*) FROM print_runs WHERE id > :seeded"
                        " AND status IN ('queued', 'building')"
                    ),
                    {"seeded": seeded_runs},
                )
            if not pending or time.perf_counter() - start > 600:
                return time.perf_counter() - start
            time.sleep(0.2)
    finally:
        engine.dispose()


# --- the open-loop generator ----------------------------------------------------------------


@dataclass
class Outcome:
    latencies_s: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k, _ in MIX})
    errors: dict[str, int] = field(default_factory=dict)
    send_lag_s: list[float] = field(default_factory=list)
    done: int = 0

    def error(self, kind: str, what: str) -> None:
        key = f"{kind}_{what}"
        self.errors[key] = self.errors.get(key, 0) + 1


def _request_bytes(method: str, path: str, headers: dict[str, str], body: str = "") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    data = body.encode()
    if method == "POST":
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


async def _exchange(port: int, request: bytes) -> tuple[int, bytes]:
    """One request on its own connection; the status and the whole answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await reader.read()  # the server closes after one answer
    finally:
        writer.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer


class Mix:
    """What each kind of request sends; the kind and label drawn per request."""

    def __init__(self, seeded: Seeded, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pages = [_request_bytes("GET", path, {}) for path in seeded.paths]
        verify = {"Authorization": f"Bearer {seeded.inspector_token}"}
        verify["Content-Type"] = "application/json"
        self.verifies = [
            _request_bytes("POST", "/api/v1/labels/verify", verify, json.dumps({"url": url}))
            for url in seeded.urls
        ]
        order = {"Authorization": f"Bearer {seeded.producer_token}"}
        order["Content-Type"] = "application/json"
        self.order = _request_bytes("POST", "/api/v1/print-runs", order, seeded.order_body)
        self.kinds = [kind for kind, _ in MIX]
        self.weights = [weight for _, weight in MIX]

    def draw(self) -> tuple[str, bytes]:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        if kind == "label":
            return kind, self.rng.choice(self.pages)
        if kind == "verify":
            return kind, self.rng.choice(self.verifies)
        return kind, self.order


async def _one(port: int, kind: str, request: bytes, due: float, out: Outcome) -> None:
    loop = asyncio.get_running_loop()
    out.send_lag_s.append(loop.time() - due)
    try:
        status, answer = await asyncio.wait_for(_exchange(port, request), TIMEOUT_S)
    except TimeoutError:
        out.error(kind, "timeout")
        return
    except OSError:
        out.error(kind, "connection")
        return
    finally:
        out.done += 1
    if not 200 <= status <= 299:
        out.error(kind, f"http_{status}")
    elif kind == "verify" and not re.search(rb'"verdict": ?"genuine"', answer):
        out.error(kind, "not_genuine")
    else:
        out.latencies_s[kind].append(loop.time() - due)  # from when it was due: open loop


async def _paced(port: int, mix: Mix, rate: float, seconds: float) -> tuple[Outcome, float, float]:
    """Send the mix at ``rate`` for ``seconds``; the outcome, the seconds from the first
    request due to the last one sent, and to the last answer."""
    out = Outcome()
    loop = asyncio.get_running_loop()
    total = int(rate * seconds)
    start = loop.time() + 0.5
    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        kind, request = mix.draw()
        tasks.append(asyncio.create_task(_one(port, kind, request, due, out)))
        if i % 1000 == 999:
            tasks = [task for task in tasks if not task.done()]
            log(f"  {i + 1:,}/{total:,} sent, {out.done:,} answered, errors {out.errors}")
    sent = loop.time() - start
    await asyncio.gather(*tasks)
    return out, sent, loop.time() - start


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] * 1000, 1)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": at(1.0)}


def run(backend: str, minutes: float, probe_seconds: int, load: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        work = Path(tmp)
        log(f"{backend}: seeding {RUNS * RUN_LABELS:,} labels …")
        seeded = _seed(url, work)
        port = _free_port()
        server = _serve(url, work, port)
        try:
            log(f"maximum: wrk, {CONNECTIONS} connections, {probe_seconds} s …")
            probe = _probe(port, work, seeded, probe_seconds)
            probe["drain_s"] = _builds_drained(url, seeded.seeded_runs)
            # The orders' files are drawn after their answers: the mix's maximum is its
            # requests over the time until the last of those builds is done too.
            probe["mix_rps"] = probe["requests"] / (probe["duration_us"] / 1e6 + probe["drain_s"])
            rate = probe["mix_rps"] * load
            orders = rate * minutes * 60 * 0.02 * 1.5  # with room for chance
            if orders * ORDER_STAMPS > seeded.units_left:
                raise SystemExit(f"the lot has {seeded.units_left} units, not enough for orders")
            rss_start = _workers_rss_mib(server)
            log(f"paced: {rate:.1f} rps for {minutes} min (maximum {probe['mix_rps']:.1f}) …")
            outcome, sending, elapsed = asyncio.run(
                _paced(port, Mix(seeded, 15), rate, minutes * 60)
            )
            rss_end = _workers_rss_mib(server)
        finally:
            server.terminate()
            server.wait(timeout=60)
    sent = sum(len(v) for v in outcome.latencies_s.values()) + sum(outcome.errors.values())
    growth = [(end - start) / start * 100 for start, end in zip(rss_start, rss_end, strict=True)]
    figures: dict[str, Any] = {
        "backend": backend,
        "minutes": minutes,
        "max_rps": round(probe["mix_rps"], 1),
        "max_wrk_rps": round(probe["rps"], 1),  # answers alone, before the builds drained
        "max_builds_drain_s": round(probe["drain_s"], 1),
        "max_p99_ms": probe["p99_us"] / 1000,
        "max_errors": probe["socket_errors"] + probe["not_2xx"],
        "load": load,
        "target_rps": round(rate, 1),
        "achieved_rps": round(sent / sending, 1),  # as sent: the generator kept pace?
        "answered_rps": round(sent / elapsed, 1),  # to the last answer: the server kept up?
        "requests": sent,
        "errors": sum(outcome.errors.values()),
        "errors_by_kind": outcome.errors,
    }
    for kind, values in outcome.latencies_s.items():
        figures[f"{kind}_requests"] = len(values)
        figures |= {f"{kind}_{q}_ms": v for q, v in _percentiles(values).items()}
    lag = _percentiles(outcome.send_lag_s)
    figures |= {
        "send_lag_p99_ms": lag["p99"],
        "send_lag_max_ms": lag["max"],
        "worker_rss_start_mib": rss_start,
        "worker_rss_end_mib": rss_end,
        "rss_growth_max_pct": round(max(growth), 1),
        "workers": WORKERS,
        "labels": len(seeded.paths),
        "load_average_1m": os.getloadavg()[0],
    }
    figures["within_bar"] = figures["errors"] == 0 and figures["rss_growth_max_pct"] <= 20
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "postgresql"), default="sqlite")
    parser.add_argument("--probe-seconds", type=int, default=20)
    parser.add_argument("--load", type=float, default=0.7, help="share of the maximum")
    parser.add_argument("--postgres-url", help=f"a server's admin URL (else ${POSTGRES_ENV})")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if args.postgres_url:
        os.environ[POSTGRES_ENV] = args.postgres_url
    backend = "sqlite" if args.backend == "sqlite" else "postgresql"
    if backend == "postgresql" and not os.environ.get(POSTGRES_ENV):
        raise SystemExit(f"PostgreSQL needs {POSTGRES_ENV} or --postgres-url")
    figures = run(backend, args.minutes, args.probe_seconds, args.load)
    columns = [
        ("backend", None),
        ("max rps", "max_rps"),
        ("target rps", "target_rps"),
        ("achieved rps", "achieved_rps"),
        ("errors", "errors"),
        ("label p99 ms", "label_p99_ms"),
        ("verify p99 ms", "verify_p99_ms"),
        ("order p99 ms", "order_p99_ms"),
        ("RSS growth %", "rss_growth_max_pct"),
    ]
    print_table(columns, [(backend, figures)])
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""The consumer's label page under load, beside a plain Flask page, in the same run.

Per backend (SQLite; PostgreSQL when ``OCOP_TEST_POSTGRES_URL`` or ``--postgres-url`` names a
server): a fresh migrated database with one certified product, a packed lot and one print
run of 1,000 issued labels; gunicorn with 2 sync workers on 127.0.0.1 serving the real app
(``create_app``) with rate limits raised (``OCOP_RATE_LIMIT_SCALE``) and one extra route, the
reference: ``session.get(Product, id)`` through the same engine and a small template. ``wrk``
(Debian package ``wrk``) with 50 connections: first a warm-up, then the label page (a Lua
script picks one of the 1,000 label URLs at random for each request), then the reference,
each for ``--seconds``. Errors are wrk's socket errors plus answers of 400 or more; the
label page must answer 200 (a Lua ``response`` hook counts anything else).

Also the workers' CPU time per request of each page (from ``/proc``) and ``cpu_ratio``
(reference CPU per request / label CPU per request): on a machine shared with other work,
requests per second move with the neighbours' load, CPU per request much less.

Last line of stdout: JSON with the worst backend's ``ratio`` (label rps / reference rps),
``p99_ratio`` (label p99 / reference p99) and ``errors`` (all backends) at top level, then
per-backend figures with their units in the key names. Not part of the test suite.

    .venv/bin/python bench/label_page_bench.py [--seconds 15] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import log, print_table
from tests.databases import POSTGRES_ENV, fresh_database

ROOT = Path(__file__).resolve().parent.parent
LABELS = 1000
CONNECTIONS = 50
WORKERS = 2
LUA = r"""
local threads = {}
setup = function(thread) table.insert(threads, thread) end
local paths = {}
not_ok = 0  -- a global: done() reads each thread's through thread:get
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
response = function(status, headers, body)
  if status ~= 200 then not_ok = not_ok + 1 end
end
done = function(summary, latency, requests)
  local e = summary.errors
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("not_ok") or 0) end
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"socket_errors": %d, "status_errors": %d, "not_200": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, bad))
end
"""
REFERENCE_TEMPLATE = (
    "<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>{{ p.name_vi }}"
    "</title></head><body><h1>{{ p.name_vi }}</h1><p>GTIN {{ p.gtin14 }}</p></body></html>"
)


def make_app() -> Any:
    """What gunicorn serves: the service, plus the reference page on the same engine."""
    from trace_service import create_app
    from trace_service.db import get_session
    from trace_service.registry.models import Product

    app = create_app()
    template = app.jinja_env.from_string(REFERENCE_TEMPLATE)  # compiled once, as files are

    @app.get("/bench/reference/<int:product_id>")
    def reference(product_id: int) -> str:
        product = get_session().get(Product, product_id)
        return template.render(p=product)

    return app


def _settings(url: str, work: Path) -> dict[str, str]:
    return {
        "OCOP_DATABASE_URL": url,
        "OCOP_KEYS_DIR": str(work / "keys"),
        "OCOP_KEYS_PASSPHRASE": "benchmark passphrase, long and random enough",
        "OCOP_LABEL_BASE_URL": "https://tem.ocop.example.vn",
        "OCOP_LABEL_FILES_DIR": str(work / "files"),
        "OCOP_LABEL_BUILD": "inline",
        "OCOP_RATE_LIMIT_SCALE": "1000000",
        "OCOP_REDIS_URL": "",
        "OCOP_SCHEDULER": "false",
        "OCOP_SECRET_KEY": "benchmark secret key, not a real one",
    }


def _seed(url: str, work: Path) -> tuple[list[str], int]:
    """The database and keys: 1,000 issued labels; returns their paths and the product id."""
    from bench.print_run_bench import _setup
    from trace_service import create_app
    from trace_service.db import session_scope
    from trace_service.labels import jobs, services
    from trace_service.labels.lookup import signed_path
    from trace_service.labels.models import Label
    from trace_service.principal import system_principal
    from trace_service.signing.service import get_keystore

    os.environ.update(_settings(url, work))
    setup = _setup(url, work)  # migrates, makes keys, a certified product and a packed lot
    app = create_app()
    with app.app_context(), session_scope(app) as session:
        order = services.RunOrder(setup["product_id"], setup["lot_id"], LABELS)
        run, _ = services.order_print_run(
            session, system_principal("bench"), order, get_keystore(app), jobs.label_base_url(app)
        )
        labels = session.query(Label).filter(Label.run_id == run.id).order_by(Label.seq).all()
        paths = [signed_path(label) for label in labels]
    return paths, setup["product_id"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(url: str, work: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, **_settings(url, work), "PYTHONPATH": str(ROOT)}
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        f"--workers={WORKERS}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
        "bench.label_page_bench:make_app()",
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


def _workers_cpu_seconds(server: subprocess.Popen[bytes]) -> float:
    """User and system CPU seconds spent so far by gunicorn's workers (Linux ``/proc``): a
    figure the machine's other load disturbs far less than requests per second."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in children.read_text().split():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _wrk(
    port: int,
    paths_file: Path,
    script: Path,
    seconds: int,
    *extra: str,
    server: subprocess.Popen[bytes] | None = None,
) -> dict[str, Any]:
    """One wrk run; ``extra`` follows the paths file among the script's arguments; with
    ``server``, the workers' CPU per request too."""
    cpu_before = _workers_cpu_seconds(server) if server else 0.0
    out = subprocess.run(
        [
            "wrk",
            "--threads=2",
            f"--connections={CONNECTIONS}",
            f"--duration={seconds}s",
            "--timeout=10s",
            f"--script={script}",
            f"http://127.0.0.1:{port}",
            "--",
            str(paths_file),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"^WRKJSON (.*)$", out, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    figures = json.loads(found.group(1))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    if server is not None:
        spent = _workers_cpu_seconds(server) - cpu_before
        figures["cpu_ms_per_request"] = spent * 1000 / max(1, figures["requests"])
    return figures


def bench_backend(backend: str, seconds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        work = Path(tmp)
        paths, product_id = _seed(url, work)
        label_file, reference_file = work / "labels.txt", work / "reference.txt"
        label_file.write_text("\n".join(paths) + "\n")
        reference_file.write_text(f"/bench/reference/{product_id}\n")
        script = work / "pick.lua"
        script.write_text(LUA)
        port = _free_port()
        server = _serve(url, work, port)
        try:
            _wrk(port, label_file, script, max(2, seconds // 5))  # warm-up, not counted
            _wrk(port, reference_file, script, max(2, seconds // 5))
            label = _wrk(port, label_file, script, seconds, server=server)
            reference = _wrk(port, reference_file, script, seconds, server=server)
        finally:
            server.terminate()
            server.wait(timeout=30)
    # A status of 400 or more is in both wrk's count and not_200: counted once.
    errors = sum(
        f["socket_errors"] + max(f["status_errors"], f["not_200"]) for f in (label, reference)
    )
    return {
        "label_page_rps": round(label["rps"], 1),
        "reference_rps": round(reference["rps"], 1),
        "label_page_p50_ms": label["p50_us"] / 1000,
        "label_page_p99_ms": label["p99_us"] / 1000,
        "reference_p50_ms": reference["p50_us"] / 1000,
        "reference_p99_ms": reference["p99_us"] / 1000,
        "ratio": round(label["rps"] / reference["rps"], 3),
        "p99_ratio": round(label["p99_us"] / max(1, reference["p99_us"]), 3),
        "label_page_cpu_ms_per_request": round(label["cpu_ms_per_request"], 3),
        "reference_cpu_ms_per_request": round(reference["cpu_ms_per_request"], 3),
        "cpu_ratio": round(reference["cpu_ms_per_request"] / label["cpu_ms_per_request"], 3),
        "label_page_requests": label["requests"],
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", help=f"a server's admin URL (else ${POSTGRES_ENV})")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if args.postgres_url:
        os.environ[POSTGRES_ENV] = args.postgres_url
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not os.environ.get(POSTGRES_ENV):
        log(f"PostgreSQL skipped: set {POSTGRES_ENV} or pass --postgres-url")
        backends.remove("postgresql")
    results = {backend: bench_backend(backend, args.seconds) for backend in backends}
    columns = [
        ("backend", None),
        ("label rps", "label_page_rps"),
        ("reference rps", "reference_rps"),
        ("ratio", "ratio"),
        ("label p99 ms", "label_page_p99_ms"),
        ("reference p99 ms", "reference_p99_ms"),
        ("p99 ratio", "p99_ratio"),
        ("label cpu ms/req", "label_page_cpu_ms_per_request"),
        ("reference cpu ms/req", "reference_cpu_ms_per_request"),
        ("errors", "errors"),
    ]
    print_table(columns, list(results.items()))
    worst = min(results, key=lambda b: results[b]["ratio"])
    summary: dict[str, Any] = {
        "ratio": results[worst]["ratio"],
        "p99_ratio": max(r["p99_ratio"] for r in results.values()),
        "errors": sum(r["errors"] for r in results.values()),
        "worst_backend": worst,
        "connections": CONNECTIONS,
        "workers": WORKERS,
        "labels": LABELS,
        "seconds_per_page": args.seconds,
    }
    for backend, figures in results.items():
        summary |= {f"{backend}_{key}": value for key, value in figures.items()}
    summary["within_bar"] = (
        summary["ratio"] >= 0.5 and summary["p99_ratio"] <= 2 and summary["errors"] == 0
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

"""The inspectors' verify API under load, beside the label page benchmark's one-row reference.

Per backend (SQLite; PostgreSQL when ``OCOP_TEST_POSTGRES_URL`` or ``--postgres-url`` names a
server): ``label_page_bench.py``'s data (a fresh migrated database, one certified product, a
packed lot, one print run of 1,000 issued labels) plus an inspector's account and API token;
gunicorn with 2 sync workers serving ``label_page_bench:make_app()`` (the real app and the
reference page ``session.get(Product, id)`` with a small template). ``wrk`` with 50
connections: a warm-up of each, then ``POST /api/v1/labels/verify`` with the inspector's bearer
token and one of the 1,000 labels' printed URLs picked at random per request as
``{"url": …}``, and the reference. Errors are wrk's socket errors plus any answer other than
200 (a ``response`` hook counts them) and any verdict other than ``genuine`` (the hook looks
for it in the body). The two take turns (``ROUNDS`` of each,
``--seconds`` in all each), so a change in the machine's other load falls on both; rps is
over all turns, p50 and p99 the median turn's. Also the server's CPU time per answer (gunicorn
and its workers, from /proc) and ``cpu_ratio`` (reference CPU per answer / verify's), which
a busy machine disturbs far less than rps.

Last line of stdout: JSON with the worst backend's ``ratio`` (verify rps / reference rps),
the highest ``p99_ratio`` (verify p99 / reference p99) and ``errors`` (all backends) at top
level, then per-backend figures with units in their names. Not part of the test suite.

    .venv/bin/python bench/verify_bench.py [--seconds 15] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import log, print_table
from bench.label_page_bench import CONNECTIONS, LABELS, LUA, WORKERS, _free_port, _serve, _wrk
from tests.databases import POSTGRES_ENV, fresh_database

ROUNDS = 3  # verify and reference take turns, each --seconds / ROUNDS a turn

# One POST per request: the body is a label's printed URL as JSON (made once per run in
# init, not per request), the token in a header. Any answer but a 200 with a genuine
# verdict counts as an error.
VERIFY_LUA = r"""
local threads = {}
setup = function(thread) table.insert(threads, thread) end
local bodies = {}
local headers = {}
not_ok = 0
init = function(args)
  headers["Authorization"] = "Bearer " .. args[2]
  headers["Content-Type"] = "application/json"
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = '{"url": "' .. line .. '"}'
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
request = function()
  return wrk.format("POST", "/api/v1/labels/verify", headers, bodies[math.random(#bodies)])
end
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"verdict": ?"genuine"') then
    not_ok = not_ok + 1
  end
end
""" + LUA[LUA.index("done = function") :]


def _seed(url: str, work: Path) -> tuple[list[str], int, str]:
    """The label page benchmark's data, and an inspector's token: (printed URLs, the
    reference's product id, the token)."""
    from bench.label_page_bench import _seed as seed_labels
    from tests import factories
    from trace_service import create_app
    from trace_service.auth.services import issue_token
    from trace_service.db import session_scope
    from trace_service.labels.models import Label
    from trace_service.labels.schemas import label_url
    from trace_service.principal import Role, system_principal

    paths, product_id = seed_labels(url, work)  # sets the environment the server gets too
    app = create_app()
    with app.app_context(), session_scope(app) as session:
        factories.bind(session)
        urls = [label_url(label) for label in session.query(Label).order_by(Label.seq)]
        inspector = factories.UserFactory(role=Role.INSPECTOR, producer_id=None)
        token = issue_token(session, system_principal("bench"), inspector, "bench", ttl_days=1)
    assert len(urls) == len(paths) == LABELS
    return urls, product_id, token.token


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of gunicorn's master and its workers so far (Linux /proc):
    what each request costs, whatever else the machine runs at the time."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    ticks = 0
    for process in (pid, *map(int, children)):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _measured(pid: int, port: int, *args: Any) -> dict[str, Any]:
    before = _cpu_seconds(pid)
    figures = _wrk(port, *args)
    figures["cpu_s"] = _cpu_seconds(pid) - before
    return figures


def _combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several wrk runs as one: requests per second over all of them, the median run's
    latencies, errors summed."""
    total = {key: sum(run[key] for run in runs) for key in ("requests", "duration_us", "cpu_s")}
    summed = ("socket_errors", "status_errors", "not_200")
    return {
        **total,
        **{key: sum(run[key] for run in runs) for key in summed},
        "rps": total["requests"] / (total["duration_us"] / 1e6),
        "p50_us": statistics.median(run["p50_us"] for run in runs),
        "p99_us": statistics.median(run["p99_us"] for run in runs),
    }


def bench_backend(backend: str, seconds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        work = Path(tmp)
        urls, product_id, token = _seed(url, work)
        url_file, reference_file = work / "urls.txt", work / "reference.txt"
        url_file.write_text("\n".join(urls) + "\n")
        reference_file.write_text(f"/bench/reference/{product_id}\n")
        verify_script, reference_script = work / "verify.lua", work / "pick.lua"
        verify_script.write_text(VERIFY_LUA)
        reference_script.write_text(LUA)
        port = _free_port()
        server = _serve(url, work, port)
        warm = max(2, seconds // 5)
        try:
            _wrk(port, url_file, verify_script, warm, token)  # warm-ups, not counted
            _wrk(port, reference_file, reference_script, warm)
            # In turns, so both see the same load from whatever else the machine runs.
            turns = [
                (
                    _measured(server.pid, port, url_file, verify_script, seconds // ROUNDS, token),
                    _measured(
                        server.pid, port, reference_file, reference_script, seconds // ROUNDS
                    ),
                )
                for _ in range(ROUNDS)
            ]
        finally:
            server.terminate()
            server.wait(timeout=30)
    verify = _combined([v for v, _ in turns])
    reference = _combined([r for _, r in turns])
    errors = sum(
        f["socket_errors"] + max(f["status_errors"], f["not_200"]) for f in (verify, reference)
    )
    return {
        "verify_rps": round(verify["rps"], 1),
        "reference_rps": round(reference["rps"], 1),
        "verify_p50_ms": verify["p50_us"] / 1000,
        "verify_p99_ms": verify["p99_us"] / 1000,
        "reference_p50_ms": reference["p50_us"] / 1000,
        "reference_p99_ms": reference["p99_us"] / 1000,
        "ratio": round(verify["rps"] / reference["rps"], 3),
        "p99_ratio": round(verify["p99_us"] / max(1, reference["p99_us"]), 3),
        "verify_requests": verify["requests"],
        # The server's CPU per answer: steadier than rps on a machine shared with other work.
        "verify_cpu_ms": round(verify["cpu_s"] / verify["requests"] * 1000, 3),
        "reference_cpu_ms": round(reference["cpu_s"] / reference["requests"] * 1000, 3),
        "cpu_ratio": round(
            (reference["cpu_s"] / reference["requests"]) / (verify["cpu_s"] / verify["requests"]),
            3,
        ),
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
        ("verify rps", "verify_rps"),
        ("reference rps", "reference_rps"),
        ("ratio", "ratio"),
        ("verify p99 ms", "verify_p99_ms"),
        ("reference p99 ms", "reference_p99_ms"),
        ("p99 ratio", "p99_ratio"),
        ("cpu ratio", "cpu_ratio"),
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
        summary["ratio"] >= 0.7 and summary["p99_ratio"] <= 2 and summary["errors"] == 0
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

"""Benchmark: a 100,000-stamp order built by 2 queue workers against today's single thread.

Both measured in the same run, each on a fresh, migrated database with one certified product
and a packed lot of 100,000 bags (``print_run_bench._setup``), from the request to the last
file, in a fresh child process that plays the web server (the test client):

* ``single_thread_100000_s``: ``POST /api/v1/print-runs`` with ``OCOP_LABEL_BUILD=inline``:
  100,000 serials signed and inserted, then one pass drawing the ten A4 sheet PDFs and the
  ZPL files (one per part and dpi, ``build.draw_files``), as a builder thread does without a
  queue;
* ``print_run_100000_s``: the same order with ``OCOP_REDIS_URL`` set and two
  ``flask jobs worker`` processes listening (started before, as in production): the order
  commits its labels and answers 202, the build goes on the queue, the workers draw the ten
  parts at once (each its PDF and ZPL files) and one renames them into place; timed until
  the run is ``ready``.

Memory: ``peak_rss_mib`` is the most one worker held: the largest peak RSS of the work horses
it forked (each part reports its own ``ru_maxrss``; a horse's RSS counts the pages it shares
with its parent) plus its main process's private pages (``Private_*`` of ``smaps_rollup``,
read after the build), the only memory of the worker that the horse's RSS does not count.
``worker_main_hwm_mib`` is the main process's own high-water mark, for reference;
``single_thread_peak_rss_mib`` the single-thread child's peak RSS.

Run from the repository root (needs a Redis; a key prefix and queue name of its own are
used, and removed afterwards)::

    .venv/bin/python bench/print_run_100k_bench.py [--backend sqlite|postgresql]
        [--redis-url redis://127.0.0.1:6379/0] [--repeat 1] [--quantity 100000]

A human table goes to stderr; the last line of stdout is one JSON object.

Linux shares the CPU between sessions first (``sched_autogroup``), then between the processes
of a session: on a machine busy with other work, processes started in one session share one
session's part, and two workers could never be faster than one thread. So the web child and
each worker run in sessions of their own, as separate services (systemd units) do; on an idle
machine this changes nothing. ``load_average_1m`` says how busy the machine was.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import log  # noqa: E402
from bench.print_run_bench import _config, _setup  # noqa: E402
from tests.databases import POSTGRES_ENV, fresh_database  # noqa: E402

QUANTITY = 100_000
WORKERS = 2
BAR_SPEEDUP = 1.7
BAR_MIB = 300


def _order(url: str, settings: dict[str, Any], setup: dict[str, Any], quantity: int, out: Any):
    """In a fresh child: order, and wait for the run to be ready; seconds and peak RSS."""
    from trace_service import create_app
    from trace_service.db import session_scope
    from trace_service.labels.models import PrintRun, RunStatus

    os.setsid()  # a scheduling group of its own, as each worker has (see the docstring)
    app = create_app(settings)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {setup['token']}"}
    body = {"product_id": setup["product_id"], "lot_id": setup["lot_id"], "quantity": quantity}
    client.get("/.well-known/jwks.json")  # open the key store before timing, as a warm server
    start, wall_start = time.perf_counter(), time.time()
    response = client.post("/api/v1/print-runs", headers=headers, json=body)
    answered = time.perf_counter() - start
    response.close()  # as a server does once it answered: a queued build starts now
    run_id = response.get_json()["id"]
    while True:
        with session_scope(app, writes=False) as session:
            run = session.get_one(PrintRun, run_id)
            status, files, error = run.status, run.files, run.error
        if status in (RunStatus.READY, RunStatus.FAILED):
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    out.put(
        {
            "http": response.status_code,
            "status": status.value,
            "error": error,
            "seconds": seconds,
            "order_s": answered,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "sheets": len(files.get("sheets", [])),
            "run_id": run_id,
            "wall_start": wall_start,
        }
    )


def _child(url: str, settings: dict[str, Any], setup: dict[str, Any], quantity: int) -> dict:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    child = context.Process(target=_order, args=(url, settings, setup, quantity, out))
    child.start()
    result = out.get()
    child.join()
    if result["http"] != 202 or result["status"] != "ready":
        raise SystemExit(f"order failed: {result}")
    return result


def _hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _private_mib(pid: int) -> float:
    lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    return sum(int(line.split()[1]) for line in lines if line.startswith("Private_")) / 1024


def _workers(settings: dict[str, Any], url: str, work: Path) -> list[subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCOP_")}
    env.update({f"OCOP_{k}": str(v) for k, v in settings.items()}, OCOP_DATABASE_URL=url)
    processes = []
    for n in range(WORKERS):
        with (work / f"worker-{n}.log").open("ab") as out:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker",
                     "--name", f"{settings['REDIS_KEY_PREFIX']}-{n}"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )  # fmt: skip
    return processes


def _queued(
    url: str, work: Path, redis_url: str, quantity: int, setup: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The order built by the queue's workers; ``setup`` (``_setup``'s product, packed lot
    and token) when the database already holds them (``national_size.py``)."""
    from redis import Redis
    from rq import Queue, Worker
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    setup = setup or _setup(url, work)
    prefix = f"ocop-bench-{uuid.uuid4().hex[:8]}"
    settings = {
        **_config(url, work),
        "LABEL_BUILD": "background",
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
    }
    redis = Redis.from_url(redis_url)
    queue = Queue(f"{prefix}-jobs", connection=redis)
    workers = _workers(settings, url, work)
    try:
        deadline = time.monotonic() + 120
        while Worker.count(queue=queue) < WORKERS:
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start: see worker-*.log")
            time.sleep(0.2)
        result = _child(url, settings, setup, quantity)
        ids = FinishedJobRegistry(queue=queue).get_job_ids()
        jobs = [job for job in Job.fetch_many(ids, connection=redis) if job is not None]
        horses: dict[str, float] = {}
        for job in jobs:
            value = job.return_value()
            if job.func_name.endswith(".build_part") and isinstance(value, dict):
                horses[job.worker_name] = max(horses.get(job.worker_name, 0), value["peak_rss_mib"])
        result["timeline"] = _timeline(jobs, result["wall_start"])
        mains = {f"{prefix}-{n}": _private_mib(p.pid) for n, p in enumerate(workers)}
        hwm = max(_hwm_mib(p.pid) for p in workers)
        parts = {name: sum(j.func_name.endswith(".build_part") and j.worker_name == name
                           for j in jobs) for name in mains}  # fmt: skip
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(timeout=60)
        for pattern in (f"{prefix}:*", f"rq:*{prefix}-jobs*"):
            for key in redis.scan_iter(match=pattern, count=1000):
                redis.delete(key)
    result["worker_peak_rss_mib"] = {name: mains[name] + horses.get(name, 0) for name in mains}
    result["horse_peak_rss_mib"] = max(horses.values(), default=0.0)
    result["worker_main_hwm_mib"] = hwm
    result["parts_by_worker"] = parts
    return result


def _timeline(jobs: list[Any], wall_start: float) -> list[dict[str, Any]]:
    """Each job's start and end in seconds from the order's request, in start order: where
    the time between the answer and the last file goes (queue waits, parts, joins)."""
    spans = []
    for job in jobs:
        if job.started_at is None or job.ended_at is None:
            continue
        name = job.func_name.rsplit(".", 1)[-1]
        started = job.started_at.timestamp() - wall_start
        ended = job.ended_at.timestamp() - wall_start
        part = [arg for arg in job.args[1:2] if isinstance(arg, int)]  # a part, a dpi
        spans.append({"job": name, "args": part, "worker": job.worker_name,
                      "start_s": round(started, 2), "end_s": round(ended, 2)})  # fmt: skip
    spans.sort(key=lambda span: span["start_s"])
    for span in spans:
        log(f"  {span['start_s']:7.2f} → {span['end_s']:7.2f} s  {span['job']} {span['args']} "
            f"on {span['worker']}")  # fmt: skip
    return spans


def _single(url: str, work: Path, quantity: int) -> dict[str, Any]:
    setup = _setup(url, work)
    return _child(url, {**_config(url, work), "REDIS_URL": ""}, setup, quantity)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--redis-url", default=os.environ.get("OCOP_TEST_REDIS_URL"))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--quantity", type=int, default=QUANTITY)
    args = parser.parse_args()
    if not args.redis_url:
        raise SystemExit("needs a Redis: --redis-url or OCOP_TEST_REDIS_URL")
    if args.backend == "postgresql" and not os.environ.get(POSTGRES_ENV):
        raise SystemExit(f"PostgreSQL needs {POSTGRES_ENV}")
    singles, queued = [], []
    for n in range(args.repeat):  # alternated, so a busier minute does not favour one
        for kind, results in (("single", singles), ("queued", queued)):
            with (
                tempfile.TemporaryDirectory() as tmp,
                fresh_database(args.backend, Path(tmp)) as url,
            ):
                if kind == "single":
                    result = _single(url, Path(tmp), args.quantity)
                else:
                    result = _queued(url, Path(tmp), args.redis_url, args.quantity)
            log(f"{kind} {n}: {result['seconds']:.1f} s, {result.get('parts_by_worker', '')}")
            results.append(result)
    single_s = statistics.median(r["seconds"] for r in singles)
    queued_s = statistics.median(r["seconds"] for r in queued)
    peak = max(max(r["worker_peak_rss_mib"].values()) for r in queued)
    figures = {
        "backend": args.backend,
        "quantity": args.quantity,
        "workers": WORKERS,
        "print_run_100000_s": round(queued_s, 2),
        "single_thread_100000_s": round(single_s, 2),
        "speedup": round(single_s / queued_s, 3),
        "peak_rss_mib": round(peak, 1),
        "horse_peak_rss_mib": round(max(r["horse_peak_rss_mib"] for r in queued), 1),
        "worker_main_hwm_mib": round(max(r["worker_main_hwm_mib"] for r in queued), 1),
        "single_thread_peak_rss_mib": round(max(r["peak_rss_mib"] for r in singles), 1),
        "order_answered_s": round(statistics.median(r["order_s"] for r in queued), 2),
        "parts_by_worker": queued[-1]["parts_by_worker"],
        "timeline": queued[-1]["timeline"],
        "load_average_1m": os.getloadavg()[0],
    }
    figures["within_speedup_bar"] = figures["speedup"] >= BAR_SPEEDUP
    figures["within_memory_bar"] = figures["peak_rss_mib"] <= BAR_MIB
    common.print_table(
        [
            ("backend", None),
            ("2 workers s", "print_run_100000_s"),
            ("1 thread s", "single_thread_100000_s"),
            ("speedup", "speedup"),
            ("worker MiB", "peak_rss_mib"),
            ("thread MiB", "single_thread_peak_rss_mib"),
        ],
        [(args.backend, figures)],
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

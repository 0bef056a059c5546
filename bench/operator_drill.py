#!/usr/bin/env python3
"""Operator's fault drill: steady mixed traffic against a running service while PostgreSQL,
Redis and an RQ worker are stopped in turn, every response recorded.

Traffic (open loop, so a hang shows as latency and not as a lower rate): label page GETs of
real stamp URLs (as a phone: a phone User-Agent, ``Sec-Fetch-Dest: document``), POST
/api/v1/labels/verify with an inspector's token, a small print-run order by a producer every
``--order-every`` seconds, and /readyz once a second. Every response goes to ``--out`` (JSON
lines: time, kind, status, latency, Retry-After, the page's verdict markers).

Faults (each skipped unless its commands are given; commands are shell strings run as is):

1. database: ``--pg-stop``, wait ``--down`` s, ``--pg-start``;
2. Redis: ``--redis-stop``, wait ``--down`` s, ``--redis-start``;
3. worker: a ``--big``-stamp order, and once it is building ``--worker-kill`` (e.g. SIGKILL
   to the worker's process group), ``--worker-start`` a few seconds later; then wait for the
   run to be ready (the lease must lapse: keep ``OCOP_LABEL_BUILD_LEASE_SECONDS`` short).

At the end: every accepted order is waited for and its sheet files downloaded and checked
against their SHA-256; with ``--database-url`` the stamps' scan counts are compared with
the label pages this script got answered 200 and with the scan log, and runs left
``queued``/``building`` are listed. A summary table goes to stdout and ``--out``.summary.json.

Example (a private PostgreSQL and Redis, made as tests/ops/pg_pair.py makes one; never the
machine's shared ones)::

    .venv/bin/python bench/operator_drill.py --base http://127.0.0.1:8181 \
        --inspector-token "$(cat tok_inspector)" --producer-token "$(cat tok_producer)" \
        --database-url postgresql://postgres@127.0.0.1:49089/ocop \
        --pg-stop 'ctl pgstop' --pg-start 'ctl pgstart' \
        --redis-stop 'ctl redisstop' --redis-start 'ctl redisstart' \
        --worker-kill 'kill -KILL -$(cat w1.pid)' --worker-start 'ctl worker w2' \
        --out drill.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36"
)
VERDICT = re.compile(r'data-verdict="([^"]+)"')
UNAVAILABLE = re.compile(r'data-unavailable="([^"]+)"')

_local = threading.local()
_lock = threading.Lock()
records: list[dict[str, Any]] = []
marks: list[dict[str, Any]] = []
orders: list[dict[str, Any]] = []
out_file: Any = None


def session() -> requests.Session:
    s = getattr(_local, "s", None)
    if s is None:
        s = _local.s = requests.Session()
    return s


def record(kind: str, t0: float, status: int, latency: float, **extra: Any) -> None:
    row = {"t": round(t0, 3), "kind": kind, "status": status, "ms": round(latency * 1000, 1)}
    row.update({k: v for k, v in extra.items() if v is not None})
    with _lock:
        records.append(row)
        out_file.write(json.dumps(row, ensure_ascii=False) + "\n")


def mark(name: str, **extra: Any) -> None:
    row = {"t": round(time.time(), 3), "mark": name, **extra}
    print(f"{time.strftime('%H:%M:%S')} {name} {extra or ''}", flush=True)
    with _lock:
        marks.append(row)
        out_file.write(json.dumps(row) + "\n")


def call(kind: str, method: str, url: str, timeout: float, **kw: Any) -> requests.Response | None:
    t0 = time.time()
    start = time.monotonic()
    try:
        r = session().request(method, url, timeout=timeout, **kw)
    except requests.RequestException as exc:
        record(kind, t0, 0, time.monotonic() - start, error=type(exc).__name__)
        return None
    latency = time.monotonic() - start
    extra: dict[str, Any] = {"retry_after": r.headers.get("Retry-After")}
    ctype = r.headers.get("Content-Type", "")
    if "html" in ctype:
        v, u = VERDICT.search(r.text), UNAVAILABLE.search(r.text)
        extra.update(verdict=v and v.group(1), unavailable=u and u.group(1))
    elif "json" in ctype and r.status_code >= 400:
        try:
            body = r.json()
            extra.update(code=body.get("code"), msg=(body.get("message_en") or "")[:120])
        except ValueError:
            extra.update(code="not-json")
    if kind == "label":
        extra["serial"] = url.rsplit("/21/", 1)[-1].split("?")[0]
    record(kind, t0, r.status_code, latency, **extra)
    return r


def load_stamps(base: str, token: str, limit: int) -> list[str]:
    h = {"Authorization": f"Bearer {token}"}
    urls: list[str] = []
    runs = requests.get(f"{base}/api/v1/print-runs?page_size=100", headers=h, timeout=30).json()
    for run in runs["items"]:
        if run["status"] != "ready":
            continue
        page = 1
        while len(urls) < limit:
            r = requests.get(
                f"{base}/api/v1/print-runs/{run['id']}/labels?page_size=100&page={page}",
                headers=h,
                timeout=30,
            ).json()
            urls += [item["url"] for item in r["items"]]
            if len(r["items"]) < 100:
                break
            page += 1
    return urls[:limit]


def local_url(base: str, url: str) -> str:
    """A stamp's URL as printed, sent to this base (same path and query)."""
    path = url.split("://", 1)[-1]
    return base + path[path.index("/") :]


class Traffic:
    def __init__(self, args: argparse.Namespace, stamps: list[str]) -> None:
        self.args, self.stamps = args, stamps
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=args.threads)
        self.inflight = 0
        self.skipped = 0

    def _one(self) -> None:
        a = self.args
        try:
            if random.random() < a.verify_share:
                call(
                    "verify",
                    "POST",
                    f"{a.base}/api/v1/labels/verify",
                    a.timeout,
                    json={"url": random.choice(self.stamps)},
                    headers={"Authorization": f"Bearer {a.inspector_token}"},
                )
            else:
                call(
                    "label",
                    "GET",
                    local_url(a.base, random.choice(self.stamps)),
                    a.timeout,
                    headers={
                        "User-Agent": PHONE_UA,
                        "Accept": "text/html",
                        "Sec-Fetch-Dest": "document",
                        "Accept-Language": "vi",
                    },
                )
        finally:
            with _lock:
                self.inflight -= 1

    def run_mixed(self) -> None:
        period = 1.0 / self.args.rate
        next_at = time.monotonic()
        while not self.stop.is_set():
            next_at += period * random.expovariate(1.0)
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with _lock:
                if self.inflight >= self.args.threads:  # every thread busy: counted, not sent
                    self.skipped += 1
                    continue
                self.inflight += 1
            self.pool.submit(self._one)

    def run_readyz(self) -> None:
        while not self.stop.is_set():
            call("readyz", "GET", f"{self.args.base}/readyz", 10)
            self.stop.wait(1.0)

    def run_orders(self) -> None:
        while not self.stop.wait(self.args.order_every):
            order(self.args, self.args.order_quantity, "order")


def order(args: argparse.Namespace, quantity: int, kind: str) -> dict[str, Any] | None:
    r = call(
        kind,
        "POST",
        f"{args.base}/api/v1/print-runs",
        60,
        json={"product_id": args.product_id, "lot_id": args.lot_id, "quantity": quantity},
        headers={"Authorization": f"Bearer {args.producer_token}"},
    )
    if r is not None and r.status_code in (200, 201, 202):
        entry = {"id": r.json()["id"], "quantity": quantity, "t": time.time(), "kind": kind}
        with _lock:
            orders.append(entry)
        return entry
    return None


def get_run(args: argparse.Namespace, run_id: int) -> dict[str, Any] | None:
    try:
        r = requests.get(
            f"{args.base}/api/v1/print-runs/{run_id}",
            headers={"Authorization": f"Bearer {args.producer_token}"},
            timeout=15,
        )
        return r.json() if r.status_code == 200 else None
    except requests.RequestException:
        return None


def sh(command: str) -> None:
    done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    mark("command", command=command, rc=done.returncode, out=(done.stdout + done.stderr)[-300:])


def fault_down_up(name: str, stop_cmd: str, start_cmd: str, args: argparse.Namespace) -> None:
    mark(f"{name}:before")
    time.sleep(args.settle)
    mark(f"{name}:stop")
    sh(stop_cmd)
    mark(f"{name}:down")
    time.sleep(args.down)
    mark(f"{name}:start")
    sh(start_cmd)
    mark(f"{name}:up")
    time.sleep(args.settle)
    mark(f"{name}:end")


def fault_worker(args: argparse.Namespace) -> None:
    mark("worker:before")
    time.sleep(args.settle)
    big = order(args, args.big, "big_order")
    if big is None:
        mark("worker:big order refused")
        return
    run_id = big["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = get_run(args, run_id) or {}
        drawn = (run.get("progress") or {}).get("labels_drawn", 0)
        if run.get("status") == "building" and drawn >= args.kill_after_labels:
            break
        if run.get("status") in ("ready", "failed"):
            mark("worker:run finished before the kill", status=run.get("status"))
            break
        time.sleep(0.3)
    mark("worker:stop", run=run_id, progress=(get_run(args, run_id) or {}).get("progress"))
    sh(args.worker_kill)
    mark("worker:down")
    time.sleep(args.worker_down)
    mark("worker:start")
    sh(args.worker_start)
    mark("worker:up")
    deadline = time.monotonic() + args.worker_wait
    last = None
    while time.monotonic() < deadline:
        run = get_run(args, run_id) or {}
        state = (run.get("status"), (run.get("progress") or {}).get("labels_drawn"))
        if state != last:
            mark("worker:run", run=run_id, status=state[0], drawn=state[1])
            last = state
        if run.get("status") in ("ready", "failed"):
            break
        time.sleep(1)
    mark("worker:run finished", run=run_id, status=last and last[0])
    time.sleep(args.settle / 2)
    mark("worker:end")


def check_orders(args: argparse.Namespace) -> dict[str, Any]:
    h = {"Authorization": f"Bearer {args.producer_token}"}
    deadline = time.monotonic() + args.final_wait
    result: dict[str, Any] = {"accepted": len(orders), "ready": 0, "files_ok": 0, "problems": []}
    pending = list(orders)
    finals: dict[int, dict[str, Any]] = {}
    while pending and time.monotonic() < deadline:
        still = []
        for entry in pending:
            run = get_run(args, entry["id"])
            if run and run["status"] in ("ready", "failed"):
                finals[entry["id"]] = run
            else:
                still.append(entry)
        pending = still
        if pending:
            time.sleep(2)
    for entry in pending:
        run = get_run(args, entry["id"]) or {}
        result["problems"].append(
            {
                "run": entry["id"],
                "status": run.get("status"),
                "progress": run.get("progress"),
                "stalled": run.get("stalled"),
                "why": "not finished",
            }
        )
    for run_id, run in finals.items():
        if run["status"] != "ready":
            result["problems"].append(
                {"run": run_id, "status": run["status"], "error": run.get("error")}
            )
            continue
        result["ready"] += 1
        ok = True
        for sheet in (run.get("files") or {}).get("sheets", []):
            r = requests.get(args.base + sheet["url"], headers=h, timeout=120)
            if r.status_code != 200 or hashlib.sha256(r.content).hexdigest() != sheet["sha256"]:
                ok = False
                result["problems"].append(
                    {
                        "run": run_id,
                        "sheet": sheet["url"],
                        "status": r.status_code,
                        "why": "sheet bad",
                    }
                )
        labels = requests.get(
            f"{args.base}/api/v1/print-runs/{run_id}/labels?page_size=1", headers=h, timeout=30
        )
        total = labels.json().get("total") if labels.status_code == 200 else None
        if total is not None and total != run["quantity"]:
            ok = False
            result["problems"].append({"run": run_id, "labels": total, "quantity": run["quantity"]})
        result["files_ok"] += ok
    return result


def check_database(args: argparse.Namespace, before: dict[str, int]) -> dict[str, Any]:
    if not args.database_url:
        return {}
    after = scan_counts(args.database_url)
    got = Counter(r["serial"] for r in records if r["kind"] == "label" and r["status"] == 200)
    mismatched = []
    for serial in set(got) | {s for s in after if after[s] != before.get(s, 0)}:
        delta = after.get(serial, 0) - before.get(serial, 0)
        if delta != got.get(serial, 0):
            mismatched.append(
                {"serial": serial, "scan_count_delta": delta, "pages_200": got[serial]}
            )
    import psycopg

    with psycopg.connect(args.database_url) as conn:
        stuck = conn.execute(
            "SELECT id, status, quantity FROM print_runs WHERE status IN ('queued','building')"
        ).fetchall()
        log_vs_state = conn.execute(
            "SELECT count(*) FROM label_states s WHERE s.scan_count <> "
            "(SELECT count(*) FROM label_scans l WHERE l.label_id = s.label_id)"
        ).fetchone()
        dup = conn.execute("SELECT count(*) - count(DISTINCT serial) FROM labels").fetchone()
    return {
        "scan_count_delta_vs_pages_200_mismatches": mismatched[:20],
        "n_mismatched": len(mismatched),
        "scan_counts_checked": len(got),
        "label_states_vs_scan_log_mismatches": log_vs_state[0] if log_vs_state else None,
        "duplicate_serials": dup[0] if dup else None,
        "runs_queued_or_building": [list(row) for row in stuck],
    }


def scan_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT l.serial, s.scan_count FROM labels l JOIN label_states s ON s.label_id = l.id"
        ).fetchall()
    return {serial: count for serial, count in rows}


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 1)


def window(kind: str, t0: float, t1: float) -> dict[str, Any]:
    rows = [r for r in records if r["kind"] == kind and t0 <= r["t"] < t1]
    return {
        "n": len(rows),
        "status": dict(sorted(Counter(str(r["status"]) for r in rows).items())),
        "p50": pct([r["ms"] for r in rows], 50),
        "p99": pct([r["ms"] for r in rows], 99),
        "max": max((r["ms"] for r in rows), default=None),
    }


def recovery(kinds: tuple[str, ...], t_up: float, t_end: float) -> dict[str, float | None]:
    """Seconds from the fault's end (restart done) to the last failure sent after it
    (0: none failed after it), per kind."""
    out: dict[str, float | None] = {}
    for kind in kinds:
        bad = [
            r["t"] + r["ms"] / 1000
            for r in records
            if r["kind"] == kind and t_up <= r["t"] < t_end and not 200 <= r["status"] < 400
        ]
        out[kind] = round(max(bad) - t_up, 1) if bad else 0.0
    return out


def summarize(args: argparse.Namespace) -> dict[str, Any]:
    by = {m["mark"]: m["t"] for m in marks}
    kinds = ("label", "verify", "order", "readyz")
    faults = {}
    for name in ("pg", "redis", "worker"):
        if f"{name}:stop" not in by:
            continue
        t_before, t_stop, t_up, t_end = (by[f"{name}:{k}"] for k in ("before", "stop", "up", "end"))
        faults[name] = {
            "before": {k: window(k, t_before, t_stop) for k in kinds},
            "during": {k: window(k, t_stop, t_up) for k in kinds},
            "after": {k: window(k, t_up, t_end) for k in kinds},
            "down_s": round(t_up - t_stop, 1),
            "recovery_s": recovery(kinds, t_up, t_end),
        }
        label_during = [r for r in records if r["kind"] == "label" and t_stop <= r["t"] < t_up]
        faults[name]["label_markers_during"] = dict(
            Counter(
                f"{r['status']} verdict={r.get('verdict')} unavailable={r.get('unavailable')}"
                for r in label_during
            )
        )
        api_bad = [
            r
            for r in records
            if r["kind"] in ("verify", "order") and t_stop <= r["t"] < t_end and r["status"] >= 500
        ]
        faults[name]["api_5xx_retry_after"] = dict(
            Counter(
                f"{r['kind']} {r['status']} retry_after={r.get('retry_after')} code={r.get('code')}"
                for r in api_bad
            )
        )
    return faults


def print_table(faults: dict[str, Any]) -> None:
    for name, f in faults.items():
        print(
            f"\n== {name}: down {f['down_s']} s; recovery (s after restart to last failure) "
            f"{f['recovery_s']}"
        )
        print(f"{'kind':8} {'phase':7} {'n':>5} {'p50':>8} {'p99':>8} {'max':>8}  status")
        for kind in ("label", "verify", "order", "readyz"):
            for phase in ("before", "during", "after"):
                w = f[phase][kind]
                print(
                    f"{kind:8} {phase:7} {w['n']:5} {w['p50']!s:>8} {w['p99']!s:>8} "
                    f"{w['max']!s:>8}  {w['status']}"
                )
        print("label pages during:", f["label_markers_during"])
        print("API 5xx:", f["api_5xx_retry_after"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--base", default="http://127.0.0.1:8000")
    p.add_argument("--inspector-token", required=True)
    p.add_argument("--producer-token", required=True)
    p.add_argument("--list-token", help="token that lists the stamps (an admin's: every run's)")
    p.add_argument("--product-id", type=int, help="default: a ready run's, of this producer")
    p.add_argument("--lot-id", type=int)
    p.add_argument("--rate", type=float, default=30.0, help="label pages + verifications a second")
    p.add_argument("--verify-share", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=48)
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--order-every", type=float, default=10.0)
    p.add_argument("--order-quantity", type=int, default=24)
    p.add_argument(
        "--big", type=int, default=10_000, help="stamps of the order the worker drill kills"
    )
    p.add_argument("--kill-after-labels", type=int, default=1)
    p.add_argument("--stamps", type=int, default=200)
    p.add_argument("--settle", type=float, default=40.0, help="seconds before and after a fault")
    p.add_argument("--down", type=float, default=20.0)
    p.add_argument("--worker-down", type=float, default=5.0)
    p.add_argument("--worker-wait", type=float, default=300.0)
    p.add_argument("--final-wait", type=float, default=300.0)
    p.add_argument("--pg-stop"), p.add_argument("--pg-start")
    p.add_argument("--redis-stop"), p.add_argument("--redis-start")
    p.add_argument("--worker-kill"), p.add_argument("--worker-start")
    p.add_argument(
        "--faults",
        default="worker,pg,redis",
        help="the order of the drills (each runs if its commands are given)",
    )
    p.add_argument("--database-url", help="psycopg URL: scan counts and stuck runs checked")
    p.add_argument("--out", default="drill.jsonl")
    args = p.parse_args()

    global out_file
    out_file = open(args.out, "w", buffering=1)  # noqa: SIM115
    stamps = load_stamps(args.base, args.list_token or args.producer_token, args.stamps)
    if args.product_id is None:
        h = {"Authorization": f"Bearer {args.producer_token}"}
        runs = requests.get(f"{args.base}/api/v1/print-runs", headers=h, timeout=30).json()
        args.product_id, args.lot_id = runs["items"][0]["product_id"], runs["items"][0]["lot_id"]
    mark("start", stamps=len(stamps), product=args.product_id, lot=args.lot_id, rate=args.rate)
    before = scan_counts(args.database_url) if args.database_url else {}

    traffic = Traffic(args, stamps)
    threads = [
        threading.Thread(target=f, daemon=True)
        for f in (traffic.run_mixed, traffic.run_readyz, traffic.run_orders)
    ]
    for t in threads:
        t.start()
    try:
        for name in args.faults.split(","):
            if name == "pg" and args.pg_stop and args.pg_start:
                fault_down_up("pg", args.pg_stop, args.pg_start, args)
            elif name == "redis" and args.redis_stop and args.redis_start:
                fault_down_up("redis", args.redis_stop, args.redis_start, args)
            elif name == "worker" and args.worker_kill and args.worker_start:
                fault_worker(args)
        if not any((args.pg_stop, args.redis_stop, args.worker_kill)):
            time.sleep(args.settle)
    finally:
        traffic.stop.set()
        for t in threads:
            t.join(timeout=65)
        traffic.pool.shutdown(wait=True)
    mark("traffic stopped", skipped=traffic.skipped)
    # The scan check first: the order check downloads files, which counts nothing, but is slow.
    database = check_database(args, before)
    orders_result = check_orders(args)
    faults = summarize(args)
    totals = {
        k: dict(Counter(str(r["status"]) for r in records if r["kind"] == k))
        for k in ("label", "verify", "order", "big_order", "readyz")
    }
    summary = {
        "faults": faults,
        "orders": orders_result,
        "database": database,
        "totals": totals,
        "skipped_sends": traffic.skipped,
        "marks": marks,
    }
    with open(args.out + ".summary.json", "w") as f:
        json.dump(summary, f, indent=1, ensure_ascii=False)
    print_table(faults)
    print("\ntotals:", json.dumps(totals))
    print("orders:", json.dumps(orders_result, ensure_ascii=False))
    print("database:", json.dumps(database, ensure_ascii=False))
    any_500 = sum(1 for r in records if r["status"] == 500)
    print("responses 500:", any_500, " sends skipped (all threads busy):", traffic.skipped)
    sys.exit(1 if any_500 or orders_result["problems"] or database.get("n_mismatched") else 0)


if __name__ == "__main__":
    main()

"""The label page on a weak network and a slow phone: when is the verdict painted?

Serves the real app itself (a fresh migrated SQLite database, keys, one certified product, a
packed lot and a print run of a few issued labels) on 127.0.0.1 (werkzeug, threaded), then
opens a genuine label's page in headless Chromium (Debian's ``chromium`` through Playwright,
``executable_path``) at 360×640, with Chrome DevTools Protocol emulation:
``Network.emulateNetworkConditions`` (default 400 ms latency, 400 kbit/s down and up) and
``Emulation.setCPUThrottlingRate`` (default 4×). Each repetition is a fresh browser context
(empty cache, no cookies) opening another label of the run.

Measured from navigation start (``performance.timeOrigin``):

- ``verdict_paint_ms``: the verdict's headline painted, by the Element Timing API (the
  headline carries ``elementtiming="verdict"``; ``renderTime`` of its entry);
- ``fcp_ms``: first contentful paint; ``load_ms``: the load event;
- ``bytes``: bytes transferred (``Network.loadingFinished``'s ``encodedDataLength``: headers
  and body as sent, compressed if the server compressed), ``requests``, and requests to any
  host other than the server (refused and counted).

Last line of stdout: JSON with the medians of ``--repeat`` runs (after one dropped warm-up,
which also composes the run's facts on the server) and each run's figures. Goal (issue 12):
verdict painted within 2 s. Not part of the test suite.

    .venv/bin/python bench/weak_network_bench.py [--repeat 5] [--latency-ms 400]
        [--down-kbps 400] [--up-kbps 400] [--cpu 4]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import log, print_table
from bench.label_page_bench import _settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, live_server
from tests.databases import fresh_database

GOAL_MS = 2000.0
VIEWPORT = {"width": 360, "height": 640}
# A cheap Android phone's browser: the page's device class is "phone".
USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 11; SM-A025F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
# Watches paints from the first byte on (added before the page's own scripts; it has none).
OBSERVER = """
window.__paints = {verdict: null, fcp: null};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.identifier !== "verdict") continue;
    window.__paints.verdict = entry.renderTime || entry.loadTime;
  }
}).observe({type: "element", buffered: true});
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.name === "first-contentful-paint") window.__paints.fcp = entry.startTime;
  }
}).observe({type: "paint", buffered: true});
"""


def _seed(url: str, work: Path, labels: int) -> list[str]:
    """Keys, a certified product, a packed lot and ``labels`` issued labels: their paths."""
    from bench.print_run_bench import _setup
    from trace_service import create_app
    from trace_service.db import session_scope
    from trace_service.labels import jobs, services
    from trace_service.labels.lookup import signed_path
    from trace_service.labels.models import Label
    from trace_service.principal import system_principal
    from trace_service.signing.service import get_keystore

    os.environ.update(_settings(url, work))
    setup = _setup(url, work)
    app = create_app()
    with app.app_context(), session_scope(app) as session:
        order = services.RunOrder(setup["product_id"], setup["lot_id"], labels)
        run, _ = services.order_print_run(
            session, system_principal("bench"), order, get_keystore(app), jobs.label_base_url(app)
        )
        rows = session.query(Label).filter(Label.run_id == run.id).order_by(Label.seq).all()
        return [signed_path(label) for label in rows]


def _open(browser: Any, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """One cold visit of ``url`` under the emulated network and CPU: its figures."""
    context = browser.new_context(
        viewport=VIEWPORT, user_agent=USER_AGENT, device_scale_factor=2, is_mobile=True
    )
    page = context.new_page()
    host = urlsplit(url).hostname
    outside: list[str] = []

    def only_this_server(route: Any) -> None:
        if urlsplit(route.request.url).hostname == host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.add_init_script(OBSERVER)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": args.latency_ms,
            "downloadThroughput": args.down_kbps * 1000 / 8,  # bytes per second
            "uploadThroughput": args.up_kbps * 1000 / 8,
        },
    )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": args.cpu})
    sizes: dict[str, float] = {}
    cdp.on(
        "Network.loadingFinished", lambda e: sizes.update({e["requestId"]: e["encodedDataLength"]})
    )
    try:
        response = page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_function("window.__paints.verdict !== null", timeout=30_000)
        paints = page.evaluate("window.__paints")
        load = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        colour = page.get_attribute("section.verdict", "data-colour")
    finally:
        context.close()
    return {
        "status": response.status if response else None,
        "colour": colour,
        "verdict_paint_ms": round(paints["verdict"], 1),
        "fcp_ms": round(paints["fcp"], 1) if paints["fcp"] is not None else None,
        "load_ms": round(load, 1),
        "bytes": int(sum(sizes.values())),
        "requests": len(sizes),
        "other_hosts": len(outside),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=400)
    parser.add_argument("--down-kbps", type=float, default=400)
    parser.add_argument("--up-kbps", type=float, default=400)
    parser.add_argument("--cpu", type=float, default=4)
    args = parser.parse_args()
    if not shutil.which(CHROMIUM):
        raise SystemExit("headless Chromium is not installed (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from trace_service import create_app

    with tempfile.TemporaryDirectory() as tmp, fresh_database("sqlite", Path(tmp)) as url:
        paths = _seed(url, Path(tmp), args.repeat + 1)
        app = create_app()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        runs: list[dict[str, Any]] = []
        with live_server(app) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                _open(browser, base + paths[0], args)  # warm-up: dropped
                for path in paths[1:]:
                    runs.append(_open(browser, base + path, args))
            finally:
                browser.close()
    columns = [(key, key) for key in runs[0]]
    print_table([("run", None), *columns], [(str(i + 1), run) for i, run in enumerate(runs)])

    def median(key: str) -> float:
        return float(statistics.median(run[key] for run in runs if run[key] is not None))

    summary: dict[str, Any] = {
        "verdict_paint_ms": median("verdict_paint_ms"),
        "fcp_ms": median("fcp_ms"),
        "load_ms": median("load_ms"),
        "bytes": int(median("bytes")),
        "requests": int(median("requests")),
        "other_hosts": sum(run["other_hosts"] for run in runs),
        "all_answered_200_green": all(r["status"] == 200 and r["colour"] == "green" for r in runs),
        "latency_ms": args.latency_ms,
        "down_kbps": args.down_kbps,
        "up_kbps": args.up_kbps,
        "cpu_slowdown": args.cpu,
        "repeat": args.repeat,
        "runs": runs,
    }
    summary["within_2_s"] = summary["verdict_paint_ms"] <= GOAL_MS
    log(f"verdict painted after {summary['verdict_paint_ms']} ms (median), goal {GOAL_MS:.0f} ms")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

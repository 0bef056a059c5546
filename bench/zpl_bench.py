"""Benchmark: what each way of making a 10,000-label run's ZPL files costs.

Issue 10 asked that a ZPL file never be drawn inside a download request: either the build
draws it, or the first download queues it (202 with progress) and the next one serves it.
This measures both on the same run, from the database, as the service does them:

* ``pdf_only_s``: the build as it was, the A4 sheet alone (labels read back, URLs, QR
  matrices, the PDF written);
* ``build_with_zpl_s``: the build as it is, ``labels.build.draw_files``: the same pass also
  writes the ZPL at 203 and 300 dpi from the same matrices; ``zpl_in_build_s`` is the
  difference, what choice A adds to every build;
* ``zpl_on_demand_203_s`` / ``_300_s``: one ZPL file drawn on its own from the database
  (labels read back, URLs, QR matrices again, the ZPL), what choice B's queued job would
  cost for each file a printer asks for;
* the files' sizes: what choice A keeps on disk for every run.

Run from the repository root::

    .venv/bin/python bench/zpl_bench.py [--backend sqlite|postgresql|both] [--repeat 3]

PostgreSQL needs OCOP_TEST_POSTGRES_URL. A human table goes to stderr; the last line of
stdout is one JSON object. Times are this process's CPU seconds (``time.process_time``),
medians of ``--repeat`` rounds after a dropped warm-up: on a machine shared with other work
wall-clock times of the same step varied by 2x, CPU times far less. The database's own CPU
(a separate PostgreSQL process) is not in them; reading 10,000 label rows is a small part.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import log
from bench.print_run_bench import LABELS, _config, _setup
from tests.databases import POSTGRES_ENV, fresh_database


def cpu_timed(step: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    result = step()
    return time.process_time() - start, result


def _ordered_run(app: Any, setup: dict[str, Any]) -> int:
    """A run of 10,000 issued labels, not built (as an order leaves it, before the build)."""
    from trace_service.db import session_scope
    from trace_service.labels import jobs, services
    from trace_service.principal import system_principal
    from trace_service.signing.service import get_keystore

    with app.app_context(), session_scope(app) as session:
        order = services.RunOrder(setup["product_id"], setup["lot_id"], LABELS, False)
        run, _ = services.order_print_run(
            session, system_principal("bench"), order, get_keystore(app), jobs.label_base_url(app)
        )
        return run.id


def bench_backend(backend: str, repeat: int) -> dict[str, Any]:
    from trace_service import create_app
    from trace_service.db import get_db, session_scope
    from trace_service.labels import build
    from trace_service.labels.models import PrintRun
    from trace_service.labels.render.sheet_pdf import render_sheet_pdf
    from trace_service.labels.render.zpl import render_zpl

    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        work = Path(tmp)
        setup = _setup(url, work)
        app = create_app(_config(url, work))
        run_id = _ordered_run(app, setup)
        times: dict[str, list[float]] = {k: [] for k in ("pdf", "all", "zpl203", "zpl300")}
        sizes: dict[str, int] = {}
        with app.app_context(), session_scope(app, writes=False) as session:
            run = session.get_one(PrintRun, run_id)
            for n in range(repeat + 1):  # the first round warms caches and is dropped

                def pdf_only() -> None:
                    art = build.label_art(session, run, None)
                    render_sheet_pdf(build.stamp_facts(run), art, io.BytesIO())

                def with_zpl(n: int = n) -> dict[str, Any]:
                    return build.draw_files(session, run, work / f"files-{n}", None, lambda _: None)

                def on_demand(dpi: int) -> int:
                    art = build.label_art(session, run, None)
                    return render_zpl(build.stamp_facts(run), art, io.StringIO(), dpi=dpi)

                rounds = {
                    "pdf": cpu_timed(pdf_only)[0],
                    "all": (all_s := cpu_timed(with_zpl))[0],
                    "zpl203": cpu_timed(lambda: on_demand(203))[0],
                    "zpl300": cpu_timed(lambda: on_demand(300))[0],
                }
                shown = ", ".join(f"{k} {v:.2f} s" for k, v in rounds.items())
                log(f"{backend}: round {n}: {shown}")
                if n:
                    for key, value in rounds.items():
                        times[key].append(value)
                files = all_s[1]
                sizes = {
                    "pdf_mb": sum(s["bytes"] for s in files["sheets"]) / 1e6,
                    "zpl_203_mb": files["zpl"][0]["bytes"] / 1e6,
                    "zpl_300_mb": files["zpl"][1]["bytes"] / 1e6,
                }
        get_db(app).engine.dispose()
    med = {key: statistics.median(values) for key, values in times.items()}
    return {
        "pdf_only_s": med["pdf"],
        "build_with_zpl_s": med["all"],
        "zpl_in_build_s": med["all"] - med["pdf"],
        "zpl_in_build_share": (med["all"] - med["pdf"]) / med["pdf"],
        "zpl_on_demand_203_s": med["zpl203"],
        "zpl_on_demand_300_s": med["zpl300"],
        **sizes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not os.environ.get(POSTGRES_ENV):
        log(f"PostgreSQL skipped: set {POSTGRES_ENV}")
        backends.remove("postgresql")
    rows, output = [], {}
    for backend in backends:
        figures = bench_backend(backend, args.repeat)
        rows.append((backend, figures))
        output.update({f"{backend}_{key}": value for key, value in figures.items()})
    common.print_table(
        [
            ("backend", None),
            ("pdf s", "pdf_only_s"),
            ("pdf+zpl s", "build_with_zpl_s"),
            ("zpl in build s", "zpl_in_build_s"),
            ("zpl 203 alone s", "zpl_on_demand_203_s"),
            ("zpl 300 alone s", "zpl_on_demand_300_s"),
            ("pdf MB", "pdf_mb"),
            ("zpl203 MB", "zpl_203_mb"),
            ("zpl300 MB", "zpl_300_mb"),
        ],
        rows,
    )
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in output.items()}))


if __name__ == "__main__":
    main()

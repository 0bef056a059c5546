"""The jobs the queue's workers run, by their dotted names (``trace_service.queue.tasks.*``).

Each is a thin wrapper over the function the web process runs when there is no queue: a
print run's build (here split into parts that several workers draw at once, then joined),
the daily expiry sweep, notice deliveries and the offline snapshot. State and progress stay
in the database, as without a queue; Redis holds only the jobs.

A job finds its app through ``bind_app`` (``flask jobs worker`` binds the one it made). RQ
forks a work horse per job: its first use of the database drops the connections it
inherited from the worker (they belong to the parent) and opens its own.
"""

from __future__ import annotations

import logging
import os
import resource
from datetime import date, timedelta
from typing import Any

from flask import Flask
from rq import get_current_job

from trace_service import jobqueue
from trace_service.certificates import daily
from trace_service.db import get_db, session_scope
from trace_service.labels import build, build_parts, jobs
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.principal import Principal, system_principal

log = logging.getLogger(__name__)

_bound: dict[str, Any] = {}
PREFIX = "trace_service.queue.tasks."


def bind_app(app: Flask) -> None:
    _bound.update(app=app, pid=os.getpid())


def bound_app() -> Flask:
    app: Flask | None = _bound.get("app")
    if app is None:
        raise RuntimeError("no app bound: jobs run in `flask jobs worker`")
    if _bound["pid"] != os.getpid():  # a forked work horse: its own connections
        get_db(app).engine.dispose(close=False)
        _bound["pid"] = os.getpid()
    return app


def lease(app: Flask) -> timedelta:
    return jobs.build_lease(app)


def _last_try() -> bool:
    job = get_current_job()
    return job is None or not job.retries_left


# ----------------------------------------------------------------------------- print runs


def build_run(run_id: int, actor: Principal) -> str:
    """Claim a run and put its missing parts on the queue, and the join after them."""
    app = bound_app()
    with app.app_context():
        with session_scope(app) as session:
            todo = build_parts.start(session, run_id, jobs.files_root(app), lease(app))
        if todo is None:
            return f"run {run_id}: not claimed (built, or another builder holds it)"
        parts = [
            jobqueue.enqueue(
                app,
                PREFIX + "build_part",
                run_id,
                part,
                actor,
                description=f"print run {run_id}: part {part}",
                need_worker=False,
            )
            for part in todo
        ]
        jobqueue.enqueue(
            app,
            PREFIX + "join_run",
            run_id,
            actor,
            depends_on=parts or None,
            description=f"print run {run_id}: join",
            need_worker=False,
        )
        return f"run {run_id}: parts {todo} queued"


def join_zpl(run_id: int, dpi: int) -> str:
    """Nothing to do: kept for jobs queued before each part drew whole ZPL files (a job
    whose function is gone fails, and the join waiting on it would never run)."""
    return f"run {run_id}: ZPL {dpi} dpi is drawn by each part"


def _fail_run(app: Flask, run_id: int, actor: Principal, exc: BaseException) -> None:
    with session_scope(app) as session:
        run = session.get_one(PrintRun, run_id)
        if run.status is RunStatus.BUILDING:
            build.mark_failed(session, actor, run, exc)


def build_part(run_id: int, part: int, actor: Principal) -> dict[str, Any]:
    """Draw one part of a claimed run. The last try that fails marks the run failed (the
    producer may build it again); earlier ones leave it to the retry."""
    app = bound_app()
    with app.app_context():
        try:
            build_part_now(app, run_id, part)
        except Exception as exc:
            if _last_try():
                _fail_run(app, run_id, actor, exc)
            raise
    # The work horse's peak memory, kept with the job's result (bench/print_run_100k_bench.py).
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"run": run_id, "part": part, "peak_rss_mib": round(peak_kib / 1024, 1)}


def build_part_now(app: Flask, run_id: int, part: int) -> bool:
    """Draw a part unless the run is no longer being built or the part is done already."""
    root = jobs.files_root(app)
    with session_scope(app, writes=False) as reader:
        run = reader.get_one(PrintRun, run_id)
        if run.status is not RunStatus.BUILDING or part in build_parts.done_parts(root, run):
            return False
        progress = build_parts.progress_writer(lambda: session_scope(app), run_id, lease(app))
        build_parts.draw_part(reader, run, part, root, jobs.scratch_key(app, run), progress)
    return True


def join_run(run_id: int, actor: Principal) -> str:
    """Join a run's parts into its files and mark it ready (once: a second join finds the
    run ready, or its parts gone, and does nothing)."""
    app = bound_app()
    redis = jobqueue.connection(app)
    lock = redis.lock(jobqueue.key(app, "join", run_id), timeout=600, blocking_timeout=0)
    if not lock.acquire():
        return f"run {run_id}: another worker joins it"
    try:
        with app.app_context():
            return join_now(app, run_id, actor)
    finally:
        lock.release()


def join_now(app: Flask, run_id: int, actor: Principal) -> str:
    with session_scope(app) as session:
        run = session.get_one(PrintRun, run_id)
        if run.status is not RunStatus.BUILDING:
            return f"run {run_id}: {run.status.value}, nothing to join"
        try:
            files = build_parts.join(jobs.files_root(app), run)
        except Exception as exc:
            build.mark_failed(session, actor, run, exc)
            return f"run {run_id}: the join failed"
        if files is None:  # a part was lost: the lease runs out and the run is claimed again
            return f"run {run_id}: parts missing, left to the lease"
        build.mark_ready(session, actor, run, files)
    return f"run {run_id}: ready"


def build_in_parts_inline(app: Flask, run_id: int, actor: Principal) -> bool:
    """Every step of a queued build in this process, one after the other (tests, and the
    single-threaded measure of the benchmark's)."""
    with session_scope(app) as session:
        todo = build_parts.start(session, run_id, jobs.files_root(app), lease(app))
    if todo is None:
        return False
    for part in todo:
        build_part_now(app, run_id, part)
    join_now(app, run_id, actor)
    return True


# ------------------------------------------------------------- certificates and snapshot


def daily_sweep(day: str | None = None) -> str:
    """The daily expiry sweep (exactly-once per day by the database), then deliveries."""
    app = bound_app()
    with app.app_context():
        report = daily.run_sweep(app, date.fromisoformat(day) if day else None)
    jobqueue.enqueue(app, PREFIX + "deliver_notices", need_worker=False)
    return str(report)


def deliver_notices() -> str:
    """Send the notices that are due (each leased, so workers never send one twice at once)."""
    app = bound_app()
    with app.app_context():
        return str(daily.run_delivery(app))


def refresh_snapshot() -> str:
    """Look at the records and sign a new offline snapshot version if one is due."""
    from trace_service.signing.service import get_keystore
    from trace_service.verify.snapshot_store import refresh

    app = bound_app()
    with app.app_context(), session_scope(app, writes=False) as session:
        document = refresh(session, get_keystore(app))
    return f"snapshot v{document.get('version')}"


def system_actor() -> Principal:
    return system_principal("job-queue")

"""Where print runs get built: in the request (``OCOP_LABEL_BUILD=inline``); on the job
queue's workers when ``OCOP_REDIS_URL`` is set (``trace_service.jobqueue``: split into parts
that several workers draw at once, see ``build_parts``); else, or when no worker listens or
Redis cannot be reached, by a bounded pool of builder threads in each web process (the
default): ``OCOP_LABEL_BUILD_THREADS`` threads take runs from a queue, so any number of
orders never starts more than that many builds at once. A builder commits progress as it
goes so ``GET /print-runs/{id}`` shows it; a run waiting in the queue shows ``queued``."""

from __future__ import annotations

import logging
import os
import queue
import threading
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from trace_service import db_waits, jobqueue
from trace_service.db import get_session, session_scope, utcnow
from trace_service.labels import build
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.principal import Principal
from trace_service.signing.service import get_keystore, scratch_secret

log = logging.getLogger(__name__)


def label_base_url(app: Flask | None = None) -> str:
    """The scheme and host labels are printed with (checked when a run is ordered)."""
    config = (app or current_app).config
    return config["LABEL_BASE_URL"] or config["PUBLIC_BASE_URL"]


def files_root(app: Flask | None = None) -> Path:
    app = app or current_app
    configured = app.config["LABEL_FILES_DIR"]
    return Path(configured) if configured else Path(app.instance_path) / "print_runs"


def build_lease(app: Flask) -> timedelta:
    """How long a builder may stay silent before another may take its run over."""
    return timedelta(seconds=app.config["LABEL_BUILD_LEASE_SECONDS"])


def scratch_key(app: Flask, run: PrintRun) -> bytes | None:
    return scratch_secret(get_keystore(app)) if run.scratch else None


class BuilderPool:
    """A fixed number of builder threads, started as work first arrives, fed by a queue of
    run ids. A run already waiting is not queued twice; which builder draws a run is decided
    by the database lease (``build.claim``), as between processes."""

    def __init__(self, app: Flask, size: int) -> None:
        self.app, self.size, self.pid = app, size, os.getpid()
        self.queue: queue.SimpleQueue[tuple[int, Principal]] = queue.SimpleQueue()
        self.waiting: set[int] = set()
        self.threads: list[threading.Thread] = []
        self.busy = 0
        self.most_busy = 0  # the most builds this pool ever ran at once
        self._lock = threading.Lock()

    def submit(self, run_id: int, actor: Principal) -> None:
        with self._lock:
            if run_id in self.waiting:
                return
            self.waiting.add(run_id)
            self.queue.put((run_id, actor))
            if len(self.threads) < self.size:
                thread = threading.Thread(
                    target=self._work, name=f"label-builder-{len(self.threads) + 1}", daemon=True
                )  # daemon: a stopped server leaves a lease that runs out; resume continues
                self.threads.append(thread)
                thread.start()

    def _work(self) -> None:
        while True:
            run_id, actor = self.queue.get()
            with self._lock:
                self.waiting.discard(run_id)
                self.busy += 1
                self.most_busy = max(self.most_busy, self.busy)
            try:
                _build_in_background(self.app, run_id, actor)
            except Exception:  # never lose the thread: the next run is waiting
                log.exception("print run %s: the builder failed", run_id)
            finally:
                with self._lock:
                    self.busy -= 1


_POOLS_LOCK = threading.Lock()


def builder_pool(app: Flask) -> BuilderPool:
    """This process's pool (a forked worker gets its own: threads do not survive a fork)."""
    with _POOLS_LOCK:
        pool = app.extensions.get("ocop_label_builders")
        if pool is None or pool.pid != os.getpid():
            pool = BuilderPool(app, app.config["LABEL_BUILD_THREADS"])
            app.extensions["ocop_label_builders"] = pool
        return pool


def start_build(run_id: int, actor: Principal, app: Flask | None = None) -> None:
    """Build now (inline) or queue the run for this process's builders (after the order
    commits: the caller must call this once the run's rows are visible to other
    connections)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["LABEL_BUILD"] == "inline":
        with db_waits.unbounded():  # a long build, in its request: as long as it takes
            build_now(get_session(), run_id, actor, app)
        return
    if jobqueue.enabled(app):
        try:
            jobqueue.enqueue(
                app,
                "trace_service.queue.tasks.build_run",
                run_id,
                actor,
                description=f"print run {run_id}",
            )
            jobqueue.mark_queued_run(app, run_id)
            return
        except jobqueue.QueueUnavailable as exc:  # the order is saved: build it here
            log.warning(
                "print run %s: built in this process, the job queue is off: %s", run_id, exc
            )
    builder_pool(app).submit(run_id, actor)


def build_now(session: Session, run_id: int, actor: Principal, app: Flask) -> bool:
    """Claim and build in one session (inline builds and ``flask labels build``); a ready
    run whose files are missing is drawn again."""
    run = session.get(PrintRun, run_id)
    if (
        run is not None
        and run.status is RunStatus.READY
        and build.missing_files(run, files_root(app))
    ):
        build.reopen(session, run)
    if not build.claim(session, run_id, lease=build_lease(app)):
        return False
    run = session.get_one(PrintRun, run_id)
    try:
        files = build.draw_files(session, run, files_root(app), scratch_key(app, run), _noop)
    except Exception as exc:  # any failure leaves a resumable run, never a 500
        build.mark_failed(session, actor, run, exc)
        return True
    build.mark_ready(session, actor, run, files)
    return True


def _noop(_done: int) -> None:
    return None


def _build_in_background(app: Flask, run_id: int, actor: Principal) -> None:
    with app.app_context():
        try:
            _build_committing_as_it_goes(app, run_id, actor)
        except Exception:
            # Whatever failed, the run must not stay "building" until its lease runs out.
            log.exception("print run %s: the background build could not finish", run_id)
            with session_scope(app) as session:
                run = session.get_one(PrintRun, run_id)
                build.mark_failed(session, actor, run, RuntimeError("build interrupted"))


def _build_committing_as_it_goes(app: Flask, run_id: int, actor: Principal) -> None:
    with session_scope(app) as session:
        claimed = build.claim(session, run_id, lease=build_lease(app))
    if not claimed:
        return

    def progress(done: int) -> None:
        # Its own short transaction, so readers see the count and the lease stays fresh.
        with session_scope(app) as writer:
            writer.execute(
                update(PrintRun)
                .where(PrintRun.id == run_id)
                .values(labels_drawn=done, lease_until=utcnow() + build_lease(app))
            )

    outcome: dict[str, object] | BaseException
    try:
        with session_scope(app, writes=False) as reader:
            run = reader.get_one(PrintRun, run_id)
            outcome = build.draw_files(
                reader, run, files_root(app), scratch_key(app, run), progress
            )
    except Exception as exc:
        outcome = exc
    with session_scope(app) as session:
        run = session.get_one(PrintRun, run_id)
        if isinstance(outcome, BaseException):
            build.mark_failed(session, actor, run, outcome)
        else:
            build.mark_ready(session, actor, run, outcome)


def build_after_commit(run_id: int, actor: Principal) -> None:
    """Start building a run a request just ordered: inline when so configured, else once the
    request's unit of work has committed the run, so the builder's own connection sees its
    labels. Started by the commit, not by the response's close: a server whose closing of a
    response fails (werkzeug's, when the client resets the connection as it is drained) would
    leave the run queued with nobody to build it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session = get_session()
    if app.config["LABEL_BUILD"] == "inline":
        session.flush()
        start_build(run_id, actor, app)
        return

    def _committed(_session: Session) -> None:
        try:
            start_build(run_id, actor, app)
        except Exception:  # the order stands; "build again" recovers the run
            log.exception("print run %s: its build could not be started", run_id)

    event.listen(session, "after_commit", _committed, once=True)

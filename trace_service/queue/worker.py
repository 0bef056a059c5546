"""``flask jobs worker``: a process that runs the queue's jobs, and between jobs looks after
what no single job can:

- print runs whose builder went silent past ``OCOP_LABEL_BUILD_LEASE_SECONDS`` (its worker
  was killed, its machine lost) are claimed again and finished from the same labels, only
  their missing parts drawn; after ``MAX_TAKEOVERS`` the run is marked failed instead (the
  producer sees it and may build again), so a run that kills every worker stops doing so;
- with ``OCOP_SCHEDULER`` on, the daily expiry sweep once a day after ``OCOP_SCHEDULER_TIME``
  (whichever worker comes first: a key in Redis says it was queued), deliveries every
  ``OCOP_DELIVERY_RETRY_SECONDS``, and the offline snapshot every
  ``OCOP_OFFLINE_SNAPSHOT_CHECK_SECONDS``.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from redis import Redis
from rq import SimpleWorker, Worker
from rq.worker import BaseWorker
from sqlalchemy import select

from trace_service import jobqueue
from trace_service.clock import VIETNAM
from trace_service.db import session_scope, utcnow
from trace_service.labels import build
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.queue import tasks

log = logging.getLogger(__name__)
MAX_TAKEOVERS = 3
jobs_cli = AppGroup("jobs", help="The job queue (needs OCOP_REDIS_URL).")


def take_over_silent_runs(app: Flask, now: datetime | None = None) -> list[int]:
    """Queue again every run whose lease ran out (each once per lapse, whatever the number
    of workers looking); returns their ids."""
    now = now or utcnow()
    with session_scope(app, writes=False) as session:
        lapsed = session.execute(
            select(PrintRun.id, PrintRun.lease_until).where(
                PrintRun.status == RunStatus.BUILDING, PrintRun.lease_until < now
            )
        ).all()
    redis = jobqueue.connection(app)
    taken = []
    for run_id, lease_until in lapsed:  # (id, lease_until) rows
        lapse = int((lease_until or now).timestamp())  # never None: compared with now above
        if not redis.set(jobqueue.key(app, "lapse", run_id, lapse), 1, nx=True, ex=86_400):
            continue
        count = redis.incr(jobqueue.key(app, "takeovers", run_id))
        redis.expire(jobqueue.key(app, "takeovers", run_id), 7 * 86_400)
        actor = tasks.system_actor()
        if count > MAX_TAKEOVERS:
            log.error("print run %s: its builders stopped %s times; marked failed", run_id, count)
            with session_scope(app) as session:
                run = session.get_one(PrintRun, run_id)
                build.mark_failed(session, actor, run, RuntimeError(f"builders lost {count} times"))
            continue
        log.warning("print run %s: its builder went silent; taken over (%s)", run_id, count)
        jobqueue.enqueue(
            app,
            tasks.PREFIX + "build_run",
            run_id,
            actor,
            description=f"print run {run_id} (taken over)",
            need_worker=False,
        )
        taken.append(run_id)
    return taken


def requeue_lost_runs(app: Flask, now: datetime | None = None) -> list[int]:
    """Queue again every run still ``queued`` in the database a lease after it was ordered
    whose build job Redis no longer knows (its mark gone: Redis restarted without its
    data), each once (setting the mark again is the claim, whatever the number of workers
    looking); returns their ids. Without this such a run waited forever, and no one knew."""
    now = now or utcnow()
    since = now - timedelta(seconds=app.config["LABEL_BUILD_LEASE_SECONDS"])
    with session_scope(app, writes=False) as session:
        waiting = session.scalars(
            select(PrintRun.id).where(
                PrintRun.status == RunStatus.QUEUED, PrintRun.created_at < since
            )
        ).all()
    redis = jobqueue.connection(app)
    requeued = []
    for run_id in waiting:
        mark = jobqueue.queued_run_mark(app, run_id)
        if not redis.set(mark, 1, nx=True, ex=jobqueue.QUEUED_RUN_SECONDS):
            continue  # its job is on the queue (or another worker just queued it again)
        log.warning("print run %s: its queued build was lost from Redis; queued again", run_id)
        jobqueue.enqueue(
            app,
            tasks.PREFIX + "build_run",
            run_id,
            tasks.system_actor(),
            description=f"print run {run_id} (queued again)",
            need_worker=False,
        )
        requeued.append(run_id)
    return requeued


def _once(redis: Redis, name: str, seconds: int) -> bool:
    return bool(redis.set(name, 1, nx=True, ex=max(1, seconds)))


def queue_periodic(app: Flask, now: datetime | None = None) -> list[str]:
    """Queue the scheduled jobs that are due; returns what it queued."""
    if not app.config["SCHEDULER"]:
        return []
    now = now or utcnow()
    redis = jobqueue.connection(app)
    queued = []
    local = now.astimezone(VIETNAM)
    hours, minutes = (int(part) for part in app.config["SCHEDULER_TIME"].split(":"))
    if local.time() >= time(hours, minutes) and _once(
        redis, jobqueue.key(app, "daily", local.date().isoformat()), 3 * 86_400
    ):
        jobqueue.enqueue(app, tasks.PREFIX + "daily_sweep", local.date().isoformat())
        queued.append("daily_sweep")
    periodic = (
        ("deliver_notices", app.config["DELIVERY_RETRY_SECONDS"]),
        ("refresh_snapshot", app.config["OFFLINE_SNAPSHOT_CHECK_SECONDS"] or 60),
    )
    for name, every in periodic:
        if _once(redis, jobqueue.key(app, "every", name), every):
            jobqueue.enqueue(app, tasks.PREFIX + name, need_worker=False)
            queued.append(name)
    return queued


class Maintenance(BaseWorker):
    """A worker whose maintenance (between jobs, at most every ``maintenance_interval``
    seconds) also takes over silent runs and queues what is due."""

    app: Flask

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            self._register_again_if_forgotten()
            take_over_silent_runs(self.app)
            requeue_lost_runs(self.app)
            queue_periodic(self.app)
        except Exception:  # the worker must go on working: the next round tries again
            log.exception("job queue maintenance failed")

    def _register_again_if_forgotten(self) -> None:
        """RQ registers a worker once, when it starts: after Redis restarted without its
        data, the web processes saw no worker and built every order themselves until the
        workers were restarted. A worker whose key is gone registers again."""
        if not self.connection.exists(self.key):
            log.warning("worker %s: Redis forgot it (restarted?); registered again", self.name)
            self.register_birth()


class OcopWorker(Maintenance, Worker):
    """RQ's forking worker: each job in a work horse of its own."""


class InProcessWorker(Maintenance, SimpleWorker):
    """Jobs in the worker's own process (tests: what they run is measured and seen)."""


def make_worker(
    app: Flask, name: str | None = None, kind: type[Maintenance] = OcopWorker
) -> Maintenance:
    # Look for silent runs a few times per lease, and block on Redis no longer than that.
    interval = max(1, min(60, app.config["LABEL_BUILD_LEASE_SECONDS"] // 3))
    worker = kind(
        [jobqueue.get_queue(app)],
        name=name,
        connection=jobqueue.connection(app),
        maintenance_interval=interval,
        worker_ttl=interval + 15,  # RQ blocks on the queue for worker_ttl - 15 seconds
    )
    worker.app = app
    return worker


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (tests, scripts).")
@click.option("--name", default=None, help="The worker's name in Redis (default: RQ's).")
def worker_command(burst: bool, name: str | None) -> None:
    """Run jobs from the queue until stopped (SIGTERM finishes the job in hand)."""
    app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    if not jobqueue.enabled(app):
        raise click.ClickException("OCOP_REDIS_URL is not set: jobs run in the web process.")
    tasks.bind_app(app)
    worker = make_worker(app, name)
    click.echo(f"Worker {worker.name} on queue {jobqueue.queue_name(app)}")
    worker.work(burst=burst, with_scheduler=True, logging_level=app.config["LOG_LEVEL"])

"""The job queue, when one is configured: RQ over the Redis of ``OCOP_REDIS_URL``.

Why RQ (beside Dramatiq and Celery): it needs Redis only, which the service already uses for
its rate limits; each job runs in a forked work horse, so a job that crashes or leaks memory
takes down that horse and not the worker, and the horse's memory is returned after every job
(a print run's reportlab document is large); it retries with intervals, keeps failed jobs in a
registry (the dead letters the office sees) and is small enough to read, and maintained.

This module is what every layer may use: whether the queue is on, putting a job on it by the
job function's dotted name (so lower layers need not import the jobs, which live above them
in ``trace_service.queue``), and the names of the queue and keys. Without ``OCOP_REDIS_URL``
nothing here is used: the same job functions run in the web process, as before.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker
from rq.job import Job

log = logging.getLogger(__name__)

EXTENSION = "ocop_job_queue"
# A web request never waits long for Redis: past this the job runs in-process instead.
CONNECT_TIMEOUT_SECONDS = 1.0
# Retries of a job that raised (or whose work horse died): after 10 s, 1 min, 5 min; then it
# is a dead letter (GET /api/v1/jobs/failed), retried by hand.
RETRY = Retry(max=3, interval=[10, 60, 300])
FAILED_TTL_SECONDS = 30 * 86_400  # dead letters are kept a month
RESULT_TTL_SECONDS = 86_400


class QueueUnavailable(RuntimeError):
    """Redis could not be reached, or no worker listens: run the job in-process."""


def enabled(app: Flask) -> bool:
    return bool(app.config["REDIS_URL"])


def key(app: Flask, *parts: object) -> str:
    """A key of this installation's (``OCOP_REDIS_KEY_PREFIX``) in the queue's Redis."""
    return ":".join([app.config["REDIS_KEY_PREFIX"], "jobs", *(str(p) for p in parts)])


def queue_name(app: Flask) -> str:
    return f"{app.config['REDIS_KEY_PREFIX']}-jobs"


def connection(app: Flask) -> Redis:
    """This process's connection (a forked worker makes its own)."""
    held = app.extensions.get(EXTENSION)
    if held is None or held[0] != os.getpid():
        redis = Redis.from_url(
            app.config["REDIS_URL"],
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
        held = (os.getpid(), redis)
        app.extensions[EXTENSION] = held
    redis_connection: Redis = held[1]
    return redis_connection


QUEUED_RUN_SECONDS = 7 * 86_400  # a queued build's mark outlives any queue's backlog


def queued_run_mark(app: Flask, run_id: int) -> str:
    """The key that says a run's build job was put on the queue (``mark_queued_run``)."""
    return key(app, "queued-run", run_id)


def mark_queued_run(app: Flask, run_id: int) -> None:
    """Note that ``run_id``'s build is on the queue: if Redis loses its data (a restart
    without persistence), the workers find the run queued in the database with no mark,
    and queue it again (``queue.worker.requeue_lost_runs``)."""
    try:
        connection(app).set(queued_run_mark(app, run_id), 1, ex=QUEUED_RUN_SECONDS)
    except RedisError:  # the job is queued already; only the safety net is missing
        log.warning("print run %s: its queued mark could not be written", run_id)


def get_queue(app: Flask) -> Queue:
    return Queue(queue_name(app), connection=connection(app))


def enqueue(
    app: Flask,
    function: str,
    *args: Any,
    retry: Retry | None = RETRY,
    depends_on: list[Job] | None = None,
    job_id: str | None = None,
    description: str | None = None,
    need_worker: bool = True,
) -> Job:
    """Put ``function`` (a dotted name in ``trace_service.queue.tasks``) on the queue.

    Raises ``QueueUnavailable`` when Redis cannot be reached or, with ``need_worker``, when
    no worker listens on the queue: the caller then runs the job itself, so nothing waits
    for a worker that is not there."""
    queue = get_queue(app)
    try:
        if need_worker and not Worker.count(queue=queue):
            raise QueueUnavailable(f"no worker listens on {queue.name!r}")
        return queue.enqueue(
            function,
            args=args,
            retry=retry,
            depends_on=depends_on,
            job_id=job_id,
            description=description,
            failure_ttl=FAILED_TTL_SECONDS,
            result_ttl=RESULT_TTL_SECONDS,
            job_timeout=3600,  # a part of 10,000 stamps takes seconds: a hung job is stopped
        )
    except RedisError as exc:
        raise QueueUnavailable(f"Redis: {exc}") from exc

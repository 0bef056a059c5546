"""Dead letters: jobs that failed every try, as RQ keeps them (``FailedJobRegistry``), for the
office to read and send again. Without a queue there are none (builds that fail are shown
on their print run, with an incident number)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from trace_service import jobqueue
from trace_service.errors import NotFound, Unavailable

_JOB_ID = re.compile(r"^[0-9a-f]{32}$|^[0-9a-f-]{36}$")  # RQ's uuid4 ids
_PREFIX = "trace_service.queue.tasks."


@dataclass(frozen=True)
class DeadLetter:
    id: str
    job: str  # the job function's name, without its module
    description: str
    enqueued_at: datetime | None
    failed_at: datetime | None
    error: str  # the exception's last line: the traceback stays in the worker's log


def _down(exc: RedisError) -> Unavailable:
    return Unavailable(
        "Hàng đợi công việc (Redis) không truy cập được; hãy thử lại sau.",
        f"The job queue (Redis) cannot be reached; try again later ({type(exc).__name__}).",
    )


def _letter(job: Job) -> DeadLetter:
    result = job.latest_result()
    text = (result.exc_string if result is not None else "") or ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return DeadLetter(
        id=job.id,
        job=(job.func_name or "").removeprefix(_PREFIX),
        description=(job.description or "")[:300],
        enqueued_at=job.enqueued_at,
        failed_at=job.ended_at,
        error=(lines[-1] if lines else "")[:500],
    )


def registry(app: Flask) -> FailedJobRegistry:
    return FailedJobRegistry(queue=jobqueue.get_queue(app))


def dead_letters(app: Flask, offset: int = 0, limit: int = 100) -> tuple[int, list[DeadLetter]]:
    """How many there are, and ``limit`` of them from ``offset``, newest first."""
    if not jobqueue.enabled(app):
        return 0, []
    try:
        failed = registry(app)
        total = failed.count
        ids = failed.get_job_ids(offset, offset + limit - 1, desc=True)
        jobs = Job.fetch_many(ids, connection=jobqueue.connection(app))
        return total, [_letter(job) for job in jobs if job is not None]
    except RedisError as exc:
        raise _down(exc) from exc


def _not_found(job_id: str) -> NotFound:
    return NotFound(f"Không có công việc lỗi mã {job_id[:40]}.", f"No failed job {job_id[:40]!r}.")


def retry(app: Flask, job_id: str) -> DeadLetter:
    """Send a dead letter to the queue again, at once, with its retries anew."""
    if not jobqueue.enabled(app) or not _JOB_ID.fullmatch(job_id):
        raise _not_found(job_id)
    try:
        failed = registry(app)
        if job_id not in failed:
            raise _not_found(job_id)
        job = Job.fetch(job_id, connection=jobqueue.connection(app))
        letter = _letter(job)
        job.retries_left = jobqueue.RETRY.max
        job.save()
        failed.requeue(job)
        return letter
    except (NoSuchJobError, InvalidJobOperation):
        raise _not_found(job_id) from None
    except RedisError as exc:
        raise _down(exc) from exc

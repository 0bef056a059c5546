"""The office's view of the job queue's dead letters: jobs that failed every try."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import current_app
from marshmallow import Schema, fields, validate

from trace_service.api import API_PREFIX, ApiBlueprint, takes_no_body
from trace_service.audit.services import record_event
from trace_service.audit.tags import EventTag
from trace_service.db import get_session
from trace_service.principal import Role, current_principal, require_roles
from trace_service.queue.dead_letters import dead_letters, retry

blp = ApiBlueprint(
    "jobs", __name__, url_prefix=API_PREFIX, description="The job queue: failed jobs"
)


class QueueTag(EventTag):
    JOB_RETRIED = "queue:job:retried"


class DeadLetterSchema(Schema):
    id = fields.String()
    job = fields.String(metadata={"description": "build_part, join_run, daily_sweep, …"})
    description = fields.String()
    enqueued_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)
    error = fields.String(metadata={"description": "The last line of the error"})


class DeadLetterPageSchema(Schema):
    enabled = fields.Boolean(metadata={"description": "false: no queue (OCOP_REDIS_URL)"})
    total = fields.Integer()
    items = fields.List(fields.Nested(DeadLetterSchema))


class DeadLetterQuerySchema(Schema):
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


@blp.route("/jobs/failed")
@require_roles(Role.ADMIN)
@blp.arguments(DeadLetterQuerySchema, location="query")
@blp.response(200, DeadLetterPageSchema)
def list_failed_jobs(args: dict[str, Any]) -> dict[str, Any]:
    """Jobs that failed every try (newest first), kept a month; 503 while Redis is down."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    total, items = dead_letters(app, args["offset"], args["limit"])
    return {"enabled": bool(app.config["REDIS_URL"]), "total": total, "items": items}


@blp.route("/jobs/failed/<string:job_id>/retry", methods=["POST"])
@takes_no_body
@require_roles(Role.ADMIN)
@blp.response(202, DeadLetterSchema)
def retry_failed_job(job_id: str) -> dict[str, Any]:
    """Put a failed job on the queue again, with its retries anew (audited)."""
    letter = retry(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
    record_event(
        get_session(),
        current_principal(),
        QueueTag.JOB_RETRIED,
        "job",
        letter.id,
        {"job_id": letter.id, "job": letter.job, "description": letter.description},
    )
    return asdict(letter)

"""The office's page of dead letters: jobs that failed every try, each with a button to send
it again (the same as ``POST /api/v1/jobs/failed/{id}/retry``)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from trace_service.audit.services import record_event
from trace_service.db import get_session
from trace_service.portal.access import page_roles
from trace_service.principal import Role, current_principal
from trace_service.queue.dead_letters import dead_letters, retry
from trace_service.queue.routes import QueueTag

pages = Blueprint(
    "office_jobs", __name__, url_prefix="/van-phong/cong-viec-loi", template_folder="templates"
)
SHOWN = 100


@pages.get("/")
@page_roles(Role.ADMIN)
def failed_jobs() -> str:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    total, letters = dead_letters(app, 0, SHOWN)
    return render_template(
        "queue/failed_jobs.html",
        enabled=bool(app.config["REDIS_URL"]),
        total=total,
        letters=letters,
        sent=request.args.get("da_gui", "")[:40],
    )


@pages.post("/<string:job_id>/gui-lai")
@page_roles(Role.ADMIN)
def retry_job(job_id: str) -> Response:
    letter = retry(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
    record_event(
        get_session(),
        current_principal(),
        QueueTag.JOB_RETRIED,
        "job",
        letter.id,
        {"job_id": letter.id, "job": letter.job, "description": letter.description},
    )
    return redirect(url_for("office_jobs.failed_jobs", da_gui=letter.id), code=303)

"""The expiry board's written notices in one PDF, with progress when there are many.

Up to ``INLINE_LETTERS`` letters are drawn in the request (``/thu-thong-bao.pdf``). More are
drawn by a thread, one letter at a time, its progress written beside the growing file in a
private folder so any web process can answer the officer's page (``/thu-thong-bao/<job>``),
which shows a progress bar and then the download. With ``OCOP_LABEL_BUILD=inline`` (tests,
scripts) the same work runs within the request. Each letter is the API's
(``certificates.services.expiry_letter``); a job belongs to the officer who started it."""

from __future__ import annotations

import io
import json
import re
import secrets
import threading
import time
from pathlib import Path

from flask import Flask, Response, current_app, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from trace_service.certificates.delivery import DeliverySettings
from trace_service.certificates.notices import Office
from trace_service.certificates.services import expiry_letter
from trace_service.db import session_scope
from trace_service.errors import NotFound, Unavailable
from trace_service.portal.access import page_roles
from trace_service.portal.office.blueprint import office
from trace_service.principal import Principal, Role, current_principal

INLINE_LETTERS = 20  # more than this and the PDF is drawn in the background, with progress
KEPT_FOR = 24 * 3600  # seconds a finished PDF is kept for its download
JOB = re.compile(r"^[A-Za-z0-9_-]{22}$")


# Letters being drawn at once by this process: each holds its PDF in memory until written.
MAX_DRAWING = 2
_drawing = threading.BoundedSemaphore(MAX_DRAWING)


def _folder() -> Path:
    # Under instance/ (this service's own, 0700), not a fixed name in the shared /tmp that
    # another local user could make first.
    folder = Path(current_app.instance_path) / "portal" / "letters"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = time.time()
    for old in folder.iterdir():
        if now - old.stat().st_mtime > KEPT_FOR:
            old.unlink(missing_ok=True)
    return folder


def _paths(job: str, actor: Principal) -> tuple[Path, Path]:
    if not JOB.match(job):
        raise _no_job()
    base = _folder() / f"{actor.user_id}-{job}"
    return base.with_suffix(".json"), base.with_suffix(".pdf")


def _no_job() -> NotFound:
    return NotFound(
        "Không tìm thấy tệp thư này (quá một ngày thì tệp bị xóa).",
        "No such letters file (files go after a day).",
    )


def merge_letters(
    app: Flask, actor: Principal, notice_ids: list[int], office_: Office, progress: Path, out: Path
) -> None:
    """Draw each letter, writing ``{"done": n, "total": N}`` as it goes, then the PDF."""
    # pypdf (~9 MiB) is imported on use, not with the app: a queue worker never needs it, and its
    # memory counts (issue 15).
    from pypdf import PdfWriter

    merged = PdfWriter()
    total = len(notice_ids)
    try:
        with app.app_context(), session_scope(app, writes=False) as session:
            for done, notice_id in enumerate(notice_ids, start=1):
                letter = expiry_letter(session, actor, notice_id, office_)
                merged.append(io.BytesIO(letter.pdf))
                if done % 5 == 0 or done == total:
                    progress.write_text(json.dumps({"done": done, "total": total}))
        partial = out.with_suffix(".part")
        with partial.open("wb") as handle:
            merged.write(handle)
        partial.replace(out)
    except Exception:  # the page says so; the log has the cause
        progress.write_text(json.dumps({"done": 0, "total": total, "failed": True}))
        app.logger.exception("letters PDF failed")
    finally:
        _drawing.release()


def start(notice_ids: list[int]) -> str:
    """Begin drawing the letters; the job's id for its progress page."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    actor = current_principal()
    if not _drawing.acquire(blocking=False):
        raise Unavailable(
            "Đang tạo tệp thư khác; hãy thử lại sau ít phút.",
            "Other letters are being drawn; try again in a few minutes.",
        )
    try:
        job = secrets.token_urlsafe(16)
        progress, out = _paths(job, actor)
        progress.write_text(json.dumps({"done": 0, "total": len(notice_ids)}))
        settings = DeliverySettings.from_config(app.config)
        work = (app, actor, notice_ids, settings.office, progress, out)
    except BaseException:
        _drawing.release()
        raise
    if app.config["LABEL_BUILD"] == "inline":
        merge_letters(*work)  # releases its turn when done
    else:
        threading.Thread(target=merge_letters, args=work, daemon=True).start()
    return job


def start_response(notice_ids: list[int]) -> BaseResponse:
    return redirect(url_for("office.letters_job", job=start(notice_ids)), code=303)


@office.route("/thu-thong-bao/<string(maxlength=40):job>")
@page_roles(Role.ADMIN)
def letters_job(job: str) -> str:
    progress, out = _paths(job, current_principal())
    if not progress.is_file():
        raise _no_job()
    state = json.loads(progress.read_text())
    return render_template(
        "portal/office/letters.html",
        job=job,
        done=out.is_file(),
        failed=state.get("failed", False),
        count=state["done"],
        total=state["total"],
    )


@office.route("/thu-thong-bao/<string(maxlength=40):job>.pdf")
@page_roles(Role.ADMIN)
def letters_file(job: str) -> Response:
    _, out = _paths(job, current_principal())
    if not out.is_file():
        raise _no_job()
    return Response(
        out.read_bytes(),
        mimetype="application/pdf",
        headers={"Content-Disposition": 'inline; filename="thu-thong-bao-het-han.pdf"'},
    )

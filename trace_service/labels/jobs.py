"""Where print runs get built: in the request (``OCOP_LABEL_BUILD=inline``) or in a
background thread of the web process (the default), which commits progress as it goes so
``GET /print-runs/{id}`` shows it."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from trace_service.auth.principal import Principal
from trace_service.db import get_session, session_scope, utcnow
from trace_service.labels import build
from trace_service.labels.models import PrintRun
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


def scratch_key(app: Flask, run: PrintRun) -> bytes | None:
    return scratch_secret(get_keystore(app)) if run.scratch else None


def start_build(run_id: int, actor: Principal, app: Flask | None = None) -> None:
    """Build now (inline) or hand the run to a background thread (after the order commits:
    the caller must call this once the run's rows are visible to other connections)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["LABEL_BUILD"] == "inline":
        build_now(get_session(), run_id, actor, app)
        return
    thread = threading.Thread(
        target=_build_in_background, args=(app, run_id, actor), name=f"print-run-{run_id}"
    )
    thread.daemon = True  # a stopped server leaves a lease that runs out; resume continues
    thread.start()


def build_now(session: Session, run_id: int, actor: Principal, app: Flask) -> bool:
    """Claim and build in one session (inline builds and ``flask labels build``)."""
    if not build.claim(session, run_id):
        return False
    run = session.get_one(PrintRun, run_id)
    try:
        files = build.draw_sheet(session, run, files_root(app), scratch_key(app, run), _noop)
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
        claimed = build.claim(session, run_id)
    if not claimed:
        return

    def progress(done: int) -> None:
        # Its own short transaction, so readers see the count and the lease stays fresh.
        with session_scope(app) as writer:
            writer.execute(
                update(PrintRun)
                .where(PrintRun.id == run_id)
                .values(labels_drawn=done, lease_until=utcnow() + build.LEASE)
            )

    outcome: dict[str, object] | BaseException
    try:
        with session_scope(app, writes=False) as reader:
            run = reader.get_one(PrintRun, run_id)
            outcome = build.draw_sheet(
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


def zpl_file(session: Session, run: PrintRun, dpi: int, app: Flask | None = None) -> Path:
    """The run as ZPL for a thermal printer at ``dpi``, drawn on first request and kept
    beside the sheet (the labels never change, so neither does the file)."""
    from trace_service.labels.render.zpl import render_zpl

    app = app or current_app
    folder = build.run_dir(files_root(app), run.id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"labels-{dpi}dpi.zpl"
    if path.is_file():
        return path
    partial = folder / f".{path.name}.{threading.get_ident()}.part"
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            labels = build.label_art(session, run, scratch_key(app, run))
            render_zpl(build.stamp_facts(run), labels, out, dpi=dpi)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path

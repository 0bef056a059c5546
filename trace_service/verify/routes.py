"""The offline snapshot, public: the whole signed document, or the delta from a version a
device holds. Anyone may fetch them (they hold what the public label page shows), and a
device trusts them only once their signature checks against the trust list."""

from __future__ import annotations

from typing import Any

import click
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.orm import Session

from trace_service.db import get_session, read_on_replica, session_scope
from trace_service.errors import NotFound, Unavailable
from trace_service.signing.service import get_keystore
from trace_service.verify import snapshot_store

blp = Blueprint("offline", __name__, url_prefix="/offline", cli_group="offline")

# Devices revalidate with the ETag (a 304 costs a few bytes on a slow network).
_CACHE = "public, max-age=60, must-revalidate"


def _current(session: Session) -> dict[str, Any]:
    primary = get_session()  # a trust list's renewal is audited, a new version read, there
    return snapshot_store.current_snapshot(
        session, get_keystore(), None if session is primary else primary
    )


def _snapshot() -> dict[str, Any]:
    try:
        # On the read replica if there is one: a public read, as stale as the replica's lag.
        return read_on_replica(_current)
    except snapshot_store.NoSnapshot:
        raise Unavailable(
            "Chưa có dữ liệu ngoại tuyến: quản trị hệ thống cần chạy 'flask keys init'.",
            "No offline data yet: run 'flask keys init'.",
        ) from None


def _cached(document: dict[str, Any], etag: str) -> Response:
    response = jsonify(document)
    response.headers["Cache-Control"] = _CACHE
    response.set_etag(etag)
    response.make_conditional(request)
    return response


@blp.get("/snapshot.json")
def snapshot_document() -> Response:
    """The latest signed snapshot (``docs/label-format.md``, "The snapshot")."""
    document = _snapshot()
    return _cached(document, f"snapshot-v{document['version']}")


@blp.get("/snapshot-delta/<int:since>.json")
def snapshot_delta(since: int) -> Response:
    """The change from version ``since`` to the latest: 204 when ``since`` is the latest,
    404 when that version is no longer kept (fetch the whole snapshot then)."""
    latest = _snapshot()
    if since == latest["version"]:
        response = Response(status=204)
        response.headers["Cache-Control"] = _CACHE
        return response
    delta = snapshot_store.delta_since(since)
    if delta is None:
        raise NotFound(
            "Không có bản thay đổi từ phiên bản này; hãy tải toàn bộ dữ liệu.",
            "No delta from this version; fetch the whole snapshot.",
        )
    return _cached(delta, f"delta-{since}-{delta['version']}")


@blp.cli.command("snapshot")
def build_snapshot_command() -> None:
    """Look at the records now and sign a new offline snapshot if anything changed."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with session_scope(app, writes=False) as session:
        document = snapshot_store.refresh(session, get_keystore(app))
    click.echo(
        f"offline snapshot v{document['version']} ({len(document['certificates'])} "
        f"certificates), in {snapshot_store.snapshot_dir(app)}"
    )

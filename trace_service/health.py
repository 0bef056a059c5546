"""Liveness and readiness probes for load balancers and process supervisors."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from trace_service.db import get_session
from trace_service.errors import database_fault

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> Response:
    """The process is up and answering."""
    return jsonify(status="ok")


@health.get("/readyz")
def readyz() -> tuple[Response, int, dict[str, str]]:
    """The database answers a query; 503 otherwise, saying why and when to look again. A
    balancer takes the instance out of rotation and puts it back once the database returns
    (the connection pool reconnects by itself)."""
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        fault = database_fault(exc)
        if fault is None:
            return jsonify(status="unavailable", database=type(exc).__name__), 503, {}
        body = jsonify(status="unavailable", database=fault.kind, message_en=fault.message_en)
        return body, 503, {"Retry-After": str(fault.retry_after)}
    return jsonify(status="ok", database="ok"), 200, {}

"""Liveness and readiness probes for load balancers and process supervisors."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from trace_service.db import get_session

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> Response:
    """The process is up and answering."""
    return jsonify(status="ok")


@health.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database answers a query; 503 otherwise."""
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return jsonify(status="unavailable", database=type(exc).__name__), 503
    return jsonify(status="ok", database="ok"), 200

"""Swagger UI assets served by the app itself, so the API documentation needs no internet.

The page is flask-smorest's, overridden by ``templates/swagger_ui.html`` so that it starts
Swagger UI from ``web/static/docs/swagger-start.js`` instead of an inline script: no response's
Content-Security-Policy allows inline scripts.
"""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from trace_service.api import API_PREFIX

docs_assets = Blueprint("docs_assets", __name__, url_prefix=f"{API_PREFIX}/docs/assets")


@docs_assets.get("/<path:filename>")
def asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_path, filename, max_age=86400)

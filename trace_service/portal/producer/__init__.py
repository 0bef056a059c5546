"""Pages of a producer (chủ thể OCOP), under ``/chu-the/``: their products and certificates,
ordering and printing stamps, lots and events, raw-material areas, scans."""

from __future__ import annotations

from flask import Blueprint, render_template

from trace_service.portal.access import page_roles
from trace_service.principal import Role

producer = Blueprint("producer", __name__, url_prefix="/chu-the", template_folder="../templates")


@producer.route("/")
@page_roles(Role.PRODUCER)
def home() -> str:
    return render_template("portal/producer/home.html")

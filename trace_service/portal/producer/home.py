"""The producer's home: products and their certificates, reminders, latest print runs."""

from __future__ import annotations

from flask import current_app, render_template

from trace_service.clock import today_vn
from trace_service.db import get_session
from trace_service.portal.access import page_roles
from trace_service.portal.producer.blueprint import producer
from trace_service.portal.producer.overview import overview
from trace_service.principal import Role, current_principal


@producer.route("/")
@page_roles(Role.PRODUCER)
def home() -> str:
    seen = overview(
        get_session(), current_principal(), today_vn(), current_app.config["EXPIRY_WINDOW_DAYS"]
    )
    return render_template("portal/producer/home.html", seen=seen)

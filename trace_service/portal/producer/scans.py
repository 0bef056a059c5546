"""Scans of the producer's stamps by week, and the stamps flagged as possibly copied (their
own only, through the same scoped queries as the API's)."""

from __future__ import annotations

from flask import render_template

from trace_service.clock import today_vn
from trace_service.db import get_session
from trace_service.labels import serials
from trace_service.labels.scan_figures import weekly_scans
from trace_service.labels.scans import flagged_query
from trace_service.portal.access import page_roles
from trace_service.portal.producer.blueprint import producer
from trace_service.principal import Role, current_principal

WEEKS = 12
FLAGGED_SHOWN = 200


@producer.route("/quet-tem")
@page_roles(Role.PRODUCER)
def scans() -> str:
    session, actor = get_session(), current_principal()
    weeks = weekly_scans(session, actor, today_vn(), WEEKS)
    labels = session.scalars(flagged_query(actor, {}).limit(FLAGGED_SHOWN))
    flagged = [(label, serials.grouped(label.serial)) for label in labels]
    most = max((count for _, count in weeks), default=0)
    return render_template("portal/producer/scans.html", weeks=weeks, most=most, flagged=flagged)

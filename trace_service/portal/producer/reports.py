"""What shoppers reported about the producer's own stamps and products, read only: listed
through ``reports.services.report_query`` with the producer as the actor, the same scoped
query as the API's, so another producer's reports are never among them. The shopper's
contact and photo are for the province office (as in the API) and are not shown here."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from trace_service.api import paginate
from trace_service.db import get_session
from trace_service.portal.access import page_roles
from trace_service.portal.forms import query_id
from trace_service.portal.producer.blueprint import producer
from trace_service.principal import Role, current_principal
from trace_service.registry.services import product_query
from trace_service.reports.models import ReportStatus
from trace_service.reports.pages import PROBLEMS
from trace_service.reports.services import report_query
from trace_service.web.i18n import t

PAGE_SIZE = 20
MAX_PAGE = 100_000


@producer.route("/bao-cao/")
@page_roles(Role.PRODUCER)
def reports() -> str:
    session, actor = get_session(), current_principal()
    args: dict[str, Any] = {}
    status = request.args.get("tinh-trang", "")
    if status in {s.value for s in ReportStatus}:
        args["status"] = ReportStatus(status)
    page = {"page": min(query_id(request.args.get("trang")) or 1, MAX_PAGE), "page_size": PAGE_SIZE}
    found = paginate(session, report_query(actor, args), page)
    products = {p.id: p for p in session.scalars(product_query(actor, {}))}
    return render_template(
        "portal/producer/reports.html",
        found=found,
        status=args.get("status"),
        problems={problem.value: t(vi, en) for problem, vi, en in PROBLEMS},
        products=products,
    )

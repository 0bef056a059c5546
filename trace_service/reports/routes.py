"""Consumer reports API: the office lists, reads and closes reports; a producer reads the
reports about its own products (without the shopper's contact or photo)."""

from __future__ import annotations

from typing import Any

from flask import Response

from trace_service.api import API_PREFIX, ApiBlueprint, page_schema, paginate
from trace_service.db import get_session
from trace_service.principal import ALL_ROLES, Role, current_principal, require_roles
from trace_service.reports import services
from trace_service.reports.models import ConsumerReport
from trace_service.reports.schemas import CloseReportSchema, ReportQuerySchema, ReportSchema

blp = ApiBlueprint(
    "reports",
    __name__,
    url_prefix=API_PREFIX,
    description="Consumer reports about stamps and products, for the province OCOP office",
)
OFFICE = (Role.ADMIN, Role.INSPECTOR)


@blp.route("/reports")
@require_roles(*ALL_ROLES)
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, page_schema(ReportSchema))
def list_reports(args: dict[str, Any]) -> dict[str, Any]:
    """Consumer reports, newest first (a producer sees those about its own products)."""
    return paginate(get_session(), services.report_query(current_principal(), args), args)


@blp.route("/reports/<id:report_id>")
@require_roles(*ALL_ROLES)
@blp.response(200, ReportSchema)
def get_report(report_id: int) -> ConsumerReport:
    """One consumer report."""
    return services.get_report(get_session(), current_principal(), report_id)


@blp.route("/reports/<id:report_id>/photo")
@require_roles(*OFFICE)
@blp.response(200, content_type="image/jpeg")
def report_photo(report_id: int) -> Response:
    """The photo the shopper sent with the report, as the service drew it again (JPEG)."""
    photo = services.report_photo(get_session(), current_principal(), report_id)
    return Response(
        photo.data,
        mimetype=photo.content_type,
        headers={"Content-Disposition": f'inline; filename="{photo.filename}"'},
    )


@blp.route("/reports/<id:report_id>/close", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(CloseReportSchema)
@blp.response(200, ReportSchema)
def close_report(data: dict[str, Any], report_id: int) -> ConsumerReport:
    """Close a report with the office's note (what was found or done); audited, final."""
    return services.close_report(get_session(), current_principal(), report_id, data["note"])

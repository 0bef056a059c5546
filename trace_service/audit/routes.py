"""Reading the audit log (it is written only by services)."""

from __future__ import annotations

from typing import Any

from trace_service.api import API_PREFIX, ApiBlueprint, page_schema, paginate
from trace_service.audit.schemas import AuditEventSchema, AuditQuerySchema, ChainReportSchema
from trace_service.audit.services import ChainReport, event_query, verify_chain
from trace_service.db import get_session
from trace_service.principal import Role, require_roles

blp = ApiBlueprint("audit", __name__, url_prefix=API_PREFIX, description="Audit log")


@blp.route("/audit-events")
@require_roles(Role.ADMIN, Role.INSPECTOR)
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, page_schema(AuditEventSchema))
def list_events(args: dict[str, Any]) -> dict[str, Any]:
    """Audit events, newest first."""
    return paginate(get_session(), event_query(args), args)


@blp.route("/audit-events/verify")
@require_roles(Role.ADMIN, Role.INSPECTOR)
@blp.response(200, ChainReportSchema)
def verify() -> ChainReport:
    """Recompute the hash chain and report the first broken event, if any."""
    return verify_chain(get_session())

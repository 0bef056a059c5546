"""Reading the audit log (it is written only by services)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from trace_service.api import ApiBlueprint, PageArgs, page_schema, paginate
from trace_service.audit.models import AuditEvent
from trace_service.audit.services import ChainReport, verify_chain
from trace_service.auth.access import require_roles
from trace_service.auth.principal import Role
from trace_service.db import get_session
from trace_service.fields import Text

blp = ApiBlueprint("audit", __name__, url_prefix="/api/v1", description="Audit log")


class AuditEventSchema(Schema):
    id = fields.Integer()
    occurred_at = fields.DateTime()
    actor_user_id = fields.Integer(allow_none=True)
    actor = fields.String()
    tag = fields.String()
    object_type = fields.String()
    object_id = fields.String(allow_none=True)
    details = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()


class AuditQuerySchema(PageArgs):
    tag = Text(validate=validate.Length(max=64))
    object_type = Text(validate=validate.Length(max=32))
    object_id = Text(validate=validate.Length(max=64))
    actor = Text(validate=validate.Length(max=80))


class ChainReportSchema(Schema):
    events = fields.Integer()
    intact = fields.Boolean()
    first_broken_id = fields.Integer(allow_none=True)


@blp.route("/audit-events")
@require_roles(Role.ADMIN, Role.INSPECTOR)
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, page_schema(AuditEventSchema))
def list_events(args: dict[str, Any]) -> dict[str, Any]:
    """Audit events, newest first."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    for key in ("tag", "object_type", "object_id", "actor"):
        if key in args:
            stmt = stmt.where(getattr(AuditEvent, key) == args[key])
    return paginate(get_session(), stmt, args)


@blp.route("/audit-events/verify")
@require_roles(Role.ADMIN, Role.INSPECTOR)
@blp.response(200, ChainReportSchema)
def verify() -> ChainReport:
    """Recompute the hash chain and report the first broken event, if any."""
    return verify_chain(get_session())

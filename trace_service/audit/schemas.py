"""Shapes of the audit log in the API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from trace_service.api import PageArgs
from trace_service.fields import Text


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

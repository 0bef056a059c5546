"""Shapes of accounts and tokens in the API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, pre_dump, validate

from trace_service.api import PageArgs
from trace_service.auth.services import IssuedToken
from trace_service.fields import Id, StrictBoolean, Text
from trace_service.principal import Role

_USERNAME = validate.Regexp(
    r"^[a-z0-9][a-z0-9._-]{2,63}$",
    error="3–64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.",
)


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    username = fields.String(required=True, validate=_USERNAME)
    display_name = Text(validate=validate.Length(min=1, max=200))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    role = fields.Enum(Role, by_value=True, required=True)
    producer_id = Id(allow_none=True)
    is_active = StrictBoolean()
    password = fields.String(load_only=True, validate=validate.Length(max=200))
    created_at = fields.DateTime(dump_only=True)


class UserUpdateSchema(UserSchema):
    class Meta:
        exclude = ("username",)

    role = fields.Enum(Role, by_value=True)


class UserQuerySchema(PageArgs):
    role = fields.Enum(Role, by_value=True)
    producer_id = Id(strict=False)


class TokenCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))


class TokenSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    prefix = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    expires_at = fields.DateTime(dump_only=True, allow_none=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)
    parent_id = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The token this one was made with; revoked with it."},
    )


class IssuedTokenSchema(TokenSchema):
    token = fields.String(
        dump_only=True, metadata={"description": "The secret. Shown this once; store it now."}
    )

    @pre_dump
    def _with_secret(self, issued: IssuedToken, **_kwargs: Any) -> dict[str, Any]:
        record = issued.record
        return {
            **{name: getattr(record, name) for name in TokenSchema().fields},
            "token": issued.token,
        }

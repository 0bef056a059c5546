"""Inspectors' devices API: sign a device in (HTTP Basic, the API's throttled sign-in), list
devices (the office: all), revoke one."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, fields, validate

from trace_service.api import (
    API_PREFIX,
    ApiBlueprint,
    PageArgs,
    page_schema,
    paginate,
    takes_no_body,
)
from trace_service.db import get_session, utcnow
from trace_service.errors import NotAuthenticated
from trace_service.fields import Text
from trace_service.principal import Role, current_principal, require_roles
from trace_service.ratelimit import client_address
from trace_service.verify.devices import device_query, register_device, revoke_device
from trace_service.verify.models import InspectorDevice

blp = ApiBlueprint(
    "inspector_devices",
    __name__,
    url_prefix=API_PREFIX,
    description="Inspectors' devices: each its own token, for checking stamps and inspections",
)


class DeviceSchema(Schema):
    id = fields.Integer(dump_only=True)
    user_id = fields.Integer(dump_only=True)
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    created_at = fields.AwareDateTime(dump_only=True)
    revoked_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class RegisteredDeviceSchema(DeviceSchema):
    token = fields.String(
        dump_only=True,
        metadata={
            "description": "The device's bearer token: shown this once; it may only "
            "verify stamps and record or list inspections"
        },
    )


@blp.route("/inspector-devices", methods=["POST"])
@blp.arguments(DeviceSchema)
@blp.response(201, RegisteredDeviceSchema)
@blp.doc(security=[{"passwordAuth": []}])
def sign_in_device(data: dict[str, Any]) -> dict[str, Any]:
    """Sign an inspector's device in.

    Authenticate with the inspector's username and password (HTTP Basic; wrong passwords are
    throttled as for /auth/tokens). The answer holds the device's own token, once."""
    auth = request.authorization
    if auth is None or auth.type != "basic":
        raise NotAuthenticated(
            "Đăng nhập bằng tên và mật khẩu (HTTP Basic) để đăng nhập thiết bị.",
            "Authenticate with username and password (HTTP Basic) to sign a device in.",
        )
    device, token = register_device(
        (auth.username or "", auth.password or ""), client_address(), data["name"]
    )
    return {**{name: getattr(device, name) for name in DeviceSchema().fields}, "token": token}


@blp.route("/inspector-devices")
@require_roles(Role.INSPECTOR, Role.ADMIN)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(DeviceSchema))
def list_devices(args: dict[str, Any]) -> dict[str, Any]:
    """Inspectors' devices, newest first (an inspector sees their own, the office all)."""
    return paginate(get_session(), device_query(current_principal()), args)


@blp.route("/inspector-devices/<id:device_id>/revocation", methods=["POST"])
@takes_no_body
@require_roles(Role.INSPECTOR, Role.ADMIN)
@blp.response(200, DeviceSchema)
def revoke(device_id: int) -> InspectorDevice:
    """Revoke a device (a lost phone): its token stops working at once."""
    return revoke_device(get_session(), current_principal(), device_id, utcnow())

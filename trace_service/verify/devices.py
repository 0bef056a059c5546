"""Inspectors' devices: signed in once with the inspector's password (the API's throttled
sign-in), each gets its own bearer token that may only check stamps and record or list
inspections; the office lists every device and revokes any (its token with it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, g, request
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.auth import signin
from trace_service.auth.services import principal_of, revoke_token
from trace_service.db import get_session
from trace_service.errors import Forbidden, NotFound
from trace_service.principal import ANONYMOUS, Principal, Role
from trace_service.verify.models import InspectorDevice
from trace_service.verify.tags import VerifyTag

# All a device's token may do (endpoints): check stamps, record and list inspections, list
# its user's devices. Not /auth/tokens: a child token made from it would escape the limit.
DEVICE_ENDPOINTS = frozenset(
    {
        "labels.verify_label",
        "inspections.record",
        "inspections.list_inspections",
        "inspections.get_one",
        "inspections.lab_result",
        "inspections.add_inspection_photo",
        "inspections.photo",
        "inspector_devices.list_devices",
    }
)


def register_device(
    credentials: tuple[str, str], client: str, name: str
) -> tuple[InspectorDevice, str]:
    """(the device, its token shown once). Only an inspector's account may sign a device in;
    anything else is refused and the token made for it rolled back with the request."""
    issued = signin.issue_requested_token(
        ANONYMOUS, credentials, None, client, name, current_app.config["TOKEN_TTL_DAYS"]
    )
    user = issued.record.user
    if user.role is not Role.INSPECTOR:
        raise Forbidden(
            "Chỉ tài khoản kiểm tra viên mới đăng nhập được thiết bị kiểm tra.",
            "Only an inspector's account may sign in an inspection device.",
        )
    session = get_session()
    device = InspectorDevice(user_id=user.id, token_id=issued.record.id, name=name)
    session.add(device)
    session.flush()
    record_event(
        session, principal_of(user), VerifyTag.DEVICE_REGISTERED, "inspector_device", device.id
    )
    return device, issued.token


def device_query(actor: Principal) -> Select[Any]:
    query = select(InspectorDevice).order_by(InspectorDevice.id.desc())
    if not actor.is_admin:
        query = query.where(InspectorDevice.user_id == actor.user_id)
    return query


def revoke_device(
    session: Session, actor: Principal, device_id: int, now: datetime
) -> InspectorDevice:
    device = session.get(InspectorDevice, device_id)
    if device is None or (device.user_id != actor.user_id and not actor.is_admin):
        raise NotFound("Không tìm thấy thiết bị.", "No device has this id.")
    if device.revoked_at is None:
        revoke_token(session, actor, device.token_id)
        device.revoked_at = now
        record_event(session, actor, VerifyTag.DEVICE_REVOKED, "inspector_device", device.id)
    return device


def _is_device_token(token_id: int) -> bool:
    # One indexed lookup, and only for what a device may not do (checking a stamp, the hot
    # path, is allowed before it). Not cached: ids of rolled-back tokens can come back.
    found = select(InspectorDevice.id).where(InspectorDevice.token_id == token_id)
    return get_session().scalar(found) is not None


def _limit_device_tokens() -> None:
    token_id = g.get("token_id")
    if token_id is None or request.endpoint in DEVICE_ENDPOINTS:
        return
    if _is_device_token(token_id):
        raise Forbidden(
            "Mã truy cập của thiết bị chỉ dùng để kiểm tra tem và ghi biên bản kiểm tra.",
            "A device's token may only check stamps and record inspections.",
        )


def init_devices(app: Flask) -> None:
    """After the API's principal is read (``auth.access``)."""
    app.before_request(_limit_device_tokens)

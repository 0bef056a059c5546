"""Pages of the province OCOP office, under ``/van-phong/``: the expiry board (what expires
in 30, 60 or 90 days, by district; who was notified and when; the written notices in one
PDF). Everything is read through the certificates and registry services the API uses."""

from __future__ import annotations

from trace_service.portal.office import (  # noqa: F401 - registers pages
    certify,
    consumer,
    devices,
    expiry,
    inspections,
    letters,
    plan,
    registry,
    transfer,
)
from trace_service.portal.office.blueprint import office

__all__ = ["office"]

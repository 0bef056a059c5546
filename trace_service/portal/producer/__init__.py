"""Pages of a producer (chủ thể OCOP), under ``/chu-the/``: their products and certificates,
ordering and printing stamps, lots and events.

Every page reads and writes through the services the API uses (registry, certificates,
trace, labels), with the signed-in producer as the actor, so scoping is theirs: another
producer's product, lot or print run answers 404 as if it did not exist.
"""

from __future__ import annotations

from trace_service.portal.producer import (  # noqa: F401 - pages
    events,
    home,
    lots,
    photos,
    printing,
    reports,
    scans,
    stamps,
    voids,
)
from trace_service.portal.producer.blueprint import producer

__all__ = ["producer"]

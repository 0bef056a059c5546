"""Names of audited events, ``<area>:<object>:<verb>`` like warehouse's event tags."""

from enum import StrEnum


class Tag(StrEnum):
    USER_CREATED = "auth:user:created"
    USER_UPDATED = "auth:user:updated"
    TOKEN_CREATED = "auth:token:created"
    TOKEN_REVOKED = "auth:token:revoked"
    UNIT_CREATED = "registry:admin_unit:created"
    UNIT_UPDATED = "registry:admin_unit:updated"
    PRODUCER_CREATED = "registry:producer:created"
    PRODUCER_UPDATED = "registry:producer:updated"
    PRODUCER_DELETED = "registry:producer:deleted"
    PRODUCT_CREATED = "registry:product:created"
    PRODUCT_UPDATED = "registry:product:updated"
    PRODUCT_DELETED = "registry:product:deleted"
    AREA_CREATED = "registry:area:created"
    AREA_UPDATED = "registry:area:updated"
    AREA_DELETED = "registry:area:deleted"
    DEMO_LOADED = "demo:data:loaded"

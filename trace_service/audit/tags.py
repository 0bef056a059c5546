"""Names of audited events, ``<area>:<object>:<verb>`` like warehouse's event tags."""

from enum import StrEnum


class EventTag(StrEnum):
    """The base of every tag enum (``Tag`` here, ``LabelTag``, ``SigningTag``…): what
    ``record_event`` takes, so a tag is always one of these and never a bare string."""


class Tag(EventTag):
    USER_CREATED = "auth:user:created"
    USER_UPDATED = "auth:user:updated"
    TOKEN_CREATED = "auth:token:created"
    TOKEN_REVOKED = "auth:token:revoked"
    SIGN_IN_FAILED = "auth:sign_in:failed"
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
    EVALUATION_RECORDED = "certificates:evaluation:recorded"
    DOSSIER_RECORDED = "certificates:dossier:recorded"
    CERTIFICATE_ISSUED = "certificates:certificate:issued"
    CERTIFICATE_SUPERSEDED = "certificates:certificate:superseded"
    CERTIFICATE_REVOKED = "certificates:certificate:revoked"
    CERTIFICATES_IMPORTED = "certificates:certificate:imported"
    EXPIRY_NOTICES_CREATED = "certificates:expiry_notice:created"
    NOTICE_DELIVERED = "certificates:notice_delivery:sent"
    NOTICE_DELIVERY_FAILED = "certificates:notice_delivery:failed"
    TRACE_EVENT_RECORDED = "trace:event:recorded"
    TRACE_EVENT_CORRECTED = "trace:event:corrected"
    LOT_RECALLED = "trace:lot:recalled"
    LOT_UNITS_DECLARED = "trace:lot:units_declared"
    TRACE_ATTACHMENT_ADDED = "trace:attachment:added"
    DEMO_LOADED = "demo:data:loaded"

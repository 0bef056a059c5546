"""Every model module, imported once so ``Base.metadata`` is complete (for Alembic and tests)."""

from trace_service.audit.models import AuditEvent
from trace_service.auth.models import ApiToken, User
from trace_service.certificates.models import (
    Certificate,
    DeliveryAttempt,
    Evaluation,
    ExpiryNotice,
    NoticeDelivery,
)
from trace_service.db import Base
from trace_service.labels.models import Label, PrintRun
from trace_service.registry.models import (
    AdministrativeUnit,
    Listing,
    Producer,
    Product,
    RawMaterialArea,
)
from trace_service.registry.photos import ProductPhoto
from trace_service.reports.models import ConsumerReport
from trace_service.trace.models import Attachment, EventLot, Lot, LotLink, Recall, TraceEvent
from trace_service.verify.models import FieldInspection

__all__ = [
    "AdministrativeUnit",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "Base",
    "Certificate",
    "ConsumerReport",
    "DeliveryAttempt",
    "Evaluation",
    "EventLot",
    "ExpiryNotice",
    "FieldInspection",
    "Label",
    "Listing",
    "Lot",
    "LotLink",
    "NoticeDelivery",
    "PrintRun",
    "Producer",
    "Product",
    "ProductPhoto",
    "RawMaterialArea",
    "Recall",
    "TraceEvent",
    "User",
]

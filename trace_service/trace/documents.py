"""What the trace routes hand out whole, each for a record the actor may see
(``auth/scoping.py``): a lot's history as EPCIS 2.0, the plots behind a lot as the EU
deforestation rule asks, a product's traceability items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from trace_service.principal import Principal
from trace_service.registry.services import get_product
from trace_service.trace import services
from trace_service.trace.completeness import completeness
from trace_service.trace.eudr import plots_feature_collection
from trace_service.trace.export import lot_history_document


@dataclass(frozen=True)
class Document:
    body: dict[str, Any]
    filename: str


def lot_epcis(
    session: Session, actor: Principal, lot_id: int, base_url: str, now: datetime
) -> Document:
    """The lot's whole history (every event behind it, and recalls) as EPCIS 2.0 JSON-LD."""
    lot = services.get_lot(session, actor, lot_id)
    body = lot_history_document(session, lot, services.backward_trace(session, lot), base_url, now)
    return Document(body, f"lot-{lot.id}-epcis.json")


def lot_plots(session: Session, actor: Principal, lot_id: int) -> dict[str, Any]:
    """The plots behind the lot as a GeoJSON FeatureCollection (EUDR)."""
    lot = services.get_lot(session, actor, lot_id)
    return plots_feature_collection(services.backward_trace(session, lot))


def product_traceability(session: Session, actor: Principal, product_id: int) -> list[Any]:
    """Which of the ten minimum traceability items the product has."""
    return completeness(session, get_product(session, actor, product_id))

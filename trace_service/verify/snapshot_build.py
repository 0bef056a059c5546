"""The offline snapshot's content, read from the database: every certificate with its dates,
product and producer names, the packed lots a recall reaches (as labels name them), and
voided and possibly-copied serials. ``ocop_verify.snapshot.build_snapshot`` checks and shapes
it; this module only queries."""

from __future__ import annotations

from datetime import date, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocop_verify.snapshot import recall_key
from trace_service.certificates.models import Certificate
from trace_service.labels.models import PrintRun
from trace_service.labels.states import snapshot_labels
from trace_service.registry.models import Producer, Product
from trace_service.trace.models import Recall
from trace_service.trace.services import descendants

VIETNAM = timezone(timedelta(hours=7))


def _certificates(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Certificate, Product.gtin14, Product.producer_id)
        .join(Product, Product.id == Certificate.product_id)
        .order_by(Certificate.id)
    )
    return [
        {
            "id": cert.id,
            "number": cert.number,
            "product_id": cert.product_id,
            "gtin": gtin,
            "product_name": cert.product_name,
            "producer_id": producer_id,
            "star": cert.star,
            "issued_on": cert.issue_date,
            "valid_until": cert.valid_until,
            "revoked_on": cert.revoked_on,
            "superseded_on": cert.superseded_on,
            "superseded_by": cert.superseded_by_id,
            "authority": cert.issuing_authority or None,
        }
        for cert, gtin, producer_id in rows
    ]


def _producers(session: Session, ids: set[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = session.execute(select(Producer.id, Producer.name).where(Producer.id.in_(ids)))
    return [{"id": pid, "name": name} for pid, name in rows]


def _recalled_lots(session: Session) -> list[dict[str, Any]]:
    """Every labelled packed lot a recall reaches (the lot itself or anything made from it),
    with the earliest recall's day, decision and reason."""
    found: dict[str, tuple[date, Recall, dict[str, Any]]] = {}
    for recall in session.scalars(select(Recall).order_by(Recall.recalled_at, Recall.id)):
        since = recall.recalled_at.astimezone(VIETNAM).date()
        runs = session.execute(
            select(PrintRun.gtin, PrintRun.product_id, PrintRun.lot_code)
            .where(PrintRun.lot_id.in_(descendants(recall.lot_id)))
            .distinct()
        )
        for gtin, product_id, lot_code in runs:
            key = recall_key(gtin, None if gtin else product_id, lot_code)
            naming = {"gtin": gtin, "product_id": None if gtin else product_id, "lot": lot_code}
            if key not in found:  # recalls come oldest first: the first one stands
                found[key] = (since, recall, naming)
    return [
        {
            **naming,
            "since": since,
            "reason": recall.reason or "—",
            "decision": recall.decision or None,
        }
        for since, recall, naming in found.values()
    ]


def snapshot_content(session: Session) -> dict[str, Any]:
    """The keyword arguments of ``build_snapshot`` that come from the records."""
    certificates = _certificates(session)
    producers = _producers(session, {c["producer_id"] for c in certificates})
    return {
        "producers": producers,
        "certificates": certificates,
        "recalls": _recalled_lots(session),
        **snapshot_labels(session),  # voided and flagged stamps, with the day since when
    }

"""Demo print runs: a sheet of stamps for each demo packed lot that may carry them, so a
newcomer can open a label page and scan a stamp right after ``scripts/run``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.audit.models import AuditEvent
from trace_service.audit.tags import Tag
from trace_service.errors import DomainError
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.labels.services import RunOrder, order_print_run
from trace_service.principal import Principal
from trace_service.signing.keystore import KeyStore
from trace_service.trace.models import Lot

STAMPS_PER_RUN = 36  # two A4 sheets


def demo_print_runs(
    session: Session, actor: Principal, store: KeyStore, base_url: str
) -> list[PrintRun]:
    """One run per packed lot of a product certified today; lots that may not carry stamps
    (certificate expired, lot recalled…) are skipped, as a producer would be refused."""
    runs = []
    packed = session.scalars(select(Lot).where(Lot.product_id.is_not(None)).order_by(Lot.id))
    for lot in packed:
        quantity = min(STAMPS_PER_RUN, int(lot.quantity))
        order = RunOrder(product_id=lot.product_id or 0, lot_id=lot.id, quantity=quantity)
        try:
            with session.begin_nested():
                run, _ = order_print_run(session, actor, order, store, base_url)
        except DomainError:
            continue
        runs.append(run)
    return runs


def wants_demo_print_runs(session: Session) -> bool:
    """The demo data is loaded and no print run exists yet (a first load, or one whose stamps
    were never ordered)."""
    loaded = session.scalar(select(AuditEvent.id).where(AuditEvent.tag == Tag.DEMO_LOADED.value))
    return loaded is not None and session.scalar(select(PrintRun.id).limit(1)) is None


def unbuilt_demo_runs(session: Session) -> list[int]:
    """Runs the demo ordered (no user ordered them) whose files were never drawn."""
    return list(
        session.scalars(
            select(PrintRun.id)
            .where(PrintRun.created_by.is_(None), PrintRun.status != RunStatus.READY)
            .order_by(PrintRun.id)
        )
    )

"""Load the Đắk Nông demo data (``data/``, described in ``data/README.md``) into an empty
registry, in steps:

1. the administrative units (``registry.units``), if they are not there yet;
2. producers, products with their listings, raw-material areas (``registry``);
3. the demo accounts, with passwords drawn now (``accounts``);
4. OCOP evaluations, certificates and a revocation, dated around the day of loading
   (``ocop_plan`` works them out, ``ocop`` records them through the certificate services);
5. five traceability chains of the last crop year over by that day (``chains``, through the
   trace services);
6. one audit event for the whole load.

The session is only flushed: the caller commits, once. A second load finds the producers
and loads nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.audit.tags import Tag
from trace_service.clock import today_vn
from trace_service.demo.accounts import make_accounts, reset_demo_passwords
from trace_service.demo.chains import record_chains
from trace_service.demo.ocop import record_ocop
from trace_service.demo.registry import load_registry
from trace_service.principal import system_principal
from trace_service.registry.models import AdministrativeUnit, Producer
from trace_service.registry.units import seed_units
from trace_service.trace.models import Lot, TraceEvent

__all__ = ["DemoReport", "load_demo", "reset_demo_passwords"]

Progress = Callable[[str, int, int], None]
# The registry's records run to October 2026: the demo is for days after them.
FIRST_DAY = date(2026, 11, 1)


@dataclass
class DemoReport:
    units: int
    producers: int
    products: int
    areas: int
    users: list[tuple[str, str, str]]  # (username, role, password)
    evaluations: int = 0
    certificates: int = 0
    lots: int = 0
    trace_events: int = 0


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def load_demo(
    session: Session,
    *,
    progress: Progress | None = None,
    today: date | None = None,
) -> DemoReport:
    """Fill an empty registry with the demo data; load nothing if any producer exists.

    ``today`` (default: today in Vietnam, from ``FIRST_DAY`` on) is the day the certificates
    are arranged around and whose last crop year the chains belong to. The demo is the data
    files in ``demo/data/``. ``units`` in the report
    counts the administrative units this call created (0 when they were already there).
    """
    today = today or today_vn()
    if today < FIRST_DAY:
        raise ValueError(f"The demo data is for days from {FIRST_DAY} on, not {today}.")
    actor = system_principal("demo")
    before = _count(session, AdministrativeUnit)
    units = seed_units(session, actor)
    created_units = _count(session, AdministrativeUnit) - before
    if session.scalar(select(Producer.id).limit(1)) is not None:
        return DemoReport(units=created_units, producers=0, products=0, areas=0, users=[])

    registry = load_registry(session, units, progress)
    users = make_accounts(session, actor, registry.producers, progress)
    evaluations, certificates = record_ocop(
        session, actor, units, registry.products, today, progress
    )
    record_chains(session, actor, registry, today, progress)
    report = DemoReport(
        units=created_units,
        producers=len(registry.producers),
        products=len(registry.products),
        areas=len(registry.areas),
        users=users,
        evaluations=evaluations,
        certificates=certificates,
        lots=_count(session, Lot),
        trace_events=_count(session, TraceEvent),
    )
    details = {key: value for key, value in vars(report).items() if key != "users"}
    details |= {"today": today, "listings": registry.listings}
    details["users"] = [username for username, _, _ in users]
    record_event(session, actor, Tag.DEMO_LOADED, "demo", None, details)
    session.flush()
    return report

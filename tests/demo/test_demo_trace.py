"""The demo's traceability chains: recorded through the trace services, so they obey every rule,
and they can be followed from a bag of coffee back to its plots and from a plot forward."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trace_service.audit.models import AuditEvent
from trace_service.audit.services import verify_chain
from trace_service.audit.tags import Tag
from trace_service.certificates.models import Certificate
from trace_service.clock import VIETNAM
from trace_service.demo.loader import load_demo
from trace_service.registry.models import AdministrativeUnit
from trace_service.trace import services
from trace_service.trace.eudr import plots_feature_collection
from trace_service.trace.models import EventLot, Lot, Recall, TraceEvent
from trace_service.trace.rules import MAX_YIELD, EventKind
from trace_service.trace.units import Unit, in_kg

TODAY = date(2026, 11, 28)
MIDNIGHT = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=VIETNAM)
OBSERVATIONS = {EventKind.SHIPPING, EventKind.RECEIVING, EventKind.INSPECTION, EventKind.SAMPLING}


def _lot(session: Session, code: str) -> Lot:
    return session.scalars(select(Lot).where(Lot.code == code)).one()


def _maker(session: Session, lot: Lot) -> TraceEvent:
    """The event that made ``lot`` (its harvest, transformation or packing)."""
    return session.scalars(
        select(TraceEvent)
        .join(EventLot)
        .where(EventLot.lot_id == lot.id, EventLot.role == "output")
    ).one()


def _steps(trace: services.Trace) -> Counter[tuple[str, str | None]]:
    return Counter((e.kind, e.process) for e in trace.events if e.kind not in OBSERVATIONS)


def _districts(session: Session, unit: AdministrativeUnit) -> set[str]:
    olds = session.scalars(
        select(AdministrativeUnit).where(AdministrativeUnit.successor_id == unit.id)
    )
    return {u.parent.name for u in [unit, *olds] if u.parent is not None}


def test_the_robusta_bags_trace_back_to_three_plots_and_forward_from_each(db_session):
    load_demo(db_session, today=TODAY)
    bags = _lot(db_session, "DM-2025-DG-01")
    assert bags.unit is Unit.PIECE and bags.unit_weight_kg == Decimal("0.25")
    assert bags.product is not None and bags.product.name_vi.startswith("Cà phê")
    assert bags.product.producer_id == bags.producer_id
    assert "Huyện Đắk Mil" in _districts(db_session, bags.producer.commune)

    trace = services.backward_trace(db_session, bags)
    assert len(trace.areas) == 3
    assert {a.producer_id for a in trace.areas} == {bags.producer_id}
    assert _steps(trace) == {
        ("harvest", None): 3,
        ("transformation", "drying"): 1,
        ("transformation", "hulling"): 1,
        ("transformation", "roasting"): 1,
        ("transformation", "grinding"): 1,
        ("packing", "packing"): 1,
    }
    assert {e.kind for e in trace.events} - {"harvest", "transformation", "packing"} <= OBSERVATIONS
    materials = {lot.material for lot in trace.lots}
    assert {"Quả cà phê vối tươi", "Cà phê nhân xô", "Cà phê rang", "Cà phê bột"} <= materials
    harvests = [e for e in trace.events if e.kind == EventKind.HARVEST]
    for event in harvests:
        assert date(2025, 11, 1) <= event.harvest_start <= event.harvest_end <= date(2025, 12, 31)
    made = [e for e in trace.events if e.kind not in OBSERVATIONS]
    times = [e.event_time for e in made]
    assert times == sorted(times) and len(set(times)) == len(times)
    # From fresh cherry to green bean about a quarter of the weight is left, as in real life.
    cherry = sum(lot.quantity for lot in trace.lots if lot.material == "Quả cà phê vối tươi")
    green = next(lot for lot in trace.lots if lot.material == "Cà phê nhân xô")
    assert Decimal("0.18") <= green.quantity / cherry <= MAX_YIELD["cherry_to_green"]
    # The plots are ready for the EU deforestation rule: points of at most 4 ha, 6 decimals.
    collection = plots_feature_collection(trace)
    assert all(f["properties"]["eudr_ready"] for f in collection["features"])
    for area in trace.areas:
        if area.geometry["type"] == "Point":
            assert area.area_ha <= 3
            lon, lat = area.geometry["coordinates"]
            assert 107.2 <= lon <= 108.1 and 11.75 <= lat <= 12.85
            assert round(lon, 6) == lon and round(lat, 6) == lat

    for area in trace.areas:
        reached = services.area_trace(db_session, area.id)
        assert bags.id in {lot.id for lot in reached.lots}
        assert [a.id for a in reached.areas] == [area.id]


def test_the_recalled_harvest_lot_reaches_its_packed_lot(db_session):
    load_demo(db_session, today=TODAY)
    (recall,) = db_session.scalars(select(Recall)).all()
    harvested = recall.lot
    assert _maker(db_session, harvested).kind == EventKind.HARVEST
    assert harvested.producer_id != _lot(db_session, "DM-2025-DG-01").producer_id  # not coffee
    assert recall.reason and recall.recalled_at < MIDNIGHT
    forward = services.forward_trace(db_session, harvested)
    packed = [lot for lot in forward.lots if lot.unit is Unit.PIECE]
    assert packed and all(lot.product_id is not None for lot in packed)
    for lot in packed:
        assert recall in services.recalled_by(db_session, lot)
    assert recall in forward.recalls
    # The sample that failed is in the record, with its result.
    sampling = [e for e in forward.events if e.kind == EventKind.SAMPLING]
    assert sampling and sampling[0].details["result"] == "không đạt"
    assert sampling[0].event_time < recall.recalled_at


def test_the_chains_obey_the_rules_and_are_audited(db_session):
    report = load_demo(db_session, today=TODAY)
    lots = db_session.scalars(select(Lot).order_by(Lot.id)).all()
    events = db_session.scalars(select(TraceEvent).order_by(TraceEvent.id)).all()
    assert report.lots == len(lots) and report.trace_events == len(events)
    assert all(lot.quantity > 0 for lot in lots)
    assert len({lot.code for lot in lots}) == len(lots)
    for event in events:
        assert event.event_time < MIDNIGHT and event.time_zone == "+07:00"
        if event.kind == EventKind.HARVEST:
            assert event.harvest_end < event.event_time.astimezone(VIETNAM).date()

    # Five packed products of five kinds, each certified on the day it was packed.
    packed = [lot for lot in lots if lot.product_id is not None]
    assert len(packed) == 5 and all(lot.unit is Unit.PIECE and lot.unit_weight_kg for lot in packed)
    assert len({lot.producer_id for lot in packed}) == 5
    for lot in packed:
        day = _maker(db_session, lot).event_time.astimezone(VIETNAM).date()
        certs = db_session.scalars(
            select(Certificate).where(Certificate.product_id == lot.product_id)
        ).all()
        assert any(c.revoked_on is None and c.issue_date <= day <= c.valid_until for c in certs), (
            lot.code
        )
    kinds = {lot.material.split()[0] for lot in packed}
    assert len(kinds) >= 4, kinds  # Cà phê, Hồ tiêu, Mật ong, Hạt (mắc ca, điều)…

    # Every event comes after the ones its lots had before; outputs within the yields.
    for event in events:
        for link in event.lots:
            if link.role == "input":
                made = _maker(db_session, link.lot)
                assert made.event_time < event.event_time
        if event.kind == EventKind.TRANSFORMATION:
            ins = [
                in_kg(x.quantity, x.unit, x.lot.unit_weight_kg)
                for x in event.lots
                if x.role == "input"
            ]
            outs = [
                in_kg(x.quantity, x.unit, x.lot.unit_weight_kg)
                for x in event.lots
                if x.role == "output"
            ]
            assert sum(outs) <= sum(ins) * MAX_YIELD[event.process]

    kinds_seen = Counter(e.kind for e in events)
    assert set(kinds_seen) == set(EventKind) - {EventKind.RECALL}, kinds_seen
    (correction,) = [e for e in events if e.kind == EventKind.CORRECTION]
    wrong = db_session.get(TraceEvent, correction.corrects_event_id)
    assert wrong is not None and wrong.event_time < correction.event_time and correction.reason
    inspections = [e for e in events if e.kind == EventKind.INSPECTION]
    assert inspections and all(e.details.get("result") for e in inspections)

    tags = Counter(db_session.scalars(select(AuditEvent.tag)))
    assert tags[Tag.TRACE_EVENT_RECORDED] == len(events) - 1
    assert tags[Tag.TRACE_EVENT_CORRECTED] == 1 and tags[Tag.LOT_RECALLED] == 1
    loaded = db_session.scalars(select(AuditEvent).where(AuditEvent.tag == Tag.DEMO_LOADED)).one()
    assert loaded.details["lots"] == len(lots) and loaded.details["trace_events"] == len(events)
    assert verify_chain(db_session).intact


def _snapshot(session: Session) -> dict[str, Any]:
    return {
        "lots": [
            (lot.code, lot.material, lot.quantity, lot.unit, lot.unit_weight_kg)
            for lot in session.scalars(select(Lot).order_by(Lot.id))
        ],
        "events": [
            (e.kind, e.process, e.event_time, e.location, e.details, e.reason)
            for e in session.scalars(select(TraceEvent).order_by(TraceEvent.id))
        ],
    }


def test_the_chains_are_the_same_for_a_seed_and_day_and_loaded_once(db_session):
    savepoint = db_session.begin_nested()
    load_demo(db_session, today=TODAY)
    first = _snapshot(db_session)
    savepoint.rollback()
    report = load_demo(db_session, today=TODAY)
    assert _snapshot(db_session) == first
    assert report.lots == len(first["lots"]) >= 20

    again = load_demo(db_session, today=TODAY)
    assert again.lots == again.trace_events == 0
    assert db_session.scalar(select(func.count()).select_from(Lot)) == report.lots

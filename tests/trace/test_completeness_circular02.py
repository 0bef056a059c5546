"""The ten minimum items of Circular 02/2024/TT-BKHCN read as the Circular means them: a
stage has a product trace code, a location trace code and a time (Art. 3, the codes'
definitions), "(nếu có)" items are optional, and each product group's own items apply."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from tests import factories
from trace_service.registry.enums import ProductGroup
from trace_service.trace.completeness import completeness
from trace_service.trace.models import EventLot, Lot, LotLink, TraceEvent
from trace_service.trace.rules import EventKind
from trace_service.trace.units import Unit


def _lot(session: Session, producer, code: str, product=None) -> Lot:
    lot = Lot(
        code=code,
        producer_id=producer.id,
        product_id=product.id if product else None,
        material=code,
        quantity=Decimal(10),
        unit=Unit.PIECE,
    )
    session.add(lot)
    session.flush()
    return lot


def _event(session, producer, kind, day, lots, *, area=None, location=None) -> TraceEvent:
    event = TraceEvent(
        uri=f"urn:uuid:{uuid.uuid4()}",
        kind=kind,
        event_time=datetime(2025, 11, day, 3, tzinfo=UTC),
        producer_id=producer.id,
        area_id=area.id if area else None,
        location=location,
        details={},
    )
    session.add(event)
    session.flush()
    for lot, role in lots:
        session.add(
            EventLot(event_id=event.id, lot_id=lot.id, role=role, quantity=10, unit=Unit.PIECE)
        )
    session.flush()
    return event


def _items(session, product) -> dict:
    return {item.key: item for item in completeness(session, product)}


def _made(session, group, *, harvest: bool, pack_at: str | None = "Xưởng HTX"):
    """A product of ``group`` packed from a lot that was harvested on a plot, or (a
    handicraft) made in a workshop from materials it bought."""
    product = factories.ProductFactory(product_group=group, shelf_life_days=None)
    producer = product.producer
    raw = _lot(session, producer, f"RAW-{group}")
    if harvest:
        area = factories.AreaFactory(producer=producer)
        _event(session, producer, EventKind.HARVEST, 1, [(raw, "output")], area=area)
    else:
        _event(session, producer, EventKind.RECEIVING, 1, [(raw, "subject")], location="Kho HTX")
    packed = _lot(session, producer, f"PK-{group}", product)
    packing = _event(
        session,
        producer,
        EventKind.PACKING,
        5,
        [(raw, "input"), (packed, "output")],
        location=pack_at,
    )
    session.add(LotLink(parent_lot_id=raw.id, child_lot_id=packed.id, event_id=packing.id))
    session.flush()
    return product


def test_circular_02_art_3_a_stage_without_a_location_trace_code_is_missing(db_session):
    """Art. 3: a location trace code names where the stage happened; the producer who
    recorded it is no location (a packing with no place was once counted as located)."""
    product = _made(db_session, ProductGroup.FOOD, harvest=True, pack_at=None)
    stages = _items(db_session, product)["stages"]
    assert not stages.present and "no location trace code" in stages.detail
    located = _made(db_session, ProductGroup.BEVERAGES, harvest=True)
    assert _items(db_session, located)["stages"].present


def test_circular_02_event_times_are_their_own_item_with_the_events_dates(db_session):
    """Circular 02/2024/TT-BKHCN, "thời gian diễn ra sự kiện": the times of the chain's
    events, shown as dd/mm/yyyy, not a copy of the stages' verdict."""
    product = _made(db_session, ProductGroup.FOOD, harvest=True, pack_at=None)
    items = _items(db_session, product)
    assert not items["stages"].present
    assert items["event_times"].present and "01/11/2025 – 05/11/2025" in items["event_times"].detail


def test_circular_02_a_harvested_group_needs_its_harvest_a_handicraft_does_not(db_session):
    """Decision 148/QĐ-TTg's groups: handicrafts are made, not harvested."""
    craft = _made(db_session, ProductGroup.HANDICRAFTS, harvest=False)
    assert _items(db_session, craft)["stages"].present
    food = _made(db_session, ProductGroup.FOOD, harvest=False)
    stages = _items(db_session, food)["stages"]
    assert not stages.present and "no harvest" in stages.detail


def test_circular_02_items_marked_neu_co_are_optional_not_missing(db_session):
    """Circular 02/2024/TT-BKHCN: brand, model, serial "(nếu có)" and shelf life "(nếu có)";
    the GTIN is no brand, model or serial."""
    product = _made(db_session, ProductGroup.FOOD, harvest=True)
    items = _items(db_session, product)
    for key in ("brand_model_serial", "shelf_life"):
        assert items[key].required is False and items[key].present is False
    assert product.gtin not in items["brand_model_serial"].detail
    assert all(items[key].required for key in ("name", "stages", "event_times", "standards"))


def test_circular_02_a_tourism_service_has_no_lots_and_is_not_asked_for_them(db_session):
    """Decision 148/QĐ-TTg, group 6 (community tourism): a service, not goods; no harvest,
    lots, trace codes or shelf life apply."""
    product = factories.ProductFactory(product_group=ProductGroup.TOURISM)
    items = _items(db_session, product)
    assert len(items) == 10
    for key in ("stages", "event_times", "trace_code", "brand_model_serial", "shelf_life"):
        assert items[key].applies is False and items[key].required is False
    assert items["name"].applies and items["producer_address"].required

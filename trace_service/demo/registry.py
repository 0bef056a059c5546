"""The demo's registry: producers, products with their listings, and raw-material areas, from
``producers.csv``, ``products.csv``, ``listings.csv`` and ``areas.geojson``.

They go in through the ORM models directly, as a registry migrated from older records would:
no audit event per row (the demo load records one for the whole)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from trace_service.clock import today_vn
from trace_service.demo.files import instant, optional, read_csv, read_features
from trace_service.registry.enums import Platform, ProducerKind, ProductGroup
from trace_service.registry.models import (
    AdministrativeUnit,
    Listing,
    Producer,
    Product,
    RawMaterialArea,
)

Progress = Callable[[str, int, int], None]
HECTARES = Decimal("0.0001")


@dataclass
class Registry:
    """What was loaded, by the names the other data files use for it."""

    producers: dict[str, Producer] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    areas: dict[tuple[str, str], RawMaterialArea] = field(default_factory=dict)  # (producer, name)
    listings: int = 0  # products with at least one listing


def load_registry(
    session: Session, units: dict[str, AdministrativeUnit], progress: Progress | None
) -> Registry:
    registry = Registry()
    _load_producers(session, units, registry, progress)
    _load_products(session, registry, progress)
    _load_areas(session, units, registry, progress)
    session.flush()
    return registry


def _keep(found: dict[Any, Any], key: Any, record: Any, file: str) -> None:
    """Other files name these records, so a name may not be used twice."""
    if key in found:
        raise ValueError(f"{file}: {key!r} is there twice")
    found[key] = record


def _tick(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress and (done % 10 == 0 or done == total):
        progress(stage, done, total)


def _load_producers(
    session: Session,
    units: dict[str, AdministrativeUnit],
    registry: Registry,
    progress: Progress | None,
) -> None:
    rows = read_csv("producers.csv")
    for done, row in enumerate(rows, start=1):
        producer = Producer(
            kind=ProducerKind(row["kind"]),
            name=row["name"],
            registration_code=row["registration_code"],
            address=row["address"],
            commune=units[row["commune"]],
            representative=row["representative"],
            phone=optional(row["phone"]),
            email=optional(row["email"]),
            created_at=instant(row["created_at"]),
            updated_at=instant(row["updated_at"]),
        )
        session.add(producer)
        _keep(registry.producers, producer.name, producer, "producers.csv")
        _tick(progress, "producers", done, len(rows))
    session.flush()  # products and areas follow in id order


def _load_products(session: Session, registry: Registry, progress: Progress | None) -> None:
    listings: dict[str, list[Listing]] = {}
    for row in read_csv("listings.csv"):
        listing = Listing(platform=Platform(row["platform"]), url=row["url"])
        listings.setdefault(row["product"], []).append(listing)
    rows = read_csv("products.csv")
    for done, row in enumerate(rows, start=1):
        gtin, created = optional(row["gtin"]), instant(row["created_at"])
        product = Product(
            producer=registry.producers[row["producer"]],
            name_vi=row["name_vi"],
            name_en=optional(row["name_en"]),
            product_group=ProductGroup(row["group"]),
            gtin=gtin,
            gtin14=gtin.zfill(14) if gtin else None,
            description=optional(row["description"]),
            standards=row["standards"].split("; ") if row["standards"] else [],
            shelf_life_days=int(row["shelf_life_days"]) if row["shelf_life_days"] else None,
            created_at=created,
            updated_at=created,
        )
        product.listings = listings.pop(product.name_vi, [])
        for listing in product.listings:
            # The demo's shops opened when their products were registered.
            listing.listed_on = today_vn(created)
        registry.listings += bool(product.listings)
        session.add(product)
        _keep(registry.products, product.name_vi, product, "products.csv")
        _tick(progress, "products", done, len(rows))
    if listings:
        raise ValueError(f"listings.csv names products that do not exist: {sorted(listings)}")


def _load_areas(
    session: Session,
    units: dict[str, AdministrativeUnit],
    registry: Registry,
    progress: Progress | None,
) -> None:
    features = read_features("areas.geojson")
    for done, feature in enumerate(features, start=1):
        data = feature["properties"]
        area = RawMaterialArea(
            producer=registry.producers[data["producer"]],
            name=data["name"],
            commune=units[data["commune"]],
            area_ha=Decimal(str(data["area_ha"])).quantize(HECTARES),
            crops=data["crops"],
            certifications=data["certifications"],
            geometry=feature["geometry"],
            created_at=instant(data["created_at"]),
            updated_at=instant(data["updated_at"]),
        )
        session.add(area)
        _keep(registry.areas, (data["producer"], area.name), area, "areas.geojson")
        _tick(progress, "areas", done, len(features))

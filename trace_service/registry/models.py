from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace_service.db import Base, Created, IntPk, Updated, value_enum
from trace_service.registry.enums import Platform, ProducerKind, ProductGroup, UnitLevel
from trace_service.text import fold


class Searchable:
    """Keeps ``search_key``: the folded text of ``search_fields``, so that "ca phe dak mil"
    finds "Cà phê Đắk Mil" on every database (SQLite's LIKE only folds ASCII case)."""

    search_fields: ClassVar[tuple[str, ...]]
    search_key: Mapped[str] = mapped_column(String(1000), default="")

    def refresh_search_key(self) -> None:
        self.search_key = fold(" ".join(str(getattr(self, f) or "") for f in self.search_fields))


class AdministrativeUnit(Searchable, Base):
    """A province, district or commune as it was between ``valid_from`` and ``valid_to``.

    Units are never renamed or merged in place: a reorganisation closes the old unit and links
    it to its ``successor``, so records keep the authority they had when they were made.
    """

    __tablename__ = "admin_units"
    search_fields = ("name", "code")

    id: Mapped[IntPk]
    # GSO codes are reused: a new commune takes the code of one unit it absorbed.
    code: Mapped[str | None] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[UnitLevel] = mapped_column(value_enum(UnitLevel, 16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"), index=True)
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    lat: Mapped[float | None]
    lon: Mapped[float | None]

    parent: Mapped[AdministrativeUnit | None] = relationship(
        remote_side="AdministrativeUnit.id", foreign_keys=[parent_id]
    )
    successor: Mapped[AdministrativeUnit | None] = relationship(
        remote_side="AdministrativeUnit.id", foreign_keys=[successor_id]
    )

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Producer(Searchable, Base):
    """A chủ thể OCOP: cooperative, enterprise or household business that owns products."""

    __tablename__ = "producers"
    __owner__: ClassVar[tuple[str, ...]] = ("id",)  # auth/scoping.py
    search_fields = ("name", "registration_code", "representative")

    id: Mapped[IntPk]
    kind: Mapped[ProducerKind] = mapped_column(value_enum(ProducerKind, 24))
    name: Mapped[str] = mapped_column(String(255))
    registration_code: Mapped[str] = mapped_column(String(32), unique=True)
    address: Mapped[str] = mapped_column(String(500))
    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), index=True)
    representative: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[Created]
    updated_at: Mapped[Updated]

    commune: Mapped[AdministrativeUnit] = relationship()


class Product(Searchable, Base):
    __tablename__ = "products"
    __owner__: ClassVar[tuple[str, ...]] = ("producer_id",)  # auth/scoping.py
    search_fields = ("name_vi", "name_en", "gtin")

    id: Mapped[IntPk]
    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id"), index=True)
    name_vi: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    product_group: Mapped[ProductGroup] = mapped_column(value_enum(ProductGroup, 16), index=True)
    # As entered (8, 12, 13 or 14 digits); gtin14 is the zero-padded form that must be unique.
    gtin: Mapped[str | None] = mapped_column(String(14))
    gtin14: Mapped[str | None] = mapped_column(String(14), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    images: Mapped[list[Any]] = mapped_column(default=list)
    standards: Mapped[list[Any]] = mapped_column(default=list)
    shelf_life_days: Mapped[int | None]
    created_at: Mapped[Created]
    updated_at: Mapped[Updated]

    producer: Mapped[Producer] = relationship()
    listings: Mapped[list[Listing]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="Listing.id"
    )


class Listing(Base):
    """Where the product is sold online (the 2025 plan wants every OCOP product on one)."""

    __tablename__ = "product_listings"
    __owner__: ClassVar[tuple[str, ...]] = ("product", "producer_id")  # auth/scoping.py
    __table_args__ = (UniqueConstraint("product_id", "url"),)

    id: Mapped[IntPk]
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[Platform] = mapped_column(value_enum(Platform, 24))
    url: Mapped[str] = mapped_column(String(2000))
    # The day the product went on sale there (the plan board counts listings by date); None:
    # not known (listings recorded before dates were kept).
    listed_on: Mapped[date | None]

    product: Mapped[Product] = relationship(back_populates="listings")


class RawMaterialArea(Searchable, Base):
    """A vùng nguyên liệu: a farm or plot, with GeoJSON geometry in WGS84 ``[lon, lat]``."""

    __tablename__ = "raw_material_areas"
    __owner__: ClassVar[tuple[str, ...]] = ("producer_id",)  # auth/scoping.py
    search_fields = ("name",)

    id: Mapped[IntPk]
    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), index=True)
    area_ha: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    crops: Mapped[list[Any]] = mapped_column(default=list)
    # "|ca phe voi|ho tieu|": crops folded like search_key, so "cà phê" finds "Cà phê vối".
    crops_key: Mapped[str] = mapped_column(String(1000), default="")
    certifications: Mapped[list[Any]] = mapped_column(default=list)
    geometry: Mapped[dict[str, Any] | None]
    created_at: Mapped[Created]
    updated_at: Mapped[Updated]

    producer: Mapped[Producer] = relationship()
    commune: Mapped[AdministrativeUnit] = relationship()

    def refresh_search_key(self) -> None:
        super().refresh_search_key()
        self.crops_key = "".join(f"|{fold(str(crop))}" for crop in self.crops or []) + "|"


def _refresh_search_key(_mapper: Any, _connection: Any, target: Searchable) -> None:
    target.refresh_search_key()


for _model in (AdministrativeUnit, Producer, Product, RawMaterialArea):
    event.listen(_model, "before_insert", _refresh_search_key)
    event.listen(_model, "before_update", _refresh_search_key)

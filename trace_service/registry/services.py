"""Registry operations. Every function takes the session and the acting principal, applies the
rule "a producer only sees and changes its own" (``auth/scoping.py``), flushes, audits,
announces the change (``registry/signals.py``), and never commits.

What the layers above hold over these records (a product with OCOP history is not deleted,
a certified product's identity is the office's to change) they register in
``registry/hooks.py``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from blinker import NamedSignal
from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import Session, selectinload

from trace_service.audit.services import changes, record_event
from trace_service.audit.tags import Tag
from trace_service.auth.models import User
from trace_service.auth.scoping import get_owned, may_act_for, scoped
from trace_service.errors import Conflict, Forbidden, NotFound, field_error
from trace_service.principal import Principal
from trace_service.registry import hooks, signals
from trace_service.registry.enums import UnitLevel
from trace_service.registry.models import (
    AdministrativeUnit,
    Listing,
    Producer,
    Product,
    RawMaterialArea,
)
from trace_service.registry.validators import gtin14
from trace_service.text import fold, like_pattern


def _snapshot(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _search(stmt: Select[Any], model: Any, q: str | None) -> Select[Any]:
    if q:
        stmt = stmt.where(model.search_key.like(like_pattern(fold(q)), escape="\\"))
    return stmt


def _announce(
    signal: NamedSignal,
    session: Session,
    actor: Principal,
    record: Any,
    change: str,
    details: dict[str, Any],
) -> None:
    """Tell the layers above (registry/signals.py), after the flush, within the unit of work."""
    signal.send(record, session=session, actor=actor, change=change, changes=details)


def _json_contains(column: Any, value: str) -> Any:
    """Whether a JSON list column holds ``value`` (as a string or as an object's member);
    a text match that both SQLite and PostgreSQL run the same way."""
    needle = like_pattern(f'"{value}"')
    return cast(column, String).like(needle, escape="\\")


# -- administrative units -------------------------------------------------------------------

UNIT_FIELDS = (
    "code",
    "name",
    "level",
    "parent_id",
    "valid_from",
    "valid_to",
    "successor_id",
    "lat",
    "lon",
)
_PARENT_LEVELS = {
    UnitLevel.PROVINCE: set(),
    UnitLevel.DISTRICT: {UnitLevel.PROVINCE},
    # Since 1 Jul 2025 communes sit directly under the province.
    UnitLevel.COMMUNE: {UnitLevel.DISTRICT, UnitLevel.PROVINCE},
}


def unit_query(args: dict[str, Any]) -> Select[Any]:
    stmt = select(AdministrativeUnit).options(
        selectinload(AdministrativeUnit.parent), selectinload(AdministrativeUnit.successor)
    )
    if "level" in args:
        stmt = stmt.where(AdministrativeUnit.level == args["level"])
    if "parent_id" in args:
        stmt = stmt.where(AdministrativeUnit.parent_id == args["parent_id"])
    if "valid_on" in args:
        day = args["valid_on"]
        stmt = stmt.where(
            AdministrativeUnit.valid_from <= day,
            or_(AdministrativeUnit.valid_to.is_(None), AdministrativeUnit.valid_to >= day),
        )
    return _search(stmt, AdministrativeUnit, args.get("q")).order_by(AdministrativeUnit.id)


def get_unit(session: Session, unit_id: int) -> AdministrativeUnit:
    unit = session.get(AdministrativeUnit, unit_id)
    if unit is None:
        raise NotFound("Không tìm thấy đơn vị hành chính.", "No administrative unit has this id.")
    return unit


def _check_unit(session: Session, unit: AdministrativeUnit) -> None:
    if unit.valid_to is not None and unit.valid_to < unit.valid_from:
        raise field_error(
            "valid_to",
            vi="Ngày hết hiệu lực không được trước ngày bắt đầu.",
            en="Must not be before valid_from.",
        )
    allowed = _PARENT_LEVELS[unit.level]
    if unit.parent_id is None:
        if allowed:
            raise field_error(
                "parent_id",
                vi="Đơn vị này cần đơn vị cấp trên.",
                en=f"A {unit.level} needs a parent unit.",
            )
    else:
        parent = session.get(AdministrativeUnit, unit.parent_id)
        if parent is None:
            raise field_error(
                "parent_id",
                vi="Không có đơn vị cấp trên này.",
                en="No administrative unit has this id.",
            )
        if parent.level not in allowed:
            raise field_error(
                "parent_id",
                vi="Cấp của đơn vị cấp trên không phù hợp.",
                en=f"A {unit.level} cannot sit under a {parent.level}.",
            )
    if unit.successor_id is not None:
        if unit.successor_id == unit.id:
            raise field_error(
                "successor_id",
                vi="Đơn vị không thể kế thừa chính nó.",
                en="A unit cannot succeed itself.",
            )
        if session.get(AdministrativeUnit, unit.successor_id) is None:
            raise field_error(
                "successor_id",
                vi="Không có đơn vị kế thừa này.",
                en="No administrative unit has this id.",
            )


def create_unit(session: Session, actor: Principal, data: dict[str, Any]) -> AdministrativeUnit:
    unit = AdministrativeUnit(**{k: data.get(k) for k in UNIT_FIELDS})
    _check_unit(session, unit)
    session.add(unit)
    session.flush()
    record_event(
        session, actor, Tag.UNIT_CREATED, "admin_unit", unit.id, _snapshot(unit, UNIT_FIELDS)
    )
    return unit


def update_unit(
    session: Session, actor: Principal, unit: AdministrativeUnit, data: dict[str, Any]
) -> AdministrativeUnit:
    before = _snapshot(unit, UNIT_FIELDS)
    with session.no_autoflush:  # check the new links before the database sees them
        for key in UNIT_FIELDS:
            if key in data:
                setattr(unit, key, data[key])
        _check_unit(session, unit)
    session.flush()
    record_event(
        session,
        actor,
        Tag.UNIT_UPDATED,
        "admin_unit",
        unit.id,
        changes(before, _snapshot(unit, UNIT_FIELDS)),
    )
    return unit


def communes_of_district(district_id: int) -> Any:
    """Ids of a district's communes and of the communes that succeeded them in 2025.

    Districts were abolished on 1 Jul 2025 and new communes sit under the province, so a
    producer registered since then is found in "Đắk Mil" through its commune's predecessors.
    """
    old = select(AdministrativeUnit.id).where(AdministrativeUnit.parent_id == district_id)
    successors = select(AdministrativeUnit.successor_id).where(
        AdministrativeUnit.parent_id == district_id, AdministrativeUnit.successor_id.is_not(None)
    )
    return old.union(successors)


def _require_current_commune(session: Session, commune_id: int, today: date) -> None:
    unit = session.get(AdministrativeUnit, commune_id)
    if unit is None or unit.level is not UnitLevel.COMMUNE:
        raise field_error(
            "commune_id",
            vi="Không có xã, phường, thị trấn với mã này.",
            en="No commune, ward or town has this id.",
        )
    if not unit.is_valid_on(today):
        hint = f" Its successor is unit {unit.successor_id}." if unit.successor_id else ""
        raise field_error(
            "commune_id",
            vi=f"{unit.name} không còn là đơn vị hành chính hiện hành.",
            en=f"{unit.name} is not a current unit (valid {unit.valid_from.isoformat()} to "
            f"{unit.valid_to.isoformat() if unit.valid_to else '…'}).{hint}",
        )


# -- producers ------------------------------------------------------------------------------

PRODUCER_FIELDS = (
    "kind",
    "name",
    "registration_code",
    "address",
    "commune_id",
    "representative",
    "phone",
    "email",
)
# What a producer may change about itself; identity fields are the province office's.
PRODUCER_SELF_FIELDS = {"address", "commune_id", "representative", "phone", "email"}


def _not_found_producer() -> NotFound:
    return NotFound("Không tìm thấy chủ thể.", "No producer has this id.")


def producer_query(actor: Principal, args: dict[str, Any]) -> Select[Any]:
    stmt = scoped(select(Producer).options(selectinload(Producer.commune)), actor, Producer)
    if "kind" in args:
        stmt = stmt.where(Producer.kind == args["kind"])
    if "commune_id" in args:
        stmt = stmt.where(Producer.commune_id == args["commune_id"])
    if "district_id" in args:
        stmt = stmt.where(Producer.commune_id.in_(communes_of_district(args["district_id"])))
    return _search(stmt, Producer, args.get("q")).order_by(Producer.id)


def get_producer(session: Session, actor: Principal, producer_id: int) -> Producer:
    return get_owned(session, actor, Producer, producer_id, _not_found_producer)


def _check_registration_free(session: Session, code: str, own_id: int | None = None) -> None:
    clash = session.scalar(select(Producer.id).where(Producer.registration_code == code))
    if clash is not None and clash != own_id:
        raise Conflict(
            "Mã số đăng ký kinh doanh/mã số thuế đã có trong sổ đăng ký.",
            f"Producer {clash} already has this registration code.",
            errors={"json": {"registration_code": ["Already registered."]}},
        )


def create_producer(
    session: Session, actor: Principal, data: dict[str, Any], today: date
) -> Producer:
    _require_current_commune(session, data["commune_id"], today)
    _check_registration_free(session, data["registration_code"])
    producer = Producer(**{k: data.get(k) for k in PRODUCER_FIELDS})
    session.add(producer)
    session.flush()
    snapshot = _snapshot(producer, PRODUCER_FIELDS)
    record_event(session, actor, Tag.PRODUCER_CREATED, "producer", producer.id, snapshot)
    _announce(signals.producer_changed, session, actor, producer, "created", snapshot)
    return producer


def update_producer(
    session: Session, actor: Principal, producer: Producer, data: dict[str, Any], today: date
) -> Producer:
    if actor.is_producer:
        refused = sorted(set(data) - PRODUCER_SELF_FIELDS)
        if refused:
            raise Forbidden(
                "Chỉ văn phòng OCOP tỉnh được sửa tên, loại hình và mã số của chủ thể.",
                f"Only the province office may change: {', '.join(refused)}.",
            )
    if "commune_id" in data and data["commune_id"] != producer.commune_id:
        _require_current_commune(session, data["commune_id"], today)
    if "registration_code" in data:
        _check_registration_free(session, data["registration_code"], producer.id)
    before = _snapshot(producer, PRODUCER_FIELDS)
    for key in PRODUCER_FIELDS:
        if key in data:
            setattr(producer, key, data[key])
    session.flush()
    details = changes(before, _snapshot(producer, PRODUCER_FIELDS))
    record_event(session, actor, Tag.PRODUCER_UPDATED, "producer", producer.id, details)
    _announce(signals.producer_changed, session, actor, producer, "updated", details)
    return producer


def delete_producer(session: Session, actor: Principal, producer: Producer) -> None:
    hooks.check_not_referred(session, producer)
    snapshot = _snapshot(producer, PRODUCER_FIELDS)
    record_event(session, actor, Tag.PRODUCER_DELETED, "producer", producer.id, snapshot)
    session.delete(producer)
    session.flush()
    _announce(signals.producer_changed, session, actor, producer, "deleted", snapshot)


_STILL_HAS = "Chủ thể còn sản phẩm, vùng nguyên liệu hoặc tài khoản; không thể xóa."
for _column, _what in (
    (Product.producer_id, "products"),
    (RawMaterialArea.producer_id, "raw-material areas"),
    (User.producer_id, "user accounts"),
):
    hooks.refuse_delete_while_referred(
        Producer, _column, _STILL_HAS, f"The producer still has {_what}; remove them first."
    )


# -- products and areas: owned by a producer ----------------------------------------------


def _owner_for_new(session: Session, actor: Principal, data: dict[str, Any]) -> int:
    """The producer a new product or area belongs to: a producer's own, or the admin's choice."""
    if actor.is_producer:
        requested: int | None = data.get("producer_id", actor.producer_id)
        if requested is None or not may_act_for(actor, requested):
            raise Forbidden(
                "Chủ thể chỉ được tạo dữ liệu cho chính mình.",
                "A producer may only create records for its own producer.",
            )
        return requested
    if "producer_id" not in data:
        raise field_error(
            "producer_id", vi="Cần chọn chủ thể.", en="Missing data for required field."
        )
    if session.get(Producer, data["producer_id"]) is None:
        raise field_error("producer_id", vi="Không có chủ thể này.", en="No producer has this id.")
    producer_id: int = data["producer_id"]
    return producer_id


def _check_owner_change(session: Session, actor: Principal, obj: Any, data: dict[str, Any]) -> None:
    if "producer_id" not in data or data["producer_id"] == obj.producer_id:
        return
    if actor.is_producer:
        raise Forbidden(
            "Chủ thể không được chuyển dữ liệu sang chủ thể khác.",
            "A producer may not hand records to another producer.",
        )
    if session.get(Producer, data["producer_id"]) is None:
        raise field_error("producer_id", vi="Không có chủ thể này.", en="No producer has this id.")


PRODUCT_FIELDS = (
    "producer_id",
    "name_vi",
    "name_en",
    "product_group",
    "gtin",
    "description",
    "images",
    "standards",
    "shelf_life_days",
)


def product_query(actor: Principal, args: dict[str, Any]) -> Select[Any]:
    stmt = select(Product).options(selectinload(Product.listings), selectinload(Product.producer))
    stmt = scoped(stmt, actor, Product)
    if "producer_id" in args:
        stmt = stmt.where(Product.producer_id == args["producer_id"])
    if "product_group" in args:
        stmt = stmt.where(Product.product_group == args["product_group"])
    if "district_id" in args:
        stmt = stmt.where(
            Product.producer.has(Producer.commune_id.in_(communes_of_district(args["district_id"])))
        )
    if "has_gtin" in args:
        stmt = stmt.where(Product.gtin.is_not(None) if args["has_gtin"] else Product.gtin.is_(None))
    if "has_listing" in args:
        listed = Product.listings.any()
        stmt = stmt.where(listed if args["has_listing"] else ~listed)
    return _search(stmt, Product, args.get("q")).order_by(Product.id)


def _not_found_product() -> NotFound:
    return NotFound("Không tìm thấy sản phẩm.", "No product has this id.")


def get_product(session: Session, actor: Principal, product_id: int) -> Product:
    return get_owned(session, actor, Product, product_id, _not_found_product)


def _check_gtin_free(session: Session, gtin: str | None, own_id: int | None = None) -> None:
    if gtin is None:
        return
    clash = session.scalar(select(Product.id).where(Product.gtin14 == gtin14(gtin)))
    if clash is not None and clash != own_id:
        raise Conflict(
            "Mã GTIN này đã được dùng cho một sản phẩm khác.",
            "Another product already has this GTIN.",
            errors={"json": {"gtin": ["Already used by another product."]}},
        )


def _product_snapshot(product: Product) -> dict[str, Any]:
    snap = _snapshot(product, PRODUCT_FIELDS)
    snap["listings"] = [{"platform": lst.platform, "url": lst.url} for lst in product.listings]
    return snap


def _set_listings(product: Product, listings: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for item in listings:
        if item["url"] in seen:
            raise field_error(
                "listings",
                vi="Một đường dẫn bán hàng bị lặp lại.",
                en=f"Listed twice: {item['url']}",
            )
        seen.add(item["url"])
    # Keep the rows whose URL stays: replacing them would insert the new row before deleting
    # the old one and trip the (product, url) unique constraint.
    kept = {listing.url: listing for listing in product.listings}
    replacement = []
    for item in listings:
        listing = kept.pop(item["url"], None) or Listing(url=item["url"])
        listing.platform = item["platform"]
        listing.listed_on = item.get("listed_on", listing.listed_on)
        replacement.append(listing)
    product.listings = replacement


def create_product(session: Session, actor: Principal, data: dict[str, Any]) -> Product:
    producer_id = _owner_for_new(session, actor, data)
    _check_gtin_free(session, data.get("gtin"))
    product = Product(**{k: data[k] for k in PRODUCT_FIELDS if k in data})
    product.producer_id = producer_id
    product.gtin14 = gtin14(product.gtin) if product.gtin else None
    _set_listings(product, data.get("listings", []))
    session.add(product)
    session.flush()
    snapshot = _product_snapshot(product)
    record_event(session, actor, Tag.PRODUCT_CREATED, "product", product.id, snapshot)
    _announce(signals.product_changed, session, actor, product, "created", snapshot)
    return product


def update_product(
    session: Session, actor: Principal, product: Product, data: dict[str, Any]
) -> Product:
    _check_owner_change(session, actor, product, data)
    hooks.run_product_checks(session, actor, product, data)
    if "gtin" in data:
        _check_gtin_free(session, data["gtin"], product.id)
    before = _product_snapshot(product)
    for key in PRODUCT_FIELDS:
        if key in data:
            setattr(product, key, data[key])
    product.gtin14 = gtin14(product.gtin) if product.gtin else None
    if "listings" in data:
        _set_listings(product, data["listings"])
    session.flush()
    details = changes(before, _product_snapshot(product))
    record_event(session, actor, Tag.PRODUCT_UPDATED, "product", product.id, details)
    _announce(signals.product_changed, session, actor, product, "updated", details)
    return product


def delete_product(session: Session, actor: Principal, product: Product) -> None:
    hooks.check_not_referred(session, product)
    snapshot = _product_snapshot(product)
    record_event(session, actor, Tag.PRODUCT_DELETED, "product", product.id, snapshot)
    session.delete(product)
    session.flush()
    _announce(signals.product_changed, session, actor, product, "deleted", snapshot)


AREA_FIELDS = (
    "producer_id",
    "name",
    "commune_id",
    "area_ha",
    "crops",
    "certifications",
    "geometry",
)


def area_query(actor: Principal, args: dict[str, Any]) -> Select[Any]:
    stmt = select(RawMaterialArea).options(
        selectinload(RawMaterialArea.producer), selectinload(RawMaterialArea.commune)
    )
    stmt = scoped(stmt, actor, RawMaterialArea)
    if "producer_id" in args:
        stmt = stmt.where(RawMaterialArea.producer_id == args["producer_id"])
    if "commune_id" in args:
        stmt = stmt.where(RawMaterialArea.commune_id == args["commune_id"])
    if "crop" in args:
        crop = like_pattern(fold(args["crop"])).removeprefix("%")
        stmt = stmt.where(RawMaterialArea.crops_key.like(f"%|{crop}", escape="\\"))
    if "certification" in args:
        stmt = stmt.where(_json_contains(RawMaterialArea.certifications, args["certification"]))
    return _search(stmt, RawMaterialArea, args.get("q")).order_by(RawMaterialArea.id)


def _not_found_area() -> NotFound:
    return NotFound("Không tìm thấy vùng nguyên liệu.", "No raw-material area has this id.")


def get_area(session: Session, actor: Principal, area_id: int) -> RawMaterialArea:
    return get_owned(session, actor, RawMaterialArea, area_id, _not_found_area)


def _area_values(data: dict[str, Any]) -> dict[str, Any]:
    values = {k: data[k] for k in AREA_FIELDS if k in data}
    if "area_ha" in values:
        values["area_ha"] = Decimal(str(values["area_ha"])).quantize(Decimal("0.0001"))
    if "certifications" in values:
        values["certifications"] = [
            {**c, "valid_until": c["valid_until"].isoformat() if c.get("valid_until") else None}
            for c in values["certifications"]
        ]
    return values


def create_area(
    session: Session, actor: Principal, data: dict[str, Any], today: date
) -> RawMaterialArea:
    producer_id = _owner_for_new(session, actor, data)
    _require_current_commune(session, data["commune_id"], today)
    area = RawMaterialArea(**_area_values(data))
    area.producer_id = producer_id
    session.add(area)
    session.flush()
    snapshot = _snapshot(area, AREA_FIELDS)
    record_event(session, actor, Tag.AREA_CREATED, "area", area.id, snapshot)
    _announce(signals.area_changed, session, actor, area, "created", snapshot)
    return area


def update_area(
    session: Session, actor: Principal, area: RawMaterialArea, data: dict[str, Any], today: date
) -> RawMaterialArea:
    _check_owner_change(session, actor, area, data)
    if "commune_id" in data and data["commune_id"] != area.commune_id:
        _require_current_commune(session, data["commune_id"], today)
    before = _snapshot(area, AREA_FIELDS)
    for key, value in _area_values(data).items():
        setattr(area, key, value)
    session.flush()
    details = changes(before, _snapshot(area, AREA_FIELDS))
    record_event(session, actor, Tag.AREA_UPDATED, "area", area.id, details)
    _announce(signals.area_changed, session, actor, area, "updated", details)
    return area


def delete_area(session: Session, actor: Principal, area: RawMaterialArea) -> None:
    hooks.check_not_referred(session, area)
    snapshot = _snapshot(area, AREA_FIELDS)
    record_event(session, actor, Tag.AREA_DELETED, "area", area.id, snapshot)
    session.delete(area)
    session.flush()
    _announce(signals.area_changed, session, actor, area, "deleted", snapshot)

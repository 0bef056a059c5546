"""Registry API: administrative units, producers, products, raw-material areas."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from trace_service.api import (
    API_PREFIX,
    ApiBlueprint,
    accepts_files,
    page_schema,
    paginate,
    patch_schema,
)
from trace_service.clock import today_vn
from trace_service.db import begin_write, get_session, writes_late
from trace_service.errors import InvalidInput
from trace_service.principal import ALL_ROLES, Role, current_principal, require_roles
from trace_service.registry import photos, services
from trace_service.registry.models import AdministrativeUnit, Producer, Product, RawMaterialArea
from trace_service.registry.schemas import (
    AdminUnitQuerySchema,
    AdminUnitSchema,
    AreaQuerySchema,
    AreaSchema,
    ProducerQuerySchema,
    ProducerSchema,
    ProductQuerySchema,
    ProductSchema,
)

units = ApiBlueprint(
    "admin_units",
    __name__,
    url_prefix=API_PREFIX,
    description="Provinces, districts and communes, with their history",
)
producers = ApiBlueprint(
    "producers", __name__, url_prefix=API_PREFIX, description="OCOP producers (chủ thể OCOP)"
)
products = ApiBlueprint("products", __name__, url_prefix=API_PREFIX, description="Products")
areas = ApiBlueprint(
    "areas", __name__, url_prefix=API_PREFIX, description="Raw-material areas (vùng nguyên liệu)"
)
WRITERS = (Role.ADMIN, Role.PRODUCER)


@units.route("/admin-units")
@require_roles(*ALL_ROLES)
@units.arguments(AdminUnitQuerySchema, location="query")
@units.response(200, page_schema(AdminUnitSchema))
def list_units(args: dict[str, Any]) -> dict[str, Any]:
    """List administrative units, past and present."""
    return paginate(get_session(), services.unit_query(args), args)


@units.route("/admin-units/<id:unit_id>")
@require_roles(*ALL_ROLES)
@units.response(200, AdminUnitSchema)
def get_unit(unit_id: int) -> AdministrativeUnit:
    """One administrative unit, with its parent and successor."""
    return services.get_unit(get_session(), unit_id)


@units.route("/admin-units", methods=["POST"])
@require_roles(Role.ADMIN)
@units.arguments(AdminUnitSchema)
@units.response(201, AdminUnitSchema)
def create_unit(data: dict[str, Any]) -> AdministrativeUnit:
    """Add an administrative unit."""
    return services.create_unit(get_session(), current_principal(), data)


@units.route("/admin-units/<id:unit_id>", methods=["PATCH"])
@require_roles(Role.ADMIN)
@units.arguments(patch_schema(AdminUnitSchema))
@units.response(200, AdminUnitSchema)
def update_unit(data: dict[str, Any], unit_id: int) -> AdministrativeUnit:
    """Change an administrative unit (e.g. close it and name its successor)."""
    session = get_session()
    return services.update_unit(
        session, current_principal(), services.get_unit(session, unit_id), data
    )


@producers.route("/producers")
@require_roles(*ALL_ROLES)
@producers.arguments(ProducerQuerySchema, location="query")
@producers.response(200, page_schema(ProducerSchema))
def list_producers(args: dict[str, Any]) -> dict[str, Any]:
    """List producers (a producer account sees only its own)."""
    return paginate(get_session(), services.producer_query(current_principal(), args), args)


@producers.route("/producers/<id:producer_id>")
@require_roles(*ALL_ROLES)
@producers.response(200, ProducerSchema)
def get_producer(producer_id: int) -> Producer:
    """One producer."""
    return services.get_producer(get_session(), current_principal(), producer_id)


@producers.route("/producers", methods=["POST"])
@require_roles(Role.ADMIN)
@producers.arguments(ProducerSchema)
@producers.response(201, ProducerSchema)
def create_producer(data: dict[str, Any]) -> Producer:
    """Register a producer."""
    return services.create_producer(get_session(), current_principal(), data, today_vn())


@producers.route("/producers/<id:producer_id>", methods=["PATCH"])
@require_roles(*WRITERS)
@producers.arguments(patch_schema(ProducerSchema))
@producers.response(200, ProducerSchema)
def update_producer(data: dict[str, Any], producer_id: int) -> Producer:
    """Change a producer; a producer may change its own address and contacts."""
    session, actor = get_session(), current_principal()
    producer = services.get_producer(session, actor, producer_id)
    return services.update_producer(session, actor, producer, data, today_vn())


@producers.route("/producers/<id:producer_id>", methods=["DELETE"])
@require_roles(Role.ADMIN)
@producers.response(204)
def delete_producer(producer_id: int) -> None:
    """Remove a producer that has no products, areas or accounts."""
    session, actor = get_session(), current_principal()
    services.delete_producer(session, actor, services.get_producer(session, actor, producer_id))


@products.route("/products")
@require_roles(*ALL_ROLES)
@products.arguments(ProductQuerySchema, location="query")
@products.response(200, page_schema(ProductSchema))
def list_products(args: dict[str, Any]) -> dict[str, Any]:
    """List products (a producer account sees only its own)."""
    return paginate(get_session(), services.product_query(current_principal(), args), args)


@products.route("/products/<id:product_id>")
@require_roles(*ALL_ROLES)
@products.response(200, ProductSchema)
def get_product(product_id: int) -> Product:
    """One product with its e-commerce listings."""
    return services.get_product(get_session(), current_principal(), product_id)


@products.route("/products", methods=["POST"])
@require_roles(*WRITERS)
@products.arguments(ProductSchema)
@products.response(201, ProductSchema)
def create_product(data: dict[str, Any]) -> Product:
    """Add a product."""
    return services.create_product(get_session(), current_principal(), data)


@products.route("/products/<id:product_id>", methods=["PATCH"])
@require_roles(*WRITERS)
@products.arguments(patch_schema(ProductSchema))
@products.response(200, ProductSchema)
def update_product(data: dict[str, Any], product_id: int) -> Product:
    """Change a product; `listings` and `images`, when given, replace the old lists."""
    session, actor = get_session(), current_principal()
    product = services.get_product(session, actor, product_id)
    return services.update_product(session, actor, product, data)


@products.route("/products/<id:product_id>", methods=["DELETE"])
@require_roles(*WRITERS)
@products.response(204)
def delete_product(product_id: int) -> None:
    """Remove a product."""
    session, actor = get_session(), current_principal()
    services.delete_product(session, actor, services.get_product(session, actor, product_id))


class ProductPhotoFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "JPEG, PNG or WebP"})


class PhotoSchema(Schema):
    product_id = fields.Integer()
    url = fields.Function(lambda p: photos.public_path(p.product_id, p.sha256))
    small_url = fields.Function(lambda p: photos.public_path(p.product_id, p.sha256, small=True))
    width = fields.Integer()
    height = fields.Integer()
    sha256 = fields.String(metadata={"description": "Of the JPEG we serve (its ETag)"})
    upload_sha256 = fields.String(metadata={"description": "Of the file as it was uploaded"})
    updated_at = fields.DateTime()


@products.route("/products/<id:product_id>/photo", methods=["PUT"])
@writes_late
@require_roles(*WRITERS)
@products.arguments(ProductPhotoFileSchema, location="files")
@products.response(200, PhotoSchema)
@accepts_files
def put_photo(files: dict[str, Any], product_id: int) -> photos.ProductPhoto:
    """Set the product's photo (multipart `file`: JPEG, PNG or WebP, within the upload cap).
    It is checked and drawn again by us (480 px wide, and 160 px), with none of the file's
    metadata; the label page shows it. Replaces any earlier photo; audited."""
    extra = [name for name in (*request.form, *request.files) if name != "file"]
    if extra:
        raise InvalidInput(
            "Chỉ gửi một tệp ảnh, trong trường `file`.",
            "Send only the image, in the field `file`.",
            errors={"form": {name: ["Unknown field."] for name in extra}},
        )
    # Decoded and drawn before the write begins: SQLite's write lock is the whole
    # database's, and a large photo takes a while.
    drawn = photos.draw_photo(files["file"].read(), photos.max_photo_bytes())
    session = get_session()
    begin_write(session)
    return photos.set_photo(session, current_principal(), product_id, drawn)


@products.route("/products/<id:product_id>/photo")
@require_roles(*ALL_ROLES)
@products.response(200, PhotoSchema)
def get_photo(product_id: int) -> photos.ProductPhoto:
    """The product's photo: its public URLs and size."""
    return photos.get_photo(get_session(), current_principal(), product_id)


@products.route("/products/<id:product_id>/photo", methods=["DELETE"])
@require_roles(*WRITERS)
@products.response(204)
def delete_photo(product_id: int) -> None:
    """Remove the product's photo; audited."""
    photos.delete_photo(get_session(), current_principal(), product_id)


@areas.route("/areas")
@require_roles(*ALL_ROLES)
@areas.arguments(AreaQuerySchema, location="query")
@areas.response(200, page_schema(AreaSchema))
def list_areas(args: dict[str, Any]) -> dict[str, Any]:
    """List raw-material areas (a producer account sees only its own)."""
    return paginate(get_session(), services.area_query(current_principal(), args), args)


@areas.route("/areas/<id:area_id>")
@require_roles(*ALL_ROLES)
@areas.response(200, AreaSchema)
def get_area(area_id: int) -> RawMaterialArea:
    """One raw-material area with its geometry."""
    return services.get_area(get_session(), current_principal(), area_id)


@areas.route("/areas", methods=["POST"])
@require_roles(*WRITERS)
@areas.arguments(AreaSchema)
@areas.response(201, AreaSchema)
def create_area(data: dict[str, Any]) -> RawMaterialArea:
    """Add a raw-material area."""
    return services.create_area(get_session(), current_principal(), data, today_vn())


@areas.route("/areas/<id:area_id>", methods=["PATCH"])
@require_roles(*WRITERS)
@areas.arguments(patch_schema(AreaSchema))
@areas.response(200, AreaSchema)
def update_area(data: dict[str, Any], area_id: int) -> RawMaterialArea:
    """Change a raw-material area."""
    session, actor = get_session(), current_principal()
    area = services.get_area(session, actor, area_id)
    return services.update_area(session, actor, area, data, today_vn())


@areas.route("/areas/<id:area_id>", methods=["DELETE"])
@require_roles(*WRITERS)
@areas.response(204)
def delete_area(area_id: int) -> None:
    """Remove a raw-material area."""
    session, actor = get_session(), current_principal()
    services.delete_area(session, actor, services.get_area(session, actor, area_id))


BLUEPRINTS = (units, producers, products, areas)

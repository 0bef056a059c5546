"""Shapes of registry data in the API. Uniqueness and state rules live in the services."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_dump,
    validate,
    validates,
    validates_schema,
)

from trace_service.api import PageArgs
from trace_service.fields import Id, StrictFloat, Text
from trace_service.registry.enums import (
    PLATFORM_HOSTS,
    CertificationScheme,
    Platform,
    ProducerKind,
    ProductGroup,
    UnitLevel,
)
from trace_service.registry.validators import (
    normalise_phone,
    normalise_registration_code,
    validate_geometry,
    validate_gtin,
)


def _text(max_length: int, **kwargs: Any) -> Text:
    return Text(validate=validate.Length(min=1, max=max_length), **kwargs)


class UnitRefSchema(Schema):
    id = fields.Integer()
    code = fields.String(allow_none=True)
    name = fields.String()


class ProducerRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class AdminUnitSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = _text(16, allow_none=True)
    name = _text(120, required=True)
    level = fields.Enum(UnitLevel, by_value=True, required=True)
    parent_id = Id(allow_none=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True)
    successor_id = Id(allow_none=True)
    lat = StrictFloat(allow_none=True, validate=validate.Range(min=-90, max=90))
    lon = StrictFloat(allow_none=True, validate=validate.Range(min=-180, max=180))
    parent = fields.Nested(UnitRefSchema, dump_only=True, allow_none=True)
    successor = fields.Nested(UnitRefSchema, dump_only=True, allow_none=True)


class AdminUnitQuerySchema(PageArgs):
    level = fields.Enum(UnitLevel, by_value=True)
    parent_id = Id(strict=False)
    valid_on = fields.Date(metadata={"description": "Only units valid on this day (ISO 8601)"})
    q = Text(validate=validate.Length(max=100), metadata={"description": "Name or code"})


class ProducerSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.Enum(ProducerKind, by_value=True, required=True)
    name = _text(255, required=True)
    registration_code = _text(
        32, required=True, metadata={"description": "Business registration number or tax code"}
    )
    address = _text(500, required=True)
    commune_id = Id(required=True)
    representative = _text(200, required=True)
    phone = Text(allow_none=True, validate=validate.Length(max=30))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    commune = fields.Nested(UnitRefSchema, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @post_load
    def _normalise(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        try:
            if data.get("registration_code"):
                data["registration_code"] = normalise_registration_code(data["registration_code"])
        except ValidationError as exc:
            raise ValidationError(exc.messages, "registration_code") from exc
        try:
            if "phone" in data:  # blank clears the number
                data["phone"] = normalise_phone(data["phone"]) if data["phone"] else None
        except ValidationError as exc:
            raise ValidationError(exc.messages, "phone") from exc
        return data


class ProducerQuerySchema(PageArgs):
    kind = fields.Enum(ProducerKind, by_value=True)
    commune_id = Id(strict=False)
    district_id = Id(strict=False, metadata={"description": "Communes of this district"})
    q = Text(validate=validate.Length(max=100), metadata={"description": "Name, code or person"})


class ListingSchema(Schema):
    platform = fields.Enum(Platform, by_value=True, required=True)
    url = fields.URL(required=True, schemes={"https"}, validate=validate.Length(max=2000))
    listed_on = fields.Date(
        allow_none=True,
        metadata={"description": "The day it went on sale there (the plan board counts by it)"},
    )

    @validates_schema
    def _on_the_platforms_own_host(self, data: dict[str, Any], **_: Any) -> None:
        hosts = PLATFORM_HOSTS.get(data.get("platform"))  # type: ignore[arg-type]
        host = (urlsplit(data.get("url", "")).hostname or "").lower()
        if hosts and not any(host == h or host.endswith(f".{h}") for h in hosts):
            raise ValidationError(
                f"A {data['platform'].value} listing is on {' or '.join(hosts)}.", "url"
            )


class ImageSchema(Schema):
    url = fields.URL(required=True, schemes={"http", "https"}, validate=validate.Length(max=2000))
    caption = Text(validate=validate.Length(max=200), allow_none=True)


class ProductSchema(Schema):
    id = fields.Integer(dump_only=True)
    producer_id = Id(
        metadata={"description": "Required for admins; a producer's own products by default"},
    )
    producer = fields.Nested(ProducerRefSchema, dump_only=True)
    name_vi = _text(255, required=True)
    name_en = _text(255, allow_none=True)
    product_group = fields.Enum(ProductGroup, by_value=True, required=True)
    gtin = fields.String(
        allow_none=True,
        validate=validate_gtin,
        metadata={"description": "GTIN-8, -12, -13 or -14 with its check digit"},
    )
    description = Text(multiline=True, allow_none=True, validate=validate.Length(max=5000))
    images = fields.List(fields.Nested(ImageSchema), validate=validate.Length(max=20))
    standards = fields.List(_text(200), validate=validate.Length(max=20))
    shelf_life_days = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=3650)
    )
    listings = fields.List(fields.Nested(ListingSchema), validate=validate.Length(max=50))
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class ProductQuerySchema(PageArgs):
    producer_id = Id(strict=False)
    product_group = fields.Enum(ProductGroup, by_value=True)
    district_id = Id(
        strict=False, metadata={"description": "Products of producers in this district"}
    )
    has_gtin = fields.Boolean()
    has_listing = fields.Boolean()
    q = Text(validate=validate.Length(max=100), metadata={"description": "Name or GTIN"})


class CertificationSchema(Schema):
    scheme = fields.Enum(CertificationScheme, by_value=True, required=True)
    reference = Text(allow_none=True, validate=validate.Length(max=100))
    valid_until = fields.Date(allow_none=True)

    @pre_dump
    def _from_json_column(self, stored: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        """Certifications are kept as plain JSON; give the fields back their types."""
        valid_until = stored.get("valid_until")
        return {
            **stored,
            "scheme": CertificationScheme(stored["scheme"]),
            "valid_until": date.fromisoformat(valid_until) if valid_until else None,
        }


class AreaSchema(Schema):
    id = fields.Integer(dump_only=True)
    producer_id = Id()
    producer = fields.Nested(ProducerRefSchema, dump_only=True)
    name = _text(255, required=True)
    commune_id = Id(required=True)
    commune = fields.Nested(UnitRefSchema, dump_only=True)
    area_ha = StrictFloat(
        required=True,
        # Stored with 4 decimals: anything smaller would be kept as 0 ha.
        validate=validate.Range(min=0.0001, max=1_000_000),
        metadata={"description": "Size in hectares"},
    )
    crops = fields.List(_text(100), validate=validate.Length(max=50))
    certifications = fields.List(
        fields.Nested(CertificationSchema), validate=validate.Length(max=20)
    )
    geometry = fields.Dict(
        allow_none=True,
        metadata={"description": "GeoJSON Point or Polygon in WGS84, positions [lon, lat]"},
    )
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @validates("geometry")
    def _geometry(self, value: dict[str, Any] | None, **_kwargs: Any) -> None:
        if value is not None:
            validate_geometry(value)


class AreaQuerySchema(PageArgs):
    producer_id = Id(strict=False)
    commune_id = Id(strict=False)
    crop = Text(validate=validate.Length(max=100))
    certification = fields.Enum(CertificationScheme, by_value=True)
    q = Text(validate=validate.Length(max=100))

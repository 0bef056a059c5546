"""Format rules of registry data: GTIN check digits, GeoJSON geometry, phone numbers.

Each validator raises ``marshmallow.ValidationError`` with a message a person can act on, so
schemas can use them directly and the API reports them as field errors (422).
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError

from trace_service.fields import is_finite_number

GTIN_LENGTHS = (8, 12, 13, 14)
MAX_GEOMETRY_POSITIONS = 10_000


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of the digits before it: weights 3, 1, 3, … from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def validate_gtin(value: str) -> None:
    if not value.isascii() or not value.isdigit() or len(value) not in GTIN_LENGTHS:
        raise ValidationError("A GTIN has 8, 12, 13 or 14 digits and nothing else.")
    expected = gtin_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise ValidationError(
            f"Wrong GTIN check digit: {value[:-1]} must end in {expected}, not {value[-1]}."
        )


def gtin14(value: str) -> str:
    return value.zfill(14)


_PHONE = re.compile(r"^(?:\+84|0)[1-9][0-9]{8,9}$")  # ASCII digits only


def normalise_phone(value: str) -> str:
    compact = re.sub(r"[\s.\-()]", "", value)
    if not _PHONE.match(compact):
        raise ValidationError(
            "Give a Vietnamese phone number: 0 or +84, then 9 or 10 digits (e.g. 0261 3544 123)."
        )
    return compact


_REGISTRATION = re.compile(r"^[0-9A-Z][0-9A-Z./\-]{4,31}$")


def normalise_registration_code(value: str) -> str:
    compact = value.strip().upper()
    if not _REGISTRATION.match(compact):
        raise ValidationError(
            "Give the business registration number or tax code as printed "
            "(5–32 letters, digits, '-', '/' or '.'), e.g. 6400123456 or 6400123456-001."
        )
    return compact


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and is_finite_number(value)
    )


def _check_position(position: Any, where: str) -> tuple[float, float]:
    if not isinstance(position, list) or len(position) not in (2, 3):
        raise ValidationError(f"{where}: a position is [longitude, latitude(, altitude)].")
    if not all(_is_number(v) for v in position):
        raise ValidationError(f"{where}: coordinates must be finite numbers.")
    lon, lat = position[0], position[1]
    if not -180 <= lon <= 180:
        raise ValidationError(f"{where}: longitude {lon} is outside -180..180.")
    if not -90 <= lat <= 90:
        hint = " (GeoJSON puts longitude first: [lon, lat])" if -180 <= lat <= 180 else ""
        raise ValidationError(f"{where}: latitude {lat} is outside -90..90{hint}.")
    return lon, lat


def validate_geometry(geometry: Any) -> None:
    """A GeoJSON (RFC 7946) Point or Polygon in WGS84 with closed rings of at least 4 positions."""
    if not isinstance(geometry, dict):
        raise ValidationError("Geometry must be a GeoJSON object.")
    unknown = set(geometry) - {"type", "coordinates", "bbox"}
    if unknown:
        raise ValidationError(f"Unknown geometry members: {', '.join(sorted(unknown))}.")
    if "bbox" in geometry:
        bbox = geometry["bbox"]
        if not (isinstance(bbox, list) and len(bbox) in (4, 6) and all(map(_is_number, bbox))):
            raise ValidationError("bbox must be 4 or 6 finite numbers.")
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Point":
        _check_position(coordinates, "Point")
        return
    if kind != "Polygon":
        raise ValidationError("Geometry type must be 'Point' or 'Polygon'.")
    if not isinstance(coordinates, list) or not coordinates:
        raise ValidationError("Polygon: coordinates must be a list of linear rings.")
    positions = 0
    for index, ring in enumerate(coordinates):
        where = "Polygon exterior ring" if index == 0 else f"Polygon hole {index}"
        if not isinstance(ring, list) or len(ring) < 4:
            raise ValidationError(f"{where}: a ring needs at least 4 positions.")
        positions += len(ring)
        if positions > MAX_GEOMETRY_POSITIONS:
            raise ValidationError(f"Polygon: more than {MAX_GEOMETRY_POSITIONS} positions.")
        points = [_check_position(p, where) for p in ring]
        if points[0] != points[-1]:
            raise ValidationError(f"{where} is not closed: its last position must equal its first.")
        if len(set(points)) < 3:
            raise ValidationError(f"{where} has fewer than 3 distinct positions.")

"""Unit tests of the registry's format rules: GTIN check digits, GeoJSON geometry, phone
numbers, registration codes and the diacritic-free search key."""

from __future__ import annotations

import unicodedata

import pytest
from marshmallow import ValidationError

from trace_service.registry.validators import (
    MAX_GEOMETRY_POSITIONS,
    gtin14,
    gtin_check_digit,
    normalise_phone,
    normalise_registration_code,
    validate_geometry,
    validate_gtin,
)
from trace_service.text import fold

# Real GTINs whose check digits were computed by hand with the GS1 algorithm (weights 3, 1, 3…
# from the right of the digits before the check digit) and cross-checked by padding to 17 digits
# and weighting 3, 1, 3… from the left.
KNOWN_GTINS = [
    pytest.param("4006381333931", id="GS1-example-GTIN-13"),
    pytest.param("8934563138165", id="Vietnamese-893-GTIN-13"),
    pytest.param("5901234123457", id="GTIN-13"),
    pytest.param("036000291452", id="UPC-A-GTIN-12"),
    pytest.param("96385074", id="EAN-8"),
    pytest.param("12345670", id="EAN-8-sequence"),
    pytest.param("00012345600012", id="GTIN-14"),
    pytest.param("10614141000415", id="GTIN-14-case-indicator-1"),
]


def _gs1_check_digit_from_the_left(body: str) -> int:
    """An independent statement of the same rule, so the tests do not just copy the code."""
    padded = body.zfill(17)
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(padded))
    return (10 - total % 10) % 10


# -- gtin_check_digit ------------------------------------------------------------------------


@pytest.mark.parametrize("gtin", KNOWN_GTINS)
def test_what_check_digit_does_a_known_real_gtin_end_in(gtin):
    assert gtin_check_digit(gtin[:-1]) == int(gtin[-1])
    assert _gs1_check_digit_from_the_left(gtin[:-1]) == int(gtin[-1])


def test_does_gs1s_own_example_4006381333931_end_in_1():
    assert gtin_check_digit("400638133393") == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [("0000000", 0), ("1", 7), ("12", 3), ("89300000000", 8), ("1234567", 0), ("9999999", 5)],
)
def test_what_check_digit_do_short_or_degenerate_bodies_get(body, expected):
    assert gtin_check_digit(body) == expected
    assert gtin_check_digit(body) == _gs1_check_digit_from_the_left(body)


@pytest.mark.parametrize("body", ["893456313816", "40063813339", "0614141000041", "9638507"])
def test_are_leading_zeros_irrelevant_to_the_check_digit(body):
    assert gtin_check_digit(body) == gtin_check_digit("0" + body) == gtin_check_digit("00" + body)


# -- validate_gtin ----------------------------------------------------------------------------


@pytest.mark.parametrize("gtin", KNOWN_GTINS)
def test_is_a_valid_gtin_of_8_12_13_or_14_digits_accepted(gtin):
    validate_gtin(gtin)  # no exception


@pytest.mark.parametrize(
    ("gtin", "expected"),
    [
        ("96385075", 4),
        ("036000291453", 2),
        ("4006381333932", 1),
        ("8934563138160", 5),
        ("10614141000416", 5),
    ],
)
def test_a_gtin_with_a_wrong_check_digit_is_refused_with_the_digit_expected(gtin, expected):
    with pytest.raises(ValidationError) as caught:
        validate_gtin(gtin)
    message = caught.value.messages[0]
    assert message == (
        f"Wrong GTIN check digit: {gtin[:-1]} must end in {expected}, not {gtin[-1]}."
    )


@pytest.mark.parametrize(
    "gtin",
    [
        pytest.param("", id="empty"),
        pytest.param("1234565", id="7-digits"),
        pytest.param("123456789", id="9-digits"),
        pytest.param("1234567890", id="10-digits"),
        pytest.param("12345678901", id="11-digits"),
        pytest.param("123456789012345", id="15-digits"),
        pytest.param("400638133393X", id="letter"),
        pytest.param("4006-3813-3393-1", id="dashes"),
        pytest.param("4006381 333931", id="space"),
        pytest.param(" 4006381333931", id="leading-space"),
        pytest.param("+4006381333931", id="sign"),
        pytest.param("40063813339３1", id="fullwidth-digit"),
        pytest.param("٤٠٠٦٣٨١٣٣٣٩٣١", id="arabic-indic-digits"),
        pytest.param("4006381333²31", id="superscript-digit"),
    ],
)
def test_is_a_gtin_with_the_wrong_length_or_non_digits_refused(gtin):
    with pytest.raises(ValidationError, match="8, 12, 13 or 14 digits"):
        validate_gtin(gtin)


@pytest.mark.parametrize(
    ("gtin", "padded"),
    [
        ("96385074", "00000096385074"),
        ("036000291452", "00036000291452"),
        ("4006381333931", "04006381333931"),
        ("10614141000415", "10614141000415"),
    ],
)
def test_is_every_gtin_compared_as_its_14_digit_form(gtin, padded):
    assert gtin14(gtin) == padded
    assert gtin_check_digit(padded[:-1]) == int(padded[-1])


# -- validate_geometry -----------------------------------------------------------------------

SQUARE = [[107.60, 12.40], [107.61, 12.40], [107.61, 12.41], [107.60, 12.41], [107.60, 12.40]]
HOLE = [[107.602, 12.402], [107.604, 12.402], [107.604, 12.404], [107.602, 12.402]]


def polygon(*rings):
    return {"type": "Polygon", "coordinates": list(rings)}


def ring_of(n: int) -> list[list[float]]:
    """A closed ring of exactly ``n`` positions (n - 1 distinct points on a small circle)."""
    points = [[107.6 + (i % 1000) * 1e-5, 12.4 + (i // 1000) * 1e-5] for i in range(n - 1)]
    return [*points, points[0]]


@pytest.mark.parametrize(
    "geometry",
    [
        pytest.param({"type": "Point", "coordinates": [107.62, 12.45]}, id="point"),
        pytest.param({"type": "Point", "coordinates": [107, 12]}, id="integer-point"),
        pytest.param({"type": "Point", "coordinates": [107.62, 12.45, 650.0]}, id="3d-point"),
        pytest.param({"type": "Point", "coordinates": [180, 90]}, id="corner-max"),
        pytest.param({"type": "Point", "coordinates": [-180, -90]}, id="corner-min"),
        pytest.param(polygon(SQUARE), id="closed-square"),
        pytest.param(polygon([*SQUARE[:3], SQUARE[0]]), id="triangle-of-4-positions"),
        pytest.param(polygon(SQUARE, HOLE), id="with-hole"),
        pytest.param(polygon([[*p, 600.0] for p in SQUARE]), id="3d-polygon"),
        pytest.param(
            {"type": "Polygon", "coordinates": [SQUARE], "bbox": [107.6, 12.4, 107.61, 12.41]},
            id="with-bbox",
        ),
        pytest.param(polygon(ring_of(MAX_GEOMETRY_POSITIONS)), id="exactly-10000-positions"),
    ],
)
def test_is_a_well_formed_point_or_polygon_accepted(geometry):
    validate_geometry(geometry)  # no exception


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        pytest.param([107.6, 12.4], "GeoJSON object", id="not-an-object"),
        pytest.param("POINT(107.6 12.4)", "GeoJSON object", id="wkt-string"),
        pytest.param({"coordinates": [107.6, 12.4]}, "'Point' or 'Polygon'", id="no-type"),
        pytest.param(
            {"type": "point", "coordinates": [107.6, 12.4]}, "'Point' or 'Polygon'", id="lowercase"
        ),
        pytest.param(
            {"type": "LineString", "coordinates": SQUARE}, "'Point' or 'Polygon'", id="linestring"
        ),
        pytest.param(
            {"type": "MultiPolygon", "coordinates": [[SQUARE]]},
            "'Point' or 'Polygon'",
            id="multipolygon",
        ),
        pytest.param(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [107.6, 12.4]}},
            "Unknown geometry members: geometry",
            id="feature",
        ),
        pytest.param(
            {"type": "Point", "coordinates": [107.6, 12.4], "properties": {}},
            "Unknown geometry members: properties",
            id="extra-member",
        ),
        pytest.param({"type": "Point"}, "a position is", id="point-without-coordinates"),
        pytest.param({"type": "Point", "coordinates": [107.6]}, "a position is", id="1d"),
        pytest.param(
            {"type": "Point", "coordinates": [107.6, 12.4, 1, 2]}, "a position is", id="4d"
        ),
        pytest.param(
            {"type": "Point", "coordinates": {"lon": 107.6, "lat": 12.4}},
            "a position is",
            id="position-as-object",
        ),
        pytest.param(
            {"type": "Point", "coordinates": [True, False]}, "finite numbers", id="booleans"
        ),
        pytest.param(
            {"type": "Point", "coordinates": [107.6, True]}, "finite numbers", id="one-boolean"
        ),
        pytest.param(
            {"type": "Point", "coordinates": ["107.6", "12.4"]}, "finite numbers", id="strings"
        ),
        pytest.param({"type": "Point", "coordinates": [107.6, None]}, "finite numbers", id="null"),
        pytest.param(
            {"type": "Point", "coordinates": [float("nan"), 12.4]}, "finite numbers", id="nan"
        ),
        pytest.param(
            {"type": "Point", "coordinates": [107.6, float("inf")]}, "finite numbers", id="inf"
        ),
        pytest.param(
            {"type": "Point", "coordinates": [180.0001, 12.4]},
            "longitude 180.0001 is outside -180..180",
            id="longitude-out-of-range",
        ),
        pytest.param(
            {"type": "Point", "coordinates": [107.6, -90.5]},
            "latitude -90.5 is outside -90..90",
            id="latitude-out-of-range",
        ),
        pytest.param(
            {"type": "Point", "coordinates": [12.45, 107.62]},
            "GeoJSON puts longitude first",
            id="lat-lon-swapped",
        ),
        pytest.param(polygon(), "list of linear rings", id="polygon-without-rings"),
        pytest.param(
            {"type": "Polygon", "coordinates": "ring"}, "list of linear rings", id="rings-string"
        ),
        pytest.param(polygon(SQUARE[:3]), "at least 4 positions", id="3-positions"),
        pytest.param(polygon([*SQUARE[:4], [107.600001, 12.40]]), "is not closed", id="open-ring"),
        pytest.param(polygon(SQUARE[:-1]), "is not closed", id="open-ring-of-4"),
        pytest.param(
            polygon([SQUARE[0], SQUARE[1], SQUARE[0], SQUARE[0]]),
            "fewer than 3 distinct positions",
            id="degenerate-ring",
        ),
        pytest.param(
            polygon(SQUARE, [*HOLE[:-1], [107.603, 12.403]]),
            "Polygon hole 1 is not closed",
            id="open-hole",
        ),
        pytest.param(polygon(SQUARE, "hole"), "Polygon hole 1: a ring needs", id="hole-string"),
        pytest.param(
            polygon([[lat, lon] for lon, lat in SQUARE]),
            "GeoJSON puts longitude first",
            id="polygon-lat-lon-swapped",
        ),
        pytest.param(
            polygon([*SQUARE[:2], [107.61, True], SQUARE[0]]), "finite numbers", id="bool-in-ring"
        ),
        pytest.param(
            polygon(ring_of(MAX_GEOMETRY_POSITIONS + 1)),
            "more than 10000 positions",
            id="10001-positions",
        ),
        pytest.param(
            polygon(ring_of(MAX_GEOMETRY_POSITIONS - 2), HOLE),
            "more than 10000 positions",
            id="10002-positions-with-hole",
        ),
    ],
)
def test_is_a_malformed_geometry_refused_with_a_message_saying_why(geometry, message):
    with pytest.raises(ValidationError) as caught:
        validate_geometry(geometry)
    assert message in caught.value.messages[0]


def test_does_a_latitude_beyond_180_get_no_swapped_coordinates_hint():
    with pytest.raises(ValidationError) as caught:
        validate_geometry({"type": "Point", "coordinates": [107.6, 200]})
    assert caught.value.messages[0] == "Point: latitude 200 is outside -90..90."


@pytest.mark.parametrize(
    "bbox",
    [
        pytest.param("hello", id="string"),
        pytest.param([107.6, 12.4], id="too-short"),
        pytest.param([107.6, 12.4, "a\x00", 12.5], id="non-number"),
    ],
)
def test_is_a_bbox_that_is_not_numbers_refused(bbox):
    with pytest.raises(ValidationError, match="bbox"):
        validate_geometry({"type": "Point", "coordinates": [107.6, 12.4], "bbox": bbox})


# -- normalise_phone -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("0261 3544 123", "02613544123"),
        ("0261.3544.123", "02613544123"),
        ("(0261) 3544-123", "02613544123"),
        ("0912 345 678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("+84 261 3544 123", "+842613544123"),
        ("\t0912345678 ", "0912345678"),
    ],
)
def test_how_is_a_vietnamese_phone_number_written_down(raw, normalised):
    assert normalise_phone(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("abc", id="letters"),
        pytest.param("12345", id="too-short"),
        pytest.param("091234567", id="9-digits-after-0-is-too-short"),
        pytest.param("091234567890", id="too-long"),
        pytest.param("0012345678", id="0-then-0"),
        pytest.param("+84 0912 345 678", id="plus84-then-0"),
        pytest.param("+1 202 555 0100", id="foreign"),
        pytest.param("84912345678", id="84-without-plus"),
        pytest.param("0912 345 678 ext 1", id="extension"),
        pytest.param("０９１２３４５６７８", id="fullwidth-digits"),
        pytest.param("0912/345/678", id="slashes"),
    ],
)
def test_is_a_phone_number_that_is_not_vietnamese_refused_with_an_example(raw):
    with pytest.raises(ValidationError, match=r"e\.g\. 0261 3544 123"):
        normalise_phone(raw)


def test_is_a_phone_with_full_width_digits_refused_or_stored_in_ascii():
    try:
        normalised = normalise_phone("09１２ 345 678")
    except ValidationError:
        return
    assert normalised == "0912345678"


# -- normalise_registration_code -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("6400123456", "6400123456"),
        (" 6400123456 ", "6400123456"),
        ("6400123456-001", "6400123456-001"),
        ("0101abc/xy", "0101ABC/XY"),
        ("64.01.000123", "64.01.000123"),
        ("12345", "12345"),
        ("1" * 32, "1" * 32),
    ],
)
def test_how_is_a_registration_code_written_down(raw, normalised):
    assert normalise_registration_code(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("1234", id="4-characters"),
        pytest.param("1" * 33, id="33-characters"),
        pytest.param("-6400123456", id="starts-with-dash"),
        pytest.param("/6400123456", id="starts-with-slash"),
        pytest.param("6400 123 456", id="inner-spaces"),
        pytest.param("6400_123456", id="underscore"),
        pytest.param("ĐKKD640012", id="vietnamese-letter"),
        pytest.param("6400\t123456", id="inner-tab"),
    ],
)
def test_is_a_malformed_registration_code_refused_with_an_example(raw):
    with pytest.raises(ValidationError, match=r"e\.g\. 6400123456"):
        normalise_registration_code(raw)


# -- fold ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Cà phê Đắk Mil", "ca phe dak mil"),
        ("Cà phê  Đắk   Mil", "ca phe dak mil"),
        ("  Cà phê Đắk Mil\t\n", "ca phe dak mil"),
        ("CÀ PHÊ ĐẮK MIL", "ca phe dak mil"),
        ("đ Đ", "d d"),
        ("Hồ tiêu Chư Sê", "ho tieu chu se"),
        ("Mắc ca Tuy Đức", "mac ca tuy duc"),
        ("Sầu riêng Ri6", "sau rieng ri6"),
        ("Ươi, ướt, ượng", "uoi, uot, uong"),
        ("", ""),
    ],
)
def test_does_a_search_match_with_or_without_diacritics(text, folded):
    assert fold(text) == folded


def test_do_composed_and_decomposed_diacritics_fold_the_same():
    text = "Cà phê Đắk Mil Hộ kinh doanh"
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    assert fold(decomposed) == fold(text) == "ca phe dak mil ho kinh doanh"


def test_is_folding_idempotent():
    once = fold("Trà Ô Long Cầu Đất")
    assert fold(once) == once == "tra o long cau dat"

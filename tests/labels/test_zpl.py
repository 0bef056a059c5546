"""ZPL for thermal printers, checked by interpreting what we emit: the labels are composited
dot by dot the way a printer would, then scanned."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import numpy as np
import pytest
import qrcode
from PIL import Image

from tests.decode import read_qr_codes
from trace_service.labels.art import QUIET_ZONE_MODULES, LabelArt, StampFacts
from trace_service.labels.render.zpl import (
    STATIC_GRAPHIC,
    Box,
    render_static,
    render_zpl,
    thermal_layout,
)

BASE = "HTTPS://TEM.OCOP.SOKHOAHOCCONGNGHE.DAKNONG.VN/01/08935012345678/10/DM2507-RB1/21/"
FACTS = StampFacts(
    star=4,
    product_name="Cà phê Robusta rang xay Đắk Mil",
    producer_name="Hợp tác xã Nông nghiệp Dịch vụ Đức Lập",
    certificate_number="123/QĐ-UBND",
    valid_until=date(2027, 12, 31),
)
CODES = ["7K3M9-QXA2B-CDEF4", "A1B2C-D3E4F-G5H6J", "ZZZZZ-00000-99999"]


@cache
def _matrix(url: str) -> np.ndarray:
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    q.add_data(url)
    q.make(fit=True)
    return np.array(q.get_matrix(), dtype=bool)


def _label(i: int, scratch: str | None = None, code: str | None = None) -> LabelArt:
    serial = CODES[i % len(CODES)]
    digits = "".join(str((i * 7 + k * 13) % 10) for k in range(186))
    url = f"{BASE}{serial.replace('-', '')}?S={digits}"
    return LabelArt(url, code or serial, _matrix(url), scratch)


# --- a small ZPL interpreter: only the commands render_zpl emits -----------------------------


@dataclass
class Printed:
    width: int = 0
    height: int = 0
    encoding: str = ""
    home: str = ""
    recalls: int = 0
    graphics: list[tuple[Box, np.ndarray]] = field(default_factory=list)  # drawn bitmaps
    texts: list[tuple[Box, str]] = field(default_factory=list)  # printer-font fields

    def fields(self) -> list[Box]:
        return [box for box, _ in self.graphics] + [box for box, _ in self.texts]

    def composite(self) -> np.ndarray:
        canvas = np.zeros((self.height, self.width), dtype=bool)
        for box, bits in self.graphics:
            canvas[box.y : box.y + box.h, box.x : box.x + box.w] |= bits
        return canvas


def _decompress(data: str, total: int, per_row: int) -> np.ndarray:
    """ZPL ASCII hex with ':' (repeat the previous row) and ',' (rest of the row is white)."""
    rows: list[str] = []
    current = ""
    for ch in data:
        if ch == ":":
            assert current == "" and rows, "':' must follow a complete row"
            rows.append(rows[-1])
        elif ch == ",":
            rows.append(current.ljust(2 * per_row, "0"))
            current = ""
        else:
            assert ch in "0123456789ABCDEF", f"unexpected {ch!r} in graphic data"
            current += ch
            if len(current) == 2 * per_row:
                rows.append(current)
                current = ""
    assert current == "" and len(rows) * per_row == total
    packed = np.frombuffer(bytes.fromhex("".join(rows)), dtype=np.uint8)
    return np.unpackbits(packed.reshape(len(rows), per_row), axis=1).astype(bool)


def _interpret(zpl: str) -> tuple[dict[str, np.ndarray], int, list[Printed]]:
    stored: dict[str, np.ndarray] = {}
    downloads = 0
    labels: list[Printed] = []
    label: Printed | None = None
    origin = (0, 0)
    font_h = block_w = block_lines = 0
    for prefix, name, params in re.findall(r"([\^~])([A-Z][A-Z0-9])([^^~]*)", zpl):
        params = params.rstrip("\n")
        command = prefix + name
        if command == "~DG":
            graphic, total, per_row, data = params.split(",", 3)
            stored[graphic] = _decompress(data, int(total), int(per_row))
            downloads += 1
            continue
        if command == "^XA":
            label = Printed()
            continue
        assert label is not None, f"{command} outside ^XA…^XZ"
        if command == "^XZ":
            labels.append(label)
            label = None
        elif command == "^CI":
            label.encoding = params
        elif command == "^PW":
            label.width = int(params)
        elif command == "^LL":
            label.height = int(params)
        elif command == "^LH":
            label.home = params
        elif command == "^FO":
            x, y = map(int, params.split(","))
            origin = (x, y)
        elif command == "^XG":
            graphic, mx, my = params.split(",")
            assert (mx, my) == ("1", "1")
            bits = stored[graphic]
            label.graphics.append((Box(*origin, bits.shape[1], bits.shape[0]), bits))
            label.recalls += 1
        elif command == "^GF":
            kind, total, count, per_row, data = params.split(",", 4)
            assert kind == "A" and total == count
            bits = _decompress(data, int(total), int(per_row))
            label.graphics.append((Box(*origin, bits.shape[1], bits.shape[0]), bits))
        elif command == "^A0":
            orientation, h, _w = params.split(",")
            assert orientation == "N"
            font_h = int(h)
        elif command == "^FB":
            width, lines, _spacing, _justify = params.split(",")
            block_w, block_lines = int(width), int(lines)
        elif command == "^FD":
            label.texts.append((Box(*origin, block_w, font_h * block_lines), params))
        else:
            assert command == "^FS", f"unexpected {command}"
    assert label is None, "the last label is not closed"
    return stored, downloads, labels


def _zpl(labels: list[LabelArt], dpi: int, facts: StampFacts = FACTS) -> str:
    out = io.StringIO()
    assert render_zpl(facts, labels, out, dpi=dpi) == len(labels)
    return out.getvalue()


def _overlaps(a: Box, b: Box) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


# --- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dpi", [203, 300])
def test_every_label_decodes_to_its_url_at_203_and_300_dpi(dpi: int) -> None:
    labels = [_label(i) for i in range(3)]
    _, _, printed = _interpret(_zpl(labels, dpi))
    assert len(printed) == len(labels)
    for label, page in zip(labels, printed, strict=True):
        image = Image.fromarray(~page.composite())  # True = ink = black
        results = read_qr_codes(image)
        assert [r.text for r in results] == [label.url]


@pytest.mark.parametrize(("dpi", "dots"), [(203, 4), (300, 5)])
def test_is_every_module_a_whole_number_of_dots_of_at_least_0_4_mm(dpi: int, dots: int) -> None:
    label = _label(0)
    _, _, [page] = _interpret(_zpl([label], dpi))
    n = label.matrix.shape[0]
    qr = [bits for box, bits in page.graphics if box.h == n * dots]
    assert len(qr) == 1
    assert thermal_layout(dpi).module == dots
    assert dots * 25.4 / dpi >= 0.4
    # Every module is exactly dots × dots of one colour.
    symbol = qr[0][:, : n * dots]
    expanded = np.kron(label.matrix, np.ones((dots, dots), dtype=bool))
    assert np.array_equal(symbol, expanded)


@pytest.mark.parametrize("dpi", [203, 300])
def test_is_the_quiet_zone_white_and_clear_of_every_other_field(dpi: int) -> None:
    label = _label(1, scratch="12345678")
    _, _, [page] = _interpret(_zpl([label], dpi))
    module = thermal_layout(dpi).module
    n = label.matrix.shape[0]
    [qr_box] = [box for box, _ in page.graphics if box.h == n * module]
    quiet = QUIET_ZONE_MODULES * module
    zone = Box(qr_box.x - quiet, qr_box.y - quiet, n * module + 2 * quiet, n * module + 2 * quiet)
    assert zone.x >= 0 and zone.y >= 0
    assert zone.x + zone.w <= page.width and zone.y + zone.h <= page.height
    around = page.composite()[zone.y : zone.y + zone.h, zone.x : zone.x + zone.w].copy()
    around[quiet:-quiet, quiet:-quiet] = False
    assert not around.any()
    others = [box for box in page.fields() if box != qr_box]
    assert others and not any(_overlaps(zone, box) for box in others)


@pytest.mark.parametrize(("dpi", "width", "height"), [(203, 400, 240), (300, 591, 354)])
def test_does_every_field_lie_within_a_50_by_30_mm_label(dpi: int, width: int, height: int) -> None:
    _, _, printed = _interpret(_zpl([_label(0, scratch="9876-5432"), _label(1)], dpi))
    for page in printed:
        assert (page.width, page.height) == (width, height)
        assert page.encoding == "28" and page.home == "0,0"
        for box in page.fields():
            assert box.x >= 0 and box.y >= 0
            assert box.x + box.w <= page.width and box.y + box.h <= page.height


def test_is_the_static_graphic_downloaded_once_and_recalled_once_per_label() -> None:
    zpl = _zpl([_label(i) for i in range(5)], 203)
    stored, downloads, printed = _interpret(zpl)
    assert downloads == 1 and list(stored) == [STATIC_GRAPHIC]
    assert zpl.index("~DG") < zpl.index("^XA")
    assert [page.recalls for page in printed] == [1] * 5
    # Per label only the codes travel as text, never the Vietnamese facts.
    assert all(text in CODES for page in printed for _, text in page.texts)


def test_are_the_scratch_code_and_the_human_code_printed_as_given() -> None:
    _, _, printed = _interpret(_zpl([_label(0, scratch="12345678"), _label(1)], 300))
    assert [text for _, text in printed[0].texts] == [CODES[0], "12345678"]
    assert [text for _, text in printed[1].texts] == [CODES[1]]


@pytest.mark.parametrize("dpi", [203, 300])
def test_does_the_static_bitmap_have_ink_where_the_product_name_is_drawn(dpi: int) -> None:
    layout = thermal_layout(dpi)
    _, product = layout.rows["product"]
    top = product.y - layout.static.y
    named = render_static(FACTS, layout).bitmap[top : top + product.h]
    unnamed = render_static(_with_name(""), layout).bitmap[top : top + product.h]
    assert named.sum() > 0.05 * named.size
    assert not unnamed.any()


def _with_name(name: str) -> StampFacts:
    return StampFacts(
        FACTS.star, name, FACTS.producer_name, FACTS.certificate_number, FACTS.valid_until
    )


@pytest.mark.parametrize("dpi", [203, 300])
def test_does_a_200_character_name_stay_inside_its_box(dpi: int) -> None:
    layout = thermal_layout(dpi)
    long_name = ("Mật ong hoa cà phê Đắk Nông nguyên chất " * 6)[:200]
    short = render_static(FACTS, layout)
    long = render_static(_with_name(long_name), layout)
    assert len(long.lines["product"]) == 2 and long.lines["product"][-1].endswith("…")
    assert long.bitmap.shape == (layout.static.h, layout.static.w)
    # Outside the product row the bitmap is the same as with a short name: nothing spilled.
    _, product = layout.rows["product"]
    top = product.y - layout.static.y
    outside = np.ones(long.bitmap.shape, dtype=bool)
    outside[top : top + product.h] = False
    assert np.array_equal(long.bitmap[outside], short.bitmap[outside])
    rows = long.bitmap[top : top + product.h]
    assert rows.any() and not rows[:, -1].any()  # inked up to, not cut at, the right edge
    box = layout.static
    assert box.x + box.w <= layout.width and box.y + box.h <= layout.height


@pytest.mark.parametrize("dpi", [0, 200, 600])
def test_is_an_unsupported_dpi_refused(dpi: int) -> None:
    with pytest.raises(ValueError, match="dpi"):
        render_zpl(FACTS, [_label(0)], io.StringIO(), dpi=dpi)


@pytest.mark.parametrize(
    ("code", "scratch"),
    [("7K3M9^XZ-QXA2B", None), ("7K3M9~JR", None), ("7k3m9-qxa2b", None), (CODES[0], "12^34")],
)
def test_is_a_code_that_could_break_the_zpl_refused(code: str, scratch: str | None) -> None:
    with pytest.raises(ValueError, match="printed code"):
        render_zpl(FACTS, [_label(0, scratch=scratch, code=code)], io.StringIO(), dpi=203)


def test_is_a_qr_code_too_large_for_the_label_refused() -> None:
    big = LabelArt("x", CODES[0], np.zeros((57, 57), dtype=bool))
    with pytest.raises(ValueError, match="does not fit"):
        render_zpl(FACTS, [big], io.StringIO(), dpi=203)


def test_is_the_output_the_same_bytes_for_the_same_input() -> None:
    labels = [_label(i, scratch="1234") for i in range(3)]
    assert _zpl(labels, 300) == _zpl(labels, 300)
    assert _zpl(labels, 300) != _zpl(labels[::-1], 300)

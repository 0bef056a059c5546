"""ZPL II for Zebra-type thermal printers: a roll of OCOP star labels (50 × 30 mm by default).

Why it is drawn this way:

- The QR code is sent as *our* matrix, as a graphic field (``^GFA``), never through the
  printer's ``^BQ`` encoder: that one picks its own version and mask, so what prints could not be
  checked against the signed URL we issued. Each module is a whole number of dots (a fraction
  would make modules of unequal width, which scanners misread), the smallest whole number that
  keeps a module at least the template's ``min_module_mm`` (0.4 mm): 4 dots at 203 dpi
  (0.50 mm), 5 dots at 300 dpi (0.42 mm). The 4-module quiet zone around it is left blank.
- Graphics use ZPL's ASCII hexadecimal form with its documented row compression (``:`` repeats
  the previous row, ``,`` fills the rest of a row with white). Every module row repeats 4 or 5
  times, so this drops most of the data at the cost of a string comparison per row. The Z64
  (zlib + base64) form would be smaller still, but public descriptions of its CRC disagree and
  no printer is at hand to settle it; a file a printer rejects is worse than a bigger one.
- Printer-resident fonts lack most Vietnamese letters ("ắ, ộ, Đ"), so everything in Vietnamese
  (OCOP, the stars, product, producer, certificate, validity) is drawn once per file with Pillow
  and Be Vietnam Pro into a 1-bit bitmap, stored in the printer's RAM (``~DG`` to ``R:``) and
  recalled on every label (``^XG``). Per label only the QR graphic and the codes are sent; the
  codes are upper-case ASCII letters, digits and hyphens, which the printer's own font 0 has.
- Long texts shrink, then wrap (up to the row's ``max_lines``), then end with "…", measured on
  the glyphs' ink so nothing leaves its row, and no row leaves the label.
- Sizes and rows come from the JSON template (millimetres), converted at the printer's dpi.
- Output is deterministic: the same facts and labels give the same bytes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from trace_service.clock import vn_date
from trace_service.fonts import BOLD, REGULAR, font_path
from trace_service.labels.art import QUIET_ZONE_MODULES, LabelArt, StampFacts
from trace_service.labels.templates import load_template

SUPPORTED_DPI = (203, 300)  # the print heads of Zebra-type label printers (8 and 11.8 dots/mm)
STATIC_GRAPHIC = "R:OCOPSTMP.GRF"  # R: is the printer's RAM, cleared when it is switched off
# Field data must never hold "^" or "~" (they start ZPL commands), nor letters font 0 lacks.
_PRINTABLE_CODE = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")
_FONTS = {"regular": REGULAR, "bold": BOLD}
_STATIC_KINDS = ("header", "text")
_ELLIPSIS = "…"


@dataclass(frozen=True)
class Box:
    """A rectangle in printer dots, from the label's top left corner."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class ThermalLayout:
    """Where everything goes on one label at one dpi, in dots."""

    dpi: int
    width: int  # ^PW
    height: int  # ^LL
    module: int  # dots per QR module
    qr_modules: int  # the largest symbol the layout has room for, without quiet zone
    qr_area: Box  # the symbol and its quiet zone
    static: Box  # the bitmap drawn once per file
    rows: dict[str, tuple[dict[str, Any], Box]]  # template row and where it goes


@dataclass(frozen=True)
class StaticGraphic:
    """The once-per-file bitmap and the text lines as fitted into it."""

    box: Box
    bitmap: npt.NDArray[np.bool_]  # (box.h, box.w), True = ink
    lines: dict[str, tuple[str, ...]]


def _dots(mm: float, dpi: int) -> int:
    return round(mm * dpi / 25.4)


def thermal_layout(dpi: int, template: str = "thermal_50x30") -> ThermalLayout:
    """The template's label at ``dpi``; ``ValueError`` for another dpi or a template that does
    not fit its label."""
    if dpi not in SUPPORTED_DPI:
        raise ValueError(f"thermal labels print at {SUPPORTED_DPI} dpi, not {dpi}")
    spec = load_template(template)
    width, height = _dots(spec["label_width_mm"], dpi), _dots(spec["label_height_mm"], dpi)
    # The smallest whole number of dots that is at least the minimum module size.
    module = math.ceil(spec["min_module_mm"] * dpi / 25.4 - 1e-9)
    qr_modules = spec["qr_modules"]
    qr_side = (qr_modules + 2 * QUIET_ZONE_MODULES) * module
    qr_area = Box(_dots(spec["qr_left_mm"], dpi), (height - qr_side) // 2, qr_side, qr_side)
    column_x = qr_area.x + qr_area.w  # the quiet zone already separates text from the symbol
    column_w = width - _dots(spec["column_right_margin_mm"], dpi) - column_x
    if qr_area.y < 0 or column_w <= 0:
        raise ValueError(f"template {template!r}: the QR code does not fit the label at {dpi} dpi")

    rows: dict[str, tuple[dict[str, Any], Box]] = {}
    y = _dots(spec["column_top_mm"], dpi)
    gap = _dots(spec["row_gap_mm"], dpi)
    for row in spec["rows"]:
        h = _dots(row["height_mm"], dpi)
        rows[row["name"]] = (row, Box(column_x, y, column_w, h))
        y += h + gap
    if y - gap > height:
        raise ValueError(f"template {template!r}: the rows are taller than the label")
    kinds = [row["kind"] for row in spec["rows"]]
    n_static = sum(kind in _STATIC_KINDS for kind in kinds)
    if any(kind not in _STATIC_KINDS for kind in kinds[:n_static]):
        # One bitmap spans the static rows, so per-label rows must come after all of them.
        raise ValueError(f"template {template!r}: static rows must come first")
    static_boxes = [box for row, box in rows.values() if row["kind"] in _STATIC_KINDS]
    last = static_boxes[-1]
    static = Box(column_x, static_boxes[0].y, column_w, last.y + last.h - static_boxes[0].y)
    return ThermalLayout(dpi, width, height, module, qr_modules, qr_area, static, rows)


@cache
def _font(name: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(_FONTS[name])), px)


def _ink_width(font: ImageFont.FreeTypeFont, line: str) -> float:
    left, _, right, _ = font.getbbox(line)
    return max(right, font.getlength(line)) - min(left, 0)


def _ink_extent(font: ImageFont.FreeTypeFont, lines: list[str]) -> tuple[int, int]:
    """Top and bottom of the ink of ``lines`` set one under the other, from the first line's
    ascender line (stacked Vietnamese marks like "Ẫ" rise above it)."""
    pitch = sum(font.getmetrics())
    boxes = [font.getbbox(line) for line in lines]
    top = min(i * pitch + box[1] for i, box in enumerate(boxes))
    bottom = max(i * pitch + box[3] for i, box in enumerate(boxes))
    return int(top), int(bottom)


def _fits(font: ImageFont.FreeTypeFont, lines: list[str], box: Box) -> bool:
    top, bottom = _ink_extent(font, lines)
    return bottom - top <= box.h and all(_ink_width(font, line) <= box.w for line in lines)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap; a word wider than the box is cut between letters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if _ink_width(font, candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while len(word) > 1 and _ink_width(font, word) > width:
            cut = max(
                [i for i in range(1, len(word)) if _ink_width(font, word[:i]) <= width],
                default=1,
            )
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def _fit_text(
    text: str, row: dict[str, Any], box: Box, dpi: int
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """Shrink to the row's smallest size on one line, then wrap, then cut with "…"."""
    sizes = range(_dots(row["max_size_mm"], dpi), _dots(row["min_size_mm"], dpi) - 1, -1)
    for px in sizes:
        if _fits(_font(row["font"], px), [text], box):
            return _font(row["font"], px), [text]
    for px in sizes:
        font = _font(row["font"], px)
        lines = _wrap(text, font, box.w)
        if len(lines) <= row["max_lines"] and _fits(font, lines, box):
            return font, lines
    font = _font(row["font"], sizes[-1])
    lines = _wrap(text, font, box.w)[: row["max_lines"]]
    while lines:
        last = lines[-1]
        while last and not _fits(font, [*lines[:-1], last + _ELLIPSIS], box):
            last = last[:-1].rstrip()
        if last:
            return font, [*lines[:-1], last + _ELLIPSIS]
        lines = lines[:-1]
    raise ValueError(f"template row {row['name']!r} is too small for its smallest font size")


def _draw_header(draw: ImageDraw.ImageDraw, box: Box, star: int) -> None:
    """ "OCOP" and the stars as drawn shapes, as large as the row allows."""
    for px in range(2 * box.h, 0, -1):
        font = _font("bold", px)
        left, top, right, bottom = font.getbbox("OCOP")
        cap = bottom - top
        diameter = round(cap * 1.25)
        gap, star_gap = round(cap * 0.5), max(1, round(cap * 0.12))
        width = right - left + gap + star * diameter + (star - 1) * star_gap
        if diameter <= box.h and width <= box.w:
            break
    draw.text((box.x - left, box.y + (box.h - cap) // 2 - top), "OCOP", font=font, fill=255)
    radius = diameter / 2
    # A five-pointed star is 1.809 radii tall; centre its ink, not its circle, in the row.
    cy = box.y + (box.h - radius * (1 + math.cos(math.pi / 5))) / 2 + radius
    for i in range(star):
        cx = box.x + right - left + gap + i * (diameter + star_gap) + radius
        points = [
            (
                cx + r * math.cos(-math.pi / 2 + k * math.pi / 5),
                cy + r * math.sin(-math.pi / 2 + k * math.pi / 5),
            )
            for k, r in enumerate([radius, radius * 0.382] * 5)
        ]
        draw.polygon(points, fill=255)


def render_static(facts: StampFacts, layout: ThermalLayout) -> StaticGraphic:
    """The rows shared by every label of the run, as one 1-bit bitmap."""
    if facts.star not in (3, 4, 5):
        raise ValueError(f"OCOP products have 3 to 5 stars, not {facts.star}")
    values = {
        "product_name": facts.product_name,
        "producer_name": facts.producer_name,
        "certificate_number": facts.certificate_number,
        "valid_until": vn_date(facts.valid_until),
    }
    origin = layout.static
    image = Image.new("L", (origin.w, origin.h), 0)  # 0 = paper; drawn anti-aliased, then cut
    draw = ImageDraw.Draw(image)
    lines: dict[str, tuple[str, ...]] = {}
    for name, (row, at) in layout.rows.items():
        box = Box(at.x - origin.x, at.y - origin.y, at.w, at.h)
        if row["kind"] == "header":
            _draw_header(draw, box, facts.star)
        elif row["kind"] == "text":
            font, fitted = _fit_text(row["text"].format_map(values), row, box, layout.dpi)
            top, _ = _ink_extent(font, fitted)
            pitch = sum(font.getmetrics())
            for i, line in enumerate(fitted):
                x = box.x - min(0, font.getbbox(line)[0])
                draw.text((x, box.y - top + i * pitch), line, font=font, fill=255)
            lines[name] = tuple(fitted)
    bitmap = np.asarray(image) >= 128
    # Fitting loads the fonts at every size it tries (75 faces, 12 MiB for the two dpis) and
    # a file's head is drawn once: kept, they sat on a queue worker's memory through the
    # whole build (issue 15). Dropped here, the build reuses their memory.
    _font.cache_clear()
    return StaticGraphic(origin, bitmap, lines)


def _graphic_data(packed: npt.NDArray[np.uint8], repeat: int) -> str:
    """ZPL compressed ASCII hex for rows of packed bits, each row sent ``repeat`` times."""
    hex_all = packed.tobytes().hex().upper()
    step = 2 * packed.shape[1]
    parts: list[str] = []
    previous = None
    for start in range(0, len(hex_all), step):
        row = hex_all[start : start + step]
        if row == previous:
            parts.append(":" * repeat)
            continue
        stripped = row.rstrip("0")
        parts.append(stripped + "," if len(stripped) < step else row)
        parts.append(":" * (repeat - 1))
        previous = row
    return "".join(parts)


def _static_download(static: StaticGraphic) -> str:
    packed = np.packbits(static.bitmap, axis=1)
    total, per_row = packed.size, packed.shape[1]
    return f"~DG{STATIC_GRAPHIC},{total},{per_row},{_graphic_data(packed, 1)}\n"


def _qr_field(matrix: npt.NDArray[np.bool_], layout: ThermalLayout) -> str:
    n = matrix.shape[0]
    if matrix.ndim != 2 or matrix.shape[1] != n or n > layout.qr_modules:
        raise ValueError(
            f"a QR matrix of shape {matrix.shape} does not fit this label "
            f"(at most {layout.qr_modules} modules a side)"
        )
    # A smaller symbol is centred on whole modules so its quiet zone only grows.
    offset = (QUIET_ZONE_MODULES + (layout.qr_modules - n) // 2) * layout.module
    x, y = layout.qr_area.x + offset, layout.qr_area.y + offset
    packed = np.packbits(np.repeat(matrix.astype(bool), layout.module, axis=1), axis=1)
    total = packed.shape[1] * n * layout.module
    data = _graphic_data(packed, layout.module)
    return f"^FO{x},{y}^GFA,{total},{total},{packed.shape[1]},{data}^FS\n"


def _code_field(code: str, row: dict[str, Any], box: Box, dpi: int) -> str:
    if not _PRINTABLE_CODE.fullmatch(code):
        raise ValueError(f"a printed code must be A-Z, 0-9 and single hyphens: {code!r}")
    # Font 0 is condensed (an upper-case letter or digit is narrower than its nominal width),
    # so nominal widths that add up to the box keep the code on its one line.
    char_w = min(_dots(row["max_char_width_mm"], dpi), box.w // len(code))
    return f"^FO{box.x},{box.y}^A0N,{box.h},{char_w}^FB{box.w},1,0,C^FD{code}^FS\n"


@lru_cache(maxsize=8)
def _file_head(facts: StampFacts, dpi: int, template: str) -> tuple[str, str]:
    """The graphic's download that starts a file, and the start of every label: 40-45 ms of
    drawing text, made once per run in a process (a run in parts starts a file per part)."""
    layout = thermal_layout(dpi, template)
    static = render_static(facts, layout)
    head = (
        f"^XA\n^CI28\n^PW{layout.width}\n^LL{layout.height}\n^LH0,0\n"
        f"^FO{static.box.x},{static.box.y}^XG{STATIC_GRAPHIC},1,1^FS\n"
    )
    return _static_download(static), head


class ZplWriter:
    """Writes a ZPL file label by label, so a build can draw it while it draws the sheet
    from the same QR matrices: the static graphic first, then one label per ``write``."""

    def __init__(
        self, facts: StampFacts, out: TextIO, *, dpi: int, template: str = "thermal_50x30"
    ) -> None:
        self.out, self.dpi, self.template, self.count = out, dpi, template, 0
        self.layout = thermal_layout(dpi, template)
        download, self.head = _file_head(facts, dpi, template)
        out.write(download)

    def write(self, label: LabelArt) -> None:
        code_row, code_box = self.layout.rows["code"]
        parts = [
            self.head,
            _qr_field(label.matrix, self.layout),
            _code_field(label.code, code_row, code_box, self.dpi),
        ]
        if label.scratch_code is not None:
            scratch_row, scratch_box = self.layout.rows.get("scratch", (None, None))
            if scratch_row is None or scratch_box is None:
                raise ValueError(f"template {self.template!r} has no row for a scratch code")
            parts.append(_code_field(label.scratch_code, scratch_row, scratch_box, self.dpi))
        parts.append("^XZ\n")
        self.out.write("".join(parts))
        self.count += 1


def render_zpl(
    facts: StampFacts,
    labels: Iterable[LabelArt],
    out: TextIO,
    *,
    dpi: int,
    template: str = "thermal_50x30",
) -> int:
    """Write one ZPL label per ``labels`` item to ``out``; returns how many were written."""
    writer = ZplWriter(facts, out, dpi=dpi, template=template)
    for label in labels:
        writer.write(label)
    return writer.count

"""OCOP stamps on A4 sticker sheets that print right on a home printer with default settings.

Why it is built this way:

* Geometry is data (``label_templates/a4_sheet.json`` and ``stamp.json``): margins of 10 mm or
  more (desktop printers cannot print the outer 3-6 mm) and QR modules of 0.5 mm, so that a
  driver's "shrink to fit" (about 94 %) still leaves modules above GS1's 0.396 mm minimum.
* A run prints thousands of stamps that differ only in their QR code and printed codes. Frame,
  OCOP, stars and the run's facts are drawn once into a Form XObject that every stamp places
  with ``doForm``; per label only the QR path and the code text are written.
* QR codes are vector paths (``qr_path_ops``), appended to the page content with reportlab's
  ``Canvas.addLiteral`` (its documented way to insert raw PDF operators), so they stay sharp
  at any printer resolution and the file holds no images.
* Labels arrive as an iterable and are drawn as they come; the page total that the footer
  shows ("Trang 3/25") is only known at the end, so each page's number is a small form that
  is filled in after the last page.
"""

from __future__ import annotations

import math
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from reportlab.lib.colors import HexColor
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfdoc import PDFArray, PDFName, PDFStream, PDFZCompress
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from trace_service.clock import vn_date
from trace_service.fonts import BOLD, BOLD_ITALIC, ITALIC, REGULAR, register_fonts
from trace_service.labels.art import QUIET_ZONE_MODULES, LabelArt, StampFacts
from trace_service.labels.render.artwork import draw_artwork, load_artwork
from trace_service.labels.render.qr_image import qr_path_ops
from trace_service.labels.templates import load_template

FONTS = {"regular": REGULAR, "bold": BOLD, "italic": ITALIC, "bold_italic": BOLD_ITALIC}
ELLIPSIS = "…"
SIZE_STEP_PT = 0.25  # how finely long text is shrunk towards its minimum size
STAMP_FORM = "ocop_stamp"
SCRATCH_FORM = "ocop_scratch"
OCOP_STARS = range(3, 6)
MIN_MARGIN_MM = 10  # desktop printers leave the outer 3-6 mm blank; some drivers shrink more
PRINTABLE_EDGE_MM = 5  # nearer the edge than this, most desktop printers print nothing
MAX_OFFSET_MM = 10  # a printer that feeds paper further off than this needs repair, not math
MIN_TEXT_PT = 5  # nothing smaller is printed: a 4 pt caption does not read on a stamp
MIN_MODULE_MM = 0.396  # GS1's smallest QR module for retail scanning
DRIVER_SHRINK = 0.94  # a driver's "fit to page" shrinks A4 to about 94 %
FONT_DESCENT_EM = 0.265  # Be Vietnam Pro's descender, for checking the footer's clearance


@dataclass(frozen=True)
class SheetInfo:
    """What was rendered: page count, stamps per full page, label count."""

    pages: int
    per_page: int
    labels: int


@dataclass(frozen=True)
class FittedText:
    """Text laid out in a box: the chosen font size and its lines."""

    font: str
    size: float
    lines: list[str]


# ---------------------------------------------------------------------------- text fitting


def _wrap(words: list[str], font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap; a word wider than the box is cut between letters."""
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if stringWidth(candidate, font, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while stringWidth(line, font, size) > width and len(line) > 1:
            cut = 1  # the longest prefix that fits, and at least one letter
            while cut < len(line) - 1 and stringWidth(line[: cut + 1], font, size) <= width:
                cut += 1
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    return lines


def fit_text(
    text: str, font: str, width: float, *, max_pt: float, min_pt: float, max_lines: int
) -> FittedText:
    """The largest size from ``max_pt`` down to ``min_pt`` at which ``text`` wraps into at
    most ``max_lines`` lines of ``width`` points; failing that, ``min_pt`` with the last line
    ending in "…". Text is NFC-normalised so that every Vietnamese letter is one glyph."""
    words = unicodedata.normalize("NFC", text).split()
    size = max_pt
    while True:
        lines = _wrap(words, font, size, width)
        if len(lines) <= max_lines:
            return FittedText(font, size, lines)
        if size <= min_pt:
            break
        size = max(min_pt, size - SIZE_STEP_PT)
    last = lines[max_lines - 1]
    while last and stringWidth(last.rstrip() + ELLIPSIS, font, size) > width:
        last = last[:-1]
    return FittedText(font, size, [*lines[: max_lines - 1], last.rstrip() + ELLIPSIS])


def _ascent(font: str, size: float) -> float:
    return getFont(font).face.ascent / 1000 * size


def _descent(font: str, size: float) -> float:
    return -getFont(font).face.descent / 1000 * size


# ---------------------------------------------------------------------------- geometry


_Grid = tuple[float, float, float, float, dict[str, float]]  # left, top, steps, margins


def _die_cut_grid(
    name: str,
    sheet: dict[str, Any],
    page: tuple[float, float],
    stamp: tuple[float, float],
    edge: float,
) -> _Grid:
    """A die-cut sheet: stamps exactly where the sheet's labels are."""
    grid, footer = sheet["grid"], sheet["footer"]
    (page_w, page_h), (stamp_w, stamp_h) = page, stamp
    cols, rows = grid["columns"], grid["rows"]
    left, top = grid["left_mm"] * mm, page_h - grid["top_mm"] * mm
    step_x, step_y = grid["pitch_x_mm"] * mm, grid["pitch_y_mm"] * mm
    if step_x < stamp_w or step_y < stamp_h:
        raise ValueError(f"template {name!r}: the pitch is smaller than a label")
    right_edge = left + (cols - 1) * step_x + stamp_w
    bottom_edge = top - (rows - 1) * step_y - stamp_h
    if left < 0 or right_edge > page_w or bottom_edge < 0 or top > page_h:
        raise ValueError(f"template {name!r}: the labels do not fit on the page")
    margins = {
        "left": footer.get("left_mm", edge) * mm,
        "right": footer.get("right_mm", edge) * mm,
        "top": grid["top_mm"] * mm,
        "bottom": bottom_edge,
    }
    return left, top, step_x, step_y, margins


def _centred_grid(
    name: str,
    sheet: dict[str, Any],
    page: tuple[float, float],
    stamp: tuple[float, float],
    edge: float,
) -> _Grid:
    """Plain paper: the stamp grid centred in the area the margins leave."""
    grid = sheet["grid"]
    (page_w, page_h), (stamp_w, stamp_h) = page, stamp
    cols, rows = grid["columns"], grid["rows"]
    if min(sheet["margins_mm"].values()) < MIN_MARGIN_MM:
        raise ValueError(f"template {name!r}: margins under {MIN_MARGIN_MM} mm do not print")
    margins = {side: v * mm for side, v in sheet["margins_mm"].items()}
    gap_x, gap_y = grid["column_gap_mm"] * mm, grid["row_gap_mm"] * mm
    grid_w = cols * stamp_w + (cols - 1) * gap_x
    grid_h = rows * stamp_h + (rows - 1) * gap_y
    free_w = page_w - margins["left"] - margins["right"] - grid_w
    free_h = page_h - margins["top"] - margins["bottom"] - grid_h
    if free_w < 0 or free_h < 0:
        raise ValueError(f"template {name!r}: the stamp grid does not fit inside the margins")
    # Centre the grid in the area the margins leave, so any slack is shared evenly.
    left = margins["left"] + free_w / 2
    top = page_h - margins["top"] - free_h / 2
    return left, top, stamp_w + gap_x, stamp_h + gap_y, margins


@dataclass(frozen=True)
class SheetLayout:
    """The page and stamp templates resolved into points (PDF user space, y up)."""

    page_w: float
    page_h: float
    stamp: dict[str, Any]
    stamp_w: float
    stamp_h: float
    slots: list[tuple[float, float]]  # bottom-left corner of each stamp, reading order
    margins: dict[str, float]
    footer: dict[str, Any]
    name: str = "a4_sheet"
    die_cut: dict[str, Any] | None = None  # the sheet's labels are cut already
    offset: tuple[float, float] = (0.0, 0.0)  # mm, + right and + down, already in ``slots``

    @classmethod
    def load(cls, name: str, offset: tuple[float, float] = (0.0, 0.0)) -> SheetLayout:
        """The sheet ``name`` (a ``label_templates`` file of ``"kind": "sheet"``), its stamps
        moved by ``offset`` (x, y) millimetres, + right and + down, to make up for a
        printer that feeds the paper a little off."""
        sheet = load_template(name)
        if sheet.get("kind") != "sheet":
            raise ValueError(f"template {name!r} is not a sheet layout")
        if any(abs(v) > MAX_OFFSET_MM for v in offset):
            raise ValueError(f"a print offset is at most {MAX_OFFSET_MM} mm either way")
        stamp = load_template(sheet["stamp"])
        check_stamp(sheet["stamp"], stamp)
        page_w = sheet["page"]["width_mm"] * mm
        page_h = sheet["page"]["height_mm"] * mm
        edge = sheet.get("edge_mm", MIN_MARGIN_MM)
        if edge < PRINTABLE_EDGE_MM:
            raise ValueError(f"template {name!r}: nothing prints within {PRINTABLE_EDGE_MM} mm")
        footer = sheet["footer"]
        if footer["min_pt"] < MIN_TEXT_PT:
            raise ValueError(f"template {name!r}: the footer may not shrink under {MIN_TEXT_PT} pt")
        if footer["baseline_mm"] - footer["size_pt"] * FONT_DESCENT_EM / mm < edge:
            raise ValueError(f"template {name!r}: the footer is too close to the paper's edge")
        grid = sheet["grid"]
        stamp_w, stamp_h = stamp["width_mm"] * mm, stamp["height_mm"] * mm
        cols, rows = grid["columns"], grid["rows"]
        place = _die_cut_grid if "pitch_x_mm" in grid else _centred_grid
        left, top, step_x, step_y, margins = place(
            name, sheet, (page_w, page_h), (stamp_w, stamp_h), edge
        )
        dx, dy = offset[0] * mm, offset[1] * mm
        slots = [
            (left + c * step_x + dx, top - r * step_y - stamp_h - dy)
            for r in range(rows)
            for c in range(cols)
        ]
        return cls(
            page_w,
            page_h,
            stamp,
            stamp_w,
            stamp_h,
            slots,
            margins,
            footer,
            name,
            sheet.get("die_cut"),
            (float(offset[0]), float(offset[1])),
        )

    @property
    def per_page(self) -> int:
        return len(self.slots)

    def x(self, left_mm: float) -> float:
        """A stamp-template distance from the stamp's left edge, as a PDF x in points."""
        return left_mm * mm

    def y(self, top_mm: float) -> float:
        """A stamp-template distance from the stamp's top edge, as a PDF y in points."""
        return self.stamp_h - top_mm * mm


def check_stamp(name: str, t: dict[str, Any]) -> None:
    """Refuse a stamp template that would print a QR code too fine to scan, or text under
    5 pt, before a single stamp is drawn with it."""
    if t["module_mm"] * DRIVER_SHRINK < MIN_MODULE_MM:
        raise ValueError(
            f"template {name!r}: {t['module_mm']} mm QR modules fall under GS1's "
            f"{MIN_MODULE_MM} mm when a printer driver shrinks the page to fit"
        )
    sizes = [t["code"]["size_pt"]]
    sizes += [b["min_pt"] for b in t.get("top_blocks", []) + t.get("bottom_blocks", [])]
    if "scratch" in t:
        sizes += [t["scratch"]["caption_pt"], t["scratch"]["code_pt"]]
    if min(sizes) < MIN_TEXT_PT:
        raise ValueError(f"template {name!r}: text under {MIN_TEXT_PT} pt does not read")


def qr_modules_fit(t: dict[str, Any], modules: int) -> bool:
    """Whether a QR code of ``modules`` (without its quiet zone) fits the stamp's QR box."""
    side = (modules + 2 * QUIET_ZONE_MODULES) * t["module_mm"]
    return side <= t["qr"]["box_mm"] + 1e-6


# ---------------------------------------------------------------------------- the stamp form


def _star_points(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    """The ten corners of a five-pointed star with one point straight up."""
    inner = outer * 0.382  # the regular star's ratio, as on the OCOP logo
    return [
        (
            cx + (outer if i % 2 == 0 else inner) * math.cos(math.pi / 2 + i * math.pi / 5),
            cy + (outer if i % 2 == 0 else inner) * math.sin(math.pi / 2 + i * math.pi / 5),
        )
        for i in range(10)
    ]


def _draw_lines(
    canvas: Canvas, fitted: FittedText, x: float, top: float, leading: float, gray: float
) -> float:
    """Draw ``fitted`` with its first line's ascent at ``top``; return the y below it."""
    canvas.setFont(fitted.font, fitted.size)
    canvas.setFillGray(gray)
    baseline = top - _ascent(fitted.font, fitted.size)
    for line in fitted.lines:
        canvas.drawString(x, baseline, line)
        baseline -= fitted.size * leading
    return baseline + fitted.size * leading - _descent(fitted.font, fitted.size)


def _fit_block(block: dict[str, Any], values: dict[str, str], width: float) -> FittedText:
    return fit_text(
        block["text"].format_map(values),
        FONTS[block["font"]],
        width,
        max_pt=block["max_pt"],
        min_pt=block["min_pt"],
        max_lines=block["max_lines"],
    )


def _block_height(fitted: FittedText, leading: float) -> float:
    line = fitted.size * leading
    return (
        _ascent(fitted.font, fitted.size)
        + (len(fitted.lines) - 1) * line
        + _descent(fitted.font, fitted.size)
    )


def _draw_stamp_form(canvas: Canvas, sheet: SheetLayout, facts: StampFacts) -> None:
    """Everything a run's stamps share, drawn once as a Form XObject in stamp coordinates."""
    t = sheet.stamp
    w, h = sheet.stamp_w, sheet.stamp_h
    canvas.beginForm(STAMP_FORM, -1, -1, w + 1, h + 1)
    _draw_outline_and_frame(canvas, t, w, h)
    column = t.get("column")
    if column is None:  # a small stamp: the mark and the stars where the template puts them
        mark, stars = t["mark"], t["stars"]
        room = (stars["left_mm"] - mark["left_mm"] - stars["gap_mm"]) * mm
        _draw_mark(canvas, mark, sheet.x(mark["left_mm"]), sheet.y(mark["top_mm"]), room)
        _draw_stars(canvas, stars, facts.star, sheet.x(stars["left_mm"]), sheet.y(stars["top_mm"]))
        canvas.endForm()
        return
    left = sheet.x(column["left_mm"])
    width = sheet.x(column["right_mm"]) - left
    top, bottom = sheet.y(column["top_mm"]), sheet.y(column["bottom_mm"])
    y = _draw_mark(canvas, t["mark"], left, top, width)
    y = _draw_stars(canvas, t["stars"], facts.star, left, y)
    values = {
        "product_name": facts.product_name,
        "producer_name": facts.producer_name,
        "certificate_number": facts.certificate_number,
        "valid_until": vn_date(facts.valid_until),
    }
    _draw_text_blocks(canvas, t, values, left, width, y, bottom)
    canvas.endForm()


def _draw_outline_and_frame(canvas: Canvas, t: dict[str, Any], w: float, h: float) -> None:
    outline = t.get("outline")  # where to cut: light so it disappears against the paper
    if outline is not None:  # (die-cut labels have none: a line just off the cut would show)
        canvas.setStrokeGray(outline["gray"])
        canvas.setLineWidth(outline["width_pt"])
        canvas.rect(0, 0, w, h, stroke=1, fill=0)

    frame = t["frame"]
    inset = frame["inset_mm"] * mm
    canvas.setStrokeColor(HexColor(frame["color"]))
    canvas.setLineWidth(frame["width_pt"])
    canvas.roundRect(inset, inset, w - 2 * inset, h - 2 * inset, frame["radius_mm"] * mm)


def _draw_mark(
    canvas: Canvas, mark: dict[str, Any], left: float, top: float, width: float
) -> float:
    """The OCOP mark from its artwork file, top-left at (``left``, ``top``), at most
    ``width`` wide; returns the y below it. The file is the office's to replace
    (label_templates/README.md), so a wider artwork is drawn smaller, not past its room."""
    art = load_artwork(mark["artwork"])
    height = min(mark["height_mm"] * mm, width * art.height / art.width)
    draw_artwork(canvas, art, left, top, height)
    return top - height


def _draw_stars(canvas: Canvas, stars: dict[str, Any], count: int, left: float, y: float) -> float:
    """The row of ``count`` stars below ``y``; returns the y below it."""
    size, gap = stars["size_mm"] * mm, stars["gap_mm"] * mm
    y -= stars.get("space_before_mm", 0) * mm + size / 2
    canvas.setFillColor(HexColor(stars["fill"]))
    canvas.setStrokeColor(HexColor(stars["stroke"]))
    canvas.setLineWidth(stars["width_pt"])
    canvas.setLineJoin(1)  # round joins keep the thin points from spiking past the star
    for i in range(count):
        path = canvas.beginPath()
        points = _star_points(left + size / 2 + i * (size + gap), y, size / 2)
        path.moveTo(*points[0])
        for point in points[1:]:
            path.lineTo(*point)
        path.close()
        canvas.drawPath(path, stroke=1, fill=1)
    return y - size / 2


def _draw_text_blocks(
    canvas: Canvas,
    t: dict[str, Any],
    values: dict[str, str],
    left: float,
    width: float,
    y: float,
    bottom: float,
) -> None:
    """The top blocks from ``y`` down, the bottom blocks up from the column's ``bottom``."""
    leading = t["leading"]
    for block in t["top_blocks"]:
        y -= block["space_before_mm"] * mm
        y = _draw_lines(
            canvas, _fit_block(block, values, width), left, y, leading, block.get("gray", 0)
        )

    fitted = [(block, _fit_block(block, values, width)) for block in t["bottom_blocks"]]
    height = sum(_block_height(f, leading) + b["space_before_mm"] * mm for b, f in fitted)
    if bottom + height > y:
        raise ValueError("stamp template: the text column is too short for its blocks")
    y = bottom + height
    for block, text in fitted:
        y -= block["space_before_mm"] * mm
        y = _draw_lines(canvas, text, left, y, leading, block.get("gray", 0))


def _draw_scratch_form(canvas: Canvas, sheet: SheetLayout) -> None:
    """The scratch box and its caption; the code inside is drawn per label."""
    box = sheet.stamp.get("scratch")
    if box is None:
        return
    x, y = sheet.x(box["left_mm"]), sheet.y(box["top_mm"] + box["height_mm"])
    w, h = box["width_mm"] * mm, box["height_mm"] * mm
    canvas.beginForm(SCRATCH_FORM, x - 1, y - 1, x + w + 1, y + h + 1)
    canvas.setStrokeGray(box["stroke_gray"])
    canvas.setLineWidth(box["width_pt"])
    canvas.roundRect(x, y, w, h, box["radius_mm"] * mm)
    canvas.setFillGray(0.2)
    canvas.setFont(FONTS[box["caption_font"]], box["caption_pt"])
    canvas.drawCentredString(x + w / 2, sheet.y(box["caption_baseline_mm"]), box["caption"])
    canvas.endForm()


# ---------------------------------------------------------------------------- the sheet


class _Stamper:
    """Draws labels into slots page by page; the per-label work is kept to string building.

    Per slot, the ``cm`` that places the stamp form is computed once. Codes go into one text
    object per page (one BT ... ET, one font selection) rather than one per label.
    """

    def __init__(self, canvas: Canvas, sheet: SheetLayout) -> None:
        self.canvas = canvas
        self.sheet = sheet
        t = sheet.stamp
        self.module = t["module_mm"] * mm
        self.qr_box = t["qr"]["box_mm"] * mm
        self.qr_left = sheet.x(t["qr"]["left_mm"])
        self.qr_top = sheet.y(t["qr"]["top_mm"])
        self.slot_cm = [f"q 1 0 0 1 {x:.3f} {y:.3f} cm" for x, y in sheet.slots]
        self.code_font = FONTS[t["code"]["font"]], t["code"]["size_pt"]
        self.code_at = self.qr_left + self.qr_box / 2, sheet.y(t["code"]["baseline_mm"])
        box = t.get("scratch")
        self.scratch_font = (FONTS[box["code_font"]], box["code_pt"]) if box else self.code_font
        self.scratch_at = (
            (sheet.x(box["left_mm"] + box["width_mm"] / 2), sheet.y(box["code_baseline_mm"]))
            if box
            else (0.0, 0.0)
        )
        self._insets: dict[int, float] = {}
        self._start_page()

    def _start_page(self) -> None:
        self.codes = self.canvas.beginText()
        self.codes.setFont(*self.code_font)
        self.scratch_codes = self.canvas.beginText()
        self.scratch_codes.setFont(*self.scratch_font)
        self.has_scratch = False

    def _inset(self, size: int) -> float:
        """Distance from the QR box's edge to the symbol, which is centred in the box."""
        if size not in self._insets:
            side = (size + 2 * QUIET_ZONE_MODULES) * self.module
            if side > self.qr_box + 1e-6:
                raise ValueError(f"a {size}-module QR code does not fit the stamp's QR box")
            self._insets[size] = (self.qr_box - side) / 2 + QUIET_ZONE_MODULES * self.module
        return self._insets[size]

    def draw(self, label: LabelArt, slot: int) -> None:
        canvas = self.canvas
        x, y = self.sheet.slots[slot]
        size = label.matrix.shape[0]
        inset, m = self._inset(size), self.module
        # The QR's own cm: module units, origin at the symbol's bottom-left (see qr_path_ops).
        qr_x = self.qr_left + inset
        qr_y = self.qr_top - inset - size * m
        canvas.addLiteral(self.slot_cm[slot])
        canvas.doForm(STAMP_FORM)
        canvas.addLiteral(
            f"0 g {m:.5f} 0 0 {m:.5f} {qr_x:.3f} {qr_y:.3f} cm\n{qr_path_ops(label.matrix)}f Q"
        )
        self._centred(
            self.codes, self.code_font, x + self.code_at[0], y + self.code_at[1], label.code
        )
        if label.scratch_code is not None:
            if "scratch" not in self.sheet.stamp:
                raise ValueError("this stamp stock has no room for a scratch code")
            canvas.addLiteral(self.slot_cm[slot])
            canvas.doForm(SCRATCH_FORM)
            canvas.addLiteral("Q")
            sx, sy = self.scratch_at
            self._centred(self.scratch_codes, self.scratch_font, x + sx, y + sy, label.scratch_code)
            self.has_scratch = True

    @staticmethod
    def _centred(text: PDFTextObject, font: tuple[str, float], x: float, y: float, s: str) -> None:
        text.setTextOrigin(x - stringWidth(s, *font) / 2, y)
        text.textOut(s)

    def finish_page(self) -> None:
        self.canvas.drawText(self.codes)
        if self.has_scratch:
            self.canvas.drawText(self.scratch_codes)
        self._start_page()


def render_sheet_pdf(
    facts: StampFacts,
    labels: Iterable[LabelArt],
    out: BinaryIO,
    *,
    footer: str | None = None,
    progress: Callable[[int], None] | None = None,
    template: str = "a4_sheet",
    start: int = 1,
    offset: tuple[float, float] = (0.0, 0.0),
) -> SheetInfo:
    """Write an A4 PDF of OCOP stamps, one per label, to ``out``; ``progress(n)`` after each
    page with the number of labels drawn so far. Nothing is written if there is no label.

    ``template`` names the sheet stock; ``start`` is the first free position on the first
    sheet (1 = top left, reading order), for a sheet partly used before; ``offset`` moves
    every stamp (x, y) mm, + right and + down, as the producer's calibration found."""
    if facts.star not in OCOP_STARS:
        raise ValueError(f"OCOP stamps carry 3 to 5 stars, not {facts.star}")
    register_fonts()
    sheet = SheetLayout.load(template, offset)
    if not 1 <= start <= sheet.per_page:
        raise ValueError(f"the sheet has positions 1 to {sheet.per_page}, not {start}")
    canvas = _new_canvas(out, sheet, facts)
    _draw_stamp_form(canvas, sheet, facts)
    _draw_scratch_form(canvas, sheet)
    with tempfile.TemporaryFile() as spool:  # the finished pages' streams (_PageStream)
        stamper = _Stamper(canvas, sheet)
        pages, count = _draw_pages(stamper, labels, start, footer, progress, (spool, out))
        _draw_page_numbers(canvas, sheet, pages)
        canvas.save()
    return SheetInfo(pages=pages, per_page=sheet.per_page, labels=count)


_Files = tuple[BinaryIO, BinaryIO]  # the page streams' spool, the PDF being written


def _draw_pages(
    stamper: _Stamper,
    labels: Iterable[LabelArt],
    start: int,
    footer: str | None,
    progress: Callable[[int], None] | None,
    files: _Files,
) -> tuple[int, int]:
    """Every label into its slot, page after page; returns the pages and labels drawn."""
    canvas, per_page = stamper.canvas, stamper.sheet.per_page
    count = 0
    pages = 0
    skip = start - 1  # positions used on the first sheet before
    for label in labels:
        slot = (count + skip) % per_page
        if slot == 0 and count:
            pages += 1
            _finish_page(canvas, stamper, pages, footer, files)
            if progress:
                progress(count)
        stamper.draw(label, slot)
        count += 1
    if not count:
        raise ValueError("no labels to render")
    pages += 1
    _finish_page(canvas, stamper, pages, footer, files)
    if progress:
        progress(count)
    return pages, count


def _new_canvas(out: BinaryIO, sheet: SheetLayout, facts: StampFacts) -> Canvas:
    canvas = Canvas(
        out,
        pagesize=(sheet.page_w, sheet.page_h),
        pageCompression=1,
        invariant=1,
        initialFontName=REGULAR,  # else reportlab names an unused, unembedded Helvetica
    )
    canvas.setTitle(f"Tem OCOP – {unicodedata.normalize('NFC', facts.product_name)}")
    canvas.setCreator("trace-service")
    canvas.setAuthor(unicodedata.normalize("NFC", facts.producer_name))
    canvas.setSubject("Tem sản phẩm OCOP / OCOP star labels")
    # Print dialogs start at "actual size" and one-sided (PDF 1.6+ viewer preferences), so
    # a home printer keeps the 0.5 mm modules and the grid without anyone changing a setting.
    canvas.setViewerPreference("PrintScaling", "None")
    canvas.setViewerPreference("Duplex", "Simplex")
    canvas.setViewerPreference("DisplayDocTitle", "true")
    return canvas


def _page_form(page: int) -> str:
    return f"ocop_page_{page}"


def _finish_page(
    canvas: Canvas, stamper: _Stamper, page: int, footer: str | None, files: _Files
) -> None:
    """The page's codes, the footer line, then the page break. The "Trang x/y" part is a
    form filled in after the last page, when the total is known."""
    stamper.finish_page()
    sheet = stamper.sheet
    spec = sheet.footer
    font = FONTS[spec["font"]]
    baseline = spec["baseline_mm"] * mm
    left, right = sheet.margins["left"], sheet.page_w - sheet.margins["right"]
    if footer:
        # Leave the page-number part its widest plausible room ("Trang 9999/9999 / Page …").
        room = right - left - stringWidth(_page_text(9999, 9999), font, spec["size_pt"])
        fitted = fit_text(
            footer,
            font,
            room - spec["gap_mm"] * mm,
            max_pt=spec["size_pt"],
            min_pt=spec["min_pt"],
            max_lines=1,
        )
        canvas.setFillGray(spec["gray"])
        canvas.setFont(font, fitted.size)
        canvas.drawString(left, baseline, fitted.lines[0])
    canvas.saveState()
    canvas.translate(right, baseline)
    canvas.doForm(_page_form(page))
    canvas.restoreState()
    canvas.showPage()
    _deflate_finished_page(canvas, *files)


class _PageStream(PDFStream):
    """A finished page's deflated operators, kept on disk until ``save`` writes them.

    Why (issue 15: a queue worker must stay under 300 MiB): held in memory, a 10,000-stamp
    sheet's page streams (14 MB) grew with every page, and reportlab's ``save`` formats
    every object into a list of bytes and joins the list into the whole file before writing
    it, so at that moment the sheet was held three times over: the peak of a part's build.
    Now the streams wait in a temporary file (``spool``), and the first one formatted sends
    what the file holds so far to ``out`` and has every later piece go there as it is
    formatted (``PDFDocument.format`` keeps the file being written in ``__accum__`` for its
    objects, "to know where they are in the file"; offsets are still counted by
    ``PDFFile.add``, so the bytes are the same). A document saves once; ``save`` then
    writes the empty rest.
    """

    content: bytes | None  # only while ``format`` writes it

    def __init__(self, content: bytes, spool: BinaryIO, out: BinaryIO) -> None:
        super().__init__(content=None)
        self.spool, self.out = spool, out
        self.at, self.length = spool.tell(), len(content)
        spool.write(content)

    def format(self, document: Any) -> bytes:
        pdf_file = document.__accum__
        if pdf_file.write != self.out.write:
            for piece in pdf_file.strings:
                self.out.write(piece)
            pdf_file.strings.clear()
            pdf_file.write = self.out.write
        self.spool.seek(self.at)
        self.content = self.spool.read(self.length)
        formatted: bytes = super().format(document)
        self.content = None
        return formatted


def _deflate_finished_page(canvas: Canvas, spool: BinaryIO, out: BinaryIO) -> None:
    """Compress the page just finished now rather than at ``save``, and put it aside.

    reportlab keeps every page's operators as text until it saves, ~12 KB a label: 120 MB
    for 10,000. Deflated as each page ends they take a quarter of that, and the work is the
    same. This reaches into reportlab's document (``_doc``, the page's ``stream`` and
    ``Contents``, as ``PDFPage.check_format`` uses them); a stream that already names its
    ``Filter`` is written as it is. The tests read every page back with poppler and zxing.
    """
    page = canvas._doc.Pages.pages[-1]
    if not page.stream or page.Contents:
        return
    contents = _PageStream(PDFZCompress.encode(page.stream), spool, out)
    contents.dictionary["Filter"] = PDFArray([PDFName(PDFZCompress.pdfname)])
    contents.__Comment__ = "page stream"
    page.Contents = contents
    page.stream = None


def _page_text(page: int, pages: int) -> str:
    return f"Trang {page}/{pages} / Page {page}/{pages}"


def _draw_page_numbers(canvas: Canvas, sheet: SheetLayout, pages: int) -> None:
    """Define each page's "Trang x/y / Page x/y" form, right-aligned at its origin."""
    spec = sheet.footer
    size = spec["size_pt"]
    for page in range(1, pages + 1):
        canvas.beginForm(_page_form(page), -sheet.page_w, -size, 0, size * 2)
        canvas.setFillGray(spec["gray"])
        canvas.setFont(FONTS[spec["font"]], size)
        canvas.drawRightString(0, 0, _page_text(page, pages))
        canvas.endForm()

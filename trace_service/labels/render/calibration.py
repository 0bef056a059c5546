"""A calibration page for a sticker stock: printed on plain paper and laid over a sheet of
labels against the light, it shows how far this printer puts the stamps off the labels.

* Each label's outline, its position number (for "start at position N") and a crosshair at
  its centre are drawn where the stamps will print, that is moved by the producer's offset,
  so after a correction the page shows whether it was right.
* The millimetre rulers (along the top and the left) are not moved: their marks are at
  the stated distance from the paper's edge, so a ruler laid on the page reads the
  printer's own shift (the "10" mark 11 mm from the edge: +1 mm).
"""

from __future__ import annotations

from typing import BinaryIO

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from trace_service.fonts import BOLD, REGULAR, register_fonts
from trace_service.labels.render.sheet_pdf import FONTS, SheetLayout, fit_text
from trace_service.labels.render.stocks import get_stock

RULER_EDGE_MM = 6.0  # the rulers' base lines, inside what desktop printers print
TEXT_PT = 6.0
NUMBER_PT = 9.0
TICK_PT = 5.0


def _mm_text(value: float) -> str:
    return f"{value:+.1f}".replace(".", ",").replace("-", "−")


def render_calibration_pdf(
    stock: str, out: BinaryIO, offset: tuple[float, float] = (0.0, 0.0)
) -> None:
    """One page for ``stock`` with ``offset`` (x, y mm, + right and + down) applied."""
    register_fonts()
    sheet = SheetLayout.load(stock, offset)
    info = get_stock(stock)
    title = info.title_vi if info else stock
    canvas = Canvas(
        out, pagesize=(sheet.page_w, sheet.page_h), invariant=1, initialFontName=REGULAR
    )
    canvas.setTitle(f"Trang căn chỉnh – {title}")
    canvas.setCreator("trace-service")
    canvas.setViewerPreference("PrintScaling", "None")  # actual size, or nothing measures
    _draw_positions(canvas, sheet)
    _draw_rulers(canvas, sheet)
    head = (
        f"Trang căn chỉnh / Calibration page · {title} · lệch đang dùng / offset in use: "
        f"x {_mm_text(offset[0])} mm, y {_mm_text(offset[1])} mm · in cỡ thực 100 % / "
        f"print at actual size"
    )
    fitted = fit_text(
        head, FONTS["regular"], sheet.page_w - 30 * mm, max_pt=TEXT_PT, min_pt=5, max_lines=1
    )
    canvas.setFillGray(0.1)
    canvas.setFont(REGULAR, fitted.size)
    canvas.drawCentredString(sheet.page_w / 2, 7.5 * mm, fitted.lines[0])
    canvas.showPage()
    canvas.save()


def _draw_positions(canvas: Canvas, sheet: SheetLayout) -> None:
    canvas.setLineWidth(0.4)
    for number, (x, y) in enumerate(sheet.slots, start=1):
        canvas.setStrokeGray(0.45)
        canvas.setDash(2, 1.5)
        canvas.rect(x, y, sheet.stamp_w, sheet.stamp_h, stroke=1, fill=0)
        canvas.setDash()
        cx, cy = x + sheet.stamp_w / 2, y + sheet.stamp_h / 2
        arm = 3 * mm
        canvas.setStrokeGray(0)
        canvas.line(cx - arm, cy, cx + arm, cy)
        canvas.line(cx, cy - arm, cx, cy + arm)
        canvas.setFillGray(0)
        canvas.setFont(BOLD, NUMBER_PT)
        canvas.drawString(x + 2 * mm, y + sheet.stamp_h - 2 * mm - NUMBER_PT * 0.75, str(number))


def _draw_rulers(canvas: Canvas, sheet: SheetLayout) -> None:
    """Ticks every millimetre, longer every 5, numbered every 10, from 10 mm to the far
    edge less 10 mm (nearer the edge most printers print nothing)."""
    canvas.setStrokeGray(0)
    canvas.setFillGray(0)
    canvas.setLineWidth(0.3)
    canvas.setFont(REGULAR, TICK_PT)
    top = sheet.page_h - RULER_EDGE_MM * mm
    width_mm = round(sheet.page_w / mm)
    for at in range(10, width_mm - 9):
        x = at * mm
        length = (2.5 if at % 10 == 0 else 1.6 if at % 5 == 0 else 1.0) * mm
        canvas.line(x, top, x, top - length)
        if at % 10 == 0 and at < width_mm - 10:
            canvas.drawString(x + 0.4 * mm, top - 2.6 * mm, str(at))
    left = RULER_EDGE_MM * mm
    height_mm = round(sheet.page_h / mm)
    for at in range(12, height_mm - 9):  # from the top edge down, as labels are measured
        y = sheet.page_h - at * mm
        length = (2.5 if at % 10 == 0 else 1.6 if at % 5 == 0 else 1.0) * mm
        canvas.line(left, y, left + length, y)
        if at % 10 == 0:
            canvas.drawString(left + 0.6 * mm, y - TICK_PT - 0.3, str(at))

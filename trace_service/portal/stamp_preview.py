"""A picture of one stamp before it is ordered, drawn by the label renderers themselves.

It reuses the thermal label's drawing (``labels/render/zpl.py``: the same rows, fonts and
fitting as the printed stamp) and puts a specimen QR code in the QR's place: the preview
shows what the stamp will say, and its code says "MẪU" (specimen), never a signed label.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from trace_service.fonts import BOLD, font_path
from trace_service.labels.art import QUIET_ZONE_MODULES, StampFacts
from trace_service.labels.qrbatch import encode
from trace_service.labels.render.zpl import render_static, thermal_layout

PREVIEW_DPI = 300
SPECIMEN_TEXT = "MẪU TEM OCOP - KHÔNG DÁN / SPECIMEN, NOT A STAMP"
SPECIMEN_CODE = "MẪU · SPECIMEN"
# The order page shows the stamp at this size in CSS pixels (about 50 × 30 mm at 150 dpi).
# A screen draws it crisp only from a picture of a whole multiple of it: the page offers
# one at 1× and one at 2× (srcset); a 300-dpi drawing (591 × 354) shown at 295 × 177 is
# reduced by 2.003 and blurs on a screen of one device pixel per CSS pixel.
CSS_WIDTH, CSS_HEIGHT = 295, 177
SCALES = (1, 2)


def _even(n: int) -> int:
    return n - n % 2


def stamp_preview_png(facts: StampFacts, scale: int = 2) -> bytes:
    """One 50 × 30 mm stamp as a PNG (black on white, with its outline) of ``scale`` × the
    CSS size: drawn at 300 dpi on exactly twice the CSS size, and for 1× reduced by exactly
    2 (each 2 × 2 block becomes one pixel). The QR's modules and place are whole even
    numbers of pixels, so at 1× too every module is whole pixels of pure black or white."""
    if scale not in SCALES:
        raise ValueError(f"a stamp preview is drawn at {SCALES}×, not {scale}×")
    layout = thermal_layout(PREVIEW_DPI)
    width, height = 2 * CSS_WIDTH, 2 * CSS_HEIGHT  # 590 × 354: the drawing within a dot
    ink = np.zeros((max(height, layout.height), max(width, layout.width)), dtype=bool)
    static = render_static(facts, layout)
    box = static.box
    ink[box.y : box.y + box.h, box.x : box.x + box.w] = static.bitmap
    matrix = encode(SPECIMEN_TEXT)
    area = layout.qr_area
    module = max(2, _even(area.w // (matrix.shape[0] + 2 * QUIET_ZONE_MODULES)))
    qr = np.repeat(np.repeat(matrix, module, axis=0), module, axis=1)
    left = _even(area.x + (area.w - qr.shape[1]) // 2)
    top = _even(area.y + (area.h - qr.shape[0]) // 2)
    ink[top : top + qr.shape[0], left : left + qr.shape[1]] = qr
    ink = ink[:height, :width]
    image = Image.fromarray(np.where(ink, 0, 255).astype(np.uint8), mode="L")
    draw = ImageDraw.Draw(image)
    _, code_box = layout.rows["code"]
    font = ImageFont.truetype(str(font_path(BOLD)), max(8, code_box.h))
    draw.text((code_box.x, code_box.y), SPECIMEN_CODE, font=font, fill=0)
    draw.rectangle((0, 0, width - 1, height - 1), outline=0, width=2)
    if scale == 1:
        image = image.reduce(2)  # a box filter over whole 2 × 2 blocks
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()

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


def stamp_preview_png(facts: StampFacts) -> bytes:
    """One 50 × 30 mm stamp at 300 dpi as a PNG (black on white, with its outline)."""
    layout = thermal_layout(PREVIEW_DPI)
    ink = np.zeros((layout.height, layout.width), dtype=bool)
    static = render_static(facts, layout)
    box = static.box
    ink[box.y : box.y + box.h, box.x : box.x + box.w] = static.bitmap
    matrix = encode(SPECIMEN_TEXT)
    area = layout.qr_area
    module = max(1, area.w // (matrix.shape[0] + 2 * QUIET_ZONE_MODULES))
    qr = np.repeat(np.repeat(matrix, module, axis=0), module, axis=1)
    left = area.x + (area.w - qr.shape[1]) // 2
    top = area.y + (area.h - qr.shape[0]) // 2
    ink[top : top + qr.shape[0], left : left + qr.shape[1]] = qr
    image = Image.fromarray(np.where(ink, 0, 255).astype(np.uint8), mode="L")
    draw = ImageDraw.Draw(image)
    _, code_box = layout.rows["code"]
    font = ImageFont.truetype(str(font_path(BOLD)), max(8, code_box.h))
    draw.text((code_box.x, code_box.y), SPECIMEN_CODE, font=font, fill=0)
    draw.rectangle((0, 0, layout.width - 1, layout.height - 1), outline=0, width=2)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()

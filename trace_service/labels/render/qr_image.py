"""A QR matrix as the three things printers take: SVG, PNG and raw PDF path operators.

All three draw each row's merged horizontal runs of dark modules rather than one square per
module: the output is several times smaller, and a run filled as one shape has no hairline
seams between neighbouring modules when a viewer or RIP anti-aliases.

The PDF form (``qr_path_ops``) is on the hot path of a print run (10,000+ codes a run), so it is
built with numpy alone, never a Python loop per module or per run.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import numpy.typing as npt
from PIL import Image

from trace_service.labels.art import QUIET_ZONE_MODULES

MM_PER_INCH = 25.4
Matrix = npt.NDArray[np.bool_]


def _runs(
    matrix: Matrix,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """(row, first column, length) of every horizontal run of dark modules, row by row."""
    dark = np.asarray(matrix, dtype=bool)
    rows, cols = dark.shape
    # A light column after each row keeps runs from joining across rows once flattened, and
    # a light cell in front makes a run that opens the first row show as a change too.
    padded = np.zeros(rows * (cols + 1) + 1, dtype=bool)
    padded[1:].reshape(rows, cols + 1)[:, :cols] = dark
    # Changes alternate light->dark, dark->light because the flat array starts and ends light.
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    starts, ends = changes[0::2], changes[1::2]
    row, col = np.divmod(starts, cols + 1)
    return row, col, ends - starts


@cache
def _number_fields(digits: int) -> npt.NDArray[np.uint8]:
    """Row ``k``: ``k`` right-aligned in ``digits`` ASCII characters (leading spaces)."""
    text = "".join(f"{k:>{digits}}" for k in range(10**digits))
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(-1, digits)


def qr_path_ops(matrix: Matrix) -> str:
    """PDF path operators ``x y w 1 re``, one per dark run, in module units.

    The origin is the bottom-left corner of the symbol itself (quiet zone excluded) and y goes
    up, as in PDF user space; the caller scales with ``cm`` and ends the path with ``f``.
    Numbers are right-aligned in fixed-width fields (padding spaces are PDF whitespace), so
    numpy writes every record at once into one byte array from a lookup table of numbers.
    """
    row, col, width = _runs(matrix)
    size = np.asarray(matrix).shape[0]
    digits = len(str(size))
    table = _number_fields(digits)
    field = digits + 1  # the number and the space after it
    record = np.frombuffer(b" " * (3 * field) + b"1 re\n", dtype=np.uint8)
    out = np.empty((len(row), len(record)), dtype=np.uint8)
    out[:] = record
    out[:, 0:digits] = table[col]
    out[:, field : field + digits] = table[size - 1 - row]
    out[:, 2 * field : 2 * field + digits] = table[width]
    return out.tobytes().decode("ascii")


def _with_quiet_zone(matrix: Matrix) -> Matrix:
    return np.pad(np.asarray(matrix, dtype=bool), QUIET_ZONE_MODULES, constant_values=False)


def qr_svg(matrix: Matrix, *, module_mm: float = 0.5) -> str:
    """A standalone SVG of the symbol with its quiet zone, ``module_mm`` per module.

    The viewBox counts modules (so the path is integers) and width/height carry the physical
    size, which is what layout programs and print shops read.
    """
    row, col, width = _runs(matrix)
    side = np.asarray(matrix).shape[0] + 2 * QUIET_ZONE_MODULES
    q = QUIET_ZONE_MODULES
    path = "".join(
        f"M{x + q} {y + q}h{w}v1h-{w}z"
        for y, x, w in zip(row.tolist(), col.tolist(), width.tolist(), strict=True)
    )
    size_mm = f"{side * module_mm:g}mm"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_mm}" height="{size_mm}" '
        f'viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>\n'
    )


def qr_png(matrix: Matrix, *, scale: int = 8, module_mm: float = 0.5) -> bytes:
    """A 1-bit PNG of the symbol with its quiet zone, ``scale`` pixels per module.

    The DPI written into the file makes the image print at ``module_mm`` per module when
    placed at its natural size.
    """
    if scale < 1:
        raise ValueError("scale must be at least 1 pixel per module")
    light = ~_with_quiet_zone(matrix)  # mode "1": True is white
    pixels = np.repeat(np.repeat(light, scale, axis=0), scale, axis=1)
    image = Image.fromarray(pixels)  # a bool array becomes a mode "1" (1-bit) image
    dpi = scale / module_mm * MM_PER_INCH
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi), optimize=True)
    return buffer.getvalue()

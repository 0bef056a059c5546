"""Artwork drawn on stamps (the OCOP mark) from an SVG file in ``label_templates/``.

The office replaces the file with the official artwork without touching code, so the reader
takes the plain SVG that drawing programs export (Inkscape "Plain SVG", Illustrator "SVG
1.1") once text and strokes are turned into filled outlines: ``path`` (M L H V C S Q T Z,
absolute and relative), ``polygon``, ``rect``, ``circle``, ``ellipse``, ``g``, and
``transform`` (matrix, translate, scale). Anything else (text, images, arcs, gradients) is
refused with the element it found, at load time, rather than printed wrong or missing on
thousands of stamps. Drawn as vector paths: sharp at any printer resolution, no image.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from typing import Any

from reportlab.lib.colors import HexColor
from reportlab.pdfgen.canvas import FILL_EVEN_ODD, FILL_NON_ZERO, Canvas

from trace_service.labels.templates import TEMPLATES_DIR

SVG = "{http://www.w3.org/2000/svg}"
SHAPES = {"path", "polygon", "rect", "circle", "ellipse"}
IGNORED = {"title", "desc", "metadata", "defs"}  # carry no ink
TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d*\.\d+|\d+\.?)(?:[eE][-+]?\d+)?")
KAPPA = 4 / 3 * (math.sqrt(2) - 1)  # a quarter circle as one cubic
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1, 0, 0, 1, 0, 0)
Point = tuple[float, float]


class ArtworkError(ValueError):
    """The artwork file uses something this reader does not draw."""


@dataclass(frozen=True)
class Shape:
    """One filled outline: subpaths of ``("M", p) ("L", p) ("C", p1, p2, p3) ("Z",)``."""

    ops: tuple[tuple[Any, ...], ...]
    fill: str
    even_odd: bool


@dataclass(frozen=True)
class Artwork:
    x: float  # the viewBox, in the file's units
    y: float
    width: float
    height: float
    shapes: tuple[Shape, ...]

    def width_for(self, height: float) -> float:
        return height * self.width / self.height


# ---------------------------------------------------------------------------- reading


@cache
def load_artwork(name: str) -> Artwork:
    """``label_templates/<name>`` (an .svg file) read into filled shapes."""
    path = TEMPLATES_DIR / name
    if path.suffix != ".svg" or path.parent != TEMPLATES_DIR or not path.is_file():
        raise ArtworkError(f"no artwork file {name!r} in label_templates/")
    return parse_svg(path.read_text(encoding="utf-8"), name)


def parse_svg(text: str, name: str = "artwork") -> Artwork:
    # The office puts the file on the server (like the templates): not input from the web.
    root = ET.fromstring(text)  # noqa: S314
    if root.tag != f"{SVG}svg":
        raise ArtworkError(f"{name}: not an SVG file")
    box = [float(v) for v in TOKEN.findall(root.get("viewBox", ""))]
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
        raise ArtworkError(f"{name}: the <svg> element needs a viewBox")
    shapes: list[Shape] = []
    _walk(root, IDENTITY, "#000000", shapes, name)
    if not shapes:
        raise ArtworkError(f"{name}: nothing to draw")
    return Artwork(box[0], box[1], box[2], box[3], tuple(shapes))


def _style(element: ET.Element, key: str) -> str | None:
    for part in element.get("style", "").split(";"):
        k, _, v = part.partition(":")
        if k.strip() == key:
            return v.strip()
    return element.get(key)


def _walk(element: ET.Element, ctm: Matrix, fill: str, out: list[Shape], name: str) -> None:
    ctm = _compose(ctm, _transform(element.get("transform", ""), name))
    fill = _style(element, "fill") or fill
    for child in element:
        if not isinstance(child.tag, str):
            continue  # a comment or processing instruction
        tag = child.tag.removeprefix(SVG)
        if tag in IGNORED:
            continue
        if tag == "g":
            _walk(child, ctm, fill, out, name)
        elif tag in SHAPES:
            shape = _shape(child, tag, _compose(ctm, _transform(child.get("transform", ""), name)))
            colour = _style(child, "fill") or fill
            if _style(child, "stroke") not in (None, "none"):
                raise ArtworkError(f"{name}: <{tag}> has a stroke; convert strokes to paths")
            if colour != "none":
                even_odd = _style(child, "fill-rule") == "evenodd"
                out.append(Shape(tuple(shape), _colour(colour, name), even_odd))
        else:
            raise ArtworkError(f"{name}: <{tag}> is not drawn; convert it to paths")


def _colour(value: str, name: str) -> str:
    if re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        return value.upper()
    if re.fullmatch(r"#[0-9A-Fa-f]{3}", value):
        return "#" + "".join(c * 2 for c in value[1:]).upper()
    named = {"black": "#000000", "white": "#FFFFFF"}
    if value.lower() in named:
        return named[value.lower()]
    raise ArtworkError(f"{name}: colour {value!r}: use #RRGGBB")


def _transform(text: str, name: str) -> Matrix:
    m = IDENTITY
    for kind, args in re.findall(r"(\w+)\s*\(([^)]*)\)", text):
        v = [float(a) for a in TOKEN.findall(args)]
        if kind == "matrix" and len(v) == 6:
            step: Matrix = (v[0], v[1], v[2], v[3], v[4], v[5])
        elif kind == "translate" and v:
            step = (1, 0, 0, 1, v[0], v[1] if len(v) > 1 else 0)
        elif kind == "scale" and v:
            step = (v[0], 0, 0, v[1] if len(v) > 1 else v[0], 0, 0)
        else:
            raise ArtworkError(f"{name}: transform {kind}() is not supported")
        m = _compose(m, step)
    return m


def _compose(a: Matrix, b: Matrix) -> Matrix:
    """``a`` applied after ``b`` (SVG: the parent's matrix times the child's)."""
    return (
        a[0] * b[0] + a[2] * b[1],
        a[1] * b[0] + a[3] * b[1],
        a[0] * b[2] + a[2] * b[3],
        a[1] * b[2] + a[3] * b[3],
        a[0] * b[4] + a[2] * b[5] + a[4],
        a[1] * b[4] + a[3] * b[5] + a[5],
    )


def _apply(m: Matrix, p: Point) -> Point:
    return (m[0] * p[0] + m[2] * p[1] + m[4], m[1] * p[0] + m[3] * p[1] + m[5])


def _num(element: ET.Element, key: str) -> float:
    return float(element.get(key, "0").removesuffix("px"))


def _shape(element: ET.Element, tag: str, m: Matrix) -> list[tuple[Any, ...]]:
    if tag == "path":
        ops = _path_ops(element.get("d", ""))
    elif tag == "polygon":
        v = [float(t) for t in TOKEN.findall(element.get("points", ""))]
        pts = list(zip(v[0::2], v[1::2], strict=False))
        ops = [("M", pts[0]), *(("L", p) for p in pts[1:]), ("Z",)] if pts else []
    elif tag == "rect":
        x, y, w, h = (_num(element, k) for k in ("x", "y", "width", "height"))
        ops = [("M", (x, y)), ("L", (x + w, y)), ("L", (x + w, y + h)), ("L", (x, y + h)), ("Z",)]
    else:
        cx, cy = _num(element, "cx"), _num(element, "cy")
        rx = _num(element, "r") if tag == "circle" else _num(element, "rx")
        ry = _num(element, "r") if tag == "circle" else _num(element, "ry")
        ops = _ellipse(cx, cy, rx, ry)
    return [(op[0], *(_apply(m, p) for p in op[1:])) for op in ops]


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> list[tuple[Any, ...]]:
    kx, ky = rx * KAPPA, ry * KAPPA
    return [
        ("M", (cx + rx, cy)),
        ("C", (cx + rx, cy + ky), (cx + kx, cy + ry), (cx, cy + ry)),
        ("C", (cx - kx, cy + ry), (cx - rx, cy + ky), (cx - rx, cy)),
        ("C", (cx - rx, cy - ky), (cx - kx, cy - ry), (cx, cy - ry)),
        ("C", (cx + kx, cy - ry), (cx + rx, cy - ky), (cx + rx, cy)),
        ("Z",),
    ]


def _cubic(
    up: str, v: list[float], origin: Point, cur: Point, last_ctrl: Point | None
) -> tuple[Any, ...]:
    """A C or S command as an absolute cubic (S mirrors the previous control point)."""
    ox, oy = origin
    if up == "C":
        p1, v = (ox + v[0], oy + v[1]), v[2:]
    else:
        p1 = (2 * cur[0] - last_ctrl[0], 2 * cur[1] - last_ctrl[1]) if last_ctrl else cur
    return ("C", p1, (ox + v[0], oy + v[1]), (ox + v[2], oy + v[3]))


def _quadratic(
    up: str, v: list[float], origin: Point, cur: Point, last_quad: Point | None
) -> tuple[tuple[Any, ...], Point]:
    """A Q or T command as the same curve in cubic form, and its quadratic control point."""
    ox, oy = origin
    if up == "Q":
        q, v = (ox + v[0], oy + v[1]), v[2:]
    else:
        q = (2 * cur[0] - last_quad[0], 2 * cur[1] - last_quad[1]) if last_quad else cur
    end = (ox + v[0], oy + v[1])
    p1 = (cur[0] + 2 / 3 * (q[0] - cur[0]), cur[1] + 2 / 3 * (q[1] - cur[1]))
    p2 = (end[0] + 2 / 3 * (q[0] - end[0]), end[1] + 2 / 3 * (q[1] - end[1]))
    return ("C", p1, p2, end), q


def _path_ops(d: str) -> list[tuple[Any, ...]]:
    """An SVG path's data as absolute moves, lines and cubics."""
    tokens = TOKEN.findall(d)
    ops: list[tuple[Any, ...]] = []
    i, cmd = 0, ""
    cur = start = (0.0, 0.0)
    last_ctrl: Point | None = None  # for S and T: the previous segment's control point
    last_quad: Point | None = None

    def take(n: int) -> list[float]:
        nonlocal i
        values = [float(t) for t in tokens[i : i + n]]
        if len(values) != n:
            raise ArtworkError(f"path data ends in the middle of a {cmd!r} command")
        i += n
        return values

    while i < len(tokens):
        if tokens[i].isalpha():
            cmd = tokens[i]
            i += 1
            if cmd in "Zz":
                ops.append(("Z",))
                cur, last_ctrl, last_quad = start, None, None
                continue
        if cmd == "" or cmd in "Zz":
            raise ArtworkError("path data must start with a command")
        rel = cmd.islower()
        ox, oy = cur if rel else (0.0, 0.0)
        up = cmd.upper()
        ctrl: Point | None = None
        quad: Point | None = None
        if up == "M":
            x, y = take(2)
            cur = start = (ox + x, oy + y)
            ops.append(("M", cur))
            cmd = "l" if rel else "L"  # further pairs are lines
        elif up in "LHV":
            if up == "L":
                x, y = take(2)
                cur = (ox + x, oy + y)
            elif up == "H":
                cur = (ox + take(1)[0], cur[1])
            else:
                cur = (cur[0], oy + take(1)[0])
            ops.append(("L", cur))
        elif up in "CS":
            op = _cubic(up, take(6 if up == "C" else 4), (ox, oy), cur, last_ctrl)
            ops.append(op)
            cur, ctrl = op[3], op[2]
        elif up in "QT":
            op, quad = _quadratic(up, take(4 if up == "Q" else 2), (ox, oy), cur, last_quad)
            ops.append(op)
            cur = op[3]
        else:
            raise ArtworkError(f"path command {cmd!r} is not supported (arcs: convert to curves)")
        last_ctrl, last_quad = ctrl, quad
    return ops


# ---------------------------------------------------------------------------- drawing


def draw_artwork(canvas: Canvas, art: Artwork, left: float, top: float, height: float) -> float:
    """Draw ``art`` with its top-left corner at (``left``, ``top``) in PDF points (y up),
    ``height`` points tall; returns the width drawn."""
    scale = height / art.height

    def at(p: Point) -> Point:
        return left + (p[0] - art.x) * scale, top - (p[1] - art.y) * scale

    for shape in art.shapes:
        path = canvas.beginPath()
        for op in shape.ops:
            if op[0] == "M":
                path.moveTo(*at(op[1]))
            elif op[0] == "L":
                path.lineTo(*at(op[1]))
            elif op[0] == "C":
                path.curveTo(*at(op[1]), *at(op[2]), *at(op[3]))
            else:
                path.close()
        canvas.setFillColor(HexColor(shape.fill))
        mode = FILL_EVEN_ODD if shape.even_odd else FILL_NON_ZERO
        canvas.drawPath(path, stroke=0, fill=1, fillMode=mode)
    return art.width_for(height)

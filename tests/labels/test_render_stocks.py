"""Stamps on real sticker stock, checked as a printer and a phone see them: each stock's
PDF rasterised at 150 dpi with poppler and scanned with zxing-cpp (every QR code where its
label is, after the start position and the offset), its text sizes read with pypdf, the
calibration page, and the OCOP mark drawn from its replaceable artwork file."""

from __future__ import annotations

import io
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from tests.decode import read_qr_codes
from tests.labels.test_sheet_pdf import FACTS, make_label
from trace_service.labels.art import LabelArt
from trace_service.labels.render import artwork
from trace_service.labels.render.artwork import ArtworkError, parse_svg
from trace_service.labels.render.calibration import render_calibration_pdf
from trace_service.labels.render.sheet_pdf import (
    SheetLayout,
    check_stamp,
    qr_modules_fit,
    render_sheet_pdf,
)
from trace_service.labels.render.stocks import stocks
from trace_service.labels.templates import load_template

MM = 72 / 25.4
DPI = 150
STOCKS = [s.name for s in stocks()]
START = 4
OFFSET = (1.5, -2.0)  # mm: right and up


def rasterise(pdf: Path, page: int = 1) -> np.ndarray:
    prefix = pdf.with_name(f"{pdf.stem}-r{page}")
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-gray", "-png", "-f", str(page), "-l", str(page),
         str(pdf), str(prefix)],
        check=True,
    )  # fmt: skip
    return np.array(Image.open(next(pdf.parent.glob(f"{prefix.name}*.png"))).convert("L"))


def text_sizes(pdf: bytes | Path) -> dict[float, set[str]]:
    """Every piece of text's printed size in points (Tf size times the text and graphics
    matrices' scale), forms included."""
    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    sizes: dict[float, set[str]] = {}

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            printed = size * math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1])
            sizes.setdefault(round(printed, 2), set()).add(text.strip())

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    return sizes


def _labels(stock: str, count: int) -> list[LabelArt]:
    scratch = load_template(load_template(stock)["stamp"]).get("scratch") is not None
    made = [make_label(i) for i in range(count)]
    return made if scratch else [LabelArt(x.url, x.code, x.matrix) for x in made]


@pytest.fixture(scope="module", params=STOCKS)
def printed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A run on ``stock`` from position START with OFFSET, one label onto a second sheet."""
    stock = request.param
    layout = SheetLayout.load(stock, OFFSET)
    labels = _labels(stock, layout.per_page - START + 2)
    path = tmp_path_factory.mktemp(stock) / "sheet.pdf"
    with path.open("wb") as out:
        info = render_sheet_pdf(
            FACTS, labels, out, footer="Lô DM2507 · Đợt in 3", template=stock,
            start=START, offset=OFFSET,
        )  # fmt: skip
    return stock, layout, labels, path, info


def test_every_stock_is_offered_with_where_its_numbers_come_from() -> None:
    assert {"a4_sheet", "avery_l7160", "avery_l7120"} <= set(STOCKS)
    assert STOCKS[0] == "a4_sheet"
    for stock in stocks():
        assert stock.title_vi and stock.title_en and stock.source
    by_name = {s.name: s for s in stocks()}
    assert (by_name["avery_l7160"].per_page, by_name["avery_l7160"].stamp_mm) == (21, (63.5, 38.1))
    assert (by_name["avery_l7120"].per_page, by_name["avery_l7120"].stamp_mm) == (35, (35, 35))


def test_a_die_cut_layout_puts_each_label_at_its_published_place() -> None:
    l7160 = SheetLayout.load("avery_l7160")
    x, y = l7160.slots[0]
    assert (round(x / MM, 2), round((l7160.page_h - y - l7160.stamp_h) / MM, 2)) == (7.25, 15.15)
    x2, _ = l7160.slots[1]
    _, y4 = l7160.slots[3]
    assert round((x2 - x) / MM, 2) == 66.0 and round((y - y4) / MM, 2) == 38.1
    l7120 = SheetLayout.load("avery_l7120")
    x, y = l7120.slots[-1]  # the last label: 7.5 mm from the right, 11 mm from the bottom
    assert round((l7120.page_w - x - l7120.stamp_w) / MM, 2) == 7.5
    assert round(y / MM, 2) == 11.0


def test_each_qr_code_scans_where_its_label_is_after_the_start_and_the_offset(printed) -> None:
    stock, layout, labels, path, info = printed
    assert info.pages == 2 and info.per_page == layout.per_page
    page = rasterise(path, 1)
    found = read_qr_codes(Image.fromarray(page))
    first_sheet = labels[: layout.per_page - START + 1]
    assert sorted(code.text for code in found) == sorted(label.url for label in first_sheet)
    scale = DPI / 72
    for code in found:
        slot = START - 1 + [label.url for label in labels].index(code.text)
        x, y = layout.slots[slot]  # already moved by OFFSET
        p = code.position
        cx = (p.top_left.x + p.bottom_right.x) / 2 / scale
        cy = layout.page_h - (p.top_left.y + p.bottom_right.y) / 2 / scale
        assert x < cx < x + layout.stamp_w and y < cy < y + layout.stamp_h, (stock, slot)
    # Positions 1 to START - 1 were used before: nothing is printed on them.
    for slot in range(START - 1):
        x, y = layout.slots[slot]
        top, bottom = (round((layout.page_h - y - d) * scale) for d in (layout.stamp_h, 0))
        left, right = round(x * scale), round((x + layout.stamp_w) * scale)
        cell = page[top + 2 : bottom - 2, left + 2 : right - 2]
        assert (cell == 255).all(), (stock, slot)
    second = read_qr_codes(Image.fromarray(rasterise(path, 2)))
    assert [code.text for code in second] == [labels[-1].url]


def test_the_offset_moves_every_stamp_by_that_many_millimetres() -> None:
    plain, moved = SheetLayout.load("avery_l7160"), SheetLayout.load("avery_l7160", OFFSET)
    for (x0, y0), (x1, y1) in zip(plain.slots, moved.slots, strict=True):
        assert round((x1 - x0) / MM, 3) == OFFSET[0]
        assert round((y0 - y1) / MM, 3) == OFFSET[1]  # + is down the page


def test_nothing_is_printed_under_5_pt(printed) -> None:
    _stock, _layout, _labels, path, _info = printed
    sizes = text_sizes(path)
    assert sizes and min(sizes) >= 5, {k: sorted(v)[:3] for k, v in sizes.items() if k < 5}


def test_the_calibration_page_prints_nothing_under_5_pt_either(tmp_path: Path) -> None:
    for stock in STOCKS:
        out = io.BytesIO()
        render_calibration_pdf(stock, out, OFFSET)
        sizes = text_sizes(out.getvalue())
        assert min(sizes) >= 5, stock


def test_a_long_name_shrinks_to_5_pt_and_no_further() -> None:
    facts = FACTS.__class__(
        4, "Trà hoa vàng Tam Đảo hữu cơ đặc biệt " * 6, "Công ty TNHH Nông sản " * 8,
        "0123/2025/QĐ-UBND-ĐN", FACTS.valid_until,
    )  # fmt: skip
    for stock in ("a4_sheet", "avery_l7160"):  # the square stamp prints no names
        out = io.BytesIO()
        render_sheet_pdf(facts, _labels(stock, 1), out, template=stock)
        assert min(text_sizes(out.getvalue())) == 5, stock


def test_a_stamp_with_qr_modules_under_the_decode_minimum_is_refused() -> None:
    stamp = dict(load_template("stamp_sq35"))
    check_stamp("stamp_sq35", stamp)  # 0.43 mm: 0.404 mm after a 94 % shrink-to-fit
    with pytest.raises(ValueError, match="GS1"):
        check_stamp("too_fine", {**stamp, "module_mm": 0.4})
    with pytest.raises(ValueError, match="5 pt"):
        check_stamp("tiny_text", {**stamp, "code": {**stamp["code"], "size_pt": 4.5}})
    assert qr_modules_fit(stamp, 49) and not qr_modules_fit(stamp, 53)


def test_offsets_past_10_mm_and_positions_off_the_sheet_are_refused() -> None:
    with pytest.raises(ValueError, match="10 mm"):
        SheetLayout.load("avery_l7120", (0, 10.5))
    for start in (0, 36):
        with pytest.raises(ValueError, match="positions 1 to 35"):
            render_sheet_pdf(FACTS, _labels("avery_l7120", 1), io.BytesIO(),
                             template="avery_l7120", start=start)  # fmt: skip
    with pytest.raises(ValueError, match="scratch"):
        render_sheet_pdf(FACTS, [make_label(0)], io.BytesIO(), template="avery_l7120")


def test_the_calibration_page_shows_positions_crosshairs_and_rulers(tmp_path: Path) -> None:
    path = tmp_path / "calibration.pdf"
    with path.open("wb") as out:
        render_calibration_pdf("avery_l7160", out, OFFSET)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    words = text.split()
    assert all(str(n) in words for n in range(1, 22))  # the positions, for "start at N"
    assert "x +1,5 mm, y −2,0 mm" in " ".join(words)
    page = rasterise(path)
    scale = DPI / 25.4
    layout = SheetLayout.load("avery_l7160", OFFSET)
    for x, y in layout.slots:  # a crosshair at each label's centre, moved by the offset
        cx = round((x + layout.stamp_w / 2) / 72 * DPI)
        cy = round((layout.page_h - y - layout.stamp_h / 2) / 72 * DPI)
        assert (page[cy - 1 : cy + 2, cx - 8 : cx + 9] < 128).sum() >= 10
        assert (page[cy - 8 : cy + 9, cx - 1 : cx + 2] < 128).sum() >= 10
    # The top ruler is not moved: its 10 mm tick is 10 mm from the paper's left edge.
    row = page[round(6.5 * scale)]
    ticks = np.flatnonzero(row[: round(30 * scale)] < 160) / scale
    assert any(abs(t - 10) < 0.3 for t in ticks) and any(abs(t - 20) < 0.3 for t in ticks)
    assert not any(t < 9.5 for t in ticks)


# ---------------------------------------------------------------------------- the OCOP mark


def test_the_shipped_mark_is_outlines_that_the_reader_draws() -> None:
    mark = artwork.load_artwork("ocop_mark.svg")
    assert mark.width / mark.height > 2 and len(mark.shapes) >= 4
    assert {shape.fill for shape in mark.shapes} == {"#0B6B3A", "#C8102E"}


@pytest.mark.parametrize(
    "body, problem",
    [
        ('<text x="0" y="10">OCOP</text>', "<text>"),
        ('<image href="logo.png" width="10" height="10"/>', "<image>"),
        ('<path d="M0 0 A5 5 0 0 1 10 10Z"/>', "'A'"),
        ('<path d="M0 0 L10 0 L10 10Z" stroke="#000000"/>', "stroke"),
        ('<path d="M0 0 L10 0 L10 10Z" fill="url(#g)"/>', "#RRGGBB"),
    ],
)
def test_artwork_the_reader_cannot_draw_is_refused_by_name(body: str, problem: str) -> None:
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20">{body}</svg>'
    with pytest.raises(ArtworkError, match=problem.replace("(", r"\(")):
        parse_svg(svg)


def test_paths_transforms_and_shapes_are_read_into_absolute_outlines() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50">'
        '<g transform="translate(10 5) scale(2)"><path d="m1 1 h4 v4 h-4 z" fill="#abc"/></g>'
        '<rect x="50" y="0" width="10" height="10" fill="#000"/>'
        '<path d="M0 40 Q5 30 10 40 T20 40 C25 30 30 30 35 40 S45 50 50 40Z"/></svg>'
    )
    art = parse_svg(svg)
    square = art.shapes[0]
    assert square.fill == "#AABBCC"
    assert [op[1] for op in square.ops if op[0] in "ML"] == [
        (12, 7), (20, 7), (20, 15), (12, 15),
    ]  # fmt: skip
    curves = [op for op in art.shapes[2].ops if op[0] == "C"]
    assert len(curves) == 4 and curves[-1][3] == (50, 40)
    assert curves[1][1] == pytest.approx((10 + 2 / 3 * 5, 40 + 2 / 3 * 10))  # T reflects Q


def test_the_office_replaces_the_mark_by_replacing_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A different ocop_mark.svg in label_templates/ is what the next stamps carry."""
    (tmp_path / "ocop_mark.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 10">'
        '<rect width="30" height="10" fill="#0000FF"/></svg>',
        encoding="utf-8",
    )
    monkeypatch.setattr(artwork, "TEMPLATES_DIR", tmp_path)
    artwork.load_artwork.cache_clear()
    try:
        path = tmp_path / "blue.pdf"
        with path.open("wb") as out:
            render_sheet_pdf(FACTS, [make_label(0)], out, template="avery_l7160")
    finally:
        artwork.load_artwork.cache_clear()
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "c")],
        check=True,
    )
    rgb = np.array(Image.open(next(tmp_path.glob("c*.png"))).convert("RGB")).astype(int)
    blue = (rgb[..., 2] > 200) & (rgb[..., 0] < 60) & (rgb[..., 1] < 60)
    green = (rgb[..., 1] > rgb[..., 0] + 60) & (rgb[..., 1] > rgb[..., 2] + 30)
    # The blue block is where the mark goes (the stamp frame stays green).
    stamp = load_template("stamp_63x38")
    height_px = stamp["mark"]["height_mm"] / 25.4 * DPI
    assert blue.sum() > 0.8 * height_px * 3 * height_px
    assert green.sum() > 0

"""The A4 sticker sheet, checked the way a printer and a phone see it: rasterised with
poppler and scanned with zxing-cpp, read back with pdftotext."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import qrcode
from PIL import Image

from tests.decode import read_qr_codes
from trace_service.labels.art import QUIET_ZONE_MODULES, LabelArt, StampFacts
from trace_service.labels.render.sheet_pdf import SheetLayout, render_sheet_pdf

PRODUCT = "Cà phê bột Robusta Đắk Mil – rang mộc"
PRODUCER = "Hợp tác xã Nông nghiệp Dịch vụ Thuận An"
CERTIFICATE = "125/QĐ-UBND"
FACTS = StampFacts(
    star=4,
    product_name=PRODUCT,
    producer_name=PRODUCER,
    certificate_number=CERTIFICATE,
    valid_until=date(2027, 12, 31),
)
URL_HEAD = "HTTPS://TEM.OCOP.SOKHOAHOCCONGNGHE.DAKNONG.VN/01/08935012345678/10/DM2507-RB1/21/"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LABEL_COUNT = 25  # one full page of 18 and a partial second page
MM = 72 / 25.4


def make_label(i: int) -> LabelArt:
    digest = hashlib.sha256(str(i).encode()).digest()
    serial = "".join(ALPHABET[b % 32] for b in digest[:15])
    digits = "".join(str(b % 10) for b in (digest * 6)[:186])
    url = f"{URL_HEAD}{serial}?S={digits}"
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    q.add_data(url)
    q.make(fit=True)
    return LabelArt(
        url=url,
        code=f"{serial[:5]}-{serial[5:10]}-{serial[10:]}",
        matrix=np.array(q.get_matrix(), dtype=bool),
        scratch_code=f"{int.from_bytes(digest[20:28]) % 10**12:012d}" if i % 3 == 0 else None,
    )


@pytest.fixture(scope="module")
def labels() -> list[LabelArt]:
    return [make_label(i) for i in range(LABEL_COUNT)]


@pytest.fixture(scope="module")
def layout() -> SheetLayout:
    return SheetLayout.load("a4_sheet")


@pytest.fixture(scope="module")
def sheet(labels: list[LabelArt], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sheet") / "sheet.pdf"
    with path.open("wb") as out:
        render_sheet_pdf(FACTS, iter(labels), out, footer="Lô DM2507-RB1 · Đợt in 12")
    return path


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def rasterise(pdf: Path, dpi: int, color: bool = False) -> list[np.ndarray]:
    """Every page as a uint8 array (grayscale, or RGB when ``color``)."""
    prefix = pdf.with_name(f"{pdf.stem}-{dpi}{'c' if color else 'g'}")
    run("pdftoppm", "-r", str(dpi), "-png", *([] if color else ["-gray"]), pdf, prefix)
    pages = sorted(prefix.parent.glob(f"{prefix.name}-*.png"))
    # poppler 22 writes "-gray -png" as RGB with equal channels; "L" makes it one channel.
    return [np.array(Image.open(page).convert("RGB" if color else "L")) for page in pages]


@pytest.fixture(scope="module")
def pages_300(sheet: Path) -> list[np.ndarray]:
    return rasterise(sheet, 300)


@pytest.fixture(scope="module")
def pages_150(sheet: Path) -> list[np.ndarray]:
    return rasterise(sheet, 150)


def cell_pixels(layout: SheetLayout, slot: int, dpi: int, pad_mm: float = 0) -> tuple[slice, slice]:
    """Rows and columns of a stamp slot on a page rasterised at ``dpi``."""
    x, y = layout.slots[slot]
    scale = dpi / 72
    pad = pad_mm * MM
    top = round((layout.page_h - y - layout.stamp_h - pad) * scale)
    bottom = round((layout.page_h - y + pad) * scale)
    left = round((x - pad) * scale)
    right = round((x + layout.stamp_w + pad) * scale)
    return slice(top, bottom), slice(left, right)


def page_labels(labels: list[LabelArt], per_page: int, page: int) -> list[LabelArt]:
    return labels[page * per_page : (page + 1) * per_page]


def test_does_rendering_report_pages_and_progress(labels: list[LabelArt]) -> None:
    seen: list[int] = []
    info = render_sheet_pdf(FACTS, labels, io.BytesIO(), progress=seen.append)
    assert (info.pages, info.per_page, info.labels) == (2, 18, 25)
    assert seen == [18, 25]


def test_is_the_page_exactly_a4(sheet: Path) -> None:
    info = run("pdfinfo", sheet)
    assert re.search(r"Page size:\s+595\.2\d* x 841\.89 pts \(A4\)", info)
    assert re.search(r"Pages:\s+2\n", info)


@pytest.mark.parametrize("dpi", [300, 150])
def test_does_every_qr_on_a_page_scan_to_exactly_that_pages_urls(
    request: pytest.FixtureRequest, labels: list[LabelArt], layout: SheetLayout, dpi: int
) -> None:
    pages: list[np.ndarray] = request.getfixturevalue(f"pages_{dpi}")
    per_page = len(layout.slots)
    assert len(pages) == 2
    for number, page in enumerate(pages):
        issued = [label.url for label in page_labels(labels, per_page, number)]
        found = [b.text for b in read_qr_codes(Image.fromarray(page))]
        assert sorted(found) == sorted(issued)


def test_is_every_quiet_zone_left_white(
    pages_300: list[np.ndarray], labels: list[LabelArt], layout: SheetLayout
) -> None:
    t = layout.stamp
    module_px = t["module_mm"] * 300 / 25.4
    per_page = len(layout.slots)
    for number, page in enumerate(pages_300):
        for slot, label in enumerate(page_labels(labels, per_page, number)):
            rows, cols = cell_pixels(layout, slot, 300)
            cell = page[rows, cols]
            side_px = (label.matrix.shape[0] + 2 * QUIET_ZONE_MODULES) * module_px
            inset = (t["qr"]["box_mm"] * 300 / 25.4 - side_px) / 2
            top = t["qr"]["top_mm"] * 300 / 25.4 + inset
            left = t["qr"]["left_mm"] * 300 / 25.4 + inset
            quiet = QUIET_ZONE_MODULES * module_px
            # The ring between the symbol and the outer edge of its quiet zone, with a pixel
            # of slack on each side for anti-aliasing.
            outer = cell[
                round(top) + 1 : round(top + side_px) - 1,
                round(left) + 1 : round(left + side_px) - 1,
            ]
            ring = np.ones(outer.shape, dtype=bool)
            q = round(quiet) - 2
            ring[q:-q, q:-q] = False
            assert (outer[ring] == 255).all(), f"page {number + 1} slot {slot}"
            assert (outer[~ring] < 128).any()  # and the symbol itself is there


def test_is_the_outer_10_mm_band_blank_on_every_page(pages_150: list[np.ndarray]) -> None:
    band = int(10 * 150 / 25.4)
    for page in pages_150:
        assert page.shape == (round(297 * 150 / 25.4), round(210 * 150 / 25.4) + 1)
        assert (page[:band] == 255).all() and (page[-band:] == 255).all()
        assert (page[:, :band] == 255).all() and (page[:, -band:] == 255).all()
        assert (page[band:-band, band:-band] < 255).any()


def test_is_the_qr_code_vector_paths_with_no_images(sheet: Path) -> None:
    listing = run("pdfimages", "-list", sheet).splitlines()
    assert len(listing) == 2  # the two header lines, and not one image
    # Object dictionaries are not compressed, so an image XObject would show its subtype.
    assert not re.search(rb"/Subtype\s*/Image", sheet.read_bytes())


def stamp_text(pdf: Path, layout: SheetLayout, page: int, slot: int) -> str:
    """pdftotext of one stamp's rectangle (in points), whitespace collapsed."""
    x, y = layout.slots[slot]
    top = layout.page_h - y - layout.stamp_h
    text = run(
        "pdftotext", "-f", str(page), "-l", str(page),
        "-x", str(int(x)), "-y", str(int(top)),
        "-W", str(int(layout.stamp_w) + 1), "-H", str(int(layout.stamp_h) + 1),
        pdf, "-",
    )  # fmt: skip
    return " ".join(text.split())


def test_does_pdftotext_read_every_stamp_back_exactly(
    sheet: Path, labels: list[LabelArt], layout: SheetLayout
) -> None:
    per_page = len(layout.slots)
    for index, label in enumerate(labels):
        text = stamp_text(sheet, layout, index // per_page + 1, index % per_page)
        for expected in (
            PRODUCT,
            PRODUCER,
            # Each line on its own: pdftotext may read a line of the column and the
            # scratch caption beside it as one line, in either order.
            "GCN số / Cert. no.:",
            CERTIFICATE,
            "Hiệu lực đến / Valid until:",
            "31/12/2027",
            label.code,
        ):
            assert expected in text, (index, expected, text)
        if label.scratch_code:
            assert "Mã cào / Scratch code" in text and label.scratch_code in text
        else:
            assert "Mã cào" not in text


def test_does_the_footer_carry_the_batch_and_page_numbers(sheet: Path) -> None:
    for page in (1, 2):
        text = run("pdftotext", "-f", str(page), "-l", str(page), sheet, "-")
        assert "Lô DM2507-RB1 · Đợt in 12" in text
        assert f"Trang {page}/2 / Page {page}/2" in text


@pytest.mark.parametrize("star", [3, 5])
def test_does_the_stamp_show_as_many_stars_as_its_rating(
    labels: list[LabelArt], layout: SheetLayout, tmp_path: Path, star: int
) -> None:
    pdf = tmp_path / "stars.pdf"
    facts = StampFacts(star, PRODUCT, PRODUCER, CERTIFICATE, date(2027, 12, 31))
    with pdf.open("wb") as out:
        render_sheet_pdf(facts, labels[:1], out)
    rgb = rasterise(pdf, 150, color=True)[0][cell_pixels(layout, 0, 150)]
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    gold = (r > 200) & (g > 140) & (b < 80)
    # Count the stars along the row of gold pixels that crosses the most of them.
    row = gold[gold.sum(axis=1).argmax()]
    starts = np.flatnonzero(np.diff(row.astype(int)) == 1)
    assert len(starts) == star
    assert "★" not in run("pdftotext", pdf, "-")  # shapes, not a font glyph


def test_does_a_200_character_name_stay_inside_its_stamp(
    labels: list[LabelArt], layout: SheetLayout, tmp_path: Path
) -> None:
    long_name = ("Trà hoa vàng Tam Đảo hữu cơ đặc biệt " * 6)[:200]
    long_producer = "Công ty Trách nhiệm Hữu hạn Một thành viên Nông sản Sạch Đắk Nông " * 2
    facts = StampFacts(5, long_name, long_producer, "0123/2025/QĐ-UBND-ĐN", date(2030, 1, 2))
    pdf = tmp_path / "long.pdf"
    with pdf.open("wb") as out:
        render_sheet_pdf(facts, labels[:20], out)
    bbox = run("pdftotext", "-bbox", "-f", "1", "-l", "1", pdf, "-")
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        bbox,
    )
    assert words
    cells = []
    for x, y in layout.slots:
        top = layout.page_h - y - layout.stamp_h
        cells.append((x, top, x + layout.stamp_w, top + layout.stamp_h))
    footer_top = layout.page_h - layout.margins["bottom"]
    for x0, y0, x1, y1, word in words:
        box = tuple(float(v) for v in (x0, y0, x1, y1))
        if box[1] >= footer_top:
            continue  # the footer line, below the grid
        assert any(
            c[0] <= box[0] and box[2] <= c[2] and c[1] <= box[1] and box[3] <= c[3] for c in cells
        ), (word, box)
    first = stamp_text(pdf, layout, 1, 0)
    assert "…" in first  # the name was cut, visibly
    assert "Trà hoa vàng Tam Đảo" in first
    assert "Hiệu lực đến / Valid until:" in first and "02/01/2030" in first


def test_does_an_empty_run_write_nothing() -> None:
    out = io.BytesIO()
    with pytest.raises(ValueError, match="no labels"):
        render_sheet_pdf(FACTS, [], out)
    assert out.getvalue() == b""


def test_does_a_large_run_fill_its_pages(labels: list[LabelArt]) -> None:
    # Its speed is measured by bench/print_run_bench.py, not here (a busy machine is no bug).
    run_of = [labels[i % len(labels)] for i in range(2000)]
    info = render_sheet_pdf(FACTS, run_of, io.BytesIO())
    assert info.pages == 112

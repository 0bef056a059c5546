"""QR images for the web and print shops (PNG, SVG) and the PDF path operators of the sheet."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import qrcode
from PIL import Image

from tests.decode import read_qr_codes
from trace_service.labels.art import QUIET_ZONE_MODULES
from trace_service.labels.render.qr_image import qr_path_ops, qr_png, qr_svg

URL_HEAD = "HTTPS://TEM.OCOP.SOKHOAHOCCONGNGHE.DAKNONG.VN/01/08935012345678/10/DM2507-RB1/21/"
URLS = [
    f"{URL_HEAD}7K3M9QXA2BCDEF4?S=" + "0123456789" * 18 + "012345",
    f"{URL_HEAD}00000000000000A?S=" + "9" * 186,
    f"{URL_HEAD}ZZZZZZZZZZZZZZZ?S=" + ("31415926535897932384626433832795028841" * 5)[:186],
]


def matrix_for(url: str) -> np.ndarray:
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    q.add_data(url)
    q.make(fit=True)
    return np.array(q.get_matrix(), dtype=bool)


@pytest.fixture(scope="module")
def matrices() -> list[np.ndarray]:
    return [matrix_for(url) for url in URLS]


def test_are_the_sample_urls_the_size_labels_really_are(matrices: list[np.ndarray]) -> None:
    assert all(len(url) == len(URLS[0]) for url in URLS)
    assert {m.shape for m in matrices} == {(49, 49)}  # version 8, as issued labels


@pytest.mark.parametrize("scale", [3, 8])
def test_does_every_png_scan_back_to_exactly_its_url(
    matrices: list[np.ndarray], scale: int
) -> None:
    for url, matrix in zip(URLS, matrices, strict=True):
        image = Image.open(io.BytesIO(qr_png(matrix, scale=scale)))
        assert [b.text for b in read_qr_codes(image)] == [url]


def test_is_the_png_1_bit_with_a_white_quiet_zone(matrices: list[np.ndarray]) -> None:
    scale = 8
    image = Image.open(io.BytesIO(qr_png(matrices[0], scale=scale)))
    side = (49 + 2 * QUIET_ZONE_MODULES) * scale
    assert image.mode == "1"
    assert image.size == (side, side)
    light = np.array(image)
    band = QUIET_ZONE_MODULES * scale
    assert light[:band].all() and light[-band:].all()
    assert light[:, :band].all() and light[:, -band:].all()
    assert not light[band, band]  # the finder pattern starts right inside the quiet zone


def test_does_the_png_say_how_big_to_print_it(matrices: list[np.ndarray]) -> None:
    image = Image.open(io.BytesIO(qr_png(matrices[0], scale=8, module_mm=0.5)))
    assert image.info["dpi"] == pytest.approx((406.4, 406.4), abs=0.01)  # 8 px per 0.5 mm


def svg_grid(svg: str) -> tuple[np.ndarray, str]:
    """The module grid the SVG path paints, and its viewBox."""
    view_box = re.search(r'viewBox="([^"]+)"', svg)
    assert view_box
    side = int(view_box.group(1).split()[2])
    grid = np.zeros((side, side), dtype=bool)
    path = re.search(r'<path[^>]* d="([^"]+)"', svg)
    assert path
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path.group(1)):
        assert not grid[int(y), int(x) : int(x) + int(w)].any()  # no module painted twice
        grid[int(y), int(x) : int(x) + int(w)] = True
    rebuilt = "".join(re.findall(r"M\d+ \d+h\d+v1h-\d+z", path.group(1)))
    assert rebuilt == path.group(1)  # every command was understood
    return grid, view_box.group(1)


def test_does_the_svg_path_paint_exactly_the_matrix(matrices: list[np.ndarray]) -> None:
    q = QUIET_ZONE_MODULES
    for matrix in matrices:
        grid, view_box = svg_grid(qr_svg(matrix))
        assert view_box == f"0 0 {49 + 2 * q} {49 + 2 * q}"
        assert np.array_equal(grid[q:-q, q:-q], matrix)
        assert not grid[:q].any() and not grid[-q:].any()
        assert not grid[:, :q].any() and not grid[:, -q:].any()


def test_does_the_svg_carry_its_print_size_and_crisp_edges(matrices: list[np.ndarray]) -> None:
    svg = qr_svg(matrices[0], module_mm=0.5)
    assert 'width="28.5mm" height="28.5mm"' in svg  # (49 + 8) modules x 0.5 mm
    assert 'shape-rendering="crispEdges"' in svg
    assert svg.count("<path") == 1
    assert '<rect width="57" height="57" fill="#fff"/>' in svg


def ops_grid(ops: str, size: int) -> np.ndarray:
    grid = np.zeros((size, size), dtype=bool)
    records = ops.splitlines()
    for record in records:
        x, y, w, h, op = record.split()
        assert (h, op) == ("1", "re")
        row = size - 1 - int(y)  # PDF y goes up, matrix rows go down
        assert not grid[row, int(x) : int(x) + int(w)].any()
        grid[row, int(x) : int(x) + int(w)] = True
    return grid


def test_do_the_pdf_path_ops_paint_exactly_the_matrix(matrices: list[np.ndarray]) -> None:
    for matrix in matrices:
        ops = qr_path_ops(matrix)
        assert np.array_equal(ops_grid(ops, 49), matrix)


def test_do_runs_stop_at_the_end_of_each_row() -> None:
    # Dark at the end of one row and the start of the next must stay two runs, and single
    # dark modules in the corners must survive.
    matrix = np.zeros((11, 11), dtype=bool)
    matrix[0, 0] = matrix[10, 10] = True
    matrix[4, 6:] = True
    matrix[5, :3] = True
    matrix[7] = True
    ops = qr_path_ops(matrix)
    assert np.array_equal(ops_grid(ops, 11), matrix)
    assert len(ops.splitlines()) == 5
    assert qr_path_ops(np.zeros((21, 21), dtype=bool)) == ""

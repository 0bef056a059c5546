"""The batch QR encoder must give qrcode's own matrices, bit for bit, mask choice included."""

from __future__ import annotations

import random

import numpy as np
import pytest
import qrcode
from PIL import Image
from qrcode import util

from tests.decode import read_qr_codes
from trace_service.labels import qrbatch
from trace_service.labels.qrbatch import (
    ERROR_CORRECT_H,
    ERROR_CORRECT_L,
    ERROR_CORRECT_M,
    ERROR_CORRECT_Q,
    encode,
    encode_batch,
    fit_version,
)

LEVELS = (ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q, ERROR_CORRECT_H)
LABEL_PREFIX = (
    "HTTPS://TEM.OCOP.SOKHOAHOCCONGNGHE.DAKNONG.VN/01/08935012345678/10/DM2507-RB1/21/"
    "7K3M9QXA2BCDEF4?S="
)


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 -- reproducible test data, not secrets


def label_url(rng: random.Random) -> str:
    return LABEL_PREFIX + "".join(rng.choices("0123456789", k=186))


def qrcode_matrix(text: str | bytes, ec: int, version: int | None = None) -> np.ndarray:
    q = qrcode.QRCode(error_correction=ec, border=0, version=version)
    q.add_data(text, optimize=20)
    q.make(fit=version is None)
    return np.array(q.get_matrix(), dtype=bool)


def mask_of(matrix: np.ndarray) -> int:
    """The mask number written in the format bits next to the top-left finder."""
    n = len(matrix)
    rows = [*range(6), 7, 8, *range(n - 7, n)]  # where setup_type_info puts bits 0..14
    bits = sum(int(matrix[row, 8]) << i for i, row in enumerate(rows))
    return ((bits ^ util.G15_MASK) >> 10) & 7


def varied_inputs() -> list[tuple[str | bytes, int]]:
    """Over 300 (text, error level) pairs: labels, binary, Vietnamese, URLs, versions 1-15."""
    rng = seeded(20250701)
    texts: list[str | bytes] = [label_url(rng) for _ in range(60)]
    texts += [rng.randbytes(rng.randrange(1, 160)) for _ in range(70)]
    words = [
        "Cà phê Robusta Đắk Mil",
        "Mật ong rừng",
        "Hạt điều Bình Phước",
        "Trà Shan tuyết",
        "OCOP",
    ]
    texts += [" ".join(rng.choices(words, k=rng.randrange(1, 8))) for _ in range(50)]
    texts += [
        "https://tem.ocop.vn/"
        + "".join(rng.choices("abcdefxyz0123456789/-?=&", k=rng.randrange(200)))
        for _ in range(70)
    ]
    texts += ["".join(rng.choices("0123456789", k=rng.randrange(1, 500))) for _ in range(25)]
    texts += [
        "".join(rng.choices("ABCDEFXYZ0123456789 $%*+-./:", k=rng.randrange(1, 300)))
        for _ in range(25)
    ]
    return [(text, LEVELS[i % 4]) for i, text in enumerate(texts)]


@pytest.fixture(scope="module")
def compared() -> list[tuple[str | bytes, int, np.ndarray, np.ndarray]]:
    """Each varied input with our matrix and qrcode's, our batch call made per level."""
    inputs = varied_inputs()
    ours: dict[int, list[np.ndarray]] = {
        ec: encode_batch([text for text, level in inputs if level == ec], ec=ec) for ec in LEVELS
    }
    taken = {ec: iter(matrices) for ec, matrices in ours.items()}
    return [(text, ec, next(taken[ec]), qrcode_matrix(text, ec)) for text, ec in inputs]


def test_every_matrix_equals_qrcodes_own_choice(compared: list) -> None:
    assert len(compared) >= 300
    differing = [
        (text, ec)
        for text, ec, ours, theirs in compared
        if ours.shape != theirs.shape or not np.array_equal(ours, theirs)
    ]
    assert differing == []


def test_the_inputs_span_versions_1_to_15_and_all_levels(compared: list) -> None:
    versions = {len(ours) for _, _, ours, _ in compared}
    assert min(versions) == 21  # version 1
    assert max(versions) >= 4 * 15 + 17
    assert {ec for _, ec, _, _ in compared} == set(LEVELS)


def test_the_chosen_mask_is_not_always_the_same(compared: list) -> None:
    masks = {mask_of(ours) for _, _, ours, _ in compared}
    assert len(masks) >= 6


def test_each_result_is_a_bool_matrix_without_quiet_zone() -> None:
    matrix = encode("OCOP")
    assert matrix.dtype == np.bool_
    assert matrix.shape == (21, 21)
    assert matrix[0, :7].all()  # the finder's dark border starts at the very edge
    assert matrix[:7, 0].all()


@pytest.mark.parametrize(("text", "tied", "first"), [("OCOP-8", 6, 5), ("OCOP-212", 6, 4)])
def test_when_two_masks_score_the_same_the_first_wins(text: str, tied: int, first: int) -> None:
    q = qrcode.QRCode(border=0)
    q.add_data(text)
    q.best_fit()
    scores = []
    for mask in range(8):
        q.makeImpl(True, mask)
        scores.append(util.lost_point(q.modules))
    assert scores[first] == scores[tied] == min(scores)  # the premise: a real tie

    matrix = encode(text)
    assert mask_of(matrix) == first
    assert np.array_equal(matrix, qrcode_matrix(text, ERROR_CORRECT_M))


def test_a_fixed_version_gives_qrcodes_matrix_at_that_version() -> None:
    rng = seeded(7)
    texts: list[str | bytes] = ["", "Cà phê Robusta Đắk Mil", rng.randbytes(40), label_url(rng)]
    for ec in LEVELS:
        for version in (12, 17):  # 12: the label URL just fits at level H
            for text, ours in zip(texts, encode_batch(texts, ec=ec, version=version), strict=True):
                assert np.array_equal(ours, qrcode_matrix(text, ec, version)), (text, ec, version)


def test_the_empty_string_encodes_like_qrcode() -> None:
    for ec in LEVELS:
        assert np.array_equal(encode("", ec=ec), qrcode_matrix("", ec))
        assert np.array_equal(encode(b"", ec=ec), qrcode_matrix(b"", ec))


def test_fit_version_is_qrcodes_choice_where_length_fields_widen() -> None:
    # Versions 9 -> 10 widen every count field, which makes qrcode fit a second time.
    texts = ["7" * length for length in range(540, 560, 3)]
    texts += ["x" * length for length in range(225, 240, 2)]
    texts += ["A" * length for length in range(330, 340, 2)]
    for text in texts:
        q = qrcode.QRCode(error_correction=ERROR_CORRECT_L)
        q.add_data(text)
        q.make(fit=True)
        assert fit_version(text, ec=ERROR_CORRECT_L) == q.version, len(text)
    assert {fit_version(text, ec=ERROR_CORRECT_L) for text in texts} >= {9, 10}


def test_segmentation_follows_the_optimize_setting() -> None:
    text = "Lô 2507 " + "0123456789" * 4 + " HẠT ĐIỀU"
    for optimize in (0, 4, 20):
        q = qrcode.QRCode(border=0)
        q.add_data(text, optimize=optimize)
        q.make()
        assert np.array_equal(encode(text, optimize=optimize), np.array(q.get_matrix()))


def render(matrix: np.ndarray, quiet: int = 4, pixels: int = 4) -> Image.Image:
    padded = np.pad(matrix, quiet, constant_values=False)
    light = np.where(padded, 0, 255).astype(np.uint8)
    return Image.fromarray(np.kron(light, np.ones((pixels, pixels), np.uint8)))


@pytest.mark.parametrize(
    "text",
    [
        LABEL_PREFIX + "0" * 186,
        "Cà phê Robusta Đắk Mil",
        "https://tem.ocop.vn/san-pham?id=42&lo=DM2507",
        bytes(range(256))[:120],
    ],
)
def test_a_zxing_reader_decodes_the_exact_input(text: str | bytes) -> None:
    results = read_qr_codes(render(encode(text)))
    assert len(results) == 1
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    assert results[0].bytes == raw


def test_a_block_of_zero_bytes_qrcode_cannot_encode_still_decodes() -> None:
    # Fills version 6-L exactly, leaving its second Reed-Solomon block all zeros.
    data = b"\x00" * 134
    with pytest.raises(ValueError, match="glog"):
        qrcode_matrix(data, ERROR_CORRECT_L)
    matrix = encode(data, ec=ERROR_CORRECT_L)
    assert len(matrix) == 6 * 4 + 17
    assert read_qr_codes(render(matrix))[0].bytes == data


def test_a_version_too_small_for_the_text_is_refused() -> None:
    with pytest.raises(ValueError, match="QR version 1 "):
        encode_batch(["short", "x" * 40], version=1)
    with pytest.raises(ValueError, match="any QR version"):
        fit_version("x" * 3000, ec=ERROR_CORRECT_H)
    with pytest.raises(ValueError, match="1 to 40"):
        encode("x", version=41)
    with pytest.raises(ValueError, match="error correction level"):
        encode("x", ec=7)


def test_long_runs_are_split_into_bounded_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny chunk budget forces one code per chunk, and results stay in input order.
    rng = seeded(3)
    texts = [label_url(rng) for _ in range(3)] + ["OCOP", "Đắk Nông"]
    expected = encode_batch(texts)
    monkeypatch.setattr(qrbatch, "CANDIDATE_BYTES", 1)
    for ours, wanted in zip(encode_batch(texts), expected, strict=True):
        assert np.array_equal(ours, wanted)


def test_scores_equal_lost_point_on_matrices_of_every_darkness() -> None:
    # Real codes sit near 50% dark, where rule 4 rarely differs between masks, so the private
    # scorer is checked directly on random matrices from 5% to 95% dark, all sizes 21-57.
    rng = np.random.default_rng(11)
    for size in range(21, 58, 4):
        darkness = rng.uniform(0.05, 0.95, size=(12, 1, 1))
        matrices = rng.random((12, size, size)) < darkness
        expected = [util.lost_point(matrix.tolist()) for matrix in matrices]
        assert qrbatch._lost_points(matrices).tolist() == expected, size

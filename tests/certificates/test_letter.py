"""The 30-day written notice of expiry, as a one-page A4 PDF letter in Vietnamese.

What was drawn is read back with poppler's ``pdftotext`` and ``pdfinfo``: a string reads
back only if every letter of it went into the PDF with its diacritics.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from reportlab.pdfbase import pdfmetrics

from trace_service.certificates.letter import LetterData, long_date, render_expiry_letter
from trace_service.clock import vn_date
from trace_service.fonts import FONT_FILES

PDFTOTEXT = shutil.which("pdftotext")
PDFINFO = shutil.which("pdfinfo")
needs_pdftotext = pytest.mark.skipif(
    PDFTOTEXT is None, reason="pdftotext (Debian package poppler-utils) is not installed"
)
needs_pdfinfo = pytest.mark.skipif(
    PDFINFO is None, reason="pdfinfo (Debian package poppler-utils) is not installed"
)

PRODUCER = "Hợp tác xã Nông nghiệp Dịch vụ Công Bằng Thuận An"
PRODUCT = "Cà phê bột nguyên chất Đắk Mil"
OFFICE = "VĂN PHÒNG ĐIỀU PHỐI NÔNG THÔN MỚI TỈNH LÂM ĐỒNG"
URL = "https://ocop.example.vn/certificates/152-GCN-UBND"


def letter(**changes: object) -> LetterData:
    data = LetterData(
        office_name=OFFICE,
        place="Lâm Đồng",
        reference="125/TB-VPĐP",
        letter_date=date(2025, 2, 13),
        producer_name=PRODUCER,
        producer_address="Thôn Thuận Hạnh, xã Thuận An, huyện Đắk Mil, tỉnh Đắk Nông",
        representative="Ông Nguyễn Văn Dũng, Giám đốc",
        product_name=PRODUCT,
        certificate_number="152/GCN-UBND",
        star=4,
        issuing_authority="UBND tỉnh Đắk Nông",
        issue_date=date(2022, 3, 15),
        valid_until=date(2025, 3, 15),
        days_left=30,
        certificate_url=URL,
    )
    return dataclasses.replace(data, **changes)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The text of the PDF, laid out as drawn, with each run of whitespace made one space
    (a paragraph may wrap a long name across two lines)."""
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [PDFTOTEXT, "-layout", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    return " ".join(out.split())


def pdf_info(pdf: bytes, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([PDFINFO, str(path)], check=True, capture_output=True).stdout.decode(
        "utf-8"
    )
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def assert_one_a4_page(pdf: bytes, tmp_path: Path) -> None:
    info = pdf_info(pdf, tmp_path)
    assert info["Pages"] == "1"
    size = re.match(r"([\d.]+) x ([\d.]+) pts", info["Page size"])
    assert size is not None, info["Page size"]
    assert float(size[1]) == pytest.approx(595.28, abs=0.1)
    assert float(size[2]) == pytest.approx(841.89, abs=0.1)


def test_it_is_a_pdf_and_the_same_data_gives_the_same_bytes():
    pdf = render_expiry_letter(letter())
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert render_expiry_letter(letter()) == pdf


@needs_pdftotext
def test_a_letter_says_the_36_months_count_from_the_decision_where_the_province_counts_so(
    tmp_path,
):
    """Đắk Nông: "ba năm kể từ ngày Quyết định được ký ban hành" (DOMAIN.md, Certificates)."""
    data = letter(
        decision_number="1032/QĐ-UBND",
        validity_counted_from=date(2022, 3, 10),
        valid_until=date(2025, 3, 10),
    )
    text = pdf_text(render_expiry_letter(data), tmp_path)
    assert (
        "có hiệu lực 36 tháng kể từ ngày ký Quyết định công nhận số 1032/QĐ-UBND ngày "
        "10/03/2022, đến hết ngày 10/03/2025"
    ) in text


@needs_pdftotext
def test_what_was_drawn_reads_back_exactly(tmp_path):
    text = pdf_text(render_expiry_letter(letter()), tmp_path)
    for expected in [
        "Số: 125/TB-VPĐP",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Lâm Đồng, ngày 13 tháng 02 năm 2025",
        "THÔNG BÁO",
        "Về việc giấy chứng nhận sản phẩm OCOP sắp hết hiệu lực",
        f"Kính gửi: {PRODUCER}",
        "Địa chỉ: Thôn Thuận Hạnh, xã Thuận An, huyện Đắk Mil, tỉnh Đắk Nông",
        "Người đại diện: Ông Nguyễn Văn Dũng, Giám đốc",
        f"Sản phẩm {PRODUCT} của {PRODUCER}",
        "công nhận đạt 4 sao",
        "Giấy chứng nhận số 152/GCN-UBND cấp ngày 15/03/2022",
        "UBND tỉnh Đắk Nông",
        "có hiệu lực 36 tháng kể từ ngày cấp, đến hết ngày 15/03/2025",
        "còn 30 ngày hiệu lực",
        "chậm nhất ngày 15/03/2025",
        "Phiếu đăng ký sản phẩm tham gia Chương trình OCOP",
        "Bản tự đánh giá",
        "Kể từ ngày 16/03/2025",
        "không được tiếp tục sử dụng biểu trưng (logo) OCOP",
        "Nơi nhận:",
        "CHÁNH VĂN PHÒNG",
        f"Certificate page: {URL}",
    ]:
        assert expected in text, expected
    # The office name wraps in its narrow column, beside the national motto: word by word.
    for word in OFFICE.split():
        assert word in text.split(), word
    for letter_ in "ắộưạễợđĐăơ":
        assert letter_ in text
    assert "\ufffd" not in text


@needs_pdftotext
def test_no_character_is_drawn_as_a_missing_glyph_box(tmp_path):
    """reportlab draws a character the font lacks as the .notdef box but still maps it back
    to the character in the text layer, so the check is that the font has a glyph for every
    character that reads back."""
    text = pdf_text(render_expiry_letter(letter()), tmp_path)
    for name in FONT_FILES:
        glyphs = pdfmetrics.getFont(name).face.charToGlyph
        assert {c for c in text if not c.isspace() and ord(c) not in glyphs} == set(), name
    assert not set(text) & {"\ufffd", "\u25a1"}  # replacement character, white square


@needs_pdftotext
def test_markup_in_user_strings_prints_literally(tmp_path):
    pdf = render_expiry_letter(
        letter(
            producer_name="A & B <C>",
            product_name='Trà "Đặc biệt" <b>Premium</b> & Co',
            representative="Bà Lê Thị Hoa &amp; con",
        )
    )
    text = pdf_text(pdf, tmp_path)
    assert "Kính gửi: A & B <C>" in text
    assert 'Trà "Đặc biệt" <b>Premium</b> & Co' in text
    assert "Bà Lê Thị Hoa &amp; con" in text


@needs_pdftotext
def test_decomposed_accents_are_drawn_as_precomposed_letters(tmp_path):
    nfd = unicodedata.normalize("NFD", PRODUCER)
    assert nfd != PRODUCER
    text = pdf_text(render_expiry_letter(letter(producer_name=nfd)), tmp_path)
    assert f"Kính gửi: {PRODUCER}" in text


@needs_pdftotext
def test_without_a_url_the_footer_names_only_the_certificate(tmp_path):
    text = pdf_text(render_expiry_letter(letter(certificate_url=None)), tmp_path)
    assert "Notice: OCOP certificate 152/GCN-UBND is valid until 15/03/2025." in text
    assert "Certificate page" not in text


@needs_pdftotext
def test_on_the_last_valid_day_the_letter_says_so(tmp_path):
    pdf = render_expiry_letter(letter(letter_date=date(2025, 3, 15), days_left=0))
    text = pdf_text(pdf, tmp_path)
    assert "Ngày 15/03/2025 là ngày cuối cùng Giấy chứng nhận còn hiệu lực" in text


def test_a_certificate_already_expired_gets_no_such_letter():
    with pytest.raises(ValueError, match="already expired"):
        render_expiry_letter(letter(days_left=-1))


@needs_pdfinfo
def test_it_is_one_a4_page(tmp_path):
    assert_one_a4_page(render_expiry_letter(letter()), tmp_path)


@needs_pdfinfo
def test_very_long_strings_still_fit_on_one_page(tmp_path):
    long = "Hợp tác xã Sản xuất Kinh doanh Dịch vụ Nông nghiệp Tổng hợp " * 6
    pdf = render_expiry_letter(
        letter(
            producer_name=long, producer_address=long, product_name=long, certificate_url=URL * 4
        )
    )
    assert_one_a4_page(pdf, tmp_path)


def test_dates_follow_decree_30():
    # A day below 10 and a month below 3 take a leading zero; other months do not.
    assert long_date("Lâm Đồng", date(2025, 2, 5)) == "Lâm Đồng, ngày 05 tháng 02 năm 2025"
    assert long_date("Đắk Nông", date(2025, 3, 15)) == "Đắk Nông, ngày 15 tháng 3 năm 2025"
    assert long_date("Huế", date(2025, 12, 1)) == "Huế, ngày 01 tháng 12 năm 2025"
    assert vn_date(date(2025, 3, 5)) == "05/03/2025"


def test_importing_the_module_registers_no_font():
    code = (
        "import trace_service.certificates.letter\n"
        "from reportlab.pdfbase import pdfmetrics\n"
        "assert not [n for n in pdfmetrics.getRegisteredFontNames() if 'BeVietnam' in n]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

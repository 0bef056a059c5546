"""The written notice that a certificate is about to expire, as a one-page A4 PDF letter.

The issuer must notify the producer in writing at least 30 days before a certificate
expires; the producer then files a re-recognition dossier (registration form, updated
self-assessment). After expiry the OCOP mark may no longer be used on the product.

The letter follows the layout of an administrative document in Decree 30/2020/NĐ-CP: the
issuing office and the reference number top left, the national motto and the place and date
top right, the title and its subject centred, the addressee, the body, then "Nơi nhận" and
the signature block side by side. It is set in Be Vietnam Pro (from the PyPI package
``fontpkg-be-vietnam-pro``), whose glyphs cover every Vietnamese letter.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepInFrame,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from trace_service.clock import vn_date
from trace_service.fonts import BOLD, BOLD_ITALIC, ITALIC, REGULAR, register_fonts

# Decree 30/2020/NĐ-CP, Appendix I: top and bottom margins 20–25 mm, left 30–35 mm, right
# 15–20 mm.
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 20 * mm, 22 * mm, 30 * mm, 18 * mm
FOOTER_HEIGHT = 12 * mm
BODY_SIZE = 12


@dataclass(frozen=True)
class LetterData:
    office_name: str  # e.g. "VĂN PHÒNG ĐIỀU PHỐI NÔNG THÔN MỚI TỈNH LÂM ĐỒNG"
    place: str  # e.g. "Lâm Đồng"
    reference: str  # e.g. "125/TB-VPĐP"
    letter_date: date
    producer_name: str
    producer_address: str
    representative: str
    product_name: str
    certificate_number: str
    star: int
    issuing_authority: str
    issue_date: date
    valid_until: date  # last valid day, inclusive
    days_left: int
    certificate_url: str | None = None
    # The decision its 36 months count from, when the province counts from the decision.
    decision_number: str | None = None
    validity_counted_from: date | None = None
    # Who gets a copy: the authority that holds the issuer's powers today (an abolished
    # district's successor), which may differ from the issuer named in the body.
    copy_to: str | None = None


def long_date(place: str, day: date) -> str:
    """``Lâm Đồng, ngày 05 tháng 02 năm 2025`` (not yet escaped).

    Decree 30/2020/NĐ-CP, Appendix I: a day below 10 and a month below 3 take a leading
    zero, other months do not (``ngày 15 tháng 3 năm 2025``).
    """
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def _text(value: str) -> str:
    """A user-provided string, ready for Paragraph markup: NFC (precomposed letters, which
    the font has glyphs for; decomposed accents would be drawn badly placed) and escaped."""
    return escape(unicodedata.normalize("NFC", value))


_CENTRE: dict[str, object] = {"alignment": TA_CENTER, "firstLineIndent": 0, "spaceAfter": 0}
_FLUSH_LEFT: dict[str, object] = {"alignment": TA_LEFT, "firstLineIndent": 0, "spaceAfter": 0}
# Each paragraph style of the letter, as changes to the body's.
_STYLES: dict[str, dict[str, object]] = {
    "office": {"fontName": BOLD, "fontSize": 11, "leading": 14, **_CENTRE},
    "reference": {"fontSize": 12, "leading": 15, "spaceBefore": 4, **_CENTRE},
    "nation": {"fontName": BOLD, "fontSize": 11.5, "leading": 14, **_CENTRE},
    "motto": {"fontName": BOLD, "fontSize": 12, "leading": 15, **_CENTRE},
    "place_date": {"fontName": ITALIC, "fontSize": 12, "leading": 15, "spaceBefore": 4, **_CENTRE},
    "title": {"fontName": BOLD, "fontSize": 14, "leading": 18, **_CENTRE},
    "subject": {"fontName": BOLD, "fontSize": 12.5, "leading": 16, **_CENTRE},
    "addressee": {
        "alignment": TA_LEFT,
        "firstLineIndent": 0,
        "leftIndent": 22 * mm,
        "spaceAfter": 1,
    },
    "item": {
        "firstLineIndent": 0,
        "leftIndent": 16 * mm,
        "bulletIndent": 10 * mm,
        "bulletFontName": REGULAR,
        "bulletFontSize": BODY_SIZE,
    },
    "recipients_head": {"fontName": BOLD_ITALIC, "fontSize": 11, "leading": 14, **_FLUSH_LEFT},
    "recipients": {
        "fontSize": 10,
        "leading": 13,
        **_FLUSH_LEFT,
        "firstLineIndent": -2.5 * mm,  # a hanging indent past the dash
        "leftIndent": 2.5 * mm,
    },
    "signer": {"fontName": BOLD, "fontSize": 12, "leading": 15, **_CENTRE},
    "sign_hint": {"fontName": ITALIC, "fontSize": 10, "leading": 13, **_CENTRE},
    "footer": {"fontSize": 8, "leading": 10, **_FLUSH_LEFT, "textColor": "#555555"},
}


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body",
        fontName=REGULAR,
        fontSize=BODY_SIZE,
        leading=BODY_SIZE * 1.35,
        alignment=TA_JUSTIFY,
        firstLineIndent=10 * mm,
        spaceAfter=5,
    )
    styles = {name: ParagraphStyle(name, parent=base, **kw) for name, kw in _STYLES.items()}
    return {"body": base, **styles}


def _header(data: LetterData, s: dict[str, ParagraphStyle], width: float) -> Table:
    left_w = width * 0.42
    office = [
        Paragraph(_text(data.office_name.upper()), s["office"]),
        HRFlowable(width="35%", thickness=0.6, color="black", spaceBefore=2, spaceAfter=0),
    ]
    nation = [
        Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", s["nation"]),
        Paragraph("Độc lập - Tự do - Hạnh phúc", s["motto"]),
        HRFlowable(width="62%", thickness=0.6, color="black", spaceBefore=2, spaceAfter=0),
    ]
    table = Table(
        [
            [office, nation],
            [
                Paragraph(f"Số: {_text(data.reference)}", s["reference"]),
                Paragraph(_text(long_date(data.place, data.letter_date)), s["place_date"]),
            ],
        ],
        colWidths=[left_w, width - left_w],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),  # centres the rules under the lines
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _closing(data: LetterData, s: dict[str, ParagraphStyle], width: float) -> Table:
    recipients = [
        Paragraph("Nơi nhận:", s["recipients_head"]),
        Paragraph("- Như trên;", s["recipients"]),
        Paragraph(f"- {_text(data.copy_to or data.issuing_authority)} (để biết);", s["recipients"]),
        Paragraph("- Hội đồng đánh giá, phân hạng sản phẩm OCOP;", s["recipients"]),
        Paragraph("- Lưu: VT, OCOP.", s["recipients"]),
    ]
    signature = [
        Paragraph("CHÁNH VĂN PHÒNG", s["signer"]),
        Paragraph("(Ký, ghi rõ họ tên và đóng dấu)", s["sign_hint"]),
        Spacer(1, 24 * mm),
    ]
    left_w = width * 0.48
    table = Table([[recipients, signature]], colWidths=[left_w, width - left_w])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _counted_from(data: LetterData) -> str:
    """ "kể từ ngày ký Quyết định số 12/QĐ-UBND ngày 10/03/2024" or "kể từ ngày cấp"."""
    start = data.validity_counted_from
    if start is None or start == data.issue_date:
        return "kể từ ngày cấp"
    decision = f"số {_text(data.decision_number)} " if data.decision_number else ""
    return f"kể từ ngày ký Quyết định công nhận {decision}ngày {vn_date(start)}"


def _body(data: LetterData, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    producer = _text(data.producer_name)
    product = _text(data.product_name)
    number = _text(data.certificate_number)
    last_day = vn_date(data.valid_until)
    no_longer_valid = vn_date(data.valid_until + timedelta(days=1))
    if data.days_left > 0:
        remaining = (
            f"Tính đến ngày {vn_date(data.letter_date)}, Giấy chứng nhận còn "
            f"<b>{data.days_left} ngày</b> hiệu lực."
        )
    else:
        remaining = (
            f"Ngày {vn_date(data.letter_date)} là ngày cuối cùng Giấy chứng nhận còn hiệu lực "
            f"(còn <b>{data.days_left} ngày</b>)."
        )
    body = s["body"]
    return [
        Paragraph(
            "Căn cứ Quyết định số 148/QĐ-TTg ngày 24/02/2023 của Thủ tướng Chính phủ ban hành "
            "Bộ tiêu chí và Quy trình đánh giá, phân hạng sản phẩm Chương trình Mỗi xã một sản "
            "phẩm (OCOP), theo đó Giấy chứng nhận sản phẩm OCOP có thời hạn 36 tháng;",
            body,
        ),
        Paragraph(
            f"Sản phẩm <b>{product}</b> của {producer} đã được {_text(data.issuing_authority)} "
            f"công nhận đạt <b>{data.star} sao</b> theo Giấy chứng nhận số <b>{number}</b> cấp "
            f"ngày {vn_date(data.issue_date)}. Giấy chứng nhận có hiệu lực 36 tháng "
            f"{_counted_from(data)}, đến hết ngày <b>{last_day}</b>. {remaining}",
            body,
        ),
        Paragraph(
            f"Để sản phẩm tiếp tục được công nhận là sản phẩm OCOP, đề nghị {producer} lập hồ sơ "
            f"đề nghị đánh giá, phân hạng lại sản phẩm và gửi về cơ quan ban hành Thông báo này "
            f"<b>chậm nhất ngày {last_day}</b>, trước khi Giấy chứng nhận hết hiệu lực. Hồ sơ "
            "gồm:",
            body,
        ),
        Paragraph("Phiếu đăng ký sản phẩm tham gia Chương trình OCOP;", s["item"], bulletText="a)"),
        Paragraph(
            "Bản tự đánh giá, phân hạng sản phẩm theo Bộ tiêu chí, được cập nhật đến thời "
            "điểm nộp hồ sơ.",
            s["item"],
            bulletText="b)",
        ),
        Paragraph(
            f"Kể từ ngày {no_longer_valid}, nếu sản phẩm chưa được đánh giá, công nhận lại, "
            f"{producer} không được tiếp tục sử dụng biểu trưng (logo) OCOP và hạng sao trên "
            "sản phẩm, bao bì, nhãn hàng hóa và tài liệu quảng bá sản phẩm.",
            body,
        ),
        Paragraph(f"Đề nghị {producer} nghiên cứu, thực hiện đúng thời hạn./.", body),
    ]


def _footer_text(data: LetterData) -> str:
    text = (
        f"Notice: OCOP certificate {_text(data.certificate_number)} is valid until "
        f"{vn_date(data.valid_until)}."
    )
    if data.certificate_url:
        text += f" Certificate page: {_text(data.certificate_url)}"
    return text


def render_expiry_letter(data: LetterData) -> bytes:
    """The notice as the bytes of a one-page A4 PDF.

    Every string of ``data`` is printed literally (``A & B <C>`` stays ``A & B <C>``). The
    same data gives the same bytes: the document is rendered with reportlab's ``invariant``
    option, which fixes the timestamps and the document id.
    """
    if data.days_left < 0:
        raise ValueError(f"days_left {data.days_left} < 0: the certificate has already expired")
    register_fonts()
    s = _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM + FOOTER_HEIGHT,
        title=f"Thông báo giấy chứng nhận sản phẩm OCOP {data.certificate_number} sắp hết hiệu lực",
        author=data.office_name,
        subject="Giấy chứng nhận sản phẩm OCOP sắp hết hiệu lực",
        creator="trace-service",
        invariant=1,
    )
    width, height = doc.width, doc.height
    footer = Paragraph(_footer_text(data), s["footer"])

    def draw_footer(canvas: Canvas, _doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        _, h = footer.wrapOn(canvas, width, FOOTER_HEIGHT)
        canvas.setStrokeColor("#999999")
        canvas.setLineWidth(0.4)
        top = MARGIN_BOTTOM + FOOTER_HEIGHT - 4 * mm
        canvas.line(MARGIN_LEFT, top, MARGIN_LEFT + width, top)
        footer.drawOn(canvas, MARGIN_LEFT, top - 2 * mm - h)
        canvas.restoreState()

    story: list[Flowable] = [
        _header(data, s, width),
        Spacer(1, 8 * mm),
        Paragraph("THÔNG BÁO", s["title"]),
        Paragraph("Về việc giấy chứng nhận sản phẩm OCOP sắp hết hiệu lực", s["subject"]),
        HRFlowable(width="22%", thickness=0.6, color="black", spaceBefore=3, spaceAfter=8 * mm),
        Paragraph(f"Kính gửi: {_text(data.producer_name)}", s["addressee"]),
        Paragraph(f"Địa chỉ: {_text(data.producer_address)}", s["addressee"]),
        Paragraph(f"Người đại diện: {_text(data.representative)}", s["addressee"]),
        Spacer(1, 5 * mm),
        *_body(data, s),
        Spacer(1, 4 * mm),
        _closing(data, s, width),
    ]
    # Long names shrink the letter rather than spill onto a second page.
    doc.build([KeepInFrame(width, height, story, mode="shrink")], onFirstPage=draw_footer)
    return buf.getvalue()

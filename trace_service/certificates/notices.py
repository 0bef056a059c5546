"""What an expiry notice says: the e-mail, the webhook payload, and the 30-day letter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from typing import Any

from trace_service.certificates.models import Certificate, ExpiryNotice
from trace_service.clock import vn_date
from trace_service.registry.units import address_on, current_unit

LETTER_THRESHOLD_DAYS = 30  # the written notice the rules ask for, at least 30 days ahead


@dataclass(frozen=True)
class Office:
    name: str
    place: str
    public_base_url: str


def letter_date(notice: ExpiryNotice) -> date:
    return notice.swept_on


def days_left(notice: ExpiryNotice) -> int:
    return (notice.valid_until - letter_date(notice)).days


def subject(notice: ExpiryNotice) -> str:
    cert = notice.certificate
    if notice.threshold_days == 0:
        return f"[OCOP] Giấy chứng nhận số {cert.number} đã hết hiệu lực / certificate expired"
    if days_left(notice) == 0:
        return (
            f"[OCOP] Giấy chứng nhận số {cert.number}: hôm nay là ngày hiệu lực cuối cùng "
            "/ last valid day today"
        )
    return (
        f"[OCOP] Giấy chứng nhận số {cert.number} còn {days_left(notice)} ngày hiệu lực "
        f"/ expires in {days_left(notice)} days"
    )


def email_body(notice: ExpiryNotice, office: Office) -> str:
    cert = notice.certificate
    product = cert.product
    producer = product.producer
    left = days_left(notice)
    if notice.threshold_days == 0:
        state_vi = f"đã hết hiệu lực sau ngày {vn_date(cert.valid_until)}"
        state_en = f"expired after {cert.valid_until.isoformat()}"
        action_vi = (
            "Từ nay sản phẩm không được sử dụng nhãn OCOP. Đề nghị nộp hồ sơ đánh giá, "
            "công nhận lại nếu tiếp tục tham gia Chương trình."
        )
    else:
        state_vi = f"sẽ hết hiệu lực sau ngày {vn_date(cert.valid_until)} (còn {left} ngày)"
        state_en = f"is valid until {cert.valid_until.isoformat()} ({left} days left)"
        action_vi = (
            f"Đề nghị {producer.name} nộp hồ sơ đánh giá, công nhận lại (phiếu đăng ký, "
            f"phiếu tự đánh giá cập nhật) trước ngày {vn_date(cert.valid_until)}."
        )
    return "\n".join(
        [
            f"Kính gửi: {producer.name}",
            "",
            f"Giấy chứng nhận sản phẩm OCOP số {cert.number} ({cert.star} sao) của sản phẩm "
            f"“{cert.product_name}”, do {cert.issuing_authority} cấp ngày "
            f"{vn_date(cert.issue_date)}, "
            f"{state_vi}.",
            action_vi,
            "",
            f"{office.name}",
            "",
            "---",
            f"OCOP certificate {cert.number} ({cert.star} stars) for "
            f"“{product.name_en or cert.product_name}” {state_en}.",
            f"{office.public_base_url}/api/v1/certificates/{cert.id}",
        ]
    )


def email_message(
    notice: ExpiryNotice, office: Office, sender: str, recipient: str, letter_pdf: bytes | None
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(notice)
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = f"<ocop-notice-{notice.id}@{sender.rsplit('@', 1)[-1].strip('>')}>"
    message.set_content(email_body(notice, office))
    if letter_pdf is not None:
        message.add_attachment(
            letter_pdf,
            maintype="application",
            subtype="pdf",
            filename=f"thong-bao-ocop-{notice.certificate.number}.pdf".replace("/", "-"),
        )
    return message


def webhook_payload(notice: ExpiryNotice) -> dict[str, Any]:
    cert = notice.certificate
    product = cert.product
    return {
        "event": "ocop.certificate.expiry_notice",
        "notice_id": notice.id,
        "threshold_days": notice.threshold_days,
        "days_left": days_left(notice),
        "certificate": {
            "id": cert.id,
            "number": cert.number,
            "star": cert.star,
            "issue_date": cert.issue_date.isoformat(),
            "valid_until": cert.valid_until.isoformat(),
            "issuing_authority": cert.issuing_authority,
        },
        "product": {"id": product.id, "name_vi": cert.product_name, "gtin": product.gtin},
        "producer": {
            "id": product.producer.id,
            "name": product.producer.name,
            "email": product.producer.email,
        },
    }


def letter_pdf(notice: ExpiryNotice, office: Office) -> bytes:
    from trace_service.certificates.letter import LetterData, render_expiry_letter

    cert = notice.certificate
    producer = cert.product.producer
    return render_expiry_letter(
        LetterData(
            office_name=office.name.upper(),
            place=office.place,
            reference=f"{notice.id}/TB-VPĐP",
            letter_date=letter_date(notice),
            producer_name=producer.name,
            # The address as it reads on the letter's day: a commune merged away since it
            # was recorded is written as the commune (and province) that took its place.
            producer_address=address_on(
                producer.address, producer.commune, letter_date(notice)
            ).now,
            representative=producer.representative,
            product_name=cert.product_name,
            certificate_number=cert.number,
            star=cert.star,
            issuing_authority=cert.issuing_authority,
            issue_date=cert.issue_date,
            valid_until=cert.valid_until,
            decision_number=cert.decision_number,
            validity_counted_from=cert.validity_counted_from,
            days_left=days_left(notice),
            copy_to=current_authority(cert, letter_date(notice)),
        )
    )


def current_authority(cert: Certificate, day: date) -> str:
    """Who holds the issuer's powers on ``day``: since 1 Jul 2025 an abolished district's
    certificates answer to the province that took its place."""
    unit = cert.issuing_unit
    if unit is None or unit.is_valid_on(day):
        return cert.issuing_authority
    name = current_unit(unit, day).name
    return f"UBND {name[0].lower()}{name[1:]}"

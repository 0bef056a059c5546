"""One verdict on a stamp, composed from what is known of it: the one composition that the
label page (``trace_service.labels``) and the offline verifier (``offline``) both use, so a
stamp never reads green on one and red on the other.

Pure data: no Flask, no database, no clock. The facts are a plain mapping (keys below); the
answer is a colour, a headline (words in Vietnamese and English), since when it holds, and
what to do next (PAGES.md, "The verdict, everywhere the same").

Facts read (each optional):

- ``label_state``: ``issued`` | ``voided`` | ``possibly_copied``; ``label_since`` (a date);
- ``certificate_status``: ``valid`` | ``expiring`` | ``expired`` | ``revoked`` |
  ``superseded`` | ``pending`` | ``unknown``; ``valid_until``, ``revoked_on``,
  ``superseded_on``, ``issue_date`` (dates);
- ``recalled_since`` (a date: a recall of the lot or of anything it was made from).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

COLOURS = ("green", "amber", "red")  # worst last
RED_CERTIFICATE = {"expired", "revoked", "superseded", "pending"}

HEADLINES: dict[str, tuple[str, str]] = {
    "genuine": (
        "Tem chính hãng · Sản phẩm OCOP còn hiệu lực",
        "Genuine OCOP stamp, certificate valid",
    ),
    "expiring": ("Tem chính hãng · Chứng nhận OCOP sắp hết hạn", "Genuine; certificate expiring"),
    "possibly_copied": ("Tem có thể bị sao chép", "This stamp may have been copied"),
    "scratch_used": (
        "Mã cào đã được dùng · Tem có thể bị sao chép",
        "This code was used before: the stamp may have been copied",
    ),
    "expired": ("Chứng nhận OCOP đã hết hiệu lực", "The OCOP certificate has expired"),
    "superseded": ("Chứng nhận OCOP đã được thay thế", "The OCOP certificate was replaced"),
    "pending": ("Chứng nhận OCOP chưa có hiệu lực", "The OCOP certificate is not yet in force"),
    "revoked": ("Chứng nhận OCOP đã bị thu hồi", "The OCOP certificate was revoked"),
    "recalled": ("Sản phẩm bị thu hồi", "Recalled"),
    "voided": ("Tem đã hủy", "Stamp voided"),
    "unknown_certificate": (
        "Tem chính hãng · Chưa có dữ liệu chứng nhận, hãy cập nhật",
        "Genuine stamp; no certificate data: update",
    ),
    "no_data": (
        "Tem chính hãng · Chưa kiểm tra được tình trạng, hãy cập nhật dữ liệu",
        "Genuine stamp; status unknown: update the data",
    ),
    "compromised_key": ("Không xác nhận được tem này (khóa ký bị lộ)", "Could not be confirmed"),
    "not_confirmed": ("Không xác nhận được tem này", "This stamp could not be confirmed"),
}

_DONT_BUY = (
    "Đừng mua hoặc sử dụng sản phẩm này; hãy báo cho chúng tôi.",
    "Do not buy or use this product; tell us about it.",
)
_NOT_OCOP = (
    "Sản phẩm không còn được dùng nhãn sao OCOP; hỏi người bán, báo cho chúng tôi nếu vẫn "
    "được bán như sản phẩm OCOP.",
    "The product may no longer carry the OCOP star label; ask the seller, and tell us if it "
    "is still sold as OCOP.",
)

# What to do next, one line under each headline.
ADVICE: dict[str, tuple[str, str]] = {
    "genuine": (
        "Đối chiếu mã tem bên dưới với mã in trên tem.",
        "Check that the code below is the one printed on the stamp.",
    ),
    "expiring": (
        "Sản phẩm vẫn được chứng nhận; đối chiếu mã tem bên dưới với mã in trên tem.",
        "The product is still certified; check the code below against the stamp.",
    ),
    "possibly_copied": (
        "Tem này đã được kiểm tra ở quá nhiều nơi. Hỏi người bán; nếu nghi ngờ, đừng mua và "
        "báo cho chúng tôi.",
        "This stamp was checked in too many places. Ask the seller; if in doubt, do not buy "
        "and tell us.",
    ),
    "scratch_used": (
        "Một tem thật chỉ dùng mã cào một lần. Nếu bạn chưa từng nhập mã này, đừng mua và báo "
        "cho chúng tôi.",
        "A genuine stamp's code is used once. If you never entered it before, do not buy and "
        "tell us.",
    ),
    "expired": _NOT_OCOP,
    "superseded": (
        "Sản phẩm có chứng nhận mới; tem này in theo chứng nhận cũ. Hỏi người bán.",
        "The product has a newer certificate; this stamp was printed under the old one. Ask "
        "the seller.",
    ),
    "pending": _NOT_OCOP,
    "revoked": _NOT_OCOP,
    "recalled": (
        "Đừng sử dụng; mang trả nơi bán hoặc liên hệ nhà sản xuất.",
        "Do not use it; return it to the seller or contact the producer.",
    ),
    "voided": (
        "Tem này đã bị hủy (in hỏng hoặc thất lạc), không được dán lên sản phẩm. " + _DONT_BUY[0],
        "This stamp was voided (spoiled or lost) and must not be on a product. " + _DONT_BUY[1],
    ),
    "unknown_certificate": (
        "Cập nhật dữ liệu rồi kiểm tra lại.",
        "Update the data and check again.",
    ),
    "no_data": ("Cập nhật dữ liệu rồi kiểm tra lại.", "Update the data and check again."),
    "compromised_key": (
        "Có thể là tem giả. " + _DONT_BUY[0],
        "It may be a fake. " + _DONT_BUY[1],
    ),
    "not_confirmed": (
        "Có thể là tem giả hoặc mã bị chụp sai. Thử nhập mã in trên tem ở trang chủ; nếu vẫn "
        "không xác nhận được: " + _DONT_BUY[0][0].lower() + _DONT_BUY[0][1:],
        "It may be a fake, or the code was misread. Try typing the printed code on the home "
        "page; if it still cannot be confirmed: " + _DONT_BUY[1][0].lower() + _DONT_BUY[1][1:],
    ),
}


def sum_up(verdict: str, facts: Mapping[str, Any], stale: str | None) -> tuple[str, str]:
    """(colour, headline) of a signature verdict and the facts, the worst first.

    ``verdict``: ``genuine`` | ``compromised_key`` | anything else (not confirmed: a bad
    signature, an unknown key or serial, a malformed code). ``stale``: why the data may be
    out of date (offline only), or None."""
    if verdict == "compromised_key":
        return "red", "compromised_key"
    if verdict != "genuine":
        return "red", "not_confirmed"
    status = facts.get("certificate_status")
    if facts.get("label_state") == "voided":
        return "red", "voided"
    if facts.get("recalled_since") is not None:
        return "red", "recalled"
    if status in RED_CERTIFICATE:
        return "red", status
    if facts.get("scratch_used_on") is not None:
        return "amber", "scratch_used"
    if facts.get("label_state") == "possibly_copied":
        return "amber", "possibly_copied"
    if stale == "no_snapshot":
        return "amber", "no_data"
    if status == "unknown":
        return "amber", "unknown_certificate"
    headline = "expiring" if status == "expiring" else "genuine"
    return ("amber" if stale else "green"), headline


def since(headline: str, facts: Mapping[str, Any]) -> date | None:
    """Since when the headline holds (for ``expiring``: the last valid day), if known."""
    valid_until = facts.get("valid_until")
    found: dict[str, Any] = {
        "voided": facts.get("label_since"),
        "possibly_copied": facts.get("label_since"),
        "scratch_used": facts.get("scratch_used_on"),
        "recalled": facts.get("recalled_since"),
        "expired": valid_until + timedelta(days=1) if valid_until else None,
        "expiring": valid_until,
        "revoked": facts.get("revoked_on"),
        "superseded": facts.get("superseded_on"),
        "pending": facts.get("issue_date"),
    }
    day = found.get(headline)
    return day if isinstance(day, date) else None


def worst(colours: list[str]) -> str:
    return max(colours, key=COLOURS.index, default="green")

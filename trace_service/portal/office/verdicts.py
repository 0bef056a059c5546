"""A stamp's verdict in words, for the office's pages: the headline words the label page and
the devices show (``ocop_verify.verdict.HEADLINES``), and the few other verdicts the office
reads (a device's signature verdict, a shopper's report from the typed-code page)."""

from __future__ import annotations

from ocop_verify.verdict import HEADLINES
from trace_service.web.i18n import t

# A signature verdict from an older device (PAGES.md): a valid signature says the stamp is
# ours, not yet that its certificate holds; any other is "not confirmed".
NOT_CONFIRMED = HEADLINES["not_confirmed"]
VERDICT_WORDS: dict[str, tuple[str, str]] = {
    "genuine": ("Tem chính hãng", "Genuine OCOP stamp"),
    "malformed": NOT_CONFIRMED,
    "unknown_key": NOT_CONFIRMED,
    "invalid_signature": NOT_CONFIRMED,
    "not_issued": NOT_CONFIRMED,
    # A report sent from the typed-code page (labels/lookup.py) or with no verdict known.
    "unknown_code": ("Không tìm thấy tem có mã này", "No stamp has this code"),
    "unknown": ("Không rõ", "Not known"),
}


def verdict_words(verdict: str | None) -> str:
    """The words for a verdict, in the page's language (an unknown one as sent: nothing is
    hidden)."""
    if not verdict:
        return "—"
    words = VERDICT_WORDS.get(verdict) or HEADLINES.get(verdict)
    return t(*words) if words else verdict

"""Attached files: what a file is (from its bytes, never the client's word) and the name it
downloads under.

A download's name always ends with the extension of the sniffed type. The name as uploaded
is kept whole and the right extension appended ("report.pdf.hta" of a PDF downloads as
"report.pdf.hta.pdf"), rather than the name cut back to something that looks clean
("report.pdf"): browsers and operating systems go by the last extension only, so the
appended one is what decides how the file opens, and a reader still sees the odd name that
was uploaded instead of a tidied one that hides it. A name that already ends with an
extension of its type is left as it is ("Ảnh.JPG" of a JPEG).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

# Magic numbers of the types accepted, and the extensions each may carry (first: added).
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
}
_NOT_IN_FALLBACK = re.compile(r"[^A-Za-z0-9 ._()+-]")
_VIETNAMESE_D = str.maketrans({"đ": "d", "Đ": "D"})  # đ has no decomposition to strip


def sniff(data: bytes) -> str | None:
    """The content type of ``data`` by its first bytes, or None if not one we accept."""
    return next((kind for magic, kind in SIGNATURES.items() if data.startswith(magic)), None)


def clean_name(filename: str) -> str:
    """An uploaded name without what does not belong in one (control and format characters,
    such as a right-to-left override; path separators; quotes), at most 200 characters."""
    return "".join(ch for ch in filename if ch.isprintable() and ch not in '/\\"')[-200:]


def download_name(filename: str, content_type: str) -> str:
    """``filename`` ending with an extension of ``content_type`` (see the module's note)."""
    extensions = EXTENSIONS.get(content_type, ())
    name = clean_name(filename) or "attachment"
    if not extensions or name.lower().endswith(extensions):
        return name
    return name + extensions[0]


def content_disposition(name: str) -> str:
    """``attachment`` with the name for every browser (RFC 6266): ``filename*`` holds it in
    UTF-8, percent-encoded (RFC 5987: "Biên bản" stays "Biên bản"); ``filename`` is a plain
    ASCII stand-in for old clients ("Bien ban"), diacritics removed, anything else that could
    break the header replaced by "_"."""
    folded = unicodedata.normalize("NFKD", name.translate(_VIETNAMESE_D))
    ascii_name = "".join(ch for ch in folded if not unicodedata.combining(ch))
    fallback = _NOT_IN_FALLBACK.sub("_", ascii_name).strip() or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"

"""Inspection photos: whatever a phone sends (JPEG, PNG, WebP, HEIC it cannot be), we keep
only a JPEG we drew ourselves from its pixels, at most ``MAX_SIDE`` pixels on its longer
side: no metadata (a phone's location and serial number), no second file hidden in the
bytes, and a size an office's slow network opens."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from trace_service.errors import InvalidInput
from trace_service.registry.photos import MAX_DECODED_PIXELS

MAX_SIDE = 1600  # pixels on the longer side, after re-encoding
MAX_SOURCE_PIXELS = 40_000_000  # a 40-megapixel phone photo; larger ones are refused unread
JPEG_QUALITY = 82
# MPO: a JPEG with a second picture after it (many phone cameras write one): its first
# picture is read, as a JPEG.
ACCEPTED = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
MAX_PHOTOS = 6  # per inspection


@dataclass(frozen=True)
class Reencoded:
    data: bytes
    width: int
    height: int


def _refuse(
    en: str, vi: str = "Ảnh không đọc được: chỉ nhận ảnh JPEG, PNG hoặc WebP."
) -> InvalidInput:
    return InvalidInput(vi, en, errors={"file": [en]})


def _too_many_pixels(limit: int) -> InvalidInput:
    return _refuse(
        f"The photo has more than {limit // 1_000_000} million pixels.",
        f"Ảnh có hơn {limit // 1_000_000} triệu điểm ảnh; hãy chụp lại với cỡ nhỏ hơn.",
    )


def _limit(source: Image.Image) -> int:
    """A JPEG is decoded already scaled down (``draft``); a PNG or WebP is decoded whole,
    so it is held to what product photos are (a 170 KB PNG of 6320×6320 took 3 s and
    450 MB)."""
    return MAX_SOURCE_PIXELS if source.format in ("JPEG", "MPO") else MAX_DECODED_PIXELS


def reencode(data: bytes) -> Reencoded:
    """The photo as a fresh JPEG of its pixels, turned upright, at most MAX_SIDE a side."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(data))
            if source.format not in ACCEPTED:
                raise _refuse("Only JPEG, PNG and WebP photos are accepted.")
            if source.width * source.height > _limit(source):
                raise _too_many_pixels(_limit(source))
            if source.format in ("JPEG", "MPO"):
                source.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decoded at the size kept, or near
            upright = ImageOps.exif_transpose(source)  # as the phone showed it
            image = upright.convert("RGB")  # reads the pixels: a broken file fails here
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _refuse("The file is not a readable JPEG, PNG or WebP photo.") from None
    except Image.DecompressionBombWarning:
        raise _too_many_pixels(MAX_SOURCE_PIXELS) from None
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)  # no EXIF: not passed on
    return Reencoded(out.getvalue(), image.width, image.height)

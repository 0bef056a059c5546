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

MAX_SIDE = 1600  # pixels on the longer side, after re-encoding
MAX_SOURCE_PIXELS = 40_000_000  # a 40-megapixel photo; larger ones are refused unread
JPEG_QUALITY = 82
ACCEPTED = frozenset({"JPEG", "PNG", "WEBP"})
MAX_PHOTOS = 6  # per inspection


@dataclass(frozen=True)
class Reencoded:
    data: bytes
    width: int
    height: int


def _refuse(en: str) -> InvalidInput:
    return InvalidInput(
        "Ảnh không đọc được: chỉ nhận ảnh JPEG, PNG hoặc WebP.",
        en,
        errors={"file": [en]},
    )


def reencode(data: bytes) -> Reencoded:
    """The photo as a fresh JPEG of its pixels, turned upright, at most MAX_SIDE a side."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(data))
            if source.format not in ACCEPTED:
                raise _refuse("Only JPEG, PNG and WebP photos are accepted.")
            if source.width * source.height > MAX_SOURCE_PIXELS:
                raise _refuse(f"The photo has more than {MAX_SOURCE_PIXELS} pixels.")
            upright = ImageOps.exif_transpose(source)  # as the phone showed it
            image = upright.convert("RGB")  # reads the pixels: a broken file fails here
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _refuse("The file is not a readable JPEG, PNG or WebP photo.") from None
    except Image.DecompressionBombWarning:
        raise _refuse(f"The photo has more than {MAX_SOURCE_PIXELS} pixels.") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)  # no EXIF: not passed on
    return Reencoded(out.getvalue(), image.width, image.height)

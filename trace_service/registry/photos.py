"""Product photos: uploaded by the producer (its own products) or the office, re-drawn by us,
kept in the database and served by our own route to the label page.

Nothing a client uploads is ever served back: the file is recognised by its bytes (never its
name or declared type), refused when it is also something else (a polyglot: a page, a script,
an archive or a PDF hidden in an image), opened with only the decoder its type names, checked
for its pixel count before any pixel is decoded (a decompression bomb is a few KB of PNG that
decodes to gigabytes), then drawn again into a new, empty image and saved as a plain JPEG
(no EXIF, no GPS, no ICC, no comment: ``reencode``). Consumer reports' photos go through the
same function (``reports/services.py``).

The photos are kept in a table (``product_photos``) rather than as files under
``instance/``: every gunicorn worker and every machine of an installation sees the same
photo, it is saved in the same transaction as its audit event, and backed up with the rest
of the data; a photo is ~30–60 KB, so the table stays small (one row per product).

The public URL carries the photo's hash (``/anh/san-pham/12-3f9a….jpg``), so it can be
cached for a year (``immutable``): a new photo is a new URL.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, request
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import ForeignKey, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.wrappers.response import Response as BaseResponse

from trace_service.audit.services import record_event
from trace_service.audit.tags import EventTag
from trace_service.db import Base, BigId, UtcDateTime, get_session, utcnow
from trace_service.errors import DomainError, NotFound
from trace_service.principal import Principal
from trace_service.registry import signals
from trace_service.registry.services import get_product

# -- re-encoding any uploaded image ------------------------------------------------------------

PHOTO_WIDTH = 480  # the label page's photo: sharp on a 360 px wide phone at 1.33×
SMALL_WIDTH = 160  # lists and thumbnails
JPEG_QUALITY = 80
# The most pixels an upload may declare: a 50-megapixel phone photo passes; anything above is
# refused from its header, before a byte of it is decoded.
MAX_PIXELS = 64_000_000
# A JPEG is decoded already scaled down (DCT scaling: a 48-megapixel phone photo costs a
# few megapixels); a PNG or WebP is decoded whole, so it is held to less: 8000×8000 PNG of
# 243 KB took 7-15 s and 1.2 GB (an attacker's review).
MAX_DECODED_PIXELS = 16_000_000
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# Another format inside an image: an HTML page or script (browsers sniff them), PHP, a PDF
# (readers find its header anywhere), a ZIP or JAR (read from its end, so an image can carry
# one whole). Long enough that a photo's compressed bytes never hold one by chance: the
# shortest, a ZIP's end record, is looked for only where a ZIP reader looks (its last 64 KiB).
_MARKUP = re.compile(
    rb"<(?:script|html|body|iframe|svg[\s/>]|!doctype|\?php)|javascript:", re.IGNORECASE
)
_PDF = b"%PDF-"
_ZIP_END = b"PK\x05\x06"
_ZIP_TAIL = 65_557  # the end record (22 bytes) and its longest comment


class PhotoRefused(DomainError):
    """An upload that is not a photo we take; ``status`` says why (413, 415 or 422)."""

    code = "photo_refused"

    def __init__(self, status: int, message: str, message_en: str) -> None:
        super().__init__(message, message_en, errors={"files": {"file": [message_en]}})
        self.status = status


@dataclass(frozen=True)
class Encoded:
    """A photo as we drew it: a JPEG with nothing of the upload but its pixels."""

    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sniff_image(data: bytes) -> str | None:
    """The image type ``data`` starts as (JPEG, PNG, WebP), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _refuse_foreign(data: bytes) -> None:
    if _MARKUP.search(data) or _PDF in data or _ZIP_END in data[-_ZIP_TAIL:]:
        raise PhotoRefused(
            422,
            "Tệp ảnh có chứa nội dung khác (trang web, mã lệnh hoặc tệp nén): không nhận.",
            "The image file also holds something else (a web page, a script or an archive): "
            "refused.",
        )


def _too_many_pixels(size: tuple[int, int] | None = None, limit: int = MAX_PIXELS) -> PhotoRefused:
    shown = f" ({size[0]}×{size[1]})" if size else ""
    return PhotoRefused(
        422,
        f"Ảnh quá nhiều điểm ảnh{shown}; tối đa {limit // 1_000_000} triệu điểm ảnh.",
        f"The image has too many pixels{shown}; at most {limit // 1_000_000} million.",
    )


def _open(data: bytes, kind: str) -> Image.Image:
    """The image, its header read and its size checked, nothing decoded yet."""
    unreadable = PhotoRefused(
        422, "Không đọc được ảnh: tệp hỏng hoặc không phải ảnh.", "The image cannot be read."
    )
    try:
        # Pillow refuses outright only above 2 × its own limit; everything above ours
        # (smaller) is refused below from the header, before a pixel is decoded.
        image = Image.open(io.BytesIO(data), formats=[_FORMATS[kind]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning is raised only where warnings are errors (the tests); elsewhere it is
        # logged and the check below refuses the image.
        raise _too_many_pixels() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise unreadable from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise unreadable
    limit = MAX_PIXELS if kind == "image/jpeg" else MAX_DECODED_PIXELS
    if width * height > limit:
        raise _too_many_pixels(image.size, limit)
    return image


def _drawn_again(image: Image.Image, width: int) -> Image.Image:
    """The picture at ``width`` (never enlarged), upright, on white, in a new empty image."""
    if image.format == "JPEG":
        image.draft("RGB", (width * 2, width * 2 * image.height // image.width))  # DCT scaling
    image.load()
    upright = ImageOps.exif_transpose(image) or image
    if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        upright = flat
    rgb = upright.convert("RGB")
    if rgb.width > width:
        height = max(1, round(rgb.height * width / rgb.width))
        rgb = rgb.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    clean = Image.new("RGB", rgb.size)  # no info, EXIF, ICC or comment can follow
    clean.paste(rgb)
    return clean


def reencode(data: bytes, cap: int, widths: tuple[int, ...] = (PHOTO_WIDTH,)) -> list[Encoded]:
    """``data`` checked and drawn again as a JPEG at each of ``widths`` (at most, never
    enlarged); ``PhotoRefused`` (413, 415 or 422, in both languages) for anything else."""
    if not data:
        raise PhotoRefused(422, "Tệp ảnh rỗng (0 byte).", "The image file is empty (0 bytes).")
    if len(data) > cap:
        most = f"{cap / 1_048_576:.0f} MB" if cap >= 1_048_576 else f"{cap // 1024} KB"
        raise PhotoRefused(413, f"Ảnh tối đa {most}.", f"A photo may be at most {most}.")
    kind = sniff_image(data)
    if kind is None:
        raise PhotoRefused(
            415,
            "Chỉ nhận ảnh JPEG, PNG hoặc WebP (theo nội dung tệp, không theo tên tệp).",
            "Only JPEG, PNG or WebP images (by the file's content, not its name).",
        )
    _refuse_foreign(data)
    image = _open(data, kind)
    try:
        drawn = _drawn_again(image, max(widths))  # decoded once, at the largest width
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoRefused(
            422,
            "Không đọc được ảnh: tệp hỏng hoặc bị cắt.",
            "The image cannot be read: damaged or cut short.",
        ) from exc
    out = []
    for width in widths:
        sized = drawn
        if drawn.width > width:
            height = max(1, round(drawn.height * width / drawn.width))
            sized = drawn.resize((width, height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        sized.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        out.append(Encoded(buffer.getvalue(), sized.width, sized.height))
    return out


# -- product photos ------------------------------------------------------------------------


class PhotoTag(EventTag):
    SET = "registry:product_photo:set"
    DELETED = "registry:product_photo:deleted"


class ProductPhoto(Base):
    """One product's photo as we drew it, at page size and small."""

    __tablename__ = "product_photos"

    product_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int]
    height: Mapped[int]
    small: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))  # of ``data``: its ETag and URL version
    upload_sha256: Mapped[str] = mapped_column(String(64))  # of the file as uploaded (audit)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


def _announce(
    session: Session, actor: Principal, product: Any, old: str | None, new: str | None
) -> None:
    # The label pages' read models hold the photo's URL: a new photo is an edit of the product.
    signals.product_changed.send(
        product, session=session, actor=actor, change="updated", changes={"photo": [old, new]}
    )


@dataclass(frozen=True)
class DrawnPhoto:
    """An upload checked and drawn again by us, at page size and small: the slow part of
    setting a photo, done before the database's write lock is taken."""

    large: Encoded
    small: Encoded
    upload_sha256: str


def draw_photo(data: bytes, cap: int) -> DrawnPhoto:
    large, small = reencode(data, cap, (PHOTO_WIDTH, SMALL_WIDTH))
    return DrawnPhoto(large, small, hashlib.sha256(data).hexdigest())


def set_photo(
    session: Session, actor: Principal, product_id: int, drawn: DrawnPhoto
) -> ProductPhoto:
    """Keep ``drawn`` as the product's photo (replacing any); audited."""
    product = get_product(session, actor, product_id)
    large, small = drawn.large, drawn.small
    photo = session.get(ProductPhoto, product.id)
    old = photo.sha256 if photo else None
    if photo is None:
        photo = ProductPhoto(product_id=product.id)
        session.add(photo)
    photo.data, photo.width, photo.height = large.data, large.width, large.height
    photo.small, photo.sha256 = small.data, large.sha256
    photo.upload_sha256 = drawn.upload_sha256
    photo.updated_at, photo.updated_by = utcnow(), actor.user_id
    session.flush()
    details: dict[str, object] = {"sha256": photo.sha256, "upload_sha256": photo.upload_sha256}
    details["previous"] = old
    details |= {"width": photo.width, "height": photo.height, "bytes": len(photo.data)}
    record_event(session, actor, PhotoTag.SET, "product", product.id, details)
    _announce(session, actor, product, old, photo.sha256)
    return photo


def get_photo(session: Session, actor: Principal, product_id: int) -> ProductPhoto:
    product = get_product(session, actor, product_id)
    photo = session.get(ProductPhoto, product.id)
    if photo is None:
        raise NotFound("Sản phẩm này chưa có ảnh.", "This product has no photo.")
    return photo


def delete_photo(session: Session, actor: Principal, product_id: int) -> None:
    photo = get_photo(session, actor, product_id)
    old = photo.sha256
    session.delete(photo)
    session.flush()
    record_event(session, actor, PhotoTag.DELETED, "product", product_id, {"sha256": old})
    _announce(session, actor, get_product(session, actor, product_id), old, None)


# -- serving -------------------------------------------------------------------------------

photos_page = Blueprint("product_photos", __name__)
_VERSION = 16  # hex digits of the hash in the URL
YEAR = 31_536_000


def public_path(product_id: int, sha256: str, *, small: bool = False) -> str:
    suffix = "-nho" if small else ""
    return f"/anh/san-pham/{product_id}-{sha256[:_VERSION]}{suffix}.jpg"


@dataclass(frozen=True)
class PhotoRef:
    """What a page needs to show a product's photo: its URLs and size (for ``width`` and
    ``height``, so the page does not jump when it arrives)."""

    url: str
    small_url: str
    width: int
    height: int


def photo_ref(session: Session, product_id: int) -> PhotoRef | None:
    """The product's photo as a page links it (one indexed read, never the image), or None."""
    row = session.execute(
        select(ProductPhoto.sha256, ProductPhoto.width, ProductPhoto.height).where(
            ProductPhoto.product_id == product_id
        )
    ).first()
    if row is None:
        return None
    sha, width, height = row
    return PhotoRef(
        public_path(product_id, sha), public_path(product_id, sha, small=True), width, height
    )


def product_photo(product_id: int) -> PhotoRef | None:
    """``photo_ref`` in the request's session."""
    return photo_ref(get_session(), product_id)


def photo_url(product_id: int, *, small: bool = False) -> str | None:
    """The product's photo on our own host (a path, cacheable for a year), or None: for the
    label page, ``<img src="{{ photo_url(product.id) }}" loading="lazy" …>``."""
    photo = product_photo(product_id)
    if photo is None:
        return None
    return photo.small_url if small else photo.url


@photos_page.app_template_global("photo_url")
def _photo_url_global(product_id: int, small: bool = False) -> str | None:
    return photo_url(product_id, small=small)


@photos_page.app_template_global("product_photo")
def _product_photo_global(product_id: int) -> PhotoRef | None:
    return product_photo(product_id)


@photos_page.get("/anh/san-pham/<int:product_id>-<version>.jpg")
def serve(product_id: int, version: str) -> BaseResponse:
    """A product's photo as we drew it; ``version`` is the start of its hash (an old one is
    gone: 404), ``-nho`` at its end asks for the small one."""
    small = version.endswith("-nho")
    version = version.removesuffix("-nho")
    photo = get_session().get(ProductPhoto, product_id) if product_id <= 2**63 - 1 else None
    if photo is None or photo.sha256[:_VERSION] != version:
        raise NotFound("Không có ảnh này.", "No such photo.")
    etag = photo.sha256[:32] + ("s" if small else "")
    response = Response(photo.small if small else photo.data, mimetype="image/jpeg")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = YEAR
    response.cache_control.immutable = True
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response.make_conditional(request)


def max_photo_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_BYTES"])

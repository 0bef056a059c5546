"""Product photos: uploaded by the producer (its own products) or the office, drawn again by
us without the file's metadata, served by our own route with a year's cache and an ETag;
hostile files are refused with a 4xx and a message."""

from __future__ import annotations

import io
import sqlite3
import struct
import zipfile
import zlib

import pytest
from PIL import Image
from sqlalchemy import select

from tests import factories
from tests.conftest import make_account
from trace_service.audit.models import AuditEvent
from trace_service.principal import Role
from trace_service.registry.models import Producer
from trace_service.registry.photos import photo_url, product_photo

P = "/api/v1"
SECRET = b"GPS-21.0285N-SECRET"


def _photo(kind: str = "JPEG", size: tuple[int, int] = (1200, 800), **save: object) -> bytes:
    image = Image.new("RGBA" if kind == "PNG" else "RGB", size, (30, 120, 60))
    image.paste((250, 10, 10), (0, 0, size[0] // 2, size[1]))  # left half red
    out = io.BytesIO()
    image.save(out, kind, **save)
    return out.getvalue()


def _with_metadata() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = SECRET.decode()  # ImageDescription
    exif[0x8825] = {1: "N", 2: (21.0, 1.0, 42.0)}  # GPS
    return _photo("JPEG", exif=exif.tobytes(), comment=SECRET)


def _put(client, account, product_id, data, name="anh.jpg", mimetype="image/jpeg"):
    return client.put(
        f"{P}/products/{product_id}/photo",
        headers=account.headers,
        data={"file": (io.BytesIO(data), name, mimetype)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def own(db_session, producer_account):
    producer = db_session.get(Producer, producer_account.user.producer_id)
    return factories.ProductFactory(producer=producer)


def test_a_producer_sets_its_products_photo_drawn_again_without_its_metadata(
    client, app, db_session, producer_account, own
):
    answer = _put(client, producer_account, own.id, _with_metadata())
    assert answer.status_code == 200, answer.json
    assert (answer.json["width"], answer.json["height"]) == (480, 320)
    with app.test_request_context():
        assert photo_url(own.id) == answer.json["url"]
        ref = product_photo(own.id)
        assert ref is not None and (ref.width, ref.height) == (480, 320)
        assert photo_url(own.id, small=True) == ref.small_url == answer.json["small_url"]
    served = client.get(answer.json["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert "immutable" in served.headers["Cache-Control"]
    assert "max-age=31536000" in served.headers["Cache-Control"]
    assert served.headers["ETag"]
    assert SECRET not in served.data
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (480, 320) and not image.getexif() and "icc_profile" not in image.info
    assert image.getpixel((10, 10))[0] > 200 > image.getpixel((470, 10))[0]  # still the picture
    small = client.get(answer.json["small_url"])
    assert Image.open(io.BytesIO(small.data)).size == (160, 107)
    again = client.get(answer.json["url"], headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.tag.like("%product_photo:set")))
    assert (event is not None and event.object_id == str(own.id)) or event.object_id == own.id
    assert event.details["sha256"] == answer.json["sha256"]


def test_a_png_with_transparency_is_flattened_and_a_new_photo_is_a_new_url(client, app, admin, own):
    first = _put(client, admin, own.id, _photo("PNG", (300, 200)), "a.png", "image/png")
    assert first.status_code == 200 and first.json["width"] == 300  # never enlarged
    second = _put(client, admin, own.id, _photo("WEBP", (900, 900)), "b.webp", "image/webp")
    assert second.status_code == 200 and second.json["url"] != first.json["url"]
    assert client.get(first.json["url"]).status_code == 404  # the old version is gone
    assert client.get(second.json["url"]).status_code == 200


def test_another_producers_product_is_not_found(client, db_session, producer_account):
    stranger = factories.ProductFactory()
    assert _put(client, producer_account, stranger.id, _photo()).status_code == 404
    inspector = make_account(db_session, Role.INSPECTOR)
    assert _put(client, inspector, stranger.id, _photo()).status_code == 403


def test_the_photo_is_removed(client, app, producer_account, own):
    url = _put(client, producer_account, own.id, _photo()).json["url"]
    deleted = client.delete(f"{P}/products/{own.id}/photo", headers=producer_account.headers)
    assert deleted.status_code == 204
    assert client.get(url).status_code == 404
    with app.test_request_context():
        assert photo_url(own.id) is None
    assert client.get("/anh/san-pham/99999999999999999999999-0123.jpg").status_code == 404


def _png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header declaring ``width``×``height``: a few hundred bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * 100_000, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def _zip_appended() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.txt", "not a photo")
    return _photo() + archive.getvalue()


HOSTILE = {
    "empty": (b"", 422, "rỗng"),
    "html polyglot": (_photo() + b"<html><script>alert(1)</script></html>", 422, "nội dung khác"),
    "zip polyglot": (_zip_appended(), 422, "nội dung khác"),
    "pixel bomb": (_png_bomb(30_000, 30_000), 422, "điểm ảnh"),
    "moderate bomb": (_png_bomb(10_000, 10_000), 422, "điểm ảnh"),
    # A PNG is decoded whole: 8000×8000 took 7-15 s under the write lock (attacker's review).
    "png past 16 megapixels": (_png_bomb(5_000, 4_000), 422, "16 triệu"),
    "pdf named .jpg": (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", 415, "JPEG, PNG"),
    "gif named .jpg": (_photo("GIF", (20, 20)), 415, "JPEG, PNG"),
    "cut short": (_photo()[:600], 422, "Không đọc được"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_is_refused_with_a_message(client, producer_account, own, name):
    data, status, words = HOSTILE[name]
    answer = _put(client, producer_account, own.id, data)
    assert answer.status_code == status, answer.json
    assert words in answer.json["message"] and answer.json["message_en"]
    assert (
        client.get(f"{P}/products/{own.id}/photo", headers=producer_account.headers).json["code"]
        == "not_found"
    )


def test_a_file_over_the_cap_is_refused(client, app, monkeypatch, producer_account, own):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 20_000)
    big = _photo(size=(1600, 1200), quality=100)
    assert len(big) > 20_000
    answer = _put(client, producer_account, own.id, big)
    assert answer.status_code == 413 and answer.json["message"]


def test_a_field_besides_the_file_is_refused(client, producer_account, own):
    answer = client.put(
        f"{P}/products/{own.id}/photo",
        headers=producer_account.headers,
        data={"file": (io.BytesIO(_photo()), "a.jpg"), "caption": "x"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422 and "caption" in answer.json["errors"]["form"]


def test_a_photo_is_drawn_before_the_database_is_locked(tmp_path, monkeypatch):
    # SQLite's write lock is the whole database's: no one else could write while a large
    # photo was decoded (seconds). Another connection takes it at once while we draw. (A
    # database of its own: the shared tests' transaction holds the lock all along.)
    from tests.databases import fresh_database
    from tests.labels.conftest import seed_committed
    from tests.ops.conftest import make_app
    from trace_service.db import get_db
    from trace_service.migrate import upgrade
    from trace_service.registry import photos

    taken: list[bool] = []
    drawn = photos.reencode

    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = make_app(url, tmp_path)
        seed = seed_committed(app, bags=10)

        def probing(*args, **kwargs):
            other = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0)
            other.isolation_level = None
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                taken.append(True)
            except sqlite3.OperationalError:
                taken.append(False)
            finally:
                other.close()
            return drawn(*args, **kwargs)

        monkeypatch.setattr(photos, "reencode", probing)
        client = app.test_client()
        # The token used once before: its "last used" note (once an hour) writes at once.
        client.get(f"{P}/products/{seed.product_id}", headers=seed.headers)
        answer = client.put(
            f"{P}/products/{seed.product_id}/photo",
            headers=seed.headers,
            data={"file": (io.BytesIO(_photo()), "anh.jpg", "image/jpeg")},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 200, answer.json
        get_db(app).engine.dispose()
    assert taken == [True]

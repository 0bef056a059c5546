"""QR codes in a photo of stamps, read with ZXing-C++ (``pip install .[photo]``), the same
decoder the browser runs as WebAssembly (zxing-wasm)."""

from __future__ import annotations

from pathlib import Path


class PhotoSupportMissing(RuntimeError):
    """zxing-cpp or Pillow is not installed."""


def decode_photo(path: Path) -> list[str]:
    """The text of every QR code in the picture, top to bottom as ZXing finds them; an
    empty list when it finds none. ``OSError`` when the file is not a picture."""
    try:
        import zxingcpp
        from PIL import Image, ImageOps
    except ImportError as exc:  # pragma: no cover - the suite installs both
        raise PhotoSupportMissing(
            "decoding photos needs the photo extra: pip install '.[photo]' (zxing-cpp, Pillow)"
        ) from exc
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened).convert("L")  # phones store rotation apart
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return [code.text for code in found if code.valid]

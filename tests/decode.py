"""The independent QR decoder of the tests (zxing-cpp), limited to QR codes: left to guess
every format, it now and then reads a row of QR modules as a Codabar barcode."""

from __future__ import annotations

from typing import Any

import zxingcpp


def read_qr_codes(image: Any) -> list[Any]:
    return list(zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode))

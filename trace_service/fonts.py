"""The bundled Vietnamese font (Be Vietnam Pro, OFL, PyPI ``fontpkg-be-vietnam-pro``).

Every printed thing (letters, label sheets, thermal labels) uses it, because its glyphs cover
every Vietnamese letter ("ắ, ộ, ư, Đ"), so nothing prints as an empty box.
"""

from __future__ import annotations

import threading
from importlib.resources import as_file, files
from pathlib import Path

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_PACKAGE = "fontpkg_be_vietnam_pro"
FONT_FAMILY = "BeVietnamPro"
# reportlab font name -> file in the package's ``files/`` folder.
FONT_FILES = {
    f"{FONT_FAMILY}-Regular": "BeVietnamPro-Regular.ttf",
    f"{FONT_FAMILY}-Bold": "BeVietnamPro-Bold.ttf",
    f"{FONT_FAMILY}-Italic": "BeVietnamPro-Italic.ttf",
    f"{FONT_FAMILY}-BoldItalic": "BeVietnamPro-BoldItalic.ttf",
}
REGULAR, BOLD, ITALIC, BOLD_ITALIC = FONT_FILES

_fonts_lock = threading.Lock()
_fonts_registered = False


def font_path(name: str) -> Path:
    """The file of one of ``FONT_FILES`` (for Pillow, which wants a path)."""
    with as_file(files(FONT_PACKAGE) / "files" / FONT_FILES[name]) as path:
        return Path(path)


def register_fonts() -> None:
    """Register Be Vietnam Pro (regular, bold, italic, bold italic) with reportlab, once,
    and set how every PDF of the service is written.

    Called on the first render rather than at import, so importing reads no font file.
    """
    global _fonts_registered
    if _fonts_registered:
        return
    with _fonts_lock:
        if _fonts_registered:
            return
        # reportlab ASCII85-encodes compressed streams by default, in pure Python without
        # its optional C accelerator: 10,000 labels took 2.5 s longer and the file grew by a
        # quarter, for a 7-bit safety no PDF reader needs. One setting for the whole
        # process (it is global in reportlab), so every PDF is made the same way.
        rl_config.useA85 = 0
        for name in FONT_FILES:
            # TTFont reads the whole file while it is constructed.
            pdfmetrics.registerFont(TTFont(name, str(font_path(name))))
        pdfmetrics.registerFontFamily(
            FONT_FAMILY, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC
        )
        _fonts_registered = True

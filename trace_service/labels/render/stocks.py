"""The sticker stocks a run can be printed on: every ``label_templates/*.json`` file that
says ``"kind": "sheet"``. The office adds a stock by adding a file (and its stamp layout);
a stock that would print a QR code too fine to scan or text under 5 pt is refused when it
is loaded (``SheetLayout.load``), so it is never offered."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache

from trace_service.labels.art import QUIET_ZONE_MODULES
from trace_service.labels.render.sheet_pdf import SheetLayout
from trace_service.labels.templates import TEMPLATES_DIR, load_template

DEFAULT_STOCK = "a4_sheet"  # what runs ordered before stocks existed were printed on


@dataclass(frozen=True)
class Stock:
    name: str
    title_vi: str
    title_en: str
    source: str
    per_page: int
    die_cut: bool
    scratch: bool  # the stamp has a box for a scratch code
    max_qr_modules: int  # the largest QR symbol (without quiet zone) the stamp holds
    stamp_mm: tuple[float, float]


def _stock(name: str) -> Stock:
    sheet = load_template(name)
    layout = SheetLayout.load(name)
    t = layout.stamp
    return Stock(
        name=name,
        title_vi=sheet["title"]["vi"],
        title_en=sheet["title"]["en"],
        source=sheet["source"],
        per_page=layout.per_page,
        die_cut=layout.die_cut is not None,
        scratch="scratch" in t,
        max_qr_modules=math.floor(t["qr"]["box_mm"] / t["module_mm"] + 1e-6)
        - 2 * QUIET_ZONE_MODULES,
        stamp_mm=(t["width_mm"], t["height_mm"]),
    )


@cache
def stocks() -> tuple[Stock, ...]:
    """Every stock, today's A4 layout first."""
    names = []
    for path in sorted(TEMPLATES_DIR.glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            if json.load(fh).get("kind") == "sheet":
                names.append(path.stem)
    names.sort(key=lambda n: (n != DEFAULT_STOCK, n))
    return tuple(_stock(name) for name in names)


def get_stock(name: str) -> Stock | None:
    return next((s for s in stocks() if s.name == name), None)


def qr_modules(version: int) -> int:
    return 17 + 4 * version

"""Print layouts are data: JSON files in ``label_templates/`` (sizes in millimetres)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "label_templates"


@cache
def load_template(name: str) -> dict[str, Any]:
    """``label_templates/<name>.json`` as a dict; ``KeyError`` for an unknown name."""
    path = TEMPLATES_DIR / f"{name}.json"
    if not path.is_file() or path.parent != TEMPLATES_DIR:
        raise KeyError(name)
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data

"""Reading the demo's data files in ``data/`` (CSV, GeoJSON, TOML; UTF-8 text)."""

from __future__ import annotations

import csv
import json
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


def read_csv(name: str) -> list[dict[str, str]]:
    """The rows of a CSV file with a header line, each as {column: text}."""
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def read_toml(name: str) -> dict[str, Any]:
    with (DATA_DIR / name).open("rb") as file:
        return tomllib.load(file)


def read_features(name: str) -> list[dict[str, Any]]:
    """The features of a GeoJSON FeatureCollection."""
    return list(json.loads((DATA_DIR / name).read_text(encoding="utf-8"))["features"])


def instant(text: str) -> datetime:
    """An ISO 8601 time with its offset ("2021-03-04T05:06:07Z")."""
    return datetime.fromisoformat(text)


def optional(text: str) -> str | None:
    return text or None


def days_from(anchor: date, text: str) -> date | None:
    """A day written as a number of days from ``anchor`` ("-1083"), or none ("")."""
    return anchor + timedelta(days=int(text)) if text else None

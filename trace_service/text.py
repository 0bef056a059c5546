"""Text helpers for Vietnamese: search keys that match with or without diacritics."""

from __future__ import annotations

import unicodedata

_EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "d"})  # đ is a letter of its own, not d + mark


def fold(text: str) -> str:
    """Lower-case, strip diacritics and collapse spaces: "Cà phê  Đắk Mil" -> "ca phe dak mil"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA_FOLDS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


_SORT_LETTERS = str.maketrans({"đ": "d\uffff", "Đ": "d\uffff"})


def sort_key(text: str) -> tuple[str, str]:
    """Vietnamese alphabetical order: letters before their marks, "đ" right after "d" (so
    Đắk Mil comes before Krông Nô, as in any Vietnamese list), ties broken by the marks."""
    decomposed = unicodedata.normalize("NFD", text.translate(_SORT_LETTERS).lower())
    base = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return base, decomposed


def like_pattern(text: str) -> str:
    """A LIKE pattern that finds ``text`` anywhere, with LIKE's wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

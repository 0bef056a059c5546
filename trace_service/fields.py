"""Marshmallow fields with the strictness the API promises."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from marshmallow import ValidationError, fields, validate

MAX_ID = 2**63 - 1  # ids are 64-bit; a larger number is refused, never sent to the database


class Text(fields.String):
    """A string stored in Unicode NFC with surrounding spaces removed.

    Vietnamese keyboards send both composed and decomposed diacritics ("ộ" as one or three code
    points); normalising keeps equal names equal. Control characters are refused, and line
    breaks too unless ``multiline=True`` (a certificate number with a line break would break
    the e-mail headers it is printed in).
    """

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allowed_controls = "\n\t" if multiline else ""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs))
        text = text.strip()
        if any(unicodedata.category(ch) == "Cc" and ch not in self.allowed_controls for ch in text):
            raise ValidationError(
                "Contains line breaks or control characters."
                if not self.allowed_controls
                else "Contains control characters."
            )
        if not text and self.required:
            raise ValidationError("Must not be blank.")
        return text


def is_finite_number(value: int | float) -> bool:
    """Finite as a float: JSON allows integers like 10**400 that no float can hold."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


class StrictFloat(fields.Float):
    """A JSON number: strings, booleans, NaN and infinities are refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Must be a number.")
        if not is_finite_number(value):
            raise ValidationError("Must be a finite number.")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """A JSON true or false; "yes", 1 and friends are refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value


def Id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:
    """A record id: a whole number from 1 to 2⁶³−1 (``strict=False`` for query strings)."""
    in_range = validate.Range(min=1, max=MAX_ID, error=f"Not a valid id (1 to {MAX_ID}).")
    return fields.Integer(strict=strict, validate=in_range, **kwargs)

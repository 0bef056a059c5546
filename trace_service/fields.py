"""Marshmallow fields with the strictness the API promises."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from marshmallow import ValidationError, fields


class Text(fields.String):
    """A string stored in Unicode NFC with surrounding spaces removed.

    Vietnamese keyboards send both composed and decomposed diacritics ("ộ" as one or three code
    points); normalising keeps equal names equal. Control characters are refused.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs))
        text = text.strip()
        if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
            raise ValidationError("Contains control characters.")
        if not text and self.required:
            raise ValidationError("Must not be blank.")
        return text


class StrictFloat(fields.Float):
    """A JSON number: strings, booleans, NaN and infinities are refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Must be a number.")
        if not math.isfinite(value):
            raise ValidationError("Must be a finite number.")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """A JSON true or false; "yes", 1 and friends are refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value
